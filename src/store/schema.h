// The store's tables and how a database of an older schema becomes one of this build's.
//
// A new database is created complete at STORE_SCHEMA_VERSION (CreateDatabase). An older one is
// upgraded in place by Migrate: every migration above its version, in order, in one
// transaction, so a failed upgrade leaves the old schema whole. Each migration is a list of
// single SQL statements; the values that go with them (the new version, when it was applied) are
// bound parameters, never text pasted into SQL. The `migrations` table (schema 4) records every
// version a database reached and when: "created" for the version it was created at, the
// migration's description for each upgrade. meta's schema_version stays the one number every
// build checks first, so an older build refuses a newer database before reading anything else.
#pragma once

#include "util/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace gossipchain {

/** Schema version this build writes; it reads this one and upgrades every older one. */
inline constexpr int STORE_SCHEMA_VERSION = 4;
/** The first schema version; every later one has a migration. */
inline constexpr int STORE_FIRST_SCHEMA_VERSION = 1;

/** The step from schema `version - 1` to `version`. */
struct Migration {
    int version = 0;
    /** Why it exists, in one line; recorded in the migrations table. */
    const char* description = "";
    /** Single SQL statements without parameters, run in order. */
    std::vector<std::string_view> statements;
};

/** The migrations to STORE_FIRST_SCHEMA_VERSION + 1 ... STORE_SCHEMA_VERSION, in order. */
const std::vector<Migration>& Migrations();

/**
 * Creates the database `path` (in directory `dir`) at STORE_SCHEMA_VERSION with the given meta.
 * It is built and synced under `path` + ".new" and then renamed into place, so a database file
 * only ever exists complete: a start interrupted here leaves the temporary file, which the next
 * start replaces, and an empty or schema-less database file is always damage.
 */
Status CreateDatabase(const std::string& dir, const std::string& path,
                      const std::string& network_id, const std::string& node_id,
                      std::int64_t now_ms);

/**
 * The schema version `stored` names (meta's schema_version) when this build reads it: any of
 * STORE_FIRST_SCHEMA_VERSION ... STORE_SCHEMA_VERSION; Incompatible otherwise.
 */
Result<int> ReadableSchemaVersion(const std::string& stored);

/**
 * Upgrades `db` from schema `from` to STORE_SCHEMA_VERSION in one transaction, recording each
 * step in the migrations table; nothing changes when any step fails.
 */
Status Migrate(sqlite3* db, int from, std::int64_t now_ms);

}  // namespace gossipchain
