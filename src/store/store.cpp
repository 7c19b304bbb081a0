#include "store/store.h"

#include "crypto/sha256.h"
#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"
#include "util/clock.h"
#include "util/hex.h"
#include "util/log.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <optional>
#include <utility>

namespace gossipchain {
namespace {

const char* const SCHEMA_SQL = R"(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE blocks(seq INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, parent TEXT NOT NULL,
                    height INTEGER NOT NULL, json BLOB NOT NULL);
CREATE TABLE main_chain(height INTEGER PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE mempool(seq INTEGER PRIMARY KEY, txid TEXT NOT NULL UNIQUE, json BLOB NOT NULL,
                     origin INTEGER NOT NULL DEFAULT 0);
CREATE TABLE peers(address TEXT PRIMARY KEY, last_seen INTEGER NOT NULL,
                   origin INTEGER NOT NULL DEFAULT 2);
CREATE TABLE bans(key TEXT PRIMARY KEY, until_ms INTEGER NOT NULL);
)";

/**
 * Schema 1 to 2: a pending transaction remembers where it came from (schema 1 reloaded every one
 * as acknowledged here, so relayed ones could never be evicted after a restart), and bans get a
 * table of their own (their keys are IPs and node ids, not peer addresses).
 */
const char* const MIGRATE_1_TO_2_SQL = R"(
ALTER TABLE mempool ADD COLUMN origin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE peers DROP COLUMN banned_until;
CREATE TABLE bans(key TEXT PRIMARY KEY, until_ms INTEGER NOT NULL);
UPDATE meta SET value = '2' WHERE key = 'schema_version';
)";

/**
 * Schema 2 to 3: a peer address remembers whether the operator named it (--peer, /nodes/register)
 * or gossip told it (StoredPeerOrigin); rows of schema 2 were all reloaded as learned, so they
 * stay learned.
 */
const char* const MIGRATE_2_TO_3_SQL = R"(
ALTER TABLE peers ADD COLUMN origin INTEGER NOT NULL DEFAULT 2;
UPDATE meta SET value = '3' WHERE key = 'schema_version';
)";

/**
 * How a transaction's origin is stored. The order matters: when one transaction is written twice
 * (relayed to us, then submitted here) the row keeps the smaller code, the origin the mempool
 * protects most (see Mempool: relayed transactions are evicted first).
 */
std::int64_t OriginCode(TxOrigin origin) {
    switch (origin) {
        case TxOrigin::Local:
            return 0;
        case TxOrigin::Reorg:
            return 1;
        case TxOrigin::Relay:
            return 2;
    }
    return 0;
}

std::optional<TxOrigin> OriginOf(std::int64_t code) {
    for (TxOrigin origin : {TxOrigin::Local, TxOrigin::Reorg, TxOrigin::Relay}) {
        if (OriginCode(origin) == code)
            return origin;
    }
    return std::nullopt;
}

/** A prepared statement that resets itself after each use. */
class Statement {
public:
    Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr); }
    ~Statement() { sqlite3_finalize(m_stmt); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    bool Valid() const { return m_stmt != nullptr; }
    Statement& Bind(int index, const std::string& text) {
        sqlite3_bind_text(m_stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
        return *this;
    }
    Statement& Bind(int index, std::int64_t value) {
        sqlite3_bind_int64(m_stmt, index, value);
        return *this;
    }
    /** Runs a statement that returns no rows; the SQLite result code. */
    int Run() {
        int rc = sqlite3_step(m_stmt);
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
        return rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    bool Step() { return sqlite3_step(m_stmt) == SQLITE_ROW; }
    std::string Text(int column) const {
        const auto* data = static_cast<const char*>(sqlite3_column_blob(m_stmt, column));
        return std::string(data ? data : "",
                           static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column)));
    }
    std::int64_t Int(int column) const { return sqlite3_column_int64(m_stmt, column); }

private:
    sqlite3_stmt* m_stmt = nullptr;
};

/** The node id file of versions before the database; read once when the database is created. */
const char* const LEGACY_NODE_ID_NAME = "node_id";
/** SQLite's own files next to the database: a write-ahead log, its index, a rollback journal. */
const char* const SQLITE_SIDE_SUFFIXES[] = {"-wal", "-shm", "-journal"};
/** A new database is built under this suffix and renamed into place once complete. */
const char* const CREATING_SUFFIX = ".new";

/**
 * What stands at `path`, looked at without following a symbolic link: whether anything does,
 * its size, and, when it is not a regular file, what it is instead ("a symbolic link").
 */
struct PathState {
    bool exists = false;
    std::uintmax_t size = 0;
    /** Empty when missing or a regular file. */
    std::string problem;
};

