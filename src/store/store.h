// The node's durable state in one SQLite database under the data directory: every block of the
// tree (its canonical bytes exactly as hashed, in arrival order), which of them form the main
// chain, the pending transactions with their origin (acknowledged here, relayed, returned by a
// reorg), known peers, live bans, and meta (schema version, network id, node id).
//
// Writes are queued in memory and applied in one transaction, so a burst of transactions costs
// one commit. The database runs in WAL mode; synchronous=NORMAL survives a process crash, FULL (an
// fsync on every commit) also survives power loss. A failed commit (disk full, read-only file
// system) rolls back; block, tip and ban writes are kept and retried first by the next commit or
// probe (every write is idempotent), transaction writes are dropped because their clients are
// told the write failed.
//
// Threads: the owner (the node's loop thread) opens the store, loads it and queues writes. Until
// StartWriter() it also commits them (Commit(), Probe()). After it, one writer thread owns the
// SQLite connection: CommitAsync() hands the queued writes over and returns at once, the writer
// commits them, together with everything handed over while its last commit ran, and posts each
// `done` back to the owner through the Poster. So the loop never waits for a commit or an fsync,
// and SQLite is only ever used by one thread at a time. Close() lets the writer finish what it
// was handed, then commits what is left on the calling thread.
//
// Open() refuses, before changing anything, a data directory held by another process (flock on
// <dir>/LOCK, DataDirLock), a database that fails quick_check, one with a newer schema version
// and one from another network; a database of any older schema is upgraded in place (schema.h).
// The writes of a commit are a WriteBatch (write_batch.h).
//
// A data directory that has held a database is never given a new one. A database file is only
// ever created complete (built under chain.sqlite.new, then renamed), and LOCK gets the owner's
// pid only once a database exists. So Open() refuses an empty chain.sqlite or one without the
// schema (damaged, never a first start that did not finish), and, when chain.sqlite is missing,
// a directory that still has chain.sqlite-wal, -shm or -journal or a LOCK with content. Only a
// directory with none of these is new (it may hold an empty LOCK, a leftover chain.sqlite.new,
// the legacy node_id file, or files that are not the store's). Every file the store opens there
// must be a regular file (data_dir.h); the data directory itself may be a link.
#pragma once

#include "chain/chain_state.h"
#include "store/data_dir.h"
#include "store/schema.h"
#include "store/write_batch.h"
#include "util/result.h"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

struct sqlite3;

namespace gossipchain {

class Statement;

/** How long SQLite waits for a lock, in milliseconds (only this process opens the file, so a
 * wait means an outside reader such as the sqlite3 shell). */
inline constexpr int DEFAULT_STORE_BUSY_TIMEOUT_MS = 1'000;

enum class Durability {
    /** synchronous=NORMAL in WAL mode: a commit survives the process being killed. */
    Normal,
    /** synchronous=FULL: every commit is fsynced and survives power loss too. */
    Full,
};

struct StoreOptions {
    std::string dir;
    /** Written at creation and checked at every open: a data dir belongs to one network. */
    std::string network_id;
    Durability durability = Durability::Normal;
    /** Node id stored when the directory has none (and no legacy node_id file). */
    std::string new_node_id;
    /** The node key's seed kept when the directory has none (neither node_key nor meta). */
    NodeKeySeed new_key_seed{};
    /** Caps the database size, in pages (0: no cap); tests use it to act out a full disk. */
    std::int64_t max_pages = 0;
};

/** A ban read back from storage: its key (see PeerManager) and when it ends, wall clock ms. */
struct StoredBan {
    std::string key;
    std::int64_t until_ms = 0;
};

struct StoredPeer {
    std::string address;
    StoredPeerOrigin origin = StoredPeerOrigin::Learned;
    /** Wall clock (s) of its last gossip handshake, 0 for never. */
    std::int64_t last_seen_s = 0;
};

/** What LoadInto restored. */
struct StoreLoadStats {
    std::size_t blocks = 0;
    std::size_t mempool = 0;
    std::size_t peers = 0;
    double seconds = 0.0;
};

class Store : public BodySource {
public:
    Store();
    /** Commits what is still queued, then closes. */
    ~Store() override;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    /**
     * Opens or creates the store; on failure a message naming the directory and a code: InUse
     * (another process), Corrupt (damaged, or a database lost from a directory that held one),
     * Incompatible (another network or schema), Failed (anything else).
     */
    Status Open(const StoreOptions& options);
    void Close();
    bool IsOpen() const { return m_db != nullptr; }
    /** The node id kept in meta (valid after Open): the id of the key below. */
    const std::string& NodeId() const { return m_node_id; }
    /** The node key's seed, as node_key and meta hold it (valid after Open). */
    const NodeKeySeed& KeySeed() const { return m_key_seed; }

    /**
     * Rebuilds the block tree (arrival order, proofs not checked again: see
     * ChainState::LoadTrusted), then the mempool, each transaction with its stored origin;
     * returns known peer addresses, most recently seen first. Stored transactions the mempool
     * does not take back are deleted with the next commit. Corrupt, naming the directory, when
     * a stored row is damaged.
     */
    Status LoadInto(ChainState& chain, std::vector<StoredPeer>& peers, StoreLoadStats& stats);
    /** The bans still running at `now_ms` (wall clock); ended ones are deleted. */
    Result<std::vector<StoredBan>> LoadBans(std::int64_t now_ms);

