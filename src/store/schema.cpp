#include "store/schema.h"

#include "store/data_dir.h"
#include "store/statement.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gossipchain {
namespace {

/** Schema 4's table of the versions a database reached. */
constexpr std::string_view MIGRATIONS_TABLE_SQL =
    "CREATE TABLE migrations(version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL,"
    " description TEXT NOT NULL)";
/** Schema 2's table of running bans. */
constexpr std::string_view BANS_TABLE_SQL =
    "CREATE TABLE bans(key TEXT PRIMARY KEY, until_ms INTEGER NOT NULL)";

/** The tables of STORE_SCHEMA_VERSION, one statement each. */
const std::vector<std::string_view> TABLES = {
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE blocks(seq INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, parent TEXT NOT NULL,"
    " height INTEGER NOT NULL, json BLOB NOT NULL)",
    "CREATE TABLE main_chain(height INTEGER PRIMARY KEY, hash TEXT NOT NULL)",
    "CREATE TABLE mempool(seq INTEGER PRIMARY KEY, txid TEXT NOT NULL UNIQUE, json BLOB NOT NULL,"
    " origin INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE peers(address TEXT PRIMARY KEY, last_seen INTEGER NOT NULL,"
    " origin INTEGER NOT NULL DEFAULT 2)",
    BANS_TABLE_SQL,
    MIGRATIONS_TABLE_SQL,
};

/** A new database is built under this suffix and renamed into place once complete. */
const char* const CREATING_SUFFIX = ".new";

/** Runs one statement of `sql` with `values` bound to ?1, ?2, ...; Ok or SQLite's message. */
template <typename... Values>
Status Run(sqlite3* db, std::string_view sql, const Values&... values) {
    Statement statement(db, sql);
    if (!statement.Valid())
        return Status::Error(sqlite3_errmsg(db));
    if (!statement.Single())
        return Status::Error("more than one statement in: " + std::string(sql));
    int index = 0;
    (statement.Bind(++index, values), ...);
    int rc = statement.Run();
    return rc == SQLITE_OK ? Status() : Status::Error(sqlite3_errmsg(db));
}

Status InsertMigration(sqlite3* db, int version, std::int64_t now_ms, std::string_view what) {
    return Run(db, "INSERT INTO migrations(version, applied_ms, description) VALUES(?1,?2,?3)",
               std::int64_t{version}, now_ms, what);
}

/** Sets meta's schema_version to `version` and records the step that reached it. */
Status RecordVersion(sqlite3* db, int version, std::int64_t now_ms, std::string_view what) {
    Status status = Run(db, "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                        std::string_view(std::to_string(version)));
    return status.Ok() ? InsertMigration(db, version, now_ms, what) : status;
}

/** Ends the transaction a failed step left open, if SQLite has not ended it already. */
void RollBack(sqlite3* db) {
    if (!sqlite3_get_autocommit(db))
        (void)Run(db, "ROLLBACK");
}

/** The tables and meta of a new database, in one transaction. */
Status WriteNewSchema(sqlite3* db, const std::string& network_id, const std::string& node_id,
                      std::int64_t now_ms) {
    Status status = Run(db, "PRAGMA synchronous=FULL");
    if (status.Ok())
        status = Run(db, "BEGIN");
    for (std::size_t i = 0; status.Ok() && i < TABLES.size(); ++i)
        status = Run(db, TABLES[i]);
    const std::string version = std::to_string(STORE_SCHEMA_VERSION);
    const std::pair<const char*, const std::string*> meta[] = {
        {"schema_version", &version}, {"network_id", &network_id}, {"node_id", &node_id}};
    for (const auto& [key, value] : meta) {
        if (status.Ok())
            status = Run(db, "INSERT INTO meta(key, value) VALUES(?1,?2)", std::string_view(key),
                         std::string_view(*value));
    }
    if (status.Ok())
        status = InsertMigration(db, STORE_SCHEMA_VERSION, now_ms, "created");
    if (status.Ok())
        status = Run(db, "COMMIT");
    if (!status.Ok())
        RollBack(db);
    return status;
}

}  // namespace

const std::vector<Migration>& Migrations() {
    static const std::vector<Migration> migrations = {
        {2,
         "a pending transaction remembers where it came from (schema 1 reloaded every one as "
         "acknowledged here, so relayed ones could never be evicted after a restart); bans get a "
         "table of their own (their keys are IPs and node ids, not peer addresses)",
         {"ALTER TABLE mempool ADD COLUMN origin INTEGER NOT NULL DEFAULT 0",
          "ALTER TABLE peers DROP COLUMN banned_until", BANS_TABLE_SQL}},
        {3,
         "a peer address remembers whether the operator named it or gossip told it; rows of "
         "schema 2 were all reloaded as learned, so they stay learned",
         {"ALTER TABLE peers ADD COLUMN origin INTEGER NOT NULL DEFAULT 2"}},
        {4,
         "the migrations table records every schema version the database reached",
         {MIGRATIONS_TABLE_SQL}},
    };
    return migrations;
}

Status CreateDatabase(const std::string& dir, const std::string& path,
                      const std::string& network_id, const std::string& node_id,
                      std::int64_t now_ms) {
    std::string temp = path + CREATING_SUFFIX;
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    std::filesystem::remove(temp + "-journal", ec);
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(temp.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, nullptr);
    std::string error;
    if (rc != SQLITE_OK) {
        error = "cannot create " + temp + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    } else if (Status written = WriteNewSchema(db, network_id, node_id, now_ms); !written.Ok()) {
        error = "cannot create " + temp + ": " + written.Message();
    }
    sqlite3_close(db);
    if (error.empty() && ::rename(temp.c_str(), path.c_str()) != 0)
        error = "cannot rename " + temp + " to " + path + ": " + std::strerror(errno);
    if (!error.empty()) {
        std::filesystem::remove(temp, ec);
        std::filesystem::remove(temp + "-journal", ec);
        return Status::Error(error);
    }
    SyncDirectory(dir);
    return {};
}

Result<int> ReadableSchemaVersion(const std::string& stored) {
    for (int version = STORE_FIRST_SCHEMA_VERSION; version <= STORE_SCHEMA_VERSION; ++version) {
        if (stored == std::to_string(version))
            return version;
    }
    return Status::Error("schema version " + (stored.empty() ? "missing" : stored) +
                             ", this build reads " + std::to_string(STORE_FIRST_SCHEMA_VERSION) +
                             " to " + std::to_string(STORE_SCHEMA_VERSION) +
                             " (written by another gossipchain version)",
                         StatusCode::Incompatible);
}

Status Migrate(sqlite3* db, int from, std::int64_t now_ms) {
    Status status = Run(db, "BEGIN");
    for (const Migration& migration : Migrations()) {
        if (migration.version <= from)
            continue;
        for (std::size_t i = 0; status.Ok() && i < migration.statements.size(); ++i)
            status = Run(db, migration.statements[i]);
    }
    // The migrations table exists only from schema 4 on, so the steps are recorded once every
    // step has run.
    for (const Migration& migration : Migrations()) {
        if (status.Ok() && migration.version > from)
            status = RecordVersion(db, migration.version, now_ms, migration.description);
    }
    if (status.Ok())
        status = Run(db, "COMMIT");
    if (!status.Ok()) {
        RollBack(db);
        return Status::Error("cannot upgrade the schema from version " + std::to_string(from) +
                             ": " + status.Message());
    }
    return {};
}

}  // namespace gossipchain
