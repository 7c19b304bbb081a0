// Durability across kill -9: clients submit transactions concurrently while /mine runs, the node
// is SIGKILLed at a random moment and restarted on the same data directory. Every transaction it
// acknowledged with 201 must afterwards be pending or in the chain, the chain must never shrink
// and the node id must never change. Also the start-up refusals: a second node on one data
// directory, a data directory of another network.
#include "integration/support/node_harness.h"
#include "store/stored_rows.h"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace gossipchain::test {
namespace {

/** Kill-and-restart rounds of the crash test. */
constexpr int CRASH_ROUNDS = 50;
/** Concurrent submitting clients per round. */
constexpr int CRASH_CLIENTS = 4;

/** Keeps POSTing fresh transactions on one keep-alive connection until it fails or `stop`. */
void SubmitUntilFailure(int port, int client, std::atomic<bool>& stop, std::mutex& mutex,
                        std::vector<std::string>& acknowledged) {
    HttpConnection connection;
    if (!connection.Connect("127.0.0.1", port, milliseconds(2000)))
        return;
    for (int n = 0; !stop.load(); ++n) {
        Json body{
            {"sender", "client" + std::to_string(client)}, {"recipient", "bob"}, {"amount", n + 1}};
        if (!connection.SendRequest("POST", "/transactions/new", body.dump(), "application/json"))
            return;
        HttpClientResponse response = connection.ReadResponse(milliseconds(2000));
        if (!response.Ok())
            return;
        if (response.status != 201)
            continue;
        Json answer = JsonOf(response);
        std::lock_guard<std::mutex> lock(mutex);
        acknowledged.push_back(answer.value("id", ""));
    }
}

/** Keeps asking for blocks until the node dies or `stop`. */
void MineUntilFailure(int port, std::atomic<bool>& stop) {
    while (!stop.load()) {
        if (!HttpGet("127.0.0.1", port, "/mine", milliseconds(2000)).Ok())
            return;
    }
}

std::set<std::string> IdsIn(const Json& chain, const Json& pending) {
    std::set<std::string> ids;
    for (const Json& block : chain) {
        for (const Json& tx : block["transactions"])
            ids.insert(tx.value("id", ""));
    }
    for (const Json& tx : pending)
        ids.insert(tx.value("id", ""));
    return ids;
}

TEST(Crash, AcknowledgedTransactionsSurviveKillNine) {
    TempDir root;
    // No block content kept in memory once stored: every read after a restart, /chain included,
    // comes back from the data directory (issue 15's "cache forced small").
    GossipNode node(root, "crash", NodeConfig().Difficulty(2).Arg("--block-cache-kib", "0"));
    ASSERT_EQ(node.Start(), "");
    const std::string node_id = node.Status().value("node_id", "");
    ASSERT_EQ(node_id.size(), 32u);
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> kill_after_ms(5, 150);
    std::vector<std::string> acknowledged;
    std::size_t height = 1;
    std::size_t crashed_with_work = 0;
    for (int round = 0; round < CRASH_ROUNDS; ++round) {
        std::atomic<bool> stop{false};
        std::mutex mutex;
        std::size_t before = acknowledged.size();
        std::vector<std::thread> clients;
        for (int c = 0; c < CRASH_CLIENTS; ++c) {
            clients.emplace_back(SubmitUntilFailure, node.Port(), c, std::ref(stop),
                                 std::ref(mutex), std::ref(acknowledged));
        }
        clients.emplace_back(MineUntilFailure, node.Port(), std::ref(stop));
        // The random moment of the crash: this wait is the experiment, not a synchronisation.
        std::this_thread::sleep_for(milliseconds(kill_after_ms(rng)));
        node.Kill();
        stop = true;
        for (std::thread& client : clients)
            client.join();
        if (acknowledged.size() > before)
            ++crashed_with_work;

        ASSERT_EQ(node.Restart(), "") << "round " << round;
        Json status = node.Status();
        ASSERT_TRUE(status.is_object()) << "round " << round;
        EXPECT_EQ(status.value("node_id", ""), node_id) << "round " << round;
        Json chain = node.Chain();
        EXPECT_GE(chain.size(), height) << "round " << round << ": the chain shrank";
        height = std::max(height, chain.size());
        std::set<std::string> present = IdsIn(chain, node.Pending());
        std::size_t missing = 0;
        for (const std::string& id : acknowledged)
            missing += present.count(id) == 0;
        ASSERT_EQ(missing, 0u) << "round " << round << ": acknowledged transactions lost";
    }
    // The test means something only if crashes hit the node while it was busy.
    EXPECT_GT(crashed_with_work, CRASH_ROUNDS / 2u);
    EXPECT_GT(acknowledged.size(), 100u);
    EXPECT_GT(height, 2u);
}

/** Starts a node on `dir` at `difficulty`; expects it to refuse to start (exit status 1) and
 * returns what it logged. */
std::string RefusedStartLog(const TempDir& root, const std::string& dir, const char* difficulty) {
    ChildProcess node(
        {GOSSIPCHAIN_BINARY, "--port", "0", "--data-dir", dir, "--difficulty", difficulty},
        root.Path() + "/refused.log");
    std::optional<int> status = node.WaitExit(DEFAULT_START_TIMEOUT);
    EXPECT_TRUE(status.has_value()) << "the node did not exit";
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 1);
    return node.ReadLog();
}

