#include "chain/mempool.h"

#include "support/chain_builder.h"
#include "support/signed_builder.h"

#include <gtest/gtest.h>

namespace gossipchain {
namespace {

using test::MakeTx;

TEST(Mempool, DeduplicatesByTxidAndKeepsArrivalOrder) {
    Mempool pool({});
    EXPECT_EQ(pool.Add(MakeTx(2), TxId(MakeTx(2)), TxOrigin::Local), Mempool::AddResult::Added);
    EXPECT_EQ(pool.Add(MakeTx(1), TxId(MakeTx(1)), TxOrigin::Relay), Mempool::AddResult::Added);
    EXPECT_EQ(pool.Add(MakeTx(2), TxId(MakeTx(2)), TxOrigin::Relay), Mempool::AddResult::Duplicate);
    std::vector<Transaction> all = pool.All();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0], MakeTx(2));
    EXPECT_EQ(all[1], MakeTx(1));
    EXPECT_EQ(pool.Remove(TxId(MakeTx(2))), TxOrigin::Local);
    EXPECT_EQ(pool.Size(), 1u);
    EXPECT_FALSE(pool.Contains(TxId(MakeTx(2))));
    EXPECT_EQ(pool.Remove(TxId(MakeTx(2))), std::nullopt);
    EXPECT_EQ(pool.Remove(TxId(MakeTx(1))), TxOrigin::Relay);
}

TEST(Mempool, AtItsBoundEvictsRelayedBeforeRefusingAcknowledged) {
    Mempool pool({.max_txs = 3, .max_bytes = 1 << 20});
    ASSERT_EQ(pool.Add(MakeTx(1), TxId(MakeTx(1)), TxOrigin::Local), Mempool::AddResult::Added);
    ASSERT_EQ(pool.Add(MakeTx(2), TxId(MakeTx(2)), TxOrigin::Relay), Mempool::AddResult::Added);
    ASSERT_EQ(pool.Add(MakeTx(3), TxId(MakeTx(3)), TxOrigin::Local), Mempool::AddResult::Added);
    // Full: the relayed transaction makes room.
    EXPECT_EQ(pool.Add(MakeTx(4), TxId(MakeTx(4)), TxOrigin::Local), Mempool::AddResult::Added);
    EXPECT_FALSE(pool.Contains(TxId(MakeTx(2))));
    EXPECT_EQ(pool.Evicted(), 1u);
    // Only acknowledged ones left: the newcomer is refused, nothing acknowledged is dropped.
    EXPECT_EQ(pool.Add(MakeTx(5), TxId(MakeTx(5)), TxOrigin::Relay), Mempool::AddResult::Full);
    EXPECT_EQ(pool.Size(), 3u);
    // Transactions returning from a reorg are re-admitted over the bound.
    EXPECT_EQ(pool.Add(MakeTx(6), TxId(MakeTx(6)), TxOrigin::Reorg), Mempool::AddResult::Added);
    EXPECT_EQ(pool.Size(), 4u);
}

TEST(Mempool, ASubmissionOfARelayedTransactionMakesItUnevictable) {
    Mempool pool({.max_txs = 3, .max_bytes = 1 << 20});
    ASSERT_EQ(pool.Add(MakeTx(1), TxId(MakeTx(1)), TxOrigin::Relay), Mempool::AddResult::Added);
    // A client submits the same transaction and is acknowledged: it is Local from now on.
    EXPECT_EQ(pool.Add(MakeTx(1), TxId(MakeTx(1)), TxOrigin::Local), Mempool::AddResult::Duplicate);
    EXPECT_EQ(pool.OriginOf(TxId(MakeTx(1))), TxOrigin::Local);
    // A later relayed copy does not demote it.
    EXPECT_EQ(pool.Add(MakeTx(1), TxId(MakeTx(1)), TxOrigin::Relay), Mempool::AddResult::Duplicate);
    EXPECT_EQ(pool.OriginOf(TxId(MakeTx(1))), TxOrigin::Local);
    // A flood of relayed transactions evicts only relayed ones.
    for (std::uint64_t i = 2; i < 200; ++i)
        pool.Add(MakeTx(i), TxId(MakeTx(i)), TxOrigin::Relay);
    EXPECT_TRUE(pool.Contains(TxId(MakeTx(1))));
    EXPECT_EQ(pool.Size(), 3u);
    EXPECT_EQ(pool.Evicted(), 196u);
    // One returned by a reorg and then submitted is Local too.
    ASSERT_EQ(pool.Add(MakeTx(500), TxId(MakeTx(500)), TxOrigin::Reorg), Mempool::AddResult::Added);
    pool.Add(MakeTx(500), TxId(MakeTx(500)), TxOrigin::Local);
    EXPECT_EQ(pool.OriginOf(TxId(MakeTx(500))), TxOrigin::Local);
    EXPECT_EQ(pool.Remove(TxId(MakeTx(500))), TxOrigin::Local);
    EXPECT_EQ(pool.OriginOf(TxId(MakeTx(500))), std::nullopt);
}

