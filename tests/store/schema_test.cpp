#include "store/schema.h"

#include "store/store.h"
#include "store/stored_rows.h"
#include "store/temp_dir.h"
#include "support/chain_builder.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

using test::StoredColumn;

using test::TempDir;

/** A database as the build of schema `version` wrote it (tests/store/data/make_old_databases.py:
 * three mined blocks, one pending transaction, one registered peer), copied into `dir`. */
void CopyOldDatabase(int version, const TempDir& dir) {
    std::filesystem::copy_file(std::string(GOSSIPCHAIN_SOURCE_DIR) + "/tests/store/data/schema" +
                                   std::to_string(version) + ".sqlite",
                               dir.Database());
}

StoreOptions OptionsFor(const TempDir& dir) {
    StoreOptions options;
    options.dir = dir.Path();
    options.network_id = NetworkId(test::EasyParams());
    options.new_node_id = std::string(32, 'a');
    options.new_key_seed.fill(0x11);
    return options;
}

/** Every table's columns (name, type, not null, default, primary key), table by table. */
std::vector<std::string> Shape(const TempDir& dir) {
    std::vector<std::string> shape;
    for (const std::string& table : StoredColumn(
             dir.Path(), "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
        std::string sql = "SELECT '" + table +
                          ".' || name || ' ' || type || ' ' || \"notnull\" || ' ' || "
                          "coalesce(dflt_value, '-') || ' ' || pk FROM pragma_table_info('" +
                          table + "') ORDER BY name";
        for (const std::string& column : StoredColumn(dir.Path(), sql.c_str()))
            shape.push_back(column);
    }
    return shape;
}

std::vector<std::string> ShapeOfANewDatabase() {
    TempDir fresh;
    EXPECT_TRUE(
        CreateDatabase(fresh.Path(), fresh.Database(), "net", std::string(32, 'b'), 1).Ok());
    return Shape(fresh);
}

std::string SchemaVersion(const TempDir& dir) {
    std::vector<std::string> version =
        StoredColumn(dir.Path(), "SELECT value FROM meta WHERE key = 'schema_version'");
    return version.empty() ? "" : version[0];
}

TEST(StoreSchema, MigrationsAreOneStepEachUpToThisVersion) {
    int expected = STORE_FIRST_SCHEMA_VERSION;
    for (const Migration& migration : Migrations()) {
        EXPECT_EQ(migration.version, ++expected);
        EXPECT_FALSE(migration.statements.empty());
    }
    EXPECT_EQ(expected, STORE_SCHEMA_VERSION);
}

TEST(StoreSchema, ANewDatabaseRecordsItsVersionAndMetaVerbatim) {
    TempDir dir;
    // Bound, not pasted into SQL: a quote in a value is stored as it is.
    const std::string network = "it's/linked/1";
    ASSERT_TRUE(CreateDatabase(dir.Path(), dir.Database(), network, std::string(32, 'b'), 42).Ok());
    EXPECT_EQ(SchemaVersion(dir), std::to_string(STORE_SCHEMA_VERSION));
    EXPECT_EQ(StoredColumn(dir.Path(), "SELECT value FROM meta WHERE key = 'network_id'"),
              std::vector<std::string>{network});
    EXPECT_EQ(StoredColumn(dir.Path(),
                           "SELECT version || ' ' || applied_ms || ' ' || "
                           "description FROM migrations"),
              std::vector<std::string>{std::to_string(STORE_SCHEMA_VERSION) + " 42 created"});
    EXPECT_FALSE(std::filesystem::exists(dir.Database() + ".new"));
}

TEST(StoreSchema, StoreTakesANetworkIdWithAQuote) {
    TempDir dir;
    StoreOptions options = OptionsFor(dir);
    options.network_id = "it's/linked/1";
    {
        Store store;
        ASSERT_TRUE(store.Open(options).Ok());
    }
    Store again;
    EXPECT_TRUE(again.Open(options).Ok());
}

TEST(StoreSchema, ReadableVersionsAreTheFirstToThisOne) {
    for (int version = STORE_FIRST_SCHEMA_VERSION; version <= STORE_SCHEMA_VERSION; ++version) {
        Result<int> read = ReadableSchemaVersion(std::to_string(version));
        ASSERT_TRUE(read.Ok()) << version;
        EXPECT_EQ(read.Value(), version);
    }
    for (const char* stored : {"", "0", "5", "99", "3 ", "03", "x"}) {
        Result<int> read = ReadableSchemaVersion(stored);
        EXPECT_FALSE(read.Ok()) << stored;
        EXPECT_EQ(read.GetStatus().Code(), StatusCode::Incompatible) << stored;
    }
}

class StoreSchemaUpgrade : public ::testing::TestWithParam<int> {};

TEST_P(StoreSchemaUpgrade, OldDatabaseIsUpgradedInPlaceKeepingEveryRow) {
    const int old_version = GetParam();
    TempDir dir;
    CopyOldDatabase(old_version, dir);
    const std::vector<std::string> blocks =
        StoredColumn(dir.Path(), "SELECT hash || json FROM blocks ORDER BY seq");
    const std::vector<std::string> mempool =
        StoredColumn(dir.Path(), "SELECT txid || json FROM mempool ORDER BY seq");
    const std::vector<std::string> node_id =
        StoredColumn(dir.Path(), "SELECT value FROM meta WHERE key = 'node_id'");
    ASSERT_EQ(blocks.size(), 3u);
    ASSERT_EQ(SchemaVersion(dir), std::to_string(old_version));

    Store store;
    ASSERT_TRUE(store.Open(OptionsFor(dir)).Ok());
    ChainState chain(ChainState::Options{test::EasyParams(), {}, {}});
    std::vector<StoredPeer> peers;
    StoreLoadStats stats;
    Status loaded = store.LoadInto(chain, peers, stats);
    ASSERT_TRUE(loaded.Ok()) << loaded.Message();
    EXPECT_EQ(chain.Height(), 4u);
    EXPECT_EQ(stats.mempool, 1u);
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers[0].address, "127.0.0.1:1");
    // The old random id gives way to the id of the key the directory now has.
    EXPECT_NE(store.NodeId(), node_id.at(0));
    EXPECT_EQ(store.NodeId(), NodeKey::FromSeed(OptionsFor(dir).new_key_seed).NodeId());
    store.Close();

    EXPECT_EQ(SchemaVersion(dir), std::to_string(STORE_SCHEMA_VERSION));
    EXPECT_EQ(Shape(dir), ShapeOfANewDatabase());
    EXPECT_EQ(StoredColumn(dir.Path(), "SELECT hash || json FROM blocks ORDER BY seq"), blocks);
    EXPECT_EQ(StoredColumn(dir.Path(), "SELECT txid || json FROM mempool ORDER BY seq"), mempool);
    std::vector<std::string> applied;
    for (int version = old_version + 1; version <= STORE_SCHEMA_VERSION; ++version)
        applied.push_back(std::to_string(version));
    EXPECT_EQ(StoredColumn(dir.Path(), "SELECT version FROM migrations ORDER BY version"), applied);

    // Opened again, nothing more is migrated.
    Store again;
    ASSERT_TRUE(again.Open(OptionsFor(dir)).Ok());
    again.Close();
    EXPECT_EQ(StoredColumn(dir.Path(), "SELECT version FROM migrations ORDER BY version"), applied);
}

INSTANTIATE_TEST_SUITE_P(EveryOlderVersion, StoreSchemaUpgrade,
                         ::testing::Range(STORE_FIRST_SCHEMA_VERSION, STORE_SCHEMA_VERSION));

TEST(StoreSchema, FailedUpgradeLeavesTheOldSchemaWhole) {
    TempDir dir;
    CopyOldDatabase(1, dir);
    // Migration 2 creates bans; a table of that name makes its last step fail after the first
    // ones ran.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir.Database().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE bans(x)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    const std::vector<std::string> before = Shape(dir);

    Store store;
    Status refused = store.Open(OptionsFor(dir));
    EXPECT_FALSE(refused.Ok());
    EXPECT_NE(refused.Message().find("cannot upgrade the schema from version 1"), std::string::npos)
        << refused.Message();
    EXPECT_EQ(SchemaVersion(dir), "1");
    EXPECT_EQ(Shape(dir), before);
}

}  // namespace
}  // namespace gossipchain
