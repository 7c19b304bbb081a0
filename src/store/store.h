// The node's durable state in one SQLite database under the data directory: every block of the
// tree (its canonical bytes exactly as hashed, in arrival order), which of them form the main
// chain, the pending transactions with their origin (acknowledged here, relayed, returned by a
// reorg), known peers, live bans, and meta (schema version, network id, node id).
//
// Writes are queued in memory and applied by Commit() in one transaction, so a burst of
// transactions costs one commit. The database runs in WAL mode; synchronous=NORMAL survives a
// process crash, FULL (an fsync on every commit) also survives power loss. A failed commit (disk
// full, read-only file system) rolls back; block and tip writes stay queued and are retried by the
// next Commit() or Probe() (every write is idempotent), transaction writes are dropped because
// their clients are told the write failed.
//
// Open() refuses, before changing anything, a data directory held by another process (flock on
// <dir>/LOCK), a database that fails quick_check, one with a newer schema version and one from
// another network; a schema 1 database is upgraded in place. Not thread-safe: the node uses it on
// the loop thread only.
#pragma once

#include "chain/chain_state.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

struct sqlite3;

namespace gossipchain {

/** Schema version this build reads and writes; any other is refused. */
inline constexpr int STORE_SCHEMA_VERSION = 2;
/** Name of the database file inside the data directory. */
inline constexpr const char* STORE_FILE_NAME = "chain.sqlite";
/** Name of the lock file inside the data directory (it holds the owner's pid). */
inline constexpr const char* STORE_LOCK_NAME = "LOCK";
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
    /** Caps the database size, in pages (0: no cap); tests use it to act out a full disk. */
    std::int64_t max_pages = 0;
};

/** A ban read back from storage: its key (see PeerManager) and when it ends, wall clock ms. */
struct StoredBan {
    std::string key;
    std::int64_t until_ms = 0;
};

/** What LoadInto restored. */
struct StoreLoadStats {
    std::size_t blocks = 0;
    std::size_t mempool = 0;
    std::size_t peers = 0;
    double seconds = 0.0;
};

class Store {
public:
    Store() = default;
    /** Commits what is still queued, then closes. */
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    /** Opens or creates the store; an error text naming the directory, or empty on success. */
    std::string Open(const StoreOptions& options);
    void Close();
    bool IsOpen() const { return m_db != nullptr; }
    /** The node id kept in meta (valid after Open). */
    const std::string& NodeId() const { return m_node_id; }

    /**
     * Rebuilds the block tree (arrival order, proofs not checked again: see
     * ChainState::LoadTrusted), then the mempool, each transaction with its stored origin;
     * returns known peer addresses, most recently seen first. Stored transactions the mempool
     * does not take back are deleted with the next commit. An error text naming the directory
     * when a stored row is damaged.
     */
    std::string LoadInto(ChainState& chain, std::vector<std::string>& peers, StoreLoadStats& stats);
    /** Appends the bans still running at `now_ms` (wall clock); ended ones are deleted. */
    std::string LoadBans(std::int64_t now_ms, std::vector<StoredBan>& bans);

    /** Queues a block of the tree (kept across failed commits). */
    void PutBlock(const BlockEntry& entry);
    /** Queues a main-chain change and the mempool rows it confirms or returns. */
    void MoveTip(const BlockEntry& entry, bool connected);
    /**
     * Queues a pending transaction (dropped when its commit fails: a client is told, a relayed
     * one is still held by its author). Written twice, the row keeps the origin the mempool
     * protects most.
     */
    void PutTransaction(const std::string& txid, const Transaction& tx, TxOrigin origin);
    void PutPeer(const std::string& address, std::int64_t last_seen_s);
    /** Queues a ban of `key` until `until_ms` (wall clock); a longer stored ban is kept. */
    void PutBan(const std::string& key, std::int64_t until_ms);

    /** Applies every queued write in one transaction; empty on success, else why not. */
    std::string Commit();
    /** Commits what is queued, or tests that the database takes a write; empty when it does. */
    std::string Probe();
    std::size_t PendingWrites() const { return m_ops.size(); }
    std::uint64_t Commits() const { return m_commits; }
    /** Changes the size cap (StoreOptions::max_pages). */
    void SetMaxPages(std::int64_t pages);

private:
    struct Statements;
    enum class OpKind {
        Block,
        MainConnect,
        MainDisconnect,
        Transaction,
        DropTransaction,
        Peer,
        Ban,
        DropBan
    };
    struct Op {
        OpKind kind;
        std::string key;
        std::string text;
        std::string parent;
        std::int64_t number = 0;
        /** Kept for a retry when a commit fails. */
        bool keep = true;
    };

    std::string OpenChecked(const StoreOptions& options);
    /** Checks meta against `options`; `version` is the stored schema version when it passes. */
    std::string CheckMeta(const StoreOptions& options, int& version);
    std::string Error(const std::string& what) const;
    std::string Exec(const char* sql);
    std::string Apply(const Op& op);

    std::string m_dir;
    std::string m_node_id;
    sqlite3* m_db = nullptr;
    int m_lock_fd = -1;
    Statements* m_statements = nullptr;
    std::vector<Op> m_ops;
    std::uint64_t m_commits = 0;
};

}  // namespace gossipchain