TEST(Mempool, EvictionTakesTheOldestRelayedAmongManyAcknowledged) {
    Mempool pool({.max_txs = 1'000, .max_bytes = 1 << 30});
    for (std::uint64_t i = 0; i < 998; ++i)
        ASSERT_EQ(pool.Add(MakeTx(i), TxId(MakeTx(i)), TxOrigin::Local), Mempool::AddResult::Added);
    pool.Add(MakeTx(1'000), TxId(MakeTx(1'000)), TxOrigin::Relay);
    pool.Add(MakeTx(1'001), TxId(MakeTx(1'001)), TxOrigin::Relay);
    // A relayed one removed (mined) is no longer an eviction candidate.
    EXPECT_EQ(pool.Remove(TxId(MakeTx(1'000))), TxOrigin::Relay);
    pool.Add(MakeTx(1'002), TxId(MakeTx(1'002)), TxOrigin::Relay);
    EXPECT_EQ(pool.Add(MakeTx(1'003), TxId(MakeTx(1'003)), TxOrigin::Relay),
              Mempool::AddResult::Added);
    EXPECT_FALSE(pool.Contains(TxId(MakeTx(1'001))));
    EXPECT_TRUE(pool.Contains(TxId(MakeTx(1'002))));
    EXPECT_TRUE(pool.Contains(TxId(MakeTx(1'003))));
    EXPECT_EQ(pool.Evicted(), 1u);
}

TEST(Mempool, ByteBoundCountsCanonicalJson) {
    Mempool pool({.max_txs = 100, .max_bytes = 150});
    EXPECT_EQ(pool.Add(MakeTx(1), TxId(MakeTx(1)), TxOrigin::Local), Mempool::AddResult::Added);
    EXPECT_GT(pool.Bytes(), 80u);
    EXPECT_EQ(pool.Add(MakeTx(2), TxId(MakeTx(2)), TxOrigin::Local), Mempool::AddResult::Full);
}

TEST(Mempool, AFullPoolEvictsASendersLastNonceNeverOneBeforeIt) {
    Mempool pool({.max_txs = 3, .max_bytes = 1 << 20});
    ConsensusParams params = test::SignedParams();
    std::vector<std::string> txids;
    for (std::uint64_t nonce = 0; nonce < 3; ++nonce) {
        Transaction tx = test::Transfer(params, test::WalletKey(1), test::WalletKey(2), 1, nonce);
        txids.push_back(TxId(tx));
        ASSERT_EQ(pool.Add(tx, txids.back(), TxOrigin::Relay), Mempool::AddResult::Added);
    }
    EXPECT_EQ(pool.PendingOf(test::AddressOfKey(test::WalletKey(1))).last_nonce, 2u);
    Transaction other = test::Transfer(params, test::WalletKey(3), test::WalletKey(2), 1, 0);
    ASSERT_EQ(pool.Add(other, TxId(other), TxOrigin::Local), Mempool::AddResult::Added);
    EXPECT_TRUE(pool.Contains(txids[0]));
    EXPECT_TRUE(pool.Contains(txids[1]));
    EXPECT_FALSE(pool.Contains(txids[2]));
    PendingSpend left = pool.PendingOf(test::AddressOfKey(test::WalletKey(1)));
    EXPECT_EQ(left.last_nonce, 1u);
    EXPECT_EQ(left.amount, 2);
}

}  // namespace
}  // namespace gossipchain