/** What a file of mode `mode` is when it is not a regular file ("a FIFO"); empty when it is. */
std::string KindProblem(mode_t mode) {
    if (S_ISREG(mode))
        return {};
    return S_ISLNK(mode)    ? "a symbolic link"
           : S_ISDIR(mode)  ? "a directory"
           : S_ISFIFO(mode) ? "a FIFO"
           : S_ISSOCK(mode) ? "a socket"
                            : "a device or other special file";
}

PathState Inspect(const std::string& path) {
    PathState state;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno != ENOENT) {
            state.exists = true;
            state.problem = std::string("not readable (") + std::strerror(errno) + ")";
        }
        return state;
    }
    state.exists = true;
    state.size = static_cast<std::uintmax_t>(st.st_size);
    state.problem = KindProblem(st.st_mode);
    return state;
}

/**
 * Every file of the store is opened only as a regular file: following a link would let whoever
 * placed it choose what the node truncates and overwrites (LOCK, SQLite's -wal), and a FIFO
 * would block the start. The data directory itself may be a link.
 */
std::string NotRegular(const std::string& path, const std::string& problem) {
    return path + " is " + problem +
           "; refusing to start: the files in a data directory must be regular files (the "
           "directory itself may be a symbolic link)";
}

/** Refuses when any file the store opens in `dir` exists and is not a regular file. */
Status CheckFileTypes(const std::string& dir) {
    std::vector<std::string> names = {STORE_FILE_NAME, LEGACY_NODE_ID_NAME};
    for (const char* suffix : SQLITE_SIDE_SUFFIXES)
        names.push_back(std::string(STORE_FILE_NAME) + suffix);
    for (const std::string& name : names) {
        std::string path = dir + "/" + name;
        PathState state = Inspect(path);
        if (!state.problem.empty())
            return Status::Error(NotRegular(path, state.problem));
    }
    return {};
}

/**
 * With no database file in `dir`: why the directory has held a database before (so a new one
 * must not be created in it), or empty when it never has. Evidence is SQLite's own files of a
 * database, or a LOCK that names a process: the pid is written only once a database exists.
 */
std::string EvidenceOfDatabase(const std::string& dir, std::uintmax_t lock_size) {
    for (const char* suffix : SQLITE_SIDE_SUFFIXES) {
        std::string name = std::string(STORE_FILE_NAME) + suffix;
        if (Inspect(dir + "/" + name).exists)
            return name + " is there";
    }
    if (lock_size > 0)
        return std::string(STORE_LOCK_NAME) + " names the process that last ran on it";
    return {};
}

/** The legacy node id in `dir`, or empty when there is none (or it is not 32 lowercase hex). */
std::string ReadLegacyNodeId(const std::string& dir) {
    int fd = ::open((dir + "/" + LEGACY_NODE_ID_NAME).c_str(),
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return {};
    struct stat st {};
    char buf[64] = {};
    ssize_t n = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? ::read(fd, buf, sizeof(buf)) : 0;
    ::close(fd);
    std::string id(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    id = id.substr(0, id.find('\n'));
    return IsLowerHex(id, 32) ? id : std::string();
}

/** fsync of a directory, so a rename in it survives power loss. */
void SyncDirectory(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)::fsync(fd);
        ::close(fd);
    }
}

/**
 * Creates the database `path` holding what `sql` writes. It is built and synced under a
 * temporary name and then renamed into place, so a database file only ever exists complete: a
 * start interrupted here leaves the temporary file, which the next start replaces, and an empty
 * or schema-less database file is always damage, never a start that did not finish.
 */
Status CreateDatabase(const std::string& dir, const std::string& path, const std::string& sql) {
    std::string temp = path + CREATING_SUFFIX;
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    std::filesystem::remove(temp + "-journal", ec);
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(temp.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, nullptr);
    char* message = nullptr;
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, ("PRAGMA synchronous=FULL;" + sql).c_str(), nullptr, nullptr,
                          &message);
    std::string error;
    if (rc != SQLITE_OK) {
        error = "cannot create " + temp + ": " +
                (message ? message
                 : db    ? sqlite3_errmsg(db)
                         : sqlite3_errstr(rc));
    }
    sqlite3_free(message);
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

/** The statements that create the schema and meta of a new database, as one transaction. */
std::string SchemaSql(const std::string& network_id, const std::string& node_id) {
    return std::string("BEGIN;") + SCHEMA_SQL + "INSERT INTO meta VALUES('schema_version','" +
           std::to_string(STORE_SCHEMA_VERSION) + "');" + "INSERT INTO meta VALUES('network_id','" +
           network_id + "');" + "INSERT INTO meta VALUES('node_id','" + node_id + "');COMMIT;";
}

