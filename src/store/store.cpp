#include "store/store.h"

#include "crypto/sha256.h"
#include "primitives/canonical_block_reader.h"
#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"
#include "store/statement.h"
#include "util/clock.h"
#include "util/hex.h"
#include "util/log.h"

#include <sqlite3.h>

#include <filesystem>
#include <optional>
#include <utility>

namespace gossipchain {
namespace {

/** Now on the wall clock, in ms: when a migration ran. */
std::int64_t WallMs() {
    return static_cast<std::int64_t>(WallSeconds() * 1000.0);
}

/** Parses a stored transaction's JSON. */
Result<Transaction> ParseStoredTransaction(const std::string& json) {
    Result<nlohmann::json> value = ParseJson(json);
    if (!value.Ok())
        return value.GetStatus();
    return TransactionFromJson(value.Value());
}

}  // namespace

Store::Store() = default;

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
        m_lock.UnlockAndUndo();
        Close();
    }
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
    Status status = m_lock.Lock(m_dir);
    if (!status.Ok())
        return Fail(status);
    status = CheckStoreFileTypes(m_dir);
    if (!status.Ok())
        return Fail(status);

    PathState database = InspectPath(path);
    if (!database.exists) {
        std::string evidence = EvidenceOfDatabase(m_dir, m_lock.SizeWhenLocked());
        if (!evidence.empty())
            return held("missing", evidence);
        std::string id = ReadLegacyNodeId(m_dir);
        status = CreateDatabase(real_dir, real_dir + "/" + STORE_FILE_NAME, options.network_id,
                                id.empty() ? options.new_node_id : id, WallMs());
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
        status = Migrate(m_db, version, WallMs());
        if (!status.Ok())
            return Fail(status);
        LOG_INFO("store: %s upgraded from schema %d to %d", path.c_str(), version,
                 STORE_SCHEMA_VERSION);
    }
    status = SettleNodeKey(options);
    if (!status.Ok())
        return Fail(status);
    m_batch_writer = std::make_unique<BatchWriter>(m_db);
    if (!m_batch_writer->Valid())
        return Fail(StatusCode::Failed, Error("cannot prepare statements"));
    if (sqlite3_open_v2((real_dir + "/" + STORE_FILE_NAME).c_str(), &m_reader,
                        SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, nullptr) != SQLITE_OK) {
        return Fail(StatusCode::Failed, Error("cannot open " + path + " for reading"));
    }
    sqlite3_busy_timeout(m_reader, DEFAULT_STORE_BUSY_TIMEOUT_MS);
    m_read_block =
        std::make_unique<Statement>(m_reader, "SELECT hash, json FROM blocks WHERE seq = ?1");
    if (!m_read_block->Valid())
        return Fail(StatusCode::Failed, Error("cannot prepare statements"));
    m_lock.WritePid();
    return {};
}