    /**
     * BodySource, on the owner's thread, through a read-only connection of its own (WAL lets it
     * read while the writer commits): a block's row by its seq, checked against the entry's
     * hash. Only committed blocks can be read, which is why the chain lets a body go only
     * once its commit is durable (ChainState::MarkStored).
     */
    std::shared_ptr<const BlockBody> ReadBody(const BlockEntry& entry) override;
    bool AppendCanonical(const BlockEntry& entry, std::string& out) override;
    /** One read transaction on the reader connection for the reads between: without it each
     * read takes and drops SQLite's file locks (a few microseconds, most of a small block's
     * read). */
    void BeginReads() override;
    void EndReads() override;

    /** Queues a block of the tree (kept across failed commits). */
    void PutBlock(const BlockEntry& entry, std::string_view canonical);
    /** Queues a main-chain change and the mempool rows it confirms or returns. */
    void MoveTip(const BlockEntry& entry, const BlockBody& body, bool connected);
    /**
     * Queues a pending transaction (dropped when its commit fails: a client is told, a relayed
     * one is still held by its author). Written twice, the row keeps the origin the mempool
     * protects most.
     */
    void PutTransaction(const std::string& txid, const Transaction& tx, TxOrigin origin);
    /** Queues the removal of a pending transaction's row: the mempool evicted it. */
    void DropTransaction(const std::string& txid);
    /** Queues the removal of every stored peer address (the node then writes its table anew,
     * so addresses it forgot are forgotten on disk too). */
    void ClearPeers();
    /** Queues a peer address; written twice, the row keeps the operator's origin. */
    void PutPeer(const std::string& address, std::int64_t last_seen_s,
                 StoredPeerOrigin origin = StoredPeerOrigin::Learned);
    /** Queues a ban of `key` until `until_ms` (wall clock); a longer stored ban is kept. */
    void PutBan(const std::string& key, std::int64_t until_ms);

    /** Told how a commit ended: Ok when what it carried is durable, else why not. */
    using CommitDone = std::function<void(const Status& committed)>;
    /** Runs a completion on the owner's thread (the node posts it to its loop). */
    using Poster = std::function<void(std::function<void()>)>;

    /**
     * Applies every queued write in one transaction; Ok, or why not. Like Probe(), only while
     * no writer runs (before StartWriter, in tests).
     */
    Status Commit();
    /** Commits what is queued, or tests that the database takes a write; Ok when it does. */
    Status Probe();
    /** Writes queued or kept from a failed commit; owner thread, not while a writer runs. */
    std::size_t PendingWrites() const { return m_batch.Size() + m_retry.Size(); }
    /** Successful commits so far (any thread). */
    std::uint64_t Commits() const { return m_commits.load(std::memory_order_relaxed); }
    /** Changes the size cap (StoreOptions::max_pages); not while a writer runs. */
    void SetMaxPages(std::int64_t pages);

    /**
     * Starts the writer thread (after LoadInto and LoadBans). From then on the owner commits
     * only through CommitAsync and ProbeAsync, and `post` carries their completions back.
     */
    void StartWriter(Poster post);
    /**
     * Hands every queued write to the writer; `done` is posted once they are committed (in one
     * commit with whatever else was handed over meanwhile) or failed. Completions arrive in
     * call order. Without a writer, commits here and calls `done` at once.
     */
    void CommitAsync(CommitDone done);
    /** CommitAsync, or with nothing to write, a test that the database takes a write. */
    void ProbeAsync(CommitDone done);

private:
    Status OpenChecked(const StoreOptions& options);
    /** Settles the node key between <dir>/node_key and meta (either restores the other; both
     * and different is refused) and keeps meta's node id the key's. */
    Status SettleNodeKey(const StoreOptions& options);
    /** Checks meta against `options`; `version` is the stored schema version when it passes. */
    Status CheckMeta(const StoreOptions& options, int& version);
    std::string Error(const std::string& what) const;
    /** A failure of kind `code` whose message names the data directory, then `what`. */
    Status Fail(StatusCode code, const std::string& what) const;
    /** `failed` with the data directory named first. */
    Status Fail(const Status& failed) const;
    /** Runs `sql`; Ok, or SQLite's message. */
    Status Exec(const char* sql);
    /** Ends the transaction a failed write left open, if SQLite has not ended it already. */
    void RollBack();
    /** Applies m_retry then `batch` in one transaction; on failure keeps what is kept in m_retry.
     */
    Status Write(WriteBatch batch);
    /** A throwaway write that needs fresh pages; Ok when the database took it. */
    Status ProbeWrite();
    void Submit(CommitDone done, bool probe);
    void WriterLoop();

    /** Writes handed to the writer by one CommitAsync or ProbeAsync call. */
    struct Request {
        WriteBatch batch;
        CommitDone done;
        bool probe = false;
    };

    std::string m_dir;
    std::string m_node_id;
    NodeKeySeed m_key_seed{};
    /** meta's node_key, when it has one (read by CheckMeta). */
    std::optional<NodeKeySeed> m_meta_seed;
    sqlite3* m_db = nullptr;
    /** The owner's read-only connection (BodySource) and its statement. */
    sqlite3* m_reader = nullptr;
    std::unique_ptr<Statement> m_read_block;
    int m_read_depth = 0;
    DataDirLock m_lock;
    std::unique_ptr<BatchWriter> m_batch_writer;
    /** Queued by the owner, not yet handed over. */
    WriteBatch m_batch;
    /** Kept from a failed commit; the writer's own while it runs. */
    WriteBatch m_retry;
    std::atomic<std::uint64_t> m_commits{0};

    std::thread m_writer;
    Poster m_post;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    /** Guarded by m_mutex. */
    std::vector<Request> m_requests;
    bool m_stopping = false;
};

}  // namespace gossipchain