/**
 * A reader for exactly the bytes BlockJson writes (sorted keys, ", " and ": " separators) with no
 * string escapes: about ten times faster than building a JSON tree, which matters at 100k blocks
 * per start. Anything else returns false and goes through the general reader; the caller also
 * re-serialises the result and compares it with the stored bytes, so a mistake here can only cost
 * speed, never a different block.
 */
class CanonicalBlockReader {
public:
    explicit CanonicalBlockReader(std::string_view text) : m_text(text) {}

    bool Read(Block& block) {
        std::string previous;
        if (!Expect("{\"index\": ") || !Unsigned(block.index) || !Expect(", \"previous_hash\": ") ||
            !String(previous) || !Expect(", \"proof\": ") || !Unsigned(block.proof) ||
            !Expect(", \"timestamp\": ") || !Double(block.timestamp) ||
            !Expect(", \"transactions\": ["))
            return false;
        block.previous_hash = std::move(previous);
        block.transactions.clear();
        if (Expect("]}"))
            return m_pos == m_text.size();
        while (true) {
            Transaction tx;
            if (!Expect("{\"amount\": ") || !Signed(tx.amount) || !Expect(", \"id\": ") ||
                !String(tx.id) || !Expect(", \"recipient\": ") || !String(tx.recipient) ||
                !Expect(", \"sender\": ") || !String(tx.sender) || !Expect("}"))
                return false;
            block.transactions.push_back(std::move(tx));
            if (Expect("]}"))
                return m_pos == m_text.size();
            if (!Expect(", "))
                return false;
        }
    }

private:
    bool Expect(std::string_view literal) {
        if (m_text.substr(m_pos, literal.size()) != literal)
            return false;
        m_pos += literal.size();
        return true;
    }
    bool String(std::string& out) {
        if (!Expect("\""))
            return false;
        std::size_t end = m_text.find('"', m_pos);
        if (end == std::string_view::npos)
            return false;
        std::string_view body = m_text.substr(m_pos, end - m_pos);
        if (body.find('\\') != std::string_view::npos)
            return false;
        out.assign(body);
        m_pos = end + 1;
        return true;
    }
    template <typename T>
    bool Number(T& out) {
        const char* begin = m_text.data() + m_pos;
        auto [ptr, ec] = std::from_chars(begin, m_text.data() + m_text.size(), out);
        if (ec != std::errc() || ptr == begin)
            return false;
        m_pos += static_cast<std::size_t>(ptr - begin);
        return true;
    }
    bool Unsigned(std::uint64_t& out) { return Number(out); }
    bool Signed(std::int64_t& out) { return Number(out); }
    bool Double(double& out) { return Number(out); }

    std::string_view m_text;
    std::size_t m_pos = 0;
};

/** Parses stored canonical block bytes: the fast reader, else the general JSON reader. */
Result<Block> ParseStoredBlock(const std::string& json) {
    Block block;
    if (CanonicalBlockReader(json).Read(block) && BlockJson(block) == json)
        return block;
    Result<nlohmann::json> value = ParseJson(json);
    if (!value.Ok())
        return value.GetStatus();
    return BlockFromJson(value.Value());
}

/** Parses a stored transaction's JSON. */
Result<Transaction> ParseStoredTransaction(const std::string& json) {
    Result<nlohmann::json> value = ParseJson(json);
    if (!value.Ok())
        return value.GetStatus();
    return TransactionFromJson(value.Value());
}
}  // namespace

struct Store::Statements {
    explicit Statements(sqlite3* db)
        : put_block(db,
                    "INSERT OR IGNORE INTO blocks(hash, parent, height, json) VALUES(?1,?2,?3,?4)"),
          put_main(db, "INSERT OR REPLACE INTO main_chain(height, hash) VALUES(?1,?2)"),
          drop_main(db, "DELETE FROM main_chain WHERE height = ?1"),
          put_tx(db,
                 "INSERT INTO mempool(txid, json, origin) VALUES(?1,?2,?3) ON CONFLICT(txid) "
                 "DO UPDATE SET origin = min(origin, excluded.origin)"),
          drop_tx(db, "DELETE FROM mempool WHERE txid = ?1"),
          put_peer(db,
                   "INSERT INTO peers(address, last_seen, origin) VALUES(?1,?2,?3) "
                   "ON CONFLICT(address) DO UPDATE SET last_seen = max(last_seen, "
                   "excluded.last_seen), origin = min(origin, excluded.origin)"),
          put_ban(db,
                  "INSERT INTO bans(key, until_ms) VALUES(?1,?2) ON CONFLICT(key) "
                  "DO UPDATE SET until_ms = max(until_ms, excluded.until_ms)"),
          drop_ban(db, "DELETE FROM bans WHERE key = ?1"),
          clear_peers(db, "DELETE FROM peers") {}

