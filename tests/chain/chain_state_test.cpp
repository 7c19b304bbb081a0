#include "chain/chain_state.h"

#include "primitives/canonical_block_reader.h"
#include "primitives/canonical_json.h"
#include "support/chain_builder.h"
#include "support/signed_builder.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gossipchain {
namespace {

using test::EasyParams;
using test::MakeBranch;
using test::MakeChild;
using test::MakeTx;

constexpr double NOW = DEFAULT_GENESIS_TIMESTAMP + 1e6;

ChainState::Options EasyOptions() {
    ChainState::Options options;
    options.params = EasyParams();
    return options;
}

class ChainStateTest : public ::testing::Test {
protected:
    ChainState chain{EasyOptions()};
    const ConsensusParams& params = chain.Params();

    BlockResult Process(const Block& block) { return chain.ProcessBlock(block, NOW); }
    void ProcessAll(const std::vector<Block>& blocks) {
        for (const Block& block : blocks) {
            BlockResult result = Process(block);
            ASSERT_NE(result.status, BlockStatus::Invalid) << result.validation.ToString();
        }
    }
    Block TipBlock() const { return test::TipBlock(chain); }
    /** Three blocks from genesis holding `first`, `second` and `third`; the first is stamped 3 s
     * after genesis, so it differs from a main-chain block holding the same transactions. */
    std::array<Block, 3> RivalBranch(std::vector<Transaction> first,
                                     std::vector<Transaction> second,
                                     std::vector<Transaction> third) const {
        Block s1 = MakeChild(params, MakeGenesis(params), std::move(first), 3.0);
        Block s2 = MakeChild(params, s1, std::move(second));
        Block s3 = MakeChild(params, s2, std::move(third));
        return {s1, s2, s3};
    }
};

TEST_F(ChainStateTest, StartsAtGenesis) {
    EXPECT_EQ(chain.Height(), 1u);
    EXPECT_EQ(chain.Tip().HashHex(), BlockHash(MakeGenesis(params)));
    EXPECT_EQ(chain.Tip().json_size, BlockJson(MakeGenesis(params)).size());
}

TEST_F(ChainStateTest, ExtendsTipAndReportsDuplicates) {
    Block block = MakeChild(params, TipBlock(), {MakeTx(1)});
    BlockResult result = Process(block);
    EXPECT_EQ(result.status, BlockStatus::Connected);
    ASSERT_EQ(result.connected.size(), 1u);
    EXPECT_EQ(result.connected[0]->HashHex(), BlockHash(block));
    EXPECT_EQ(chain.Height(), 2u);
    EXPECT_EQ(chain.ConfirmedHeight(TxId(MakeTx(1))), 2u);
    EXPECT_EQ(Process(block).status, BlockStatus::Duplicate);
    EXPECT_EQ(Process(MakeGenesis(params)).status, BlockStatus::Duplicate);
}

TEST_F(ChainStateTest, RejectsInvalidBlocksWithReason) {
    Block block = MakeChild(params, TipBlock());
    Block bad_proof = block;
    while (CheckProof(params, 100, bad_proof.proof, chain.Tip().HashHex()))
        ++bad_proof.proof;
    BlockResult result = Process(bad_proof);
    EXPECT_EQ(result.status, BlockStatus::Invalid);
    EXPECT_EQ(result.validation.reason, ValidationReason::BadProof);
    EXPECT_EQ(chain.Height(), 1u);

    Block wrong_index = block;
    wrong_index.index = 5;
    EXPECT_EQ(Process(wrong_index).validation.reason, ValidationReason::BadIndex);

    Block future = MakeChild(params, TipBlock(), {}, 1e7);
    EXPECT_EQ(Process(future).validation.reason, ValidationReason::TimestampTooFarAhead);
}

TEST_F(ChainStateTest, TimestampMustNotFallBelowMedianOfLastEleven) {
    std::vector<Block> blocks = MakeBranch(params, TipBlock(), 12, 100);
    ProcessAll(blocks);
    double median = ChainState::MedianTimePast(chain.Tip());
    Block early = MakeChild(params, TipBlock(), {}, median - TipBlock().timestamp - 0.5);
    EXPECT_EQ(Process(early).validation.reason, ValidationReason::TimestampBeforeMedian);
    Block at_median = MakeChild(params, TipBlock(), {}, median - TipBlock().timestamp);
    EXPECT_EQ(Process(at_median).status, BlockStatus::Connected);
}

TEST_F(ChainStateTest, TransactionMayAppearOnlyOnceInAChain) {
    ProcessAll({MakeChild(params, TipBlock(), {MakeTx(7)})});
    BlockResult again = Process(MakeChild(params, TipBlock(), {MakeTx(7)}));
    EXPECT_EQ(again.status, BlockStatus::Invalid);
    EXPECT_EQ(again.validation.reason, ValidationReason::TransactionAlreadyInChain);
    EXPECT_EQ(chain.Height(), 2u);
    // Its descendants are refused without another look.
    Block child = MakeChild(params, MakeChild(params, TipBlock(), {MakeTx(7)}));
    EXPECT_EQ(Process(child).status, BlockStatus::Invalid);
}

TEST_F(ChainStateTest, OrphansWaitForTheirParentThenConnect) {
    std::vector<Block> blocks = MakeBranch(params, TipBlock(), 3, 1);
    BlockResult r3 = Process(blocks[2]);
    EXPECT_EQ(r3.status, BlockStatus::Orphan);
    EXPECT_EQ(r3.missing_parent, BlockHash(blocks[1]));
    BlockResult r2 = Process(blocks[1]);
    EXPECT_EQ(r2.status, BlockStatus::Orphan);
    EXPECT_EQ(r2.missing_parent, BlockHash(blocks[0]));
    EXPECT_EQ(Process(blocks[2]).status, BlockStatus::Duplicate);
    EXPECT_TRUE(chain.Knows(BlockHash(blocks[2])));
    BlockResult r1 = Process(blocks[0]);
    EXPECT_EQ(r1.status, BlockStatus::Connected);
    EXPECT_EQ(r1.connected.size(), 3u);
    EXPECT_EQ(chain.Height(), 4u);
    EXPECT_EQ(chain.Orphans().Size(), 0u);
}

TEST_F(ChainStateTest, SideBranchBlockThatUnlocksABetterBranchReportsTheReorg) {
    std::vector<Block> main = MakeBranch(params, TipBlock(), 2, 1);
    ProcessAll(main);
    // A competing branch of three from genesis; its two upper blocks arrive first (orphans).
    auto [s1, s2, s3] = RivalBranch({MakeTx(100)}, {MakeTx(101)}, {MakeTx(102)});
    EXPECT_EQ(Process(s3).status, BlockStatus::Orphan);
    EXPECT_EQ(Process(s2).status, BlockStatus::Orphan);
    // s1 alone is only a side branch, but it unlocks s2 and s3, which win.
    BlockResult result = Process(s1);
    EXPECT_EQ(result.status, BlockStatus::Connected);
    EXPECT_EQ(result.reorg_depth, 2u);
    EXPECT_EQ(result.old_tip, BlockHash(main.back()));
    ASSERT_EQ(result.connected.size(), 3u);
    EXPECT_EQ(result.connected.back()->HashHex(), BlockHash(s3));
    EXPECT_EQ(chain.Tip().HashHex(), BlockHash(s3));
    EXPECT_EQ(chain.Reorgs(), 1u);
}

TEST_F(ChainStateTest, OrphanPoolIsBounded) {
    ChainState::Options options = EasyOptions();
    options.orphans.max_blocks = 10;
    ChainState small(options);
    std::vector<Block> blocks = MakeBranch(params, TipBlock(), 30, 1);
    for (std::size_t i = 1; i < blocks.size(); ++i) {
        EXPECT_EQ(small.ProcessBlock(blocks[i], NOW).status, BlockStatus::Orphan);
        EXPECT_LE(small.Orphans().Size(), 10u);
    }
    EXPECT_FALSE(small.Knows(BlockHash(blocks[1])));
    EXPECT_TRUE(small.Knows(BlockHash(blocks[29])));
}

TEST_F(ChainStateTest, EqualHeightKeepsTheFirstSeen) {
    Block a = MakeChild(params, TipBlock(), {MakeTx(1)});
    Block b = MakeChild(params, TipBlock(), {MakeTx(2)}, 2.0);
    EXPECT_EQ(Process(a).status, BlockStatus::Connected);
    EXPECT_EQ(Process(b).status, BlockStatus::SideBranch);
    EXPECT_EQ(chain.Tip().HashHex(), BlockHash(a));
}

// Builds a main chain of `main_len` blocks and a competing branch of `main_len + 1` from the
// same parent, then checks the reorg and what happens to the transactions on both sides.
void CheckReorg(std::size_t depth) {
    ChainState chain(EasyOptions());
    const ConsensusParams& params = chain.Params();
    Block base = MakeChild(params, test::TipBlock(chain), {MakeTx(999'000)});
    ASSERT_EQ(chain.ProcessBlock(base, NOW).status, BlockStatus::Connected);
    std::vector<Block> main = MakeBranch(params, base, depth, 1000);
    // The side branch shares transaction 1000 with the main chain and adds its own.
    std::vector<Block> side;
    const Block* parent = &base;
    for (std::size_t i = 0; i <= depth; ++i) {
        std::vector<Transaction> txs{MakeTx(5000 + i)};
        if (i == 0)
            txs.push_back(MakeTx(1000));
        side.push_back(MakeChild(params, *parent, txs, 2.0));
        parent = &side.back();
    }
    for (const Block& block : main)
        ASSERT_EQ(chain.ProcessBlock(block, NOW).status, BlockStatus::Connected);
    ASSERT_EQ(chain.SubmitTransaction(MakeTx(4242), TxOrigin::Local).status, TxStatus::Accepted);
    ASSERT_EQ(chain.SubmitTransaction(MakeTx(5001), TxOrigin::Local).status, TxStatus::Accepted);

    for (std::size_t i = 0; i < depth; ++i) {
        ASSERT_EQ(chain.ProcessBlock(side[i], NOW).status, BlockStatus::SideBranch);
    }
    std::string old_tip = chain.Tip().HashHex();
    BlockResult result = chain.ProcessBlock(side[depth], NOW);
    ASSERT_EQ(result.status, BlockStatus::Connected);
    EXPECT_EQ(result.reorg_depth, depth);
    EXPECT_EQ(result.old_tip, old_tip);
    EXPECT_EQ(result.connected.size(), depth + 1);
    EXPECT_EQ(chain.Tip().HashHex(), BlockHash(side[depth]));
    EXPECT_EQ(chain.Height(), 2 + depth + 1);
    EXPECT_EQ(chain.Reorgs(), 1u);

    const Mempool& pool = chain.GetMempool();
    // Abandoned main-chain transactions are back, except the one the new chain also holds.
    for (std::size_t i = 1; i < depth; ++i)
        EXPECT_TRUE(pool.Contains(TxId(MakeTx(1000 + i)))) << i;
    EXPECT_FALSE(pool.Contains(TxId(MakeTx(1000))));
    EXPECT_EQ(chain.ConfirmedHeight(TxId(MakeTx(1000))), 3u);
    // Pending ones the new chain confirmed are gone; unrelated pending ones stay.
    EXPECT_FALSE(pool.Contains(TxId(MakeTx(5001))));
    EXPECT_TRUE(pool.Contains(TxId(MakeTx(4242))));
    EXPECT_EQ(pool.Size(), depth - 1 + 1);
}

TEST(ChainReorg, DepthOne) {
    CheckReorg(1);
}
TEST(ChainReorg, DepthTwo) {
    CheckReorg(2);
}
TEST(ChainReorg, DepthFifty) {
    CheckReorg(50);
}

TEST_F(ChainStateTest, RewardsOfAbandonedBlocksDoNotReturnToTheMempool) {
    Block mined = MakeChild(params, TipBlock(), {MakeTx(1), MakeTx(2, 1, "0")});
    ProcessAll({mined});
    std::vector<Block> better = MakeBranch(params, MakeGenesis(params), 2, 10);
    ProcessAll(better);
    EXPECT_EQ(chain.Tip().HashHex(), BlockHash(better.back()));
    EXPECT_TRUE(chain.GetMempool().Contains(TxId(MakeTx(1))));
    EXPECT_FALSE(chain.GetMempool().Contains(TxId(MakeTx(2, 1, "0"))));
}

TEST_F(ChainStateTest, BranchRepeatingAConfirmedTransactionIsRejectedAndMainChainKept) {
    ProcessAll(MakeBranch(params, TipBlock(), 2, 1));  // Confirms tx 1 and 2 at heights 2, 3.
    std::string tip = chain.Tip().HashHex();
    // A longer branch from genesis whose third block repeats tx 1 (its own first block lacks it,
    // so within the branch it is a repeat only of itself: make the branch hold tx 1 twice).
    auto [s1, s2, s3] = RivalBranch({MakeTx(1)}, {MakeTx(50)}, {MakeTx(1)});
    EXPECT_EQ(Process(s1).status, BlockStatus::SideBranch);
    EXPECT_EQ(Process(s2).status, BlockStatus::SideBranch);
    BlockResult result = Process(s3);
    EXPECT_EQ(result.status, BlockStatus::Invalid);
    EXPECT_EQ(result.validation.reason, ValidationReason::TransactionAlreadyInChain);
    EXPECT_EQ(chain.Tip().HashHex(), tip);
    EXPECT_EQ(chain.ConfirmedHeight(TxId(MakeTx(1))), 2u);
    EXPECT_EQ(chain.ConfirmedHeight(TxId(MakeTx(2))), 3u);
}

TEST_F(ChainStateTest, ABranchThatFailsHalfwayGivesBackThePendingTransactionsItTook) {
    ProcessAll(MakeBranch(params, TipBlock(), 2, 1));  // Height 3.
    std::string tip = chain.Tip().HashHex();
    ASSERT_EQ(chain.SubmitTransaction(MakeTx(50), TxOrigin::Local).status, TxStatus::Accepted);
    ASSERT_EQ(chain.SubmitTransaction(MakeTx(60), TxOrigin::Relay).status, TxStatus::Accepted);
    // A longer branch whose first two blocks confirm both pending transactions and whose third
    // repeats one of them: it is switched to, fails at its third block, and is rolled back.
    auto [s1, s2, s3] = RivalBranch({MakeTx(50)}, {MakeTx(60), MakeTx(70)}, {MakeTx(50)});
    ProcessAll({s1, s2});
    EXPECT_EQ(Process(s3).status, BlockStatus::Invalid);
    EXPECT_EQ(chain.Tip().HashHex(), tip);
    EXPECT_TRUE(chain.GetMempool().Contains(TxId(MakeTx(50))));
    EXPECT_TRUE(chain.GetMempool().Contains(TxId(MakeTx(60))));
    // A transaction only the branch had returns like one of any abandoned block.
    EXPECT_TRUE(chain.GetMempool().Contains(TxId(MakeTx(70))));
    EXPECT_EQ(chain.GetMempool().Size(), 3u);
    EXPECT_FALSE(chain.ConfirmedHeight(TxId(MakeTx(50))).has_value());
}

TEST_F(ChainStateTest, LocatorIsExponentiallySpacedAndEndsAtGenesis) {
    ProcessAll(MakeBranch(params, TipBlock(), 99, 1));
    std::vector<std::string> locator = chain.Locator();
    ASSERT_GE(locator.size(), 10u);
    EXPECT_EQ(locator.front(), chain.Tip().HashHex());
    EXPECT_EQ(locator.back(), chain.Genesis().HashHex());
    EXPECT_LT(locator.size(), 25u);
    for (std::size_t i = 0; i < 10; ++i)
        EXPECT_EQ(locator[i], chain.AtHeight(100 - i)->HashHex());
}

TEST_F(ChainStateTest, BlocksAfterLocatorStartAfterTheFork) {
    std::vector<Block> blocks = MakeBranch(params, TipBlock(), 20, 1);
    ProcessAll(blocks);
    std::vector<const BlockEntry*> after =
        chain.BlocksAfterLocator({std::string(64, 'f'), BlockHash(blocks[4])}, 5);
    ASSERT_EQ(after.size(), 5u);
    EXPECT_EQ(after[0]->Height(), 7u);
    EXPECT_EQ(after[4]->Height(), 11u);
    EXPECT_EQ(chain.BlocksAfterLocator({}, 1000).size(), 20u);
    EXPECT_TRUE(chain.BlocksAfterLocator({chain.Tip().HashHex()}, 10).empty());
}

TEST_F(ChainStateTest, SubmitTransactionChecksFormDuplicatesAndRewards) {
    EXPECT_EQ(chain.SubmitTransaction(MakeTx(1), TxOrigin::Local).status, TxStatus::Accepted);
    EXPECT_EQ(chain.SubmitTransaction(MakeTx(1), TxOrigin::Local).status, TxStatus::Duplicate);
    EXPECT_EQ(chain.SubmitTransaction(MakeTx(2, 0), TxOrigin::Local).status, TxStatus::Invalid);
    TxResult reward = chain.SubmitTransaction(MakeTx(3, 1, "0"), TxOrigin::Local);
    EXPECT_EQ(reward.status, TxStatus::Invalid);
    EXPECT_EQ(reward.validation.reason, ValidationReason::BadReward);
    ProcessAll({MakeChild(params, TipBlock(), {MakeTx(1)})});
    EXPECT_EQ(chain.GetMempool().Size(), 0u);
    EXPECT_EQ(chain.SubmitTransaction(MakeTx(1), TxOrigin::Local).status,
              TxStatus::AlreadyConfirmed);
}

TEST_F(ChainStateTest, TemplateTakesPendingInOrderThenTheReward) {
    for (int i = 0; i < 3; ++i)
        chain.SubmitTransaction(MakeTx(i), TxOrigin::Local);
    Block block = chain.BlockTemplate("me", std::string(32, 'a'), NOW);
    EXPECT_EQ(block.index, 2u);
    EXPECT_EQ(block.ParentHash(), chain.Tip().HashHex());
    ASSERT_EQ(block.transactions.size(), 4u);
    EXPECT_EQ(block.transactions[0], MakeTx(0));
    EXPECT_EQ(block.transactions[2], MakeTx(2));
    EXPECT_TRUE(block.transactions[3].IsReward());
    EXPECT_EQ(block.transactions[3].recipient, "me");
    block.proof = test::FindProofSlow(params, test::TipBlock(chain));
    EXPECT_EQ(Process(block).status, BlockStatus::Connected);
}

TEST_F(ChainStateTest, ABlockNoHigherThanTheTipOffTheMainChainIsNotKept) {
    Block a1 = MakeChild(params, TipBlock(), {MakeTx(1)});
    ASSERT_EQ(Process(a1).status, BlockStatus::Connected);
    int added = 0;
    chain.SetHooks(ChainHooks{[&](const BlockEntry&, std::string_view) { ++added; }, {}, {}});
    // Under the tutorial's proof rules the proof does not cover the content: 60 variants of a1
    // with other timestamps are all valid, and none can become the best chain on its own.
    for (int i = 0; i < 60; ++i) {
        Block variant = a1;
        variant.timestamp += 1.0 + i;
        BlockResult result = chain.ProcessBlock(variant, NOW, 0);
        EXPECT_EQ(result.status, BlockStatus::Stale);
        EXPECT_EQ(chain.Find(result.hash), nullptr);
    }
    EXPECT_EQ(added, 0);
    EXPECT_EQ(chain.BlockCount(), 2u);
    EXPECT_EQ(chain.Tip().HashHex(), BlockHash(a1));
    // An invalid one is still Invalid, not Stale: its sender pays for garbage.
    Block bad = a1;
    bad.timestamp += 100.0;
    bad.proof += 1;
    EXPECT_EQ(chain.ProcessBlock(bad, NOW, 0).status, BlockStatus::Invalid);
}

TEST_F(ChainStateTest, AStaleSiblingIsKeptWhenTheSenderClaimsItsBranchGoesHigher) {
    Block a1 = MakeChild(params, TipBlock(), {MakeTx(1)});
    ASSERT_EQ(Process(a1).status, BlockStatus::Connected);
    std::array<Block, 3> rival = RivalBranch({MakeTx(2)}, {MakeTx(3)}, {MakeTx(4)});
    // A sync answer ending at height 3 makes its first block worth keeping.
    EXPECT_EQ(chain.ProcessBlock(rival[0], NOW, 3).status, BlockStatus::SideBranch);
    BlockResult second = chain.ProcessBlock(rival[1], NOW, 3);
    EXPECT_EQ(second.status, BlockStatus::Connected);
    EXPECT_EQ(second.reorg_depth, 1u);
    EXPECT_EQ(chain.Tip().HashHex(), BlockHash(rival[1]));
}

TEST_F(ChainStateTest, AStaleSiblingIsKeptWhenOrphansWaitingForItGoHigher) {
    Block a1 = MakeChild(params, TipBlock(), {MakeTx(1)});
    ASSERT_EQ(Process(a1).status, BlockStatus::Connected);
    std::array<Block, 3> rival = RivalBranch({MakeTx(2)}, {MakeTx(3)}, {MakeTx(4)});
    // Its child arrives first (an orphan), then the sibling itself, announced, claiming nothing.
    EXPECT_EQ(chain.ProcessBlock(rival[1], NOW, 0).status, BlockStatus::Orphan);
    BlockResult result = chain.ProcessBlock(rival[0], NOW, 0);
    EXPECT_EQ(result.status, BlockStatus::Connected);
    EXPECT_EQ(chain.Tip().HashHex(), BlockHash(rival[1]));
    EXPECT_EQ(result.reorg_depth, 1u);
    // A waiting orphan no higher than the tip does not make its parent worth keeping.
    Block low_child = MakeChild(params, MakeGenesis(params), {MakeTx(9)}, 9.0);
    Block low_grandchild = MakeChild(params, low_child, {MakeTx(10)});
    EXPECT_EQ(chain.ProcessBlock(low_grandchild, NOW, 0).status, BlockStatus::Orphan);
    EXPECT_EQ(chain.ProcessBlock(low_child, NOW, 0).status, BlockStatus::Stale);
    EXPECT_EQ(chain.Find(BlockHash(low_child)), nullptr);
}

/** Keeps every added block's canonical JSON by seq, as the store keeps rows, and counts reads. */
struct RowBodies : BodySource {
    std::unordered_map<std::uint64_t, std::string> rows;
    int reads = 0;

    std::shared_ptr<const BlockBody> ReadBody(const BlockEntry& entry) override {
        ++reads;
        auto found = rows.find(entry.seq);
        if (found == rows.end())
            return nullptr;
        Result<Block> block = ParseCanonicalBlock(found->second);
        if (!block.Ok())
            return nullptr;
        auto body = std::make_shared<BlockBody>();
        body->block = std::move(block).Value();
        body->txids = TxIds(body->block);
        return body;
    }
    bool AppendCanonical(const BlockEntry& entry, std::string& out) override {
        ++reads;
        auto found = rows.find(entry.seq);
        if (found == rows.end())
            return false;
        out += found->second;
        return true;
    }
};

class BodyResidenceTest : public ChainStateTest {
protected:
    RowBodies bodies;
    void SetUp() override {
        chain.SetHooks(ChainHooks{[this](const BlockEntry& entry, std::string_view canonical) {
                                      bodies.rows[entry.seq] = std::string(canonical);
                                  },
                                  {}});
    }
    /** Marks every block of the tree stored, oldest first. */
    void StoreAll() {
        for (std::uint64_t h = 2; h <= chain.Height(); ++h)
            chain.MarkStored(*chain.AtHeight(h));
    }
};

TEST_F(BodyResidenceTest, StoredBlocksKeepTheirContentOnlyWithinTheBound) {
    std::vector<Block> blocks = MakeBranch(params, TipBlock(), 20, 1);
    ProcessAll(blocks);
    const std::size_t one = chain.AtHeight(2)->json_size;
    chain.SetBodySource(&bodies, 5 * one);
    StoreAll();
    // Blocks of one transaction differ in size by a digit or two: four or five fit.
    EXPECT_LE(chain.ResidentStoredBodies(), 5u);
    EXPECT_GE(chain.ResidentStoredBodies(), 4u);
    EXPECT_EQ(chain.AtHeight(2)->body, nullptr);
    EXPECT_NE(chain.AtHeight(21)->body, nullptr);
    for (std::uint64_t h = 2; h <= 21; ++h) {
        const BlockEntry& entry = *chain.AtHeight(h);
        ASSERT_NE(chain.Body(entry), nullptr);
        EXPECT_EQ(chain.Body(entry)->block, blocks[h - 2]);
        std::string json;
        ASSERT_TRUE(chain.AppendBlockJson(entry, json));
        EXPECT_EQ(json, BlockJson(blocks[h - 2]));
    }
    EXPECT_GT(bodies.reads, 0);
    // Marking again changes nothing (the bound counts each block once).
    const std::size_t resident = chain.ResidentStoredBodies();
    StoreAll();
    EXPECT_EQ(chain.ResidentStoredBodies(), resident);
}

TEST_F(BodyResidenceTest, WithoutASourceEverythingStaysInMemory) {
    ProcessAll(MakeBranch(params, TipBlock(), 5, 1));
    StoreAll();
    EXPECT_EQ(chain.ResidentStoredBodies(), 0u);
    for (std::uint64_t h = 2; h <= 6; ++h)
        EXPECT_NE(chain.AtHeight(h)->body, nullptr);
}

TEST_F(BodyResidenceTest, AReorgReadsTheAbandonedBlocksBackAndReturnsTheirTransactions) {
    chain.SetBodySource(&bodies, 0);
    std::vector<Block> ours = MakeBranch(params, TipBlock(), 3, 100);
    ProcessAll(ours);
    StoreAll();
    ASSERT_EQ(chain.AtHeight(3)->body, nullptr);
    // A rival branch from genesis, one longer, holding other transactions.
    std::vector<Block> theirs;
    Block parent = MakeGenesis(params);
    for (int i = 0; i < 4; ++i) {
        theirs.push_back(MakeChild(params, parent, {MakeTx(200 + i)}, 2.0));
        parent = theirs.back();
    }
    const int reads_before = bodies.reads;
    ProcessAll(theirs);
    EXPECT_EQ(chain.Tip().HashHex(), BlockHash(theirs.back()));
    EXPECT_GE(bodies.reads - reads_before, 3);
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(chain.GetMempool().Contains(TxId(MakeTx(100 + i)))) << i;
        EXPECT_FALSE(chain.ConfirmedHeight(TxId(MakeTx(100 + i))).has_value()) << i;
    }
    EXPECT_EQ(chain.ConfirmedHeight(TxId(MakeTx(203))), 5u);
}

TEST_F(BodyResidenceTest, ABlockThatCannotBeReadBackIsNullNotWrong) {
    ProcessAll(MakeBranch(params, TipBlock(), 3, 1));
    chain.SetBodySource(&bodies, 0);
    StoreAll();
    bodies.rows.erase(chain.AtHeight(2)->seq);
    EXPECT_EQ(chain.Body(*chain.AtHeight(2)), nullptr);
    std::string json = "x";
    EXPECT_FALSE(chain.AppendBlockJson(*chain.AtHeight(2), json));
    EXPECT_NE(chain.Body(*chain.AtHeight(3)), nullptr);
}

/** The signed rules: accounts through blocks, the mempool and reorgs. */
class SignedChainTest : public ::testing::Test {
protected:
    static ChainState::Options SignedOptions() {
        ChainState::Options options;
        options.params = test::SignedParams();
        return options;
    }
    ChainState chain{SignedOptions()};
    const ConsensusParams& params = chain.Params();
    NodeKey alice = test::WalletKey(1);
    NodeKey bob = test::WalletKey(2);
    NodeKey carol = test::WalletKey(3);
    std::string a = test::AddressOfKey(alice);
    std::string b = test::AddressOfKey(bob);
    std::string c = test::AddressOfKey(carol);
    std::uint64_t m_next_id = 1;

    /** A child of `parent` with `txs` and a reward to `miner` (last, as templates put it). */
    Block Mined(const Block& parent, std::vector<Transaction> txs, const std::string& miner,
                double dt = 1.0) {
        txs.push_back(test::RewardTo(miner, m_next_id++));
        return MakeChild(params, parent, std::move(txs), dt);
    }
    BlockResult Process(const Block& block) { return chain.ProcessBlock(block, NOW); }
    Transaction Pay(const NodeKey& from, const NodeKey& to, std::int64_t amount,
                    std::uint64_t nonce) {
        return test::Transfer(params, from, to, amount, nonce);
    }
};

TEST_F(SignedChainTest, BlocksMintAndMoveBalances) {
    Block b2 = Mined(test::TipBlock(chain), {}, a);
    ASSERT_EQ(Process(b2).status, BlockStatus::Connected);
    Block b3 = Mined(b2, {Pay(alice, bob, 1, 0)}, c);
    ASSERT_EQ(Process(b3).status, BlockStatus::Connected) << Process(b3).validation.ToString();
    EXPECT_EQ(chain.AccountOf(a), (Account{0, 1}));
    EXPECT_EQ(chain.AccountOf(b), (Account{1, 0}));
    EXPECT_EQ(chain.AccountOf(c), (Account{1, 0}));
}

TEST_F(SignedChainTest, BlocksThatDoNotApplyAreInvalidWithTheReason) {
    Block b2 = Mined(test::TipBlock(chain), {}, a);
    ASSERT_EQ(Process(b2).status, BlockStatus::Connected);
    BlockResult over = Process(Mined(b2, {Pay(alice, bob, 2, 0)}, c));
    EXPECT_EQ(over.status, BlockStatus::Invalid);
    EXPECT_EQ(over.validation.reason, ValidationReason::Overspend);
    Transaction forged = Pay(alice, bob, 1, 0);
    forged.recipient = c;
    BlockResult bad = Process(Mined(b2, {forged}, c, 2.0));
    EXPECT_EQ(bad.validation.reason, ValidationReason::BadSignature);
    Transaction plain{"alice", "bob", 1, std::string(32, 'a')};
    EXPECT_EQ(Process(Mined(b2, {plain}, c, 3.0)).validation.reason, ValidationReason::WrongShape);
    EXPECT_EQ(chain.Height(), 2u);
    EXPECT_EQ(chain.AccountOf(a), (Account{1, 0}));
}

TEST_F(SignedChainTest, ABranchThatFailsToApplyRestoresTheAccounts) {
    Block b2 = Mined(test::TipBlock(chain), {}, a);
    Block b3 = Mined(b2, {Pay(alice, bob, 1, 0)}, a);
    ASSERT_EQ(Process(b2).status, BlockStatus::Connected);
    ASSERT_EQ(Process(b3).status, BlockStatus::Connected);
    // A longer branch whose last block spends what alice has only on the main chain.
    Block s2 = Mined(MakeGenesis(params), {}, c, 5.0);
    Block s3 = Mined(s2, {}, c);
    Block s4 = Mined(s3, {Pay(alice, carol, 1, 0)}, c);
    EXPECT_EQ(Process(s2).status, BlockStatus::SideBranch);
    EXPECT_EQ(Process(s3).status, BlockStatus::SideBranch);
    BlockResult failed = Process(s4);
    EXPECT_EQ(failed.status, BlockStatus::Invalid);
    EXPECT_EQ(failed.validation.reason, ValidationReason::Overspend);
    EXPECT_EQ(chain.Tip().HashHex(), BlockHash(b3));
    EXPECT_EQ(chain.AccountOf(a), (Account{1, 1}));
    EXPECT_EQ(chain.AccountOf(b), (Account{1, 0}));
    EXPECT_EQ(chain.AccountOf(c), Account{});
    EXPECT_EQ(chain.GetMempool().Size(), 0u);
}

TEST_F(SignedChainTest, MempoolRefusesWhatCannotApplyWithAReason) {
    Block b2 = Mined(test::TipBlock(chain), {}, a);
    ASSERT_EQ(Process(b2).status, BlockStatus::Connected);
    using R = ValidationReason;
    EXPECT_EQ(chain.SubmitTransaction(Pay(alice, bob, 2, 0), TxOrigin::Local).validation.reason,
              R::Overspend);
    EXPECT_EQ(chain.SubmitTransaction(Pay(alice, bob, 1, 1), TxOrigin::Local).validation.reason,
              R::GappedNonce);
    Transaction forged = Pay(alice, bob, 1, 0);
    forged.recipient = c;
    EXPECT_EQ(chain.SubmitTransaction(forged, TxOrigin::Local).validation.reason, R::BadSignature);
    EXPECT_EQ(chain.SubmitTransaction(Pay(alice, bob, 1, 0), TxOrigin::Local).status,
              TxStatus::Accepted);
    // The same nonce to someone else: a double spend, refused while the first is pending.
    TxResult twice = chain.SubmitTransaction(Pay(alice, carol, 1, 0), TxOrigin::Relay);
    EXPECT_EQ(twice.validation.reason, R::StaleNonce);
    EXPECT_EQ(chain.GetMempool().Size(), 1u);
}

TEST_F(SignedChainTest, AConfirmedDoubleSpendDropsThePendingOne) {
    Block b2 = Mined(test::TipBlock(chain), {}, a);
    ASSERT_EQ(Process(b2).status, BlockStatus::Connected);
    ASSERT_EQ(chain.SubmitTransaction(Pay(alice, bob, 1, 0), TxOrigin::Local).status,
              TxStatus::Accepted);
    ASSERT_EQ(Process(Mined(b2, {Pay(alice, carol, 1, 0)}, c)).status, BlockStatus::Connected);
    EXPECT_EQ(chain.GetMempool().Size(), 0u);
    EXPECT_EQ(chain.DroppedPending(), 1u);
    EXPECT_EQ(chain.AccountOf(c), (Account{2, 0}));
    EXPECT_EQ(chain.AccountOf(b), Account{});
}

TEST_F(SignedChainTest, AReorgUndoesATransferAndDropsWhatNoLongerFits) {
    Block b2 = Mined(test::TipBlock(chain), {}, a);
    Block b3 = Mined(b2, {Pay(alice, bob, 1, 0)}, a);
    ASSERT_EQ(Process(b2).status, BlockStatus::Connected);
    ASSERT_EQ(Process(b3).status, BlockStatus::Connected);
    EXPECT_EQ(chain.AccountOf(b), (Account{1, 0}));
    // A longer branch where alice never mined: her transfer has nothing to spend there.
    Block s2 = Mined(MakeGenesis(params), {}, c, 5.0);
    Block s3 = Mined(s2, {}, c);
    Block s4 = Mined(s3, {}, c);
    Process(s2);
    Process(s3);
    BlockResult moved = Process(s4);
    ASSERT_EQ(moved.status, BlockStatus::Connected);
    EXPECT_EQ(moved.reorg_depth, 2u);
    EXPECT_EQ(chain.AccountOf(a), Account{});
    EXPECT_EQ(chain.AccountOf(b), Account{});
    EXPECT_EQ(chain.AccountOf(c), (Account{3, 0}));
    EXPECT_EQ(chain.GetMempool().Size(), 0u);
    EXPECT_EQ(chain.DroppedPending(), 1u);
}

TEST_F(SignedChainTest, AReorgReturnsTransfersThatStillFitInNonceOrder) {
    Block b2 = Mined(test::TipBlock(chain), {}, a);
    Block b3 = Mined(b2, {}, a);
    Block b4 = Mined(b3, {Pay(alice, bob, 1, 0)}, c);
    for (const Block* block : {&b2, &b3, &b4})
        ASSERT_EQ(Process(*block).status, BlockStatus::Connected);
    ASSERT_EQ(chain.SubmitTransaction(Pay(alice, bob, 1, 1), TxOrigin::Local).status,
              TxStatus::Accepted);
    Block s4 = Mined(b3, {}, c, 5.0);
    Block s5 = Mined(s4, {}, c);
    Process(s4);
    ASSERT_EQ(Process(s5).status, BlockStatus::Connected);
    EXPECT_EQ(chain.AccountOf(a), (Account{2, 0}));
    EXPECT_EQ(chain.GetMempool().Size(), 2u);
    Block next = chain.BlockTemplate(c, std::string(32, 'f'), NOW);
    ASSERT_EQ(next.transactions.size(), 3u);
    EXPECT_EQ(next.transactions[0].nonce, 0u);
    EXPECT_EQ(next.transactions[1].nonce, 1u);
    next.proof = test::FindProofSlow(params, test::TipBlock(chain));
    EXPECT_EQ(Process(next).status, BlockStatus::Connected);
    EXPECT_EQ(chain.AccountOf(b), (Account{2, 0}));
}

}  // namespace
}  // namespace gossipchain
