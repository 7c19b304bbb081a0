// Test helper: what reached a node's database, read behind the store's back. Opens the file
// read-only (WAL lets a reader in while a node runs on it), so tests can check the disk rather
// than what a node says.
#pragma once

#include "store/store.h"

#include <sqlite3.h>

#include <string>
#include <vector>

namespace gossipchain::test {

/** The first column of every row `sql` returns from the database in `dir`, as text. */
inline std::vector<std::string> StoredColumn(const std::string& dir, const char* sql) {
    std::vector<std::string> values;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2((dir + "/" + STORE_FILE_NAME).c_str(), &db, SQLITE_OPEN_READONLY,
                        nullptr) == SQLITE_OK) {
        sqlite3_stmt* stmt = nullptr;
        sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
        while (stmt && sqlite3_step(stmt) == SQLITE_ROW)
            values.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return values;
}

}  // namespace gossipchain::test