    bool Valid() const {
        return put_block.Valid() && put_main.Valid() && drop_main.Valid() && put_tx.Valid() &&
               drop_tx.Valid() && put_peer.Valid() && put_ban.Valid() && drop_ban.Valid() &&
               clear_peers.Valid();
    }

    Statement put_block;
    Statement put_main;
    Statement drop_main;
    Statement put_tx;
    Statement drop_tx;
    Statement put_peer;
    Statement put_ban;
    Statement drop_ban;
    Statement clear_peers;
};

Store::~Store() {
    Close();
}

std::string Store::Error(const std::string& what) const {
    return what + ": " + (m_db ? sqlite3_errmsg(m_db) : "cannot open");
}

Status Store::Fail(StatusCode code, const std::string& what) const {
    return Status::Error("data directory " + m_dir + ": " + what, code);
}

Status Store::Fail(const Status& failed) const {
    return Fail(failed.Code(), failed.Message());
}

Status Store::Exec(const char* sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, &message);
    if (rc == SQLITE_OK)
        return {};
    Status failed = Status::Error(message ? message : sqlite3_errstr(rc));
    sqlite3_free(message);
    return failed;
}

void Store::RollBack() {
    // What failed is already reported; a rollback that fails too has nothing to add (SQLite
    // has then ended the transaction itself).
    if (!sqlite3_get_autocommit(m_db))
        (void)Exec("ROLLBACK");
}

Status Store::Open(const StoreOptions& options) {
    Status status = OpenChecked(options);
    if (!status.Ok()) {
        // A refused start leaves the directory as it found it, without a LOCK of its own.
        if (m_lock_created)
            ::unlink((m_dir + "/" + STORE_LOCK_NAME).c_str());
        Close();
    }
    m_lock_created = false;
    return status;
}

Status Store::OpenChecked(const StoreOptions& options) {
    m_dir = options.dir;
    std::error_code ec;
    std::filesystem::create_directories(m_dir, ec);
    if (ec)
        return Fail(StatusCode::Failed, "cannot create it: " + ec.message());
    // SQLITE_OPEN_NOFOLLOW refuses a link anywhere in the path, and operators may make the data
    // directory itself a link, so SQLite is given the resolved directory.
    const std::string real_dir = std::filesystem::canonical(m_dir, ec).string();
    if (ec)
        return Fail(StatusCode::Failed, "cannot resolve it: " + ec.message());

    // A truncated, emptied or overwritten file fails here or in quick_check; running on it would
    // serve a chain that is not what was stored, under a new node id.
    const std::string path = m_dir + "/" + STORE_FILE_NAME;
    auto damaged = [&](const std::string& why) {
        return Fail(StatusCode::Corrupt,
                    path +
                        " is damaged; refusing to start (restore it from a backup, or move the "
                        "data directory away to start a new node that re-syncs from its peers): " +
                        why);
    };
    auto held = [&](const std::string& state, const std::string& evidence) {
        return Fail(StatusCode::Corrupt,
                    path + " is " + state + " but this directory has held a database (" + evidence +
                        "); refusing to start a new chain in it (restore the database from a "
                        "backup, or move the data directory away to start a new node)");
    };
    std::uintmax_t lock_size = 0;
    Status status = Lock(m_dir + "/" + STORE_LOCK_NAME, lock_size);
    if (!status.Ok())
        return Fail(status);
    status = CheckFileTypes(m_dir);
    if (!status.Ok())
        return Fail(status);

    PathState database = Inspect(path);
    if (!database.exists) {
        std::string evidence = EvidenceOfDatabase(m_dir, lock_size);
        if (!evidence.empty())
            return held("missing", evidence);
        std::string id = ReadLegacyNodeId(m_dir);
        status =
            CreateDatabase(real_dir, real_dir + "/" + STORE_FILE_NAME,
                           SchemaSql(options.network_id, id.empty() ? options.new_node_id : id));
        if (!status.Ok())
            return Fail(status);
    } else if (database.size == 0) {
        // SQLite would take an empty file for a new database.
        return held("empty (0 bytes)", "a new one is never left empty");
    }

    if (sqlite3_open_v2((real_dir + "/" + STORE_FILE_NAME).c_str(), &m_db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, nullptr) != SQLITE_OK) {
        return Fail(StatusCode::Failed, Error("cannot open " + path));
    }
    sqlite3_busy_timeout(m_db, DEFAULT_STORE_BUSY_TIMEOUT_MS);
    {
        Statement check(m_db, "PRAGMA quick_check");
        if (!check.Valid() || !check.Step())
            return damaged(sqlite3_errmsg(m_db));
        std::string verdict = check.Text(0);
        if (verdict != "ok")
            return damaged(verdict);
    }
    {
        Statement tables(m_db, "SELECT count(*) FROM sqlite_master WHERE name = 'meta'");
        if (!tables.Valid() || !tables.Step())
            return damaged(sqlite3_errmsg(m_db));
        // Databases are created complete (CreateDatabase), so one without tables is not ours.
        if (tables.Int(0) == 0)
            return damaged("it holds no gossipchain tables");
    }
    int version = 0;
    status = CheckMeta(options, version);
    if (!status.Ok())
        return Fail(status);
    // Only now that every check passed is anything written (the journal mode is in the header).
    status = Exec("PRAGMA journal_mode=WAL");
    if (!status.Ok())
        return damaged(status.Message());
    status = Exec(options.durability == Durability::Full ? "PRAGMA synchronous=FULL"
                                                         : "PRAGMA synchronous=NORMAL");
    if (!status.Ok())
        return Fail(status);
    if (options.max_pages > 0)
        SetMaxPages(options.max_pages);
    if (version < STORE_SCHEMA_VERSION) {
        // One transaction for every step, so a failed upgrade leaves the old schema whole.
        std::string steps = "BEGIN;";
        if (version <= 1)
            steps += MIGRATE_1_TO_2_SQL;
        steps += MIGRATE_2_TO_3_SQL;
        status = Exec((steps + "COMMIT;").c_str());
        if (!status.Ok()) {
            RollBack();
            return Fail(StatusCode::Failed, "cannot upgrade the schema from version " +
                                                std::to_string(version) + ": " + status.Message());
        }
        LOG_INFO("store: %s upgraded from schema %d to %d", path.c_str(), version,
                 STORE_SCHEMA_VERSION);
    }
    m_statements = new Statements(m_db);
    if (!m_statements->Valid())
        return Fail(StatusCode::Failed, Error("cannot prepare statements"));
    WritePid();
    return {};
}

