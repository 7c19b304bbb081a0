// A prepared SQLite statement that resets itself after each use, for the files of src/store
// (sqlite3 stays inside this directory). One statement per object: SQL with bound parameters
// rather than values pasted into the text.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gossipchain {

class Statement {
public:
    Statement(sqlite3* db, std::string_view sql) {
        const char* tail = nullptr;
        sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &m_stmt, &tail);
        m_single = tail == sql.data() + sql.size();
    }
    ~Statement() { sqlite3_finalize(m_stmt); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    bool Valid() const { return m_stmt != nullptr; }
    /** The SQL text held one statement and nothing after it (a second one would never run). */
    bool Single() const { return m_single; }
    /** Binds text that outlives the statement's next Run() or Step(). */
    Statement& Bind(int index, std::string_view text) {
        sqlite3_bind_text(m_stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
        return *this;
    }
    Statement& Bind(int index, std::int64_t value) {
        sqlite3_bind_int64(m_stmt, index, value);
        return *this;
    }
    /** Runs a statement that returns no rows; the SQLite result code (SQLITE_OK when done). */
    int Run() {
        int rc = sqlite3_step(m_stmt);
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
        return rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    bool Step() { return sqlite3_step(m_stmt) == SQLITE_ROW; }
    /** Ends a Step() read early, so the statement can be bound and stepped again. */
    void Reset() {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }
    /** A column's bytes, valid until the next Step() or Reset(). */
    std::string_view View(int column) const {
        const auto* data = static_cast<const char*>(sqlite3_column_blob(m_stmt, column));
        return data ? std::string_view(
                          data, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column)))
                    : std::string_view();
    }
    std::string Text(int column) const {
        const auto* data = static_cast<const char*>(sqlite3_column_blob(m_stmt, column));
        return std::string(data ? data : "",
                           static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column)));
    }
    std::int64_t Int(int column) const { return sqlite3_column_int64(m_stmt, column); }

private:
    sqlite3_stmt* m_stmt = nullptr;
    bool m_single = false;
};

}  // namespace gossipchain
