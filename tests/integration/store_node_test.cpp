// What a node's storage promises beyond kill -9 (crash_test.cpp has that): bans outlive a
// restart, nodes started on port 0 without --data-dir get a directory each.
#include "integration/support/hostile_peer.h"
#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <set>

namespace gossipchain::test {
namespace {

/** The keys of the bans table in `dir`'s database (read while the node runs: WAL readers). */
std::set<std::string> StoredBanKeys(const std::string& dir) {
    std::set<std::string> keys;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2((dir + "/" + STORE_FILE_NAME).c_str(), &db, SQLITE_OPEN_READONLY,
                        nullptr) == SQLITE_OK) {
        sqlite3_stmt* stmt = nullptr;
        sqlite3_prepare_v2(db, "SELECT key FROM bans", -1, &stmt, nullptr);
        while (stmt && sqlite3_step(stmt) == SQLITE_ROW)
            keys.insert(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return keys;
}

/** The port in a node's "listening on 127.0.0.1:PORT" line, or 0 before it is logged. */
int ListeningPort(const ChildProcess& process) {
    static const std::string MARK = "listening on 127.0.0.1:";
    std::string log = process.ReadLog();
    std::size_t at = log.find(MARK);
    return at == std::string::npos ? 0 : std::atoi(log.c_str() + at + MARK.size());
}

TEST(StoreNode, BannedPeerStaysBannedAfterRestart) {
    TempDir root;
    GossipNode node(root, "judge", NodeConfig());
    ASSERT_EQ(node.Start(), "");
    const std::string id = RandomNodeId();
    {
        HostilePeer peer(node.Port());
        std::optional<Hello> theirs = peer.Handshake(std::nullopt, id);
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
    ASSERT_TRUE(WaitUntil([&] { return StoredBanKeys(dir).count("node:" + id) == 1; }))
        << "the ban was not stored; log:\n"
        << node.Log();
    node.Kill();
    ASSERT_EQ(node.Restart(), "");
    EXPECT_NE(node.Log().find("bans still running restored"), std::string::npos);

    HostilePeer banned(node.Port());
    banned.Handshake(std::nullopt, id);
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