Status Store::Lock(const std::string& lock_path, std::uintmax_t& size) {
    // Two nodes on one directory would interleave two chains in one file; the second refuses.
    // O_NOFOLLOW: a link named LOCK is refused, never followed to a file the pid would then be
    // written into; O_NONBLOCK: a FIFO named LOCK cannot hang the start.
    // Created exclusively, to know whether a refusal must take it away again.
    const int flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    m_lock_fd = ::open(lock_path.c_str(), flags | O_CREAT | O_EXCL, 0644);
    m_lock_created = m_lock_fd >= 0;
    if (m_lock_fd < 0 && errno == EEXIST)
        m_lock_fd = ::open(lock_path.c_str(), flags);
    if (m_lock_fd < 0) {
        int error = errno;
        PathState state = Inspect(lock_path);
        if (!state.problem.empty())
            return Status::Error(NotRegular(lock_path, state.problem));
        return Status::Error("cannot open " + lock_path + ": " + std::strerror(error));
    }
    struct stat st {};
    if (::fstat(m_lock_fd, &st) != 0)
        return Status::Error("cannot examine " + lock_path + ": " + std::strerror(errno));
    std::string problem = KindProblem(st.st_mode);
    if (!problem.empty())
        return Status::Error(NotRegular(lock_path, problem));
    if (::flock(m_lock_fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = {};
        ssize_t n = ::pread(m_lock_fd, pid, sizeof(pid) - 1, 0);
        std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "unknown";
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
            holder.pop_back();
        return Status::Error("already in use by another gossipchain process (pid " + holder +
                                 "); give each node its own --data-dir",
                             StatusCode::InUse);
    }
    // Read again under the lock: a node that held it may have written its pid meanwhile.
    if (::fstat(m_lock_fd, &st) != 0)
        return Status::Error("cannot examine " + lock_path + ": " + std::strerror(errno));
    size = static_cast<std::uintmax_t>(st.st_size);
    return {};
}

void Store::WritePid() {
    // Written over the old pid and then cut to its length, so LOCK never becomes empty once a
    // database exists: a LOCK with content is what shows that one did (EvidenceOfDatabase).
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::pwrite(m_lock_fd, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size()))
        (void)!::ftruncate(m_lock_fd, static_cast<off_t>(pid.size()));
}

