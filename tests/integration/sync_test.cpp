// Chain sync and mining under load: a late joiner downloads a long chain through the locator
// sync, and concurrent /mine callers each get their own block.
#include "integration/support/node_harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <thread>

namespace gossipchain::test {
namespace {

/** Blocks the first node mines before the late joiner starts. */
constexpr std::uint64_t CATCH_UP_BLOCKS = 2'000;

double SecondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

TEST(Sync, LateJoinerCatchesUp2000Blocks) {
    TempDir root;
    // A answers the sync from its data directory: a small block cache keeps only the last few
    // hundred blocks' content in memory.
    GossipNode a(root, "a", NodeConfig().Difficulty(1).Arg("--block-cache-kib", "64"));
    ASSERT_EQ(a.Start(), "");
    // One kept-alive connection: each /mine is one round trip, not a TCP handshake each.
    auto mine_start = Clock::now();
    {
        HttpConnection connection;
        ASSERT_TRUE(connection.Connect("127.0.0.1", a.Port())) << connection.Error();
        for (std::uint64_t index = 2; index <= CATCH_UP_BLOCKS + 1; ++index) {
            ASSERT_TRUE(connection.SendRequest("GET", "/mine")) << connection.Error();
            HttpClientResponse reply = connection.ReadResponse();
            ASSERT_EQ(reply.status, 200) << reply.error << reply.body;
            ASSERT_EQ(JsonOf(reply).value("index", std::uint64_t{0}), index);
        }
    }
    double mine_seconds = SecondsSince(mine_start);
    ASSERT_EQ(a.Height(), CATCH_UP_BLOCKS + 1);
    std::string tip = a.Tip();

    auto sync_start = Clock::now();
    GossipNode b(root, "b",
                 NodeConfig().Difficulty(1).Peer(a.Port()).Arg("--block-cache-kib", "0"));
    ASSERT_EQ(b.Start(), "");
    EXPECT_TRUE(
        WaitUntil([&] { return AllOn({&b}, CATCH_UP_BLOCKS + 1, tip); }, milliseconds(30'000)))
        << "b at height " << b.Height();
    double sync_seconds = SecondsSince(sync_start);
    std::printf(
        "[ MEASURE  ] mined %llu blocks over one keep-alive connection in %.2f s "
        "(%.0f blocks/s); late joiner caught up in %.2f s (process start included)\n",
        static_cast<unsigned long long>(CATCH_UP_BLOCKS), mine_seconds,
        static_cast<double>(CATCH_UP_BLOCKS) / mine_seconds, sync_seconds);
    EXPECT_EQ(b.GetJson("/chain"), a.GetJson("/chain"));
}

TEST(Sync, ConcurrentMineCallsEachGetTheirOwnBlock) {
    TempDir root;
    GossipNode a(root, "a", NodeConfig{});
    ASSERT_EQ(a.Start(), "");
    constexpr int CALLERS = 4;
    std::vector<HttpClientResponse> replies(CALLERS);
    {
        std::vector<std::jthread> callers;
        for (int i = 0; i < CALLERS; ++i)
            callers.emplace_back([&, i] { replies[i] = a.Get("/mine"); });
    }
    std::vector<std::uint64_t> indexes;
    for (const HttpClientResponse& reply : replies) {
        ASSERT_EQ(reply.status, 200) << reply.error << reply.body;
        Json body = JsonOf(reply);
        EXPECT_EQ(body.value("message", ""), "New Block Forged");
        indexes.push_back(body.value("index", std::uint64_t{0}));
    }
    std::sort(indexes.begin(), indexes.end());
    EXPECT_EQ(indexes, (std::vector<std::uint64_t>{2, 3, 4, 5}));
    EXPECT_EQ(a.Height(), 5u);
}

}  // namespace
}  // namespace gossipchain::test
