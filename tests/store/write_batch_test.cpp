#include "store/write_batch.h"

#include "store/schema.h"
#include "store/stored_rows.h"
#include "store/temp_dir.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

using test::StoredColumn;

/** A database of this schema in a temporary directory, open for a BatchWriter. */
class Database {
public:
    Database() {
        EXPECT_TRUE(
            CreateDatabase(m_dir.Path(), m_dir.Database(), "net", std::string(32, 'a'), 0).Ok());
        EXPECT_EQ(sqlite3_open(m_dir.Database().c_str(), &m_db), SQLITE_OK);
    }
    ~Database() { sqlite3_close(m_db); }
    /** Applies `batch` in one transaction, as the store's writer does. */
    Status Apply(const WriteBatch& batch) {
        BatchWriter writer(m_db);
        EXPECT_TRUE(writer.Valid());
        EXPECT_EQ(sqlite3_exec(m_db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
        Status applied = writer.Apply(batch);
        EXPECT_EQ(
            sqlite3_exec(m_db, applied.Ok() ? "COMMIT" : "ROLLBACK", nullptr, nullptr, nullptr),
            SQLITE_OK);
        return applied;
    }
    std::vector<std::string> Rows(const char* sql) const { return StoredColumn(m_dir.Path(), sql); }
    bool Exec(const char* sql) {
        return sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    /** Every row the batches can write, table by table. */
    std::vector<std::string> Everything() const {
        std::vector<std::string> rows;
        for (const char* sql :
             {"SELECT 'block ' || hash || ' ' || parent || ' ' || height || ' ' || json FROM "
              "blocks ORDER BY seq",
              "SELECT 'main ' || height || ' ' || hash FROM main_chain ORDER BY height",
              "SELECT 'tx ' || txid || ' ' || json || ' ' || origin FROM mempool ORDER BY seq",
              "SELECT 'peer ' || address || ' ' || last_seen || ' ' || origin FROM peers "
              "ORDER BY address",
              "SELECT 'ban ' || key || ' ' || until_ms FROM bans ORDER BY key"}) {
            for (std::string& row : Rows(sql))
                rows.push_back(std::move(row));
        }
        return rows;
    }

private:
    test::TempDir m_dir;
    sqlite3* m_db = nullptr;
};

/** One write of every kind. */
WriteBatch EveryKind() {
    WriteBatch batch;
    batch.PutBlock(2, "h2", "h1", 2, "{\"b\": 2}");
    batch.PutBlock(3, "h3", "h2", 3, "{\"b\": 3}");
    batch.ConnectMain(2, "h2");
    batch.ConnectMain(3, "h3");
    batch.DisconnectMain(3);
    batch.PutTransaction("t1", "{\"t\": 1}", TxOrigin::Relay, Retry::Drop);
    batch.PutTransaction("t2", "{\"t\": 2}", TxOrigin::Reorg, Retry::Keep);
    batch.DropTransaction("t2", Retry::Keep);
    batch.PutPeer("127.0.0.1:5001", 7, StoredPeerOrigin::Learned);
    batch.PutBan("ip:10.0.0.1", 1000);
    batch.PutBan("ip:10.0.0.2", 2000);
    batch.DropBan("ip:10.0.0.2");
    return batch;
}

TEST(StoreWriteBatch, AppliesEveryKindOfWriteInOrder) {
    Database db;
    WriteBatch batch = EveryKind();
    EXPECT_EQ(batch.Size(), 12u);
    ASSERT_TRUE(db.Apply(batch).Ok());
    EXPECT_EQ(db.Everything(),
              (std::vector<std::string>{"block h2 h1 2 {\"b\": 2}", "block h3 h2 3 {\"b\": 3}",
                                        "main 2 h2", "tx t1 {\"t\": 1} 2",
                                        "peer 127.0.0.1:5001 7 2", "ban ip:10.0.0.1 1000"}));
}

TEST(StoreWriteBatch, AppliedTwiceLeavesWhatOnceLeaves) {
    Database db;
    ASSERT_TRUE(db.Apply(EveryKind()).Ok());
    const std::vector<std::string> once = db.Everything();
    ASSERT_TRUE(db.Apply(EveryKind()).Ok());
    EXPECT_EQ(db.Everything(), once);
}

TEST(StoreWriteBatch, RowsWrittenTwiceKeepWhatIsProtectedMost) {
    Database db;
    WriteBatch batch;
    batch.PutTransaction("t", "{}", TxOrigin::Relay, Retry::Drop);
    batch.PutTransaction("t", "{}", TxOrigin::Local, Retry::Drop);
    batch.PutTransaction("t", "{}", TxOrigin::Reorg, Retry::Drop);
    batch.PutPeer("a:1", 9, StoredPeerOrigin::Registered);
    batch.PutPeer("a:1", 3, StoredPeerOrigin::Learned);
    batch.PutBan("k", 500);
    batch.PutBan("k", 100);
    ASSERT_TRUE(db.Apply(batch).Ok());
    EXPECT_EQ(db.Everything(),
              (std::vector<std::string>{"tx t {} 0", "peer a:1 9 1", "ban k 500"}));
}

TEST(StoreWriteBatch, ClearPeersForgetsEveryEarlierAddress) {
    Database db;
    WriteBatch first;
    first.PutPeer("a:1", 1, StoredPeerOrigin::Learned);
    first.PutPeer("b:2", 1, StoredPeerOrigin::Registered);
    ASSERT_TRUE(db.Apply(first).Ok());
    WriteBatch anew;
    anew.ClearPeers();
    anew.PutPeer("b:2", 5, StoredPeerOrigin::Registered);
    ASSERT_TRUE(db.Apply(anew).Ok());
    EXPECT_EQ(db.Everything(), std::vector<std::string>{"peer b:2 5 1"});
}

TEST(StoreWriteBatch, MoveKeptToKeepsTheRetriedWritesInOrder) {
    WriteBatch batch = EveryKind();
    WriteBatch kept;
    kept.PutBlock(1, "h1", "h0", 1, "{\"b\": 1}");
    batch.MoveKeptTo(kept);
    EXPECT_TRUE(batch.Empty());
    // Dropped: the relayed transaction and the peer; everything else is kept behind h1.
    EXPECT_EQ(kept.Size(), 11u);
    Database db;
    ASSERT_TRUE(db.Apply(kept).Ok());
    EXPECT_EQ(db.Everything(),
              (std::vector<std::string>{"block h1 h0 1 {\"b\": 1}", "block h2 h1 2 {\"b\": 2}",
                                        "block h3 h2 3 {\"b\": 3}", "main 2 h2",
                                        "ban ip:10.0.0.1 1000"}));
}

TEST(StoreWriteBatch, AppendPutsTheLaterWritesBehind) {
    WriteBatch put;
    put.PutTransaction("t", "{}", TxOrigin::Local, Retry::Drop);
    WriteBatch drop;
    drop.DropTransaction("t", Retry::Drop);
    WriteBatch put_then_drop;
    put_then_drop.Append(std::move(put));
    put_then_drop.Append(std::move(drop));
    EXPECT_EQ(put_then_drop.Size(), 2u);
    EXPECT_TRUE(put.Empty());
    Database db;
    ASSERT_TRUE(db.Apply(put_then_drop).Ok());
    EXPECT_TRUE(db.Everything().empty());
}

TEST(StoreWriteBatch, AFailedWriteStopsTheBatchAndSaysWhy) {
    Database db;
    ASSERT_TRUE(
        db.Exec("CREATE TRIGGER refuse BEFORE INSERT ON blocks "
                "BEGIN SELECT RAISE(ABORT, 'no room for blocks'); END"));
    WriteBatch batch;
    batch.PutBan("k", 1);
    batch.PutBlock(1, "h", "p", 1, "{}");
    batch.PutBan("after", 1);
    Status failed = db.Apply(batch);
    EXPECT_FALSE(failed.Ok());
    EXPECT_NE(failed.Message().find("no room for blocks"), std::string::npos) << failed.Message();
    // Rolled back by the caller: nothing of the batch is there.
    EXPECT_TRUE(db.Everything().empty());
}

TEST(StoreWriteBatch, StoredOriginsRoundTrip) {
    for (TxOrigin origin : {TxOrigin::Local, TxOrigin::Reorg, TxOrigin::Relay})
        EXPECT_EQ(StoredOrigin(StoredOriginCode(origin)), origin);
    EXPECT_LT(StoredOriginCode(TxOrigin::Local), StoredOriginCode(TxOrigin::Reorg));
    EXPECT_LT(StoredOriginCode(TxOrigin::Reorg), StoredOriginCode(TxOrigin::Relay));
    EXPECT_EQ(StoredOrigin(3), std::nullopt);
    EXPECT_EQ(StoredOrigin(-1), std::nullopt);
}

}  // namespace
}  // namespace gossipchain