Status Store::CheckMeta(const StoreOptions& options, int& version_out) {
    Statement read(m_db, "SELECT key, value FROM meta");
    if (!read.Valid())
        return Status::Error(Error("cannot read meta"));
    std::string version;
    std::string network;
    while (read.Step()) {
        std::string key = read.Text(0);
        if (key == "schema_version")
            version = read.Text(1);
        else if (key == "network_id")
            network = read.Text(1);
        else if (key == "node_id")
            m_node_id = read.Text(1);
    }
    // Schemas 1 and 2 are upgraded in place after every other check passed.
    if (version == "1" || version == "2") {
        version_out = version[0] - '0';
    } else if (version == std::to_string(STORE_SCHEMA_VERSION)) {
        version_out = STORE_SCHEMA_VERSION;
    } else {
        return Status::Error("schema version " + (version.empty() ? "missing" : version) +
                                 ", this build reads 1 to " + std::to_string(STORE_SCHEMA_VERSION) +
                                 " (written by another gossipchain version)",
                             StatusCode::Incompatible);
    }
    if (network != options.network_id) {
        return Status::Error("belongs to network " + network + ", this node runs network " +
                                 options.network_id +
                                 " (different genesis, --pow or --difficulty); use another "
                                 "--data-dir",
                             StatusCode::Incompatible);
    }
    if (!IsLowerHex(m_node_id, 32))
        return Status::Error("meta has no valid node_id", StatusCode::Corrupt);
    return {};
}

void Store::Close() {
    if (m_writer.joinable()) {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_stopping = true;
        }
        m_wake.notify_one();
        // The writer commits every request handed to it before it returns.
        m_writer.join();
        m_stopping = false;
        m_post = nullptr;
    }
    if (m_db && PendingWrites() > 0) {
        Status committed = Commit();
        if (!committed.Ok())
            LOG_ERROR("store: last commit failed: %s", committed.Message().c_str());
    }
    delete m_statements;
    m_statements = nullptr;
    if (m_db)
        sqlite3_close(m_db);
    m_db = nullptr;
    if (m_lock_fd >= 0)
        ::close(m_lock_fd);
    m_lock_fd = -1;
}

Status Store::LoadInto(ChainState& chain, std::vector<StoredPeer>& peers, StoreLoadStats& stats) {
    std::uint64_t started = MonotonicNs();
    // A stored row that does not read back is damage; failing to read at all is not.
    std::vector<TrustedBlock> blocks;
    {
        Statement count(m_db, "SELECT count(*) FROM blocks");
        if (count.Valid() && count.Step())
            blocks.reserve(static_cast<std::size_t>(count.Int(0)));
        Statement read(m_db, "SELECT hash, json FROM blocks ORDER BY seq");
        if (!read.Valid())
            return Fail(StatusCode::Failed, Error("cannot read blocks"));
        while (read.Step()) {
            TrustedBlock stored;
            stored.hash = read.Text(0);
            stored.json = read.Text(1);
            // The hash is recomputed (SHA-256 of ~0.3 KB costs well under a microsecond) so a
            // damaged row is caught here rather than served as part of the chain.
            if (Sha256Hex(stored.json) != stored.hash)
                return Fail(StatusCode::Corrupt,
                            "stored block " + stored.hash + " does not hash to its key");
            Result<Block> block = ParseStoredBlock(stored.json);
            if (!block.Ok()) {
                return Fail(StatusCode::Corrupt,
                            "stored block " + stored.hash + " does not parse: " + block.Message());
            }
            stored.block = std::move(block).Value();
            blocks.push_back(std::move(stored));
        }
    }
    std::uint64_t parsed = MonotonicNs();
    stats.blocks = chain.LoadTrusted(blocks);
    LOG_DEBUG("store: blocks read, hashed and parsed in %.3f s, tree rebuilt in %.3f s",
              static_cast<double>(parsed - started) / 1e9,
              static_cast<double>(MonotonicNs() - parsed) / 1e9);
    if (stats.blocks != blocks.size()) {
        LOG_WARN("store: %zu stored blocks had no valid parent and were skipped",
                 blocks.size() - stats.blocks);
    }
    {
        Statement tip(m_db, "SELECT height, hash FROM main_chain ORDER BY height DESC LIMIT 1");
        if (tip.Valid() && tip.Step() &&
            (static_cast<std::uint64_t>(tip.Int(0)) != chain.Height() ||
             tip.Text(1) != chain.Tip().hash)) {
            LOG_WARN("store: the stored main chain ends at %lld %s, the rebuilt tree at %llu %s",
                     static_cast<long long>(tip.Int(0)), tip.Text(1).c_str(),
                     static_cast<unsigned long long>(chain.Height()), chain.Tip().hash.c_str());
        }
    }
    {
        Statement read(m_db, "SELECT txid, json, origin FROM mempool ORDER BY seq");
        if (!read.Valid())
            return Fail(StatusCode::Failed, Error("cannot read the mempool"));
        std::vector<std::string> stored;
        while (read.Step()) {
            Result<Transaction> tx = ParseStoredTransaction(read.Text(1));
            if (!tx.Ok())
                return Fail(StatusCode::Corrupt,
                            "stored transaction does not parse: " + tx.Message());
            std::optional<TxOrigin> origin = OriginOf(read.Int(2));
            if (!origin)
                return Fail(StatusCode::Corrupt,
                            "stored transaction has unknown origin " + std::to_string(read.Int(2)));
            stored.push_back(read.Text(0));
            chain.SubmitTransaction(tx.Value(), *origin);
        }
        // Rows the mempool did not take back (confirmed meanwhile, evicted by a smaller bound)
        // are deleted with the next commit, so the stored mempool is the one in memory.
        for (const std::string& txid : stored) {
            if (chain.GetMempool().Contains(txid))
                ++stats.mempool;
            else
                m_ops.push_back(Op{OpKind::DropTransaction, txid, {}, {}, 0, true});
        }
    }
    {
        // The operator's first, so a table that filled up with learned ones still takes them.
        Statement read(m_db,
                       "SELECT address, origin, last_seen FROM peers "
                       "ORDER BY origin, last_seen DESC");
        if (!read.Valid())
            return Fail(StatusCode::Failed, Error("cannot read peers"));
        while (read.Step()) {
            StoredPeerOrigin origin = read.Int(1) == static_cast<int>(StoredPeerOrigin::Registered)
                                          ? StoredPeerOrigin::Registered
                                          : StoredPeerOrigin::Learned;
            peers.push_back(StoredPeer{read.Text(0), origin, read.Int(2)});
        }
        stats.peers = peers.size();
    }
    stats.seconds = static_cast<double>(MonotonicNs() - started) / 1e9;
    return {};
}

