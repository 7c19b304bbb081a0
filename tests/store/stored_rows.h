// Test helpers: what reached a node's database, read behind the store's back. Opens the file
// read-only (WAL lets a reader in while a node runs on it), so tests can check the disk rather
// than what a node says; and every file of a data directory, so a test can check that a refused
// start changed none of them.
#pragma once

#include "store/store.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
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

/**
 * Every entry of `dir` by name: a regular file's content, a link's target after "-> ", and the
 * type of anything else, so two snapshots are equal exactly when nothing in it changed.
 */
inline std::map<std::string, std::string> DirectoryContents(const std::string& dir) {
    std::map<std::string, std::string> contents;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        std::string& value = contents[entry.path().filename().string()];
        if (entry.is_symlink()) {
            value = "-> " + std::filesystem::read_symlink(entry.path(), ec).string();
        } else if (entry.is_regular_file()) {
            std::ifstream in(entry.path(), std::ios::binary);
            std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
            // Small files as they are (LOCK's pid), others by size and hash to keep failures short.
            value = bytes.size() <= 64 ? bytes
                                       : std::to_string(bytes.size()) + " bytes, hash " +
                                             std::to_string(std::hash<std::string>{}(bytes));
        } else {
            value = "type " + std::to_string(static_cast<int>(entry.status().type()));
        }
    }
    return contents;
}

}  // namespace gossipchain::test