TEST(Crash, SecondNodeOnOneDataDirectoryRefuses) {
    TempDir root;
    GossipNode first(root, "shared", NodeConfig());
    ASSERT_EQ(first.Start(), "");
    std::string dir = root.Path() + "/shared";
    std::string log = RefusedStartLog(root, dir, "2");
    EXPECT_NE(log.find("already in use by another gossipchain process"), std::string::npos) << log;
    EXPECT_NE(log.find(dir), std::string::npos) << log;
    EXPECT_TRUE(first.Status().is_object());
}

TEST(Crash, DataDirectoryOfAnotherNetworkIsRefused) {
    TempDir root;
    GossipNode node(root, "net", NodeConfig().Difficulty(2));
    ASSERT_EQ(node.Start(), "");
    ASSERT_TRUE(node.Mine().has_value());
    node.Kill();
    std::string dir = root.Path() + "/net";
    std::string log = RefusedStartLog(root, dir, "3");
    EXPECT_NE(log.find("belongs to network"), std::string::npos) << log;
    EXPECT_NE(log.find(dir), std::string::npos) << log;
    // Nothing changed: the node comes back on its own network with its block.
    ASSERT_EQ(node.Restart(), "");
    EXPECT_EQ(node.Height(), 2u);
}

TEST(Crash, FullDiskRefusesWritesKeepsReadsAndLosesNothingAcknowledged) {
    TempDir root;
    std::string dir = root.Path() + "/full";
    int port = FindFreePort();
    auto start = [&](std::vector<std::string> extra) {
        std::vector<std::string> argv = {
            GOSSIPCHAIN_BINARY, "--port", std::to_string(port), "--data-dir", dir,
            "--difficulty",     "2"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        auto process = std::make_unique<ChildProcess>(argv, root.Path() + "/full.log");
        bool up = WaitUntil([&] { return HttpGet("127.0.0.1", port, "/status").status == 200; },
                            DEFAULT_START_TIMEOUT);
        EXPECT_TRUE(up) << process->ReadLog();
        return process;
    };
    // About a dozen free pages after the schema: a few hundred transactions fill the "disk".
    auto node = start({"--test-store-max-pages", "24"});
    std::vector<std::string> acknowledged;
    HttpClientResponse refused;
    for (int n = 1; n <= 5000 && refused.status == 0; ++n) {
        Json body{{"sender", "alice"}, {"recipient", "bob"}, {"amount", n}};
        HttpClientResponse response = HttpPost("127.0.0.1", port, "/transactions/new", body.dump());
        ASSERT_TRUE(response.Ok()) << response.error;
        if (response.status == 201)
            acknowledged.push_back(JsonOf(response).value("id", ""));
        else
            refused = response;
    }
    ASSERT_EQ(refused.status, 503) << refused.body;
    EXPECT_NE(refused.body.find("could not be stored"), std::string::npos) << refused.body;
    EXPECT_NE(refused.body.find("full"), std::string::npos) << refused.body;
    EXPECT_GT(acknowledged.size(), 10u);
    // Reads keep working; writes (mining included) are refused with the reason.
    EXPECT_EQ(HttpGet("127.0.0.1", port, "/chain").status, 200);
    HttpClientResponse mine = HttpGet("127.0.0.1", port, "/mine");
    EXPECT_EQ(mine.status, 503);
    EXPECT_NE(mine.body.find("storage unavailable"), std::string::npos) << mine.body;
    std::string metrics = HttpGet("127.0.0.1", port, "/metrics").body;
    EXPECT_NE(metrics.find("gossipchain_store_ok 0"), std::string::npos);
    EXPECT_NE(node->ReadLog().find("storage failed"), std::string::npos);

    // Space returns (no cap): everything acknowledged is there and writes work again.
    node.reset();
    node = start({});
    Json pending = JsonOf(HttpGet("127.0.0.1", port, "/transactions/pending"))["transactions"];
    std::set<std::string> present = IdsIn(Json::array(), pending);
    for (const std::string& id : acknowledged)
        EXPECT_EQ(present.count(id), 1u) << id;
    EXPECT_EQ(pending.size(), acknowledged.size());
    EXPECT_EQ(HttpGet("127.0.0.1", port, "/mine").status, 200);
}

std::uint64_t StoreCommits(int port) {
    std::string metrics = HttpGet("127.0.0.1", port, "/metrics").body;
    static const std::string NAME = "gossipchain_store_commits_total ";
    std::size_t at = metrics.find("\n" + NAME);
    return at == std::string::npos ? 0 : std::stoull(metrics.substr(at + 1 + NAME.size()));
}

TEST(Crash, BurstOfTransactionsSharesOneCommit) {
    TempDir root;
    int port = FindFreePort();
    ChildProcess node({GOSSIPCHAIN_BINARY, "--port", std::to_string(port), "--data-dir",
                       root.Path() + "/burst", "--difficulty", "2", "--log-level", "warn"},
                      root.Path() + "/burst.log");
    ASSERT_TRUE(WaitUntil([&] { return HttpGet("127.0.0.1", port, "/status").status == 200; },
                          DEFAULT_START_TIMEOUT));
    constexpr int BURST = 20;
    std::vector<std::unique_ptr<HttpConnection>> connections;
    for (int i = 0; i < BURST; ++i) {
        connections.push_back(std::make_unique<HttpConnection>());
        ASSERT_TRUE(connections.back()->Connect("127.0.0.1", port, milliseconds(2000)));
        // Accepted and reading before the burst.
        ASSERT_TRUE(connections.back()->SendRequest("GET", "/status"));
        ASSERT_EQ(connections.back()->ReadResponse().status, 200);
    }
    std::uint64_t before = StoreCommits(port);
    // Stopped, the node cannot answer one request before the next arrives: all of them are
    // readable in its next loop turn, as in a burst from many clients.
    ASSERT_TRUE(node.Signal(SIGSTOP));
    for (int i = 0; i < BURST; ++i) {
        Json body{{"sender", "alice"}, {"recipient", "bob"}, {"amount", i + 1}};
        ASSERT_TRUE(connections[static_cast<std::size_t>(i)]->SendRequest(
            "POST", "/transactions/new", body.dump(), "application/json"));
    }
    ASSERT_TRUE(node.Signal(SIGCONT));
    for (auto& connection : connections)
        EXPECT_EQ(connection->ReadResponse().status, 201);
    std::uint64_t commits = StoreCommits(port) - before;
    EXPECT_GE(commits, 1u);
    EXPECT_LE(commits, 2u) << BURST << " transactions took " << commits << " commits";
}

/** Hashes of the blocks in `dir`'s database, read after its node died. */
std::set<std::string> StoredBlockHashes(const std::string& dir) {
    std::vector<std::string> hashes = StoredColumn(dir, "SELECT hash FROM blocks");
    return {hashes.begin(), hashes.end()};
}

TEST(Crash, BlocksReachPeersOnlyAfterTheMinerStoredThem) {
    TempDir root;
    GossipNode miner(root, "miner", NodeConfig().Difficulty(2));
    ASSERT_EQ(miner.Start(), "");
    GossipNode watcher(root, "watcher", NodeConfig().Difficulty(2).Peer(miner.Port()));
    ASSERT_EQ(watcher.Start(), "");
    const std::string miner_id = miner.Status().value("node_id", "");
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> kill_after_ms(5, 100);
    std::size_t checked = 0;
    for (int round = 0; round < 10; ++round) {
        ASSERT_TRUE(WaitUntil([&] { return watcher.ReadyPeers() >= 1; })) << "round " << round;
        std::atomic<bool> stop{false};
        std::thread mining(MineUntilFailure, miner.Port(), std::ref(stop));
        std::this_thread::sleep_for(milliseconds(kill_after_ms(rng)));
        miner.Kill();
        stop = true;
        mining.join();
        // Whatever the watcher holds was sent before the miner died, so it was stored first.
        std::set<std::string> stored = StoredBlockHashes(root.Path() + "/miner");
        Json chain = watcher.Chain();
        std::string tip = watcher.Tip();
        for (std::size_t i = 1; i < chain.size(); ++i) {
            const Json& block = chain[i];
            std::string hash = i + 1 < chain.size() ? chain[i + 1].value("previous_hash", "") : tip;
            const Json& txs = block["transactions"];
            if (txs.empty() || txs.back().value("recipient", "") != miner_id)
                continue;
            ++checked;
            EXPECT_EQ(stored.count(hash), 1u)
                << "round " << round << ": block " << block.value("index", 0)
                << " reached a peer but is not in the miner's store";
        }
        ASSERT_EQ(miner.Restart(), "") << "round " << round;
    }
    EXPECT_GT(checked, 10u);
}

}  // namespace
}  // namespace gossipchain::test