void Store::PutBlock(const BlockEntry& entry) {
    m_ops.push_back(Op{OpKind::Block, entry.hash, entry.json, entry.block.ParentHash(),
                       static_cast<std::int64_t>(entry.Height()), true});
}

void Store::MoveTip(const BlockEntry& entry, bool connected) {
    m_ops.push_back(Op{connected ? OpKind::MainConnect : OpKind::MainDisconnect,
                       entry.hash,
                       {},
                       {},
                       static_cast<std::int64_t>(entry.Height()),
                       true});
    // Confirmed transactions leave the stored mempool; those of a disconnected block return to
    // it (a reorg's new chain removes again what it confirms, in the same commit).
    for (const Transaction& tx : entry.block.transactions) {
        if (tx.IsReward())
            continue;
        if (connected) {
            m_ops.push_back(Op{OpKind::DropTransaction, TxId(tx), {}, {}, 0, true});
        } else {
            std::string json;
            AppendTransactionJson(json, tx);
            m_ops.push_back(Op{OpKind::Transaction,
                               TxId(tx),
                               std::move(json),
                               {},
                               OriginCode(TxOrigin::Reorg),
                               true});
        }
    }
}

void Store::PutTransaction(const std::string& txid, const Transaction& tx, TxOrigin origin) {
    std::string json;
    AppendTransactionJson(json, tx);
    m_ops.push_back(Op{OpKind::Transaction, txid, std::move(json), {}, OriginCode(origin), false});
}

void Store::DropTransaction(const std::string& txid) {
    m_ops.push_back(Op{OpKind::DropTransaction, txid, {}, {}, 0, false});
}

void Store::ClearPeers() {
    m_ops.push_back(Op{OpKind::ClearPeers, {}, {}, {}, 0, false});
}

void Store::PutPeer(const std::string& address, std::int64_t last_seen_s, StoredPeerOrigin origin) {
    m_ops.push_back(
        Op{OpKind::Peer, address, {}, {}, last_seen_s, false, static_cast<std::int64_t>(origin)});
}

void Store::PutBan(const std::string& key, std::int64_t until_ms) {
    // Kept across a failed commit: a ban written late is still worth having after a restart.
    m_ops.push_back(Op{OpKind::Ban, key, {}, {}, until_ms, true});
}

Result<std::vector<StoredBan>> Store::LoadBans(std::int64_t now_ms) {
    Statement read(m_db, "SELECT key, until_ms FROM bans ORDER BY key");
    if (!read.Valid())
        return Fail(StatusCode::Failed, Error("cannot read bans"));
    std::vector<StoredBan> bans;
    while (read.Step()) {
        StoredBan ban{read.Text(0), read.Int(1)};
        if (ban.until_ms > now_ms)
            bans.push_back(std::move(ban));
        else
            m_ops.push_back(Op{OpKind::DropBan, ban.key, {}, {}, 0, true});
    }
    return bans;
}