Status Store::SettleNodeKey(const StoreOptions& options) {
    Result<std::optional<NodeKeySeed>> file = ReadKeyFile(m_dir);
    if (!file.Ok())
        return file.GetStatus();
    const std::string file_path = m_dir + "/" + NODE_KEY_FILE_NAME;
    if (file.Value() && m_meta_seed && *file.Value() != *m_meta_seed) {
        return Status::Error(
            file_path + " holds node " + NodeKey::FromSeed(*file.Value()).NodeId() +
                " but the database belongs to node " + NodeKey::FromSeed(*m_meta_seed).NodeId() +
                "; refusing to start as either (put back the node_key of this data directory, "
                "or remove node_key to run as the database's node)",
            StatusCode::Incompatible);
    }
    m_key_seed = file.Value() ? *file.Value() : m_meta_seed ? *m_meta_seed : options.new_key_seed;
    if (!file.Value()) {
        Status written = WriteKeyFile(m_dir, m_key_seed);
        if (!written.Ok())
            return written;
        if (m_meta_seed)
            LOG_INFO("store: %s restored from the database", file_path.c_str());
    }
    const std::string node_id = NodeKey::FromSeed(m_key_seed).NodeId();
    if (!m_meta_seed || node_id != m_node_id) {
        if (!m_meta_seed && !m_node_id.empty() && node_id != m_node_id) {
            LOG_INFO(
                "store: the node now has a key (%s); its node id %s becomes %s, derived "
                "from the key",
                file_path.c_str(), m_node_id.c_str(), node_id.c_str());
        }
        Statement write(m_db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)");
        const std::string seed_hex = SeedHex(m_key_seed);
        if (!write.Valid() || write.Bind(1, "node_key").Bind(2, seed_hex).Run() != SQLITE_OK ||
            write.Bind(1, "node_id").Bind(2, node_id).Run() != SQLITE_OK)
            return Status::Error(Error("cannot store the node key in meta"));
    }
    m_node_id = node_id;
    return {};
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
        else if (key == "node_key") {
            NodeKeySeed seed{};
            if (!ParseSeedHex(read.Text(1), seed))
                return Status::Error("meta's node_key is not a key seed", StatusCode::Corrupt);
            m_meta_seed = seed;
        }
    }
    // Older schemas are upgraded in place after every other check passed.
    Result<int> readable = ReadableSchemaVersion(version);
    if (!readable.Ok())
        return readable.GetStatus();
    version_out = readable.Value();
    if (network != options.network_id) {
        return Status::Error("belongs to network " + network + ", this node runs network " +
                                 options.network_id +
                                 " (different genesis, --rules, --pow or --difficulty); "
                                 "use another --data-dir",
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
    m_batch_writer.reset();
    if (m_read_depth > 0)
        sqlite3_exec(m_reader, "COMMIT", nullptr, nullptr, nullptr);
    m_read_depth = 0;
    m_read_block.reset();
    if (m_reader)
        sqlite3_close(m_reader);
    m_reader = nullptr;
    if (m_db)
        sqlite3_close(m_db);
    m_db = nullptr;
    m_lock.Unlock();
}

Status Store::LoadInto(ChainState& chain, std::vector<StoredPeer>& peers, StoreLoadStats& stats) {
    std::uint64_t started = MonotonicNs();
    // A stored row that does not read back is damage; failing to read at all is not. Rows go
    // into the chain one at a time, so only one row's JSON is held at once (a whole chain's
    // JSON next to the entries would leave its holes in the heap for the node's lifetime).
    std::size_t rows = 0;
    {
        Statement count(m_db, "SELECT count(*) FROM blocks");
        if (count.Valid() && count.Step()) {
            // One transaction per block is the common case; the txid map grows past it.
            const auto stored = static_cast<std::size_t>(count.Int(0));
            chain.Reserve(stored, stored);
        }
        Statement read(m_db, "SELECT seq, hash, json FROM blocks ORDER BY seq");
        if (!read.Valid())
            return Fail(StatusCode::Failed, Error("cannot read blocks"));
        while (read.Step()) {
            TrustedBlock stored;
            stored.seq = static_cast<std::uint64_t>(read.Int(0));
            const std::string key = read.Text(1);
            const std::string json = read.Text(2);
            // The hash is recomputed (SHA-256 of ~0.3 KB costs well under a microsecond) so a
            // damaged row is caught here rather than served as part of the chain.
            stored.hash = Sha256(json);
            if (DigestHex(stored.hash) != key)
                return Fail(StatusCode::Corrupt,
                            "stored block " + key + " does not hash to its key");
            Result<Block> block = ParseCanonicalBlock(json);
            if (!block.Ok()) {
                return Fail(StatusCode::Corrupt,
                            "stored block " + key + " does not parse: " + block.Message());
            }
            stored.block = std::move(block).Value();
            stored.json_size = json.size();
            ++rows;
            if (chain.LoadTrusted(std::move(stored)))
                ++stats.blocks;
        }
    }
    LOG_DEBUG("store: blocks read, hashed, parsed and linked in %.3f s",
              static_cast<double>(MonotonicNs() - started) / 1e9);
    if (stats.blocks != rows)
        LOG_WARN("store: %zu stored blocks had no valid parent and were skipped",
                 rows - stats.blocks);
    {
        Statement tip(m_db, "SELECT height, hash FROM main_chain ORDER BY height DESC LIMIT 1");
        if (tip.Valid() && tip.Step() &&
            (static_cast<std::uint64_t>(tip.Int(0)) != chain.Height() ||
             tip.Text(1) != chain.Tip().HashHex())) {
            LOG_WARN("store: the stored main chain ends at %lld %s, the rebuilt tree at %llu %s",
                     static_cast<long long>(tip.Int(0)), tip.Text(1).c_str(),
                     static_cast<unsigned long long>(chain.Height()),
                     chain.Tip().HashHex().c_str());
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
            std::optional<TxOrigin> origin = StoredOrigin(read.Int(2));
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
                m_batch.DropTransaction(txid, Retry::Keep);
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

void Store::PutBlock(const BlockEntry& entry, std::string_view canonical) {
    m_batch.PutBlock(entry.seq, entry.HashHex(),
                     entry.parent ? entry.parent->HashHex() : std::string(), entry.Height(),
                     std::string(canonical));
}

namespace {

/** Steps `read` (bound to a block's seq) to its row; false, logged, unless the row is there and
 * keyed by `entry`'s hash. */
bool StepToBlock(Statement& read, const BlockEntry& entry, sqlite3* db) {
    if (!read.Step()) {
        LOG_ERROR("store: block %s (row %llu) cannot be read: %s", entry.HashHex().c_str(),
                  static_cast<unsigned long long>(entry.seq), sqlite3_errmsg(db));
        return false;
    }
    if (ParseDigestHex(read.View(0)) != entry.hash) {
        LOG_ERROR("store: row %llu holds block %s, not %s",
                  static_cast<unsigned long long>(entry.seq), read.Text(0).c_str(),
                  entry.HashHex().c_str());
        return false;
    }
    return true;
}

}  // namespace

std::shared_ptr<const BlockBody> Store::ReadBody(const BlockEntry& entry) {
    if (!m_read_block)
        return nullptr;
    Statement& read = *m_read_block;
    read.Bind(1, static_cast<std::int64_t>(entry.seq));
    std::shared_ptr<const BlockBody> body;
    if (StepToBlock(read, entry, m_reader)) {
        std::string_view json = read.View(1);
        // The hash first: a damaged row is not worth parsing.
        if (Sha256(json) != entry.hash) {
            LOG_ERROR("store: block %s does not hash to its key", entry.HashHex().c_str());
        } else if (Result<Block> block = ParseCanonicalBlock(json); !block.Ok()) {
            LOG_ERROR("store: block %s does not parse: %s", entry.HashHex().c_str(),
                      block.Message().c_str());
        } else {
            auto read_body = std::make_shared<BlockBody>();
            read_body->block = std::move(block).Value();
            read_body->txids = TxIds(read_body->block);
            body = std::move(read_body);
        }
    }
    read.Reset();
    return body;
}

void Store::BeginReads() {
    if (m_reader && m_read_depth++ == 0)
        sqlite3_exec(m_reader, "BEGIN", nullptr, nullptr, nullptr);
}

void Store::EndReads() {
    if (m_reader && m_read_depth > 0 && --m_read_depth == 0)
        sqlite3_exec(m_reader, "COMMIT", nullptr, nullptr, nullptr);
}

bool Store::AppendCanonical(const BlockEntry& entry, std::string& out) {
    if (!m_read_block)
        return false;
    Statement& read = *m_read_block;
    read.Bind(1, static_cast<std::int64_t>(entry.seq));
    const bool found = StepToBlock(read, entry, m_reader);
    if (found)
        out += read.View(1);
    read.Reset();
    return found;
}

void Store::MoveTip(const BlockEntry& entry, const BlockBody& body, bool connected) {
    if (connected)
        m_batch.ConnectMain(entry.Height(), entry.HashHex());
    else
        m_batch.DisconnectMain(entry.Height());
    // Confirmed transactions leave the stored mempool; those of a disconnected block return to
    // it (a reorg's new chain removes again what it confirms, in the same commit).
    for (std::size_t i = 0; i < body.block.transactions.size(); ++i) {
        const Transaction& tx = body.block.transactions[i];
        if (tx.IsReward())
            continue;
        if (connected) {
            m_batch.DropTransaction(body.txids[i], Retry::Keep);
        } else {
            std::string json;
            AppendTransactionJson(json, tx);
            m_batch.PutTransaction(body.txids[i], std::move(json), TxOrigin::Reorg, Retry::Keep);
        }
    }
}

void Store::PutTransaction(const std::string& txid, const Transaction& tx, TxOrigin origin) {
    std::string json;
    AppendTransactionJson(json, tx);
    m_batch.PutTransaction(txid, std::move(json), origin, Retry::Drop);
}

void Store::DropTransaction(const std::string& txid) {
    m_batch.DropTransaction(txid, Retry::Drop);
}

void Store::ClearPeers() {
    m_batch.ClearPeers();
}

void Store::PutPeer(const std::string& address, std::int64_t last_seen_s, StoredPeerOrigin origin) {
    m_batch.PutPeer(address, last_seen_s, origin);
}

void Store::PutBan(const std::string& key, std::int64_t until_ms) {
    // Kept across a failed commit: a ban written late is still worth having after a restart.
    m_batch.PutBan(key, until_ms);
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
            m_batch.DropBan(ban.key);
    }
    return bans;
}

Status Store::Commit() {
    if (!m_db)
        return Status::Error("the store is closed");
    return Write(std::exchange(m_batch, {}));
}

Status Store::Write(WriteBatch batch) {
    // Writes kept from a failed commit are older than anything queued since: they go first.
    WriteBatch writes = std::exchange(m_retry, {});
    writes.Append(std::move(batch));
    if (writes.Empty())
        return {};
    Status written = Exec("BEGIN IMMEDIATE");
    if (written.Ok())
        written = m_batch_writer->Apply(writes);
    if (written.Ok())
        written = Exec("COMMIT");
    if (written.Ok()) {
        m_commits.fetch_add(1, std::memory_order_relaxed);
        return {};
    }
    RollBack();
    writes.MoveKeptTo(m_retry);
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
        m_requests.push_back(Request{std::exchange(m_batch, {}), std::move(done), probe});
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
        WriteBatch writes;
        bool probe = false;
        for (Request& request : batch) {
            writes.Append(std::move(request.batch));
            probe = probe || request.probe;
        }
        bool any = !writes.Empty() || !m_retry.Empty();
        Status committed = Write(std::move(writes));
        if (committed.Ok() && probe && !any)
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
