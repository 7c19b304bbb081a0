// What a node's storage promises beyond kill -9 (crash_test.cpp has that): a block from a peer
// is relayed only once stored, the blocks of one sync batch share one commit, bans outlive a
// restart, nodes started on port 0 without --data-dir get a directory each, a data directory
// that held a database is never started again as a new node, and the files in it are never
// followed as links.
#include "integration/support/hostile_peer.h"
#include "store/stored_rows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace gossipchain::test {
namespace {

/** The port in a node's "listening on 127.0.0.1:PORT" line, or 0 before it is logged. */
int ListeningPort(const ChildProcess& process) {
    static const std::string MARK = "listening on 127.0.0.1:";
    std::string log = process.ReadLog();
    std::size_t at = log.find(MARK);
    return at == std::string::npos ? 0 : std::atoi(log.c_str() + at + MARK.size());
}

/** A gossipchain process started with flags the harness does not know, and its port. */
struct LaunchedNode {
    std::unique_ptr<ChildProcess> process;
    int port = 0;

    std::string Peer() const { return "127.0.0.1:" + std::to_string(port); }
    Json Status() const { return JsonOf(HttpGet("127.0.0.1", port, "/status")); }
    std::uint64_t Height() const {
        Json status = Status();
        return status.is_object() ? status.value("height", std::uint64_t{0}) : 0;
    }
    std::size_t Peers() const {
        Json status = Status();
        return status.is_object() ? status.value("peers", std::size_t{0}) : 0;
    }
    /** A counter or gauge of /metrics; -1 when absent. */
    double Metric(const std::string& name) const {
        std::string body = HttpGet("127.0.0.1", port, "/metrics").body;
        std::size_t at = body.find("\n" + name + " ");
        return at == std::string::npos ? -1
                                       : std::strtod(body.c_str() + at + name.size() + 2, nullptr);
    }
};

/** Starts a node on port 0 with data directory root/name and `flags`; waits until it listens. */
LaunchedNode Launch(const TempDir& root, const std::string& name, std::vector<std::string> flags) {
    std::vector<std::string> argv = {GOSSIPCHAIN_BINARY,       "--port",       "0", "--data-dir",
                                     root.Path() + "/" + name, "--difficulty", "2"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    // One log file per run: the port is read from the first "listening on" line in it.
    static int runs = 0;
    LaunchedNode node;
    node.process = std::make_unique<ChildProcess>(
        argv, root.Path() + "/" + name + "-" + std::to_string(++runs) + ".log");
    WaitUntil(
        [&] {
            node.port = ListeningPort(*node.process);
            return node.port != 0 || !node.process->Running();
        },
        DEFAULT_START_TIMEOUT);
    return node;
}

/** Starts a node on root/name expected to refuse its data directory: exit status 1. Its log. */
std::string RefusedLaunchLog(const TempDir& root, const std::string& name) {
    LaunchedNode node = Launch(root, name, {});
    EXPECT_EQ(node.port, 0) << "the node started";
    std::optional<int> status = node.process->WaitExit(DEFAULT_START_TIMEOUT);
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 1);
    return node.process->ReadLog();
}

TEST(StoreNode, EmptiedDatabaseIsRefusedNotStartedAsANewNode) {
    TempDir root;
    const std::string dir = root.Path() + "/held";
    {
        LaunchedNode node = Launch(root, "held", {});
        ASSERT_NE(node.port, 0) << node.process->ReadLog();
        for (int i = 0; i < 3; ++i)
            ASSERT_EQ(HttpGet("127.0.0.1", node.port, "/mine").status, 200);
        for (int i = 0; i < 30; ++i) {
            Json tx{{"sender", "alice"}, {"recipient", "bob"}, {"amount", i + 1}};
            ASSERT_EQ(HttpPost("127.0.0.1", node.port, "/transactions/new", tx.dump()).status, 201);
        }
        ASSERT_EQ(node.Height(), 4u);
        // A clean stop, as an operator's would be.
        ASSERT_TRUE(node.process->Signal(SIGTERM));
        std::optional<int> status = node.process->WaitExit(DEFAULT_START_TIMEOUT);
        ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
    }
    ASSERT_EQ(StoredColumn(dir, "SELECT txid FROM mempool").size(), 30u);
    std::filesystem::resize_file(dir + "/" + STORE_FILE_NAME, 0);
    auto before = DirectoryContents(dir);
    std::string log = RefusedLaunchLog(root, "held");
    EXPECT_NE(log.find("data directory " + dir), std::string::npos) << log;
    EXPECT_NE(log.find("chain.sqlite is empty (0 bytes) but this directory has held a database"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("move the data directory away to start a new node"), std::string::npos)
        << log;
    EXPECT_EQ(DirectoryContents(dir), before);
    EXPECT_EQ(std::filesystem::file_size(dir + "/" + STORE_FILE_NAME), 0u);

    // Removed rather than emptied: refused the same way, and nothing is created.
    std::filesystem::remove(dir + "/" + STORE_FILE_NAME);
    before = DirectoryContents(dir);
    log = RefusedLaunchLog(root, "held");
    EXPECT_NE(log.find("chain.sqlite is missing but this directory has held a database"),
              std::string::npos)
        << log;
    EXPECT_EQ(DirectoryContents(dir), before);
}

TEST(StoreNode, LockThatIsASymlinkIsNotFollowed) {
    TempDir root;
    const std::string target = root.Path() + "/precious";
    std::ofstream(target) << "keep me\n";
    std::filesystem::create_directory(root.Path() + "/linked");
    std::filesystem::create_symlink(target, root.Path() + "/linked/" + STORE_LOCK_NAME);
    std::string log = RefusedLaunchLog(root, "linked");
    EXPECT_NE(log.find("/linked/LOCK is a symbolic link; refusing to start"), std::string::npos)
        << log;
    EXPECT_EQ(DirectoryContents(root.Path())["precious"], "keep me\n");
    EXPECT_FALSE(std::filesystem::exists(root.Path() + "/linked/" + STORE_FILE_NAME));
}

TEST(StoreNode, BlockFromPeerIsNotRelayedWhileItCannotBeStored) {
    TempDir root;
    // b's database is capped to act out a full disk; c hears of blocks only through b (links
    // pinned: none from peer exchange).
    LaunchedNode b = Launch(root, "b", {"--test-store-max-pages", "24", "--target-outbound", "0"});
    ASSERT_NE(b.port, 0) << b.process->ReadLog();
    LaunchedNode c = Launch(root, "c", {"--peer", b.Peer(), "--target-outbound", "0"});
    ASSERT_NE(c.port, 0) << c.process->ReadLog();
    ASSERT_TRUE(WaitUntil([&] { return b.Peers() == 1 && c.Peers() == 1; }));
    // While b stores, its block reaches c.
    ASSERT_EQ(HttpGet("127.0.0.1", b.port, "/mine", DEFAULT_NODE_HTTP_TIMEOUT).status, 200);
    ASSERT_TRUE(WaitUntil([&] { return c.Height() == 2; })) << b.process->ReadLog();

    // Fill b's disk: transactions until one is refused.
    int refused = 0;
    for (int n = 1; n <= 5000 && refused == 0; ++n) {
        Json body{{"sender", "alice"}, {"recipient", "bob"}, {"amount", n}};
        HttpClientResponse response =
            HttpPost("127.0.0.1", b.port, "/transactions/new", body.dump());
        ASSERT_TRUE(response.Ok()) << response.error;
        if (response.status != 201)
            refused = response.status;
    }
    ASSERT_EQ(refused, 503);
    ASSERT_EQ(b.Metric("gossipchain_store_ok"), 0.0);

    // a joins after that, catches up, and mines a block of its own transactions: too big for b's
    // full disk. b announces its pending transactions to a when they link (a block holding them
    // would free their rows on b), so a's mempool is kept small: its own 200, acknowledged,
    // push out all but 50 of the relayed ones.
    LaunchedNode a = Launch(
        root, "a", {"--peer", b.Peer(), "--target-outbound", "0", "--test-mempool-max-txs", "250"});
    ASSERT_NE(a.port, 0) << a.process->ReadLog();
    ASSERT_TRUE(WaitUntil([&] { return a.Height() == 2; })) << a.process->ReadLog();
    for (int n = 1; n <= 200; ++n) {
        Json body{{"sender", "carol"}, {"recipient", "dave"}, {"amount", n}};
        ASSERT_EQ(HttpPost("127.0.0.1", a.port, "/transactions/new", body.dump()).status, 201);
    }
    ASSERT_EQ(HttpGet("127.0.0.1", a.port, "/mine", DEFAULT_NODE_HTTP_TIMEOUT).status, 200);
    // b takes the block (it serves it from memory) but cannot store it, so c never hears of it.
    ASSERT_TRUE(WaitUntil([&] { return b.Height() == 3; })) << b.process->ReadLog();
    EXPECT_TRUE(HoldsFor([&] { return c.Height() == 2; }, milliseconds(1500)))
        << "a block b could not store reached c; b log:\n"
        << b.process->ReadLog() << "\nc log:\n"
        << c.process->ReadLog();
    EXPECT_EQ(b.Metric("gossipchain_store_ok"), 0.0);
}

TEST(StoreNode, BlocksOfOneSyncBatchShareOneCommit) {
    TempDir root;
    GossipNode source(root, "source", NodeConfig());
    ASSERT_EQ(source.Start(), "");
    constexpr std::uint64_t BLOCKS = 40;
    for (std::uint64_t i = 0; i < BLOCKS; ++i)
        ASSERT_TRUE(source.Mine().has_value());
    LaunchedNode fresh = Launch(root, "fresh", {"--peer", source.HostPort()});
    ASSERT_NE(fresh.port, 0) << fresh.process->ReadLog();
    ASSERT_TRUE(WaitUntil([&] { return fresh.Height() == BLOCKS + 1; }))
        << fresh.process->ReadLog();
    // One Chain message carries all 40 (MAX_CHAIN_BATCH_BLOCKS is 500); storing them costs one
    // commit, not one per block. A spare one for anything else the node wrote meanwhile. The
    // height shows before the writer thread has finished that commit, hence the wait.
    double commits = 0;
    EXPECT_TRUE(WaitUntil([&] {
        commits = fresh.Metric("gossipchain_store_commits_total");
        return commits >= 1.0;
    })) << fresh.process->ReadLog();
    EXPECT_LE(commits, 2.0) << BLOCKS << " synced blocks took " << commits << " commits";
    // And they are on disk: a restart on the same directory has them.
    fresh.process.reset();
    LaunchedNode again = Launch(root, "fresh", {});
    ASSERT_NE(again.port, 0) << again.process->ReadLog();
    EXPECT_EQ(again.Height(), BLOCKS + 1);
}

TEST(StoreNode, BannedPeerStaysBannedAfterRestart) {
    TempDir root;
    GossipNode node(root, "judge", NodeConfig());
    ASSERT_EQ(node.Start(), "");
    // A ban is of the key the peer proved (SPEC §12), so the offender comes back with the same key.
    const NodeKey key = NodeKey::Generate();
    const std::string id = key.NodeId();
    {
        HostilePeer peer(node.Port(), key);
        std::optional<Hello> theirs = peer.Handshake();
        ASSERT_TRUE(theirs.has_value());
        // Every further Hello costs 20: the fifth reaches the ban score.
        Hello again;
        again.network_id = theirs->network_id;
        again.node_id = id;
        again.height = 1;
        again.tip = theirs->tip;
        for (int i = 0; i < 5; ++i)
            peer.SendFrame(again);
        std::optional<Reject> reject = peer.Expect<Reject>();
        ASSERT_TRUE(reject.has_value());
        EXPECT_EQ(reject->code, static_cast<std::uint32_t>(RejectCode::Misbehaving));
    }
    const std::string dir = root.Path() + "/judge";
    ASSERT_TRUE(WaitUntil([&] {
        std::vector<std::string> keys = StoredColumn(dir, "SELECT key FROM bans");
        return std::find(keys.begin(), keys.end(), "node:" + id) != keys.end();
    })) << "the ban was not stored; log:\n"
        << node.Log();
    node.Kill();
    ASSERT_EQ(node.Restart(), "");
    EXPECT_NE(node.Log().find("bans still running restored"), std::string::npos);

    HostilePeer banned(node.Port(), key);
    ASSERT_TRUE(banned.Authenticate()) << node.Log();
    std::optional<Reject> reject = banned.Expect<Reject>();
    ASSERT_TRUE(reject.has_value()) << node.Log();
    EXPECT_EQ(reject->code, static_cast<std::uint32_t>(RejectCode::Banned));
    EXPECT_TRUE(banned.Closed());
    // Another identity is welcome: the restored ban is that peer's only.
    HostilePeer other(node.Port());
    ASSERT_TRUE(other.Handshake().has_value());
    EXPECT_TRUE(WaitUntil([&] { return node.ReadyPeers() == 1; }));
}

TEST(StoreNode, NodesOnPortZeroWithoutDataDirGetOneEach) {
    TempDir root;
    auto start = [&](const std::string& name) {
        // Started in `root`, where the default data directory (data/<port>) is created.
        return std::make_unique<ChildProcess>(
            std::vector<std::string>{"sh", "-c",
                                     "cd '" + root.Path() +
                                         "' && exec '" GOSSIPCHAIN_BINARY
                                         "' --port 0 --difficulty 2"},
            root.Path() + "/" + name + ".log");
    };
    auto first = start("first");
    auto second = start("second");
    int first_port = 0;
    int second_port = 0;
    ASSERT_TRUE(WaitUntil(
        [&] {
            first_port = ListeningPort(*first);
            second_port = ListeningPort(*second);
            return (first_port != 0 && second_port != 0) || !first->Running() || !second->Running();
        },
        DEFAULT_START_TIMEOUT))
        << first->ReadLog() << second->ReadLog();
    ASSERT_NE(first_port, 0) << first->ReadLog();
    ASSERT_NE(second_port, 0) << second->ReadLog();
    EXPECT_NE(first_port, second_port);
    for (int port : {first_port, second_port}) {
        std::string db = root.Path() + "/data/" + std::to_string(port) + "/" + STORE_FILE_NAME;
        EXPECT_TRUE(std::filesystem::exists(db)) << db;
        EXPECT_EQ(HttpGet("127.0.0.1", port, "/status").status, 200);
    }
    EXPECT_FALSE(std::filesystem::exists(root.Path() + "/data/0"));
}

}  // namespace
}  // namespace gossipchain::test