Status Store::Apply(const Op& op) {
    Statements& s = *m_statements;
    int rc = SQLITE_OK;
    switch (op.kind) {
        case OpKind::Block:
            rc = s.put_block.Bind(1, op.key)
                     .Bind(2, op.parent)
                     .Bind(3, op.number)
                     .Bind(4, op.text)
                     .Run();
            break;
        case OpKind::MainConnect:
            rc = s.put_main.Bind(1, op.number).Bind(2, op.key).Run();
            break;
        case OpKind::MainDisconnect:
            rc = s.drop_main.Bind(1, op.number).Run();
            break;
        case OpKind::Transaction:
            rc = s.put_tx.Bind(1, op.key).Bind(2, op.text).Bind(3, op.number).Run();
            break;
        case OpKind::DropTransaction:
            rc = s.drop_tx.Bind(1, op.key).Run();
            break;
        case OpKind::Peer:
            rc = s.put_peer.Bind(1, op.key).Bind(2, op.number).Bind(3, op.origin).Run();
            break;
        case OpKind::Ban:
            rc = s.put_ban.Bind(1, op.key).Bind(2, op.number).Run();
            break;
        case OpKind::DropBan:
            rc = s.drop_ban.Bind(1, op.key).Run();
            break;
        case OpKind::ClearPeers:
            rc = s.clear_peers.Run();
            break;
    }
    return rc == SQLITE_OK ? Status() : Status::Error(sqlite3_errmsg(m_db));
}

Status Store::Commit() {
    if (!m_db)
        return Status::Error("the store is closed");
    return Write(std::exchange(m_ops, {}));
}

Status Store::Write(std::vector<Op> ops) {
    // Writes kept from a failed commit are older than anything queued since: they go first.
    if (!m_retry.empty()) {
        ops.insert(ops.begin(), std::make_move_iterator(m_retry.begin()),
                   std::make_move_iterator(m_retry.end()));
        m_retry.clear();
    }
    if (ops.empty())
        return {};
    Status written = Exec("BEGIN IMMEDIATE");
    for (std::size_t i = 0; written.Ok() && i < ops.size(); ++i)
        written = Apply(ops[i]);
    if (written.Ok())
        written = Exec("COMMIT");
    if (written.Ok()) {
        m_commits.fetch_add(1, std::memory_order_relaxed);
        return {};
    }
    RollBack();
    for (Op& op : ops) {
        if (op.keep)
            m_retry.push_back(std::move(op));
    }
    return written;
}

void Store::SetMaxPages(std::int64_t pages) {
    std::string sql = "PRAGMA max_page_count=" + std::to_string(pages);
    // Test-only (acting out a full disk): a cap that does not take fails that test, nothing else.
    (void)Exec(sql.c_str());
}

Status Store::Probe() {
    if (!m_db)
        return Status::Error("the store is closed");
    if (PendingWrites() > 0)
        return Commit();
    return ProbeWrite();
}

Status Store::ProbeWrite() {
    // A write that needs fresh pages, as the next transaction would: rewriting an existing row
    // could succeed in place while the disk is still full.
    Status written = Exec(
        "BEGIN IMMEDIATE; INSERT OR REPLACE INTO meta VALUES('probe', zeroblob(16384)); "
        "DELETE FROM meta WHERE key = 'probe'; COMMIT;");
    if (!written.Ok())
        RollBack();
    return written;
}

void Store::StartWriter(Poster post) {
    m_post = std::move(post);
    m_writer = std::thread([this] { WriterLoop(); });
}

void Store::CommitAsync(CommitDone done) {
    Submit(std::move(done), false);
}

void Store::ProbeAsync(CommitDone done) {
    Submit(std::move(done), true);
}

void Store::Submit(CommitDone done, bool probe) {
    if (!m_writer.joinable()) {
        done(probe ? Probe() : Commit());
        return;
    }
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_requests.push_back(Request{std::exchange(m_ops, {}), std::move(done), probe});
    }
    m_wake.notify_one();
}

void Store::WriterLoop() {
    while (true) {
        std::vector<Request> batch;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_requests.empty(); });
            if (m_requests.empty())
                return;
            batch.swap(m_requests);
        }
        // Everything handed over while the last commit ran goes into this one: group commit.
        std::vector<Op> ops;
        bool probe = false;
        for (Request& request : batch) {
            std::move(request.ops.begin(), request.ops.end(), std::back_inserter(ops));
            probe = probe || request.probe;
        }
        bool writes = !ops.empty() || !m_retry.empty();
        Status committed = Write(std::move(ops));
        if (committed.Ok() && probe && !writes)
            committed = ProbeWrite();
        std::vector<CommitDone> dones;
        dones.reserve(batch.size());
        for (Request& request : batch)
            dones.push_back(std::move(request.done));
        m_post([dones = std::move(dones), committed] {
            for (const CommitDone& done : dones)
                done(committed);
        });
    }
}

}  // namespace gossipchain
