#include "consensus/ledger.h"

#include "support/signed_builder.h"

#include <gtest/gtest.h>

namespace gossipchain {
namespace {

using test::AddressOfKey;
using test::RewardTo;
using test::SignedParams;
using test::Transfer;
using test::WalletKey;
using R = ValidationReason;

class LedgerTest : public ::testing::Test {
protected:
    ConsensusParams params = SignedParams();
    NodeKey alice = WalletKey(1);
    NodeKey bob = WalletKey(2);
    std::string a = AddressOfKey(alice);
    std::string b = AddressOfKey(bob);
    Ledger ledger;

    Block BlockOf(std::vector<Transaction> txs) {
        Block block;
        block.transactions = std::move(txs);
        return block;
    }
};

TEST_F(LedgerTest, RewardsMintAndTransfersMoveWithTheNonce) {
    ASSERT_TRUE(ledger.Connect(BlockOf({RewardTo(a, 1)})).Ok());
    ASSERT_TRUE(ledger.Connect(BlockOf({RewardTo(a, 2)})).Ok());
    EXPECT_EQ(ledger.Get(a), (Account{2, 0}));
    ASSERT_TRUE(ledger.Connect(BlockOf({Transfer(params, alice, bob, 2, 0)})).Ok());
    EXPECT_EQ(ledger.Get(a), (Account{0, 1}));
    EXPECT_EQ(ledger.Get(b), (Account{2, 0}));
}

TEST_F(LedgerTest, ABlockThatOverspendsAppliesNothing) {
    ASSERT_TRUE(ledger.Connect(BlockOf({RewardTo(a, 1)})).Ok());
    Block block = BlockOf(
        {RewardTo(b, 2), Transfer(params, alice, bob, 1, 0), Transfer(params, alice, bob, 1, 1)});
    ValidationResult result = ledger.Connect(block);
    EXPECT_EQ(result.reason, R::Overspend);
    EXPECT_NE(result.detail.find("transaction 2"), std::string::npos) << result.detail;
    EXPECT_EQ(ledger.Get(a), (Account{1, 0}));
    EXPECT_EQ(ledger.Get(b), Account{});
    EXPECT_EQ(ledger.Size(), 1u);
}

TEST_F(LedgerTest, StaleAndGappedNoncesAreRefused) {
    ASSERT_TRUE(ledger.Connect(BlockOf({RewardTo(a, 1), RewardTo(a, 2)})).Ok());
    ASSERT_TRUE(ledger.Connect(BlockOf({Transfer(params, alice, bob, 1, 0)})).Ok());
    EXPECT_EQ(ledger.Connect(BlockOf({Transfer(params, alice, bob, 1, 0)})).reason, R::StaleNonce);
    EXPECT_EQ(ledger.Connect(BlockOf({Transfer(params, alice, bob, 1, 2)})).reason, R::GappedNonce);
    EXPECT_TRUE(ledger.Connect(BlockOf({Transfer(params, alice, bob, 1, 1)})).Ok());
}

TEST_F(LedgerTest, ATransferMaySpendWhatTheSameBlockPaidIn) {
    ASSERT_TRUE(ledger.Connect(BlockOf({RewardTo(a, 1)})).Ok());
    EXPECT_TRUE(ledger
                    .Connect(BlockOf(
                        {Transfer(params, alice, bob, 1, 0), Transfer(params, bob, alice, 1, 0)}))
                    .Ok());
    EXPECT_EQ(ledger.Get(a), (Account{1, 1}));
    EXPECT_EQ(ledger.Get(b), (Account{0, 1}));
}

TEST_F(LedgerTest, DisconnectUndoesExactly) {
    Block first = BlockOf({RewardTo(a, 1)});
    Block second = BlockOf({RewardTo(b, 2), Transfer(params, alice, bob, 1, 0)});
    ASSERT_TRUE(ledger.Connect(first).Ok());
    ASSERT_TRUE(ledger.Connect(second).Ok());
    ledger.Disconnect(second);
    EXPECT_EQ(ledger.Get(a), (Account{1, 0}));
    EXPECT_EQ(ledger.Get(b), Account{});
    ledger.Disconnect(first);
    EXPECT_EQ(ledger.Size(), 0u);
}

TEST_F(LedgerTest, PendingTransfersChainOnEachOther) {
    ASSERT_TRUE(ledger.Connect(BlockOf({RewardTo(a, 1), RewardTo(a, 2)})).Ok());
    PendingSpend none;
    EXPECT_TRUE(ledger.CheckPending(Transfer(params, alice, bob, 2, 0), none).Ok());
    EXPECT_EQ(ledger.CheckPending(Transfer(params, alice, bob, 3, 0), none).reason, R::Overspend);
    EXPECT_EQ(ledger.CheckPending(Transfer(params, alice, bob, 1, 1), none).reason, R::GappedNonce);
    PendingSpend one{0, 1};
    EXPECT_EQ(ledger.CheckPending(Transfer(params, alice, bob, 1, 0), one).reason, R::StaleNonce);
    EXPECT_TRUE(ledger.CheckPending(Transfer(params, alice, bob, 1, 1), one).Ok());
    ValidationResult over = ledger.CheckPending(Transfer(params, alice, bob, 2, 1), one);
    EXPECT_EQ(over.reason, R::Overspend);
    EXPECT_NE(over.detail.find("pending"), std::string::npos) << over.detail;
}

}  // namespace
}  // namespace gossipchain
