// Tests of the ban list: bans end on the clock passed in, a longer ban is never shortened, and
// the list stays within its bound by forgetting ended bans first, then the one ending soonest.
#include "p2p/ban_list.h"

#include <gtest/gtest.h>

#include <string>

namespace gossipchain {
namespace {

TEST(BanList, ABanEndsOnTheClockPassedIn) {
    BanList bans;
    bans.Add("10.0.0.1", 1'500, 1'000);
    EXPECT_TRUE(bans.IsBanned("10.0.0.1", 1'499));
    EXPECT_FALSE(bans.IsBanned("10.0.0.2", 1'000));
    EXPECT_FALSE(bans.IsBanned("10.0.0.1", 1'500));
    // An ended ban is forgotten when it is looked up.
    EXPECT_EQ(bans.Size(), 0u);
}

TEST(BanList, ALaterBanOfTheSameKeyNeverShortensIt) {
    BanList bans;
    bans.Add("node:a", 9'000, 0);
    bans.Add("node:a", 2'000, 0);
    ASSERT_EQ(bans.Live(1'000).size(), 1u);
    EXPECT_EQ(bans.Live(1'000)[0].remaining_ms, 8'000u);
}

TEST(BanList, WhenFullEndedBansGoFirstThenTheOneEndingSoonest) {
    BanList bans(3);
    bans.Add("ended", 100, 0);
    bans.Add("soon", 1'000, 0);
    bans.Add("late", 9'000, 0);
    bans.Add("new1", 5'000, 200);  // "ended" is gone
    EXPECT_FALSE(bans.IsBanned("ended", 50));
    EXPECT_TRUE(bans.IsBanned("soon", 200));
    bans.Add("new2", 5'000, 200);  // all live: "soon" ends first
    EXPECT_EQ(bans.Size(), 3u);
    EXPECT_FALSE(bans.IsBanned("soon", 200));
    EXPECT_TRUE(bans.IsBanned("late", 200));
    EXPECT_TRUE(bans.IsBanned("new1", 200));
    EXPECT_TRUE(bans.IsBanned("new2", 200));
}

}  // namespace
}  // namespace gossipchain
