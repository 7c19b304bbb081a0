// Every acknowledged transaction reaches every node of a connected mesh (SPEC §8, transaction
// relay), tested across real processes in the three ways it used to get stuck: taken by a node
// while it was alone and linked later, returned to the mempool by a reorg after a partition
// heals, and a burst larger than one peer's relay budget.
#include "integration/support/http_client.h"
#include "integration/support/node_harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace gossipchain::test {
namespace {

using std::chrono::milliseconds;

/** How long a relayed set may take to arrive everywhere, in ms (it takes well under a second). */
constexpr milliseconds RELAY_DEADLINE{30'000};
/** Requests one client pipelines before reading their answers. */
constexpr int SUBMIT_WINDOW = 32;

/**
 * POSTs `count` fresh transactions from `sender` to the node at `port` over `clients` keep-alive
 * connections, each pipelining its requests; the ids of those answered 201.
 */
std::set<std::string> SubmitMany(int port, int count, const std::string& sender, int clients = 4) {
    std::mutex mutex;
    std::set<std::string> acknowledged;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            HttpConnection connection;
            if (!connection.Connect("127.0.0.1", port, milliseconds(2000)))
                return;
            int mine = count / clients + (c < count % clients ? 1 : 0);
            // In windows, within the node's bound on pipelined requests.
            for (int first = 0; first < mine; first += SUBMIT_WINDOW) {
                int window = std::min(SUBMIT_WINDOW, mine - first);
                for (int n = first; n < first + window; ++n) {
                    Json body{{"sender", sender + std::to_string(c)},
                              {"recipient", "bob"},
                              {"amount", n + 1}};
                    if (!connection.SendRequest("POST", "/transactions/new", body.dump(),
                                                "application/json"))
                        return;
                }
                for (int n = 0; n < window; ++n) {
                    HttpClientResponse response = connection.ReadResponse(milliseconds(10'000));
                    if (!response.Ok())
                        return;
                    if (response.status != 201)
                        continue;
                    std::lock_guard<std::mutex> lock(mutex);
                    acknowledged.insert(JsonOf(response).value("id", ""));
                }
            }
        });
    }
    for (std::thread& thread : threads)
        thread.join();
    return acknowledged;
}

/** The ids of `node`'s pending transactions. */
std::set<std::string> PendingIds(const GossipNode& node) {
    std::set<std::string> ids;
    for (const Json& tx : node.Pending())
        ids.insert(tx.value("id", ""));
    return ids;
}

/** How many of `ids` are missing from `node`'s pending transactions and its chain. */
std::size_t Missing(const GossipNode& node, const std::set<std::string>& ids) {
    std::set<std::string> held = PendingIds(node);
    for (const Json& block : node.Chain()) {
        for (const Json& tx : block.value("transactions", Json::array()))
            held.insert(tx.value("id", ""));
    }
    std::size_t missing = 0;
    for (const std::string& id : ids)
        missing += held.count(id) == 0;
    return missing;
}

void Register(const GossipNode& node, const GossipNode& peer) {
    HttpClientResponse response = node.Post("/nodes/register", Json{{"nodes", {peer.Url()}}});
    ASSERT_EQ(response.status, 201) << response.body;
}

TEST(Relay, TransactionsTakenWhileAloneReachAPeerLinkedLater) {
    TempDir root;
    GossipNode a(root, "a", NodeConfig{});
    GossipNode b(root, "b", NodeConfig{});
    ASSERT_EQ(a.Start(), "");
    ASSERT_EQ(b.Start(), "");
    std::set<std::string> ids = SubmitMany(b.Port(), 300, "alone");
    ASSERT_EQ(ids.size(), 300u);
    Register(b, a);
    ASSERT_TRUE(WaitUntil([&] { return Missing(a, ids) == 0; }, RELAY_DEADLINE))
        << Missing(a, ids) << " of 300 never reached a";
    // A, the miner, mines them: the tutorial's flow works once the link is up.
    ASSERT_TRUE(a.Mine().has_value());
    Json chain = a.Chain();
    ASSERT_FALSE(chain.empty());
    EXPECT_EQ(chain.back().value("transactions", Json::array()).size(), 301u);
}

TEST(Relay, TransactionsAReorgReturnsReachTheWinningSide) {
    TempDir root;
    GossipNode a(root, "a", NodeConfig{});
    GossipNode b(root, "b", NodeConfig{});
    ASSERT_EQ(a.Start(), "");
    ASSERT_EQ(b.Start(), "");
    // Apart, each side mines: a one block holding its transactions, b two blocks.
    std::set<std::string> ids = SubmitMany(a.Port(), 20, "losing");
    ASSERT_EQ(ids.size(), 20u);
    ASSERT_EQ(a.Mine(), 2u);
    ASSERT_EQ(b.Mine(), 2u);
    ASSERT_EQ(b.Mine(), 3u);
    ASSERT_TRUE(PendingIds(a).empty());
    // The heal: a switches to b's longer chain and gets its transactions back ...
    Register(a, b);
    ASSERT_TRUE(WaitUntil([&] { return a.Tip() == b.Tip(); }, RELAY_DEADLINE));
    // ... and b, the winning side, learns them, so its next block mines them.
    ASSERT_TRUE(WaitUntil([&] { return Missing(b, ids) == 0; }, RELAY_DEADLINE))
        << Missing(b, ids) << " of 20 never reached b";
    ASSERT_EQ(b.Mine(), 4u);
    EXPECT_EQ(b.Chain().back().value("transactions", Json::array()).size(), 21u);
}

TEST(Relay, ABurstLargerThanTheRelayBudgetReachesThePeerWhole) {
    TempDir root;
    GossipNode a(root, "a", NodeConfig{});
    ASSERT_EQ(a.Start(), "");
    GossipNode b(root, "b", NodeConfig{}.Peer(a.Port()));
    ASSERT_EQ(b.Start(), "");
    ASSERT_TRUE(WaitUntil([&] { return a.ReadyPeers() == 1 && b.ReadyPeers() == 1; }));
    // Thirty thousand in about a second: three times the relay budget's burst of 10,000 to one
    // peer (refilled at 5,000 a second).
    std::set<std::string> ids = SubmitMany(b.Port(), 30'000, "burst", 8);
    ASSERT_EQ(ids.size(), 30'000u);
    ASSERT_TRUE(WaitUntil([&] { return Missing(a, ids) == 0; }, RELAY_DEADLINE))
        << Missing(a, ids) << " of 30,000 never reached a";
}

}  // namespace
}  // namespace gossipchain::test
