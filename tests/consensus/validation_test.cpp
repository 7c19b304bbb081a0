#include "consensus/validation.h"

#include "primitives/canonical_json.h"
#include "support/chain_builder.h"

#include <gtest/gtest.h>

#include <cmath>

namespace gossipchain {
namespace {

using test::EasyParams;
using test::MakeChild;
using test::MakeTx;
using R = ValidationReason;

ValidationReason TxReason(Transaction tx) {
    return CheckTransaction(tx).reason;
}

TEST(Validation, TransactionForm) {
    EXPECT_EQ(TxReason(MakeTx(1)), R::Ok);
    Transaction tx = MakeTx(1);
    tx.sender = "";
    EXPECT_EQ(TxReason(tx), R::BadSender);
    tx = MakeTx(1);
    tx.recipient = std::string(MAX_ADDRESS_BYTES + 1, 'x');
    EXPECT_EQ(TxReason(tx), R::BadRecipient);
    tx = MakeTx(1);
    tx.recipient = std::string(MAX_ADDRESS_BYTES, 'x');
    EXPECT_EQ(TxReason(tx), R::Ok);
    tx.sender = "\xff\xfe";
    EXPECT_EQ(TxReason(tx), R::BadSender);
    EXPECT_EQ(TxReason(MakeTx(1, 0)), R::BadAmount);
    EXPECT_EQ(TxReason(MakeTx(1, -3)), R::BadAmount);
    EXPECT_EQ(TxReason(MakeTx(1, MAX_AMOUNT + 1)), R::BadAmount);
    EXPECT_EQ(TxReason(MakeTx(1, MAX_AMOUNT)), R::Ok);
    tx = MakeTx(1);
    tx.id = "ABCDEF00000000000000000000000000";
    EXPECT_EQ(TxReason(tx), R::BadTxId);
    tx.id = "abc";
    EXPECT_EQ(TxReason(tx), R::BadTxId);
    EXPECT_EQ(TxReason(MakeTx(1, 1, "0")), R::Ok);
    EXPECT_EQ(TxReason(MakeTx(1, 1000000, "0")), R::BadReward);
}

ValidationReason ContextFree(const Block& block) {
    return CheckBlockContextFree(block, BlockJson(block).size(), TxIds(block)).reason;
}

TEST(Validation, ContextFreeRules) {
    ConsensusParams params = EasyParams();
    Block genesis = MakeGenesis(params);
    Block block = MakeChild(params, genesis, {MakeTx(1), MakeTx(2, 1, "0")});
    EXPECT_EQ(ContextFree(block), R::Ok);

    Block two_rewards = block;
    two_rewards.transactions.push_back(MakeTx(3, 1, "0"));
    EXPECT_EQ(ContextFree(two_rewards), R::MultipleRewards);

    Block duplicate = block;
    duplicate.transactions.push_back(MakeTx(1));
    EXPECT_EQ(ContextFree(duplicate), R::DuplicateTransaction);

    Block bad_tx = block;
    bad_tx.transactions[0].amount = 0;
    EXPECT_EQ(ContextFree(bad_tx), R::BadAmount);

    Block int_link = block;
    int_link.previous_hash = std::int64_t{1};
    EXPECT_EQ(ContextFree(int_link), R::BadPreviousHashForm);

    Block nan_time = block;
    nan_time.timestamp = std::nan("");
    EXPECT_EQ(ContextFree(nan_time), R::BadTimestamp);

    Block crowded = block;
    crowded.transactions.clear();
    for (std::uint64_t i = 0; i <= MAX_BLOCK_TRANSACTIONS; ++i)
        crowded.transactions.push_back(MakeTx(i));
    EXPECT_EQ(ContextFree(crowded), R::TooManyTransactions);

    EXPECT_EQ(CheckBlockContextFree(block, MAX_BLOCK_BYTES + 1, TxIds(block)).reason,
              R::BlockTooLarge);
}

TEST(Validation, ContextualRules) {
    ConsensusParams params = EasyParams();
    Block genesis = MakeGenesis(params);
    std::string genesis_hash = BlockHash(genesis);
    Block block = MakeChild(params, genesis);
    BlockContext context{genesis.index, genesis.proof, genesis_hash, genesis.timestamp,
                         genesis.timestamp + 10};
    EXPECT_TRUE(CheckBlockContextual(block, context, params).Ok());

    Block wrong_index = block;
    wrong_index.index = 3;
    EXPECT_EQ(CheckBlockContextual(wrong_index, context, params).reason, R::BadIndex);

    Block wrong_link = block;
    wrong_link.previous_hash = std::string(64, 'a');
    EXPECT_EQ(CheckBlockContextual(wrong_link, context, params).reason, R::BadPreviousHash);

    Block wrong_proof = block;
    while (CheckProof(params, genesis.proof, wrong_proof.proof, genesis_hash))
        ++wrong_proof.proof;
    EXPECT_EQ(CheckBlockContextual(wrong_proof, context, params).reason, R::BadProof);

    Block early = block;
    early.timestamp = genesis.timestamp - 1;
    EXPECT_EQ(CheckBlockContextual(early, context, params).reason, R::TimestampBeforeMedian);

    Block late = block;
    late.timestamp = context.now + 3 * 3600;
    EXPECT_EQ(CheckBlockContextual(late, context, params).reason, R::TimestampTooFarAhead);
    late.timestamp = context.now + 2 * 3600;
    EXPECT_TRUE(CheckBlockContextual(late, context, params).Ok());
}

TEST(Validation, ChainLinksIsTheTutorialValidChain) {
    ConsensusParams params = EasyParams(PowRule::Seed);
    std::vector<Block> chain{MakeGenesis(params)};
    for (int i = 0; i < 20; ++i)
        chain.push_back(MakeChild(params, chain.back(), {MakeTx(i)}));
    EXPECT_TRUE(CheckChainLinks(chain, params).Ok());
    EXPECT_TRUE(CheckChainLinks(chain, params, 2).Ok());

    std::vector<Block> tampered = chain;
    tampered[7].transactions[0].amount = 999;
    EXPECT_EQ(CheckChainLinks(tampered, params).reason, R::BadPreviousHash);

    std::vector<Block> other_genesis = chain;
    other_genesis[0].timestamp += 1;
    EXPECT_EQ(CheckChainLinks(other_genesis, params).reason, R::BadGenesis);
}

TEST(Validation, ChainLinksCatchesABadProofAtEveryPosition) {
    // Blocks are checked in pairs; a bad proof must be caught in either half of a pair.
    ConsensusParams params = EasyParams();
    std::vector<Block> chain{MakeGenesis(params)};
    for (int i = 0; i < 12; ++i)
        chain.push_back(MakeChild(params, chain.back(), {MakeTx(i)}));
    for (std::size_t bad = 1; bad < chain.size(); ++bad) {
        std::vector<Block> tampered = chain;
        std::string parent_hash = BlockHash(tampered[bad - 1]);
        do {
            ++tampered[bad].proof;
        } while (CheckProof(params, tampered[bad - 1].proof, tampered[bad].proof, parent_hash));
        // Relink the rest so only the proof is wrong.
        for (std::size_t j = bad + 1; j < tampered.size(); ++j) {
            tampered[j].previous_hash = BlockHash(tampered[j - 1]);
        }
        ValidationResult result = CheckChainLinks(tampered, params);
        EXPECT_EQ(result.reason, R::BadProof) << bad;
        EXPECT_NE(result.detail.find("block " + std::to_string(tampered[bad].index)),
                  std::string::npos)
            << result.detail;
    }
}

TEST(Validation, ChainLinksOnManyThreadsFindsTheBadBlock) {
    ConsensusParams params = EasyParams();
    std::vector<Block> chain{MakeGenesis(params)};
    for (int i = 0; i < 3000; ++i)
        chain.push_back(MakeChild(params, chain.back()));
    EXPECT_TRUE(CheckChainLinks(chain, params, 2).Ok());
    std::vector<Block> tampered = chain;
    tampered[2500].proof += 1;
    // The next block's link breaks, or the tampered proof fails: either way the chain is bad.
    EXPECT_FALSE(CheckChainLinks(tampered, params, 2).Ok());
    EXPECT_FALSE(CheckChainLinks(tampered, params, 1).Ok());
}

}  // namespace
}  // namespace gossipchain
