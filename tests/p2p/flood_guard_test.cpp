#include "p2p/flood_guard.h"

#include <gtest/gtest.h>

namespace gossipchain {
namespace {

TEST(TokenBucket, StartsFullAndRefusesWhatItDoesNotHold) {
    TokenBucket bucket(10, 5, 1'000);
    EXPECT_TRUE(bucket.Take(4, 1'000));
    EXPECT_TRUE(bucket.Take(6, 1'000));
    EXPECT_FALSE(bucket.Take(1, 1'000));
    EXPECT_DOUBLE_EQ(bucket.Available(1'000), 0);
}

TEST(TokenBucket, AFailedTakeTakesNothing) {
    TokenBucket bucket(10, 5, 0);
    EXPECT_FALSE(bucket.Take(11, 0));
    EXPECT_DOUBLE_EQ(bucket.Available(0), 10);
}

TEST(TokenBucket, RefillsAtItsRateUpToItsCapacity) {
    TokenBucket bucket(10, 5, 0);
    ASSERT_TRUE(bucket.Take(10, 0));
    EXPECT_DOUBLE_EQ(bucket.Available(200), 1);  // 5 per second: 1 in 200 ms
    EXPECT_FALSE(bucket.Take(2, 200));
    EXPECT_TRUE(bucket.Take(2, 400));
    EXPECT_DOUBLE_EQ(bucket.Available(60'000), 10);
}

TEST(TokenBucket, TimeGoingBackAddsNothing) {
    TokenBucket bucket(10, 5, 1'000);
    ASSERT_TRUE(bucket.Take(10, 1'000));
    EXPECT_DOUBLE_EQ(bucket.Available(500), 0);
    EXPECT_DOUBLE_EQ(bucket.Available(1'200), 1);
}

TEST(FloodGuard, EachKindHasItsOwnBucket) {
    FloodGuard guard(0);
    EXPECT_TRUE(guard.Allow(FloodKind::Addresses, MAX_ADDRESSES_BURST, 0));
    EXPECT_FALSE(guard.Allow(FloodKind::Addresses, 1, 0));
    EXPECT_TRUE(guard.Allow(FloodKind::TxsReceived, MAX_TXS_RECEIVED_BURST, 0));
    EXPECT_TRUE(guard.Allow(FloodKind::Control, 1, 0));
    EXPECT_TRUE(guard.Allow(FloodKind::JunkBlocks, MAX_JUNK_BLOCKS_BURST, 0));
    EXPECT_TRUE(guard.Allow(FloodKind::RedundantRequests, MAX_REDUNDANT_REQUESTS_BURST, 0));
    EXPECT_TRUE(guard.Allow(FloodKind::TxsRelayed, MAX_TXS_RELAYED_BURST, 0));
    // One second later each has earned its own rate back.
    EXPECT_TRUE(guard.Allow(FloodKind::Addresses, ADDRESSES_PER_SECOND, 1'000));
    EXPECT_FALSE(guard.Allow(FloodKind::Addresses, 1, 1'000));
}

TEST(FloodGuard, HonestRelayStaysUnderWhatAReceiverAccepts) {
    // A sender spends its relay budget as fast as it can; the receiver's bucket never runs dry.
    EXPECT_LE(MAX_TXS_RELAYED_BURST * 2, MAX_TXS_RECEIVED_BURST);
    EXPECT_LE(TXS_RELAYED_PER_SECOND * 2, TXS_RECEIVED_PER_SECOND);
    FloodGuard sender(0);
    FloodGuard receiver(0);
    for (std::uint64_t ms = 0; ms <= 10'000; ms += 10) {
        double sent = 0;
        while (sender.Allow(FloodKind::TxsRelayed, 1, ms))
            ++sent;
        if (sent > 0) {
            ASSERT_TRUE(receiver.Allow(FloodKind::TxsReceived, sent, ms)) << "at " << ms << " ms";
        }
    }
}

}  // namespace
}  // namespace gossipchain
