// The store's files in a data directory, apart from what is inside the database: the LOCK that
// keeps a second process out, which files may stand there, and what shows that the directory has
// held a database before.
//
// Two nodes on one directory would interleave two chains in one file, so the second refuses
// (flock on <dir>/LOCK). LOCK gets the owner's pid only once a database exists: a LOCK with
// content is evidence of a database, like SQLite's own -wal, -shm and -journal files, and a
// directory with such evidence but no database file is never given a new one.
//
// Every file the store opens in the directory must be a regular file, never a link (it would
// choose what gets overwritten) nor a FIFO (it would hang the start); the data directory itself
// may be a link.
#pragma once

#include "crypto/node_key.h"
#include "util/result.h"

#include <cstdint>
#include <optional>
#include <string>

namespace gossipchain {

/** Name of the database file inside the data directory. */
inline constexpr const char* STORE_FILE_NAME = "chain.sqlite";
/** Name of the lock file inside the data directory (it holds the owner's pid). */
inline constexpr const char* STORE_LOCK_NAME = "LOCK";
/** The node's key file inside the data directory (SPEC §7.1): the seed of its Ed25519 key, mode
 * 0600. The database's meta holds the same seed, so either one restores the node's identity. */
inline constexpr const char* NODE_KEY_FILE_NAME = "node_key";
/** The node id file of versions before the database; read once when the database is created. */
inline constexpr const char* LEGACY_NODE_ID_NAME = "node_id";

/** Holds <dir>/LOCK for as long as it lives (or until Unlock). */
class DataDirLock {
public:
    DataDirLock() = default;
    ~DataDirLock() { Unlock(); }
    DataDirLock(const DataDirLock&) = delete;
    DataDirLock& operator=(const DataDirLock&) = delete;

    /**
     * Opens (creating it if need be) and flocks <dir>/LOCK. InUse, naming the holder's pid, when
     * another process holds it; Failed when LOCK is not a regular file or cannot be opened.
     */
    Status Lock(const std::string& dir);
    /** LOCK's size when Lock() took it: more than 0 once a database has existed. */
    std::uintmax_t SizeWhenLocked() const { return m_size; }
    /** Puts this process's pid into LOCK (once the database exists). */
    void WritePid();
    /** Releases the lock; LOCK stays. Idempotent. */
    void Unlock();
    /** Releases the lock and removes LOCK if this Lock() created it: a refused start leaves the
     * directory as it found it. */
    void UnlockAndUndo();
    bool Locked() const { return m_fd >= 0; }

private:
    std::string m_path;
    int m_fd = -1;
    bool m_created = false;
    std::uintmax_t m_size = 0;
};

/** Refuses when any file the store opens in `dir` exists and is not a regular file. */
Status CheckStoreFileTypes(const std::string& dir);

/**
 * With no database file in `dir`: why the directory has held a database before (so a new one
 * must not be created in it), or empty when it never has. `lock_size` is LOCK's size when locked.
 */
std::string EvidenceOfDatabase(const std::string& dir, std::uintmax_t lock_size);

/** What stands at `path` without following a link: whether anything does, its size, and, when it
 * is not a regular file, what it is instead ("a symbolic link"). */
struct PathState {
    bool exists = false;
    std::uintmax_t size = 0;
    /** Empty when missing or a regular file. */
    std::string problem;
};
PathState InspectPath(const std::string& path);

/**
 * The seed in <dir>/node_key: nullopt when there is no such file; Corrupt when there is one
 * that does not hold a seed (a line of 64 hex characters, after optional # comment lines).
 */
Result<std::optional<NodeKeySeed>> ReadKeyFile(const std::string& dir);
/** Writes <dir>/node_key (mode 0600, through a temporary file, fsynced) holding `seed`. */
Status WriteKeyFile(const std::string& dir, const NodeKeySeed& seed);
/** fsync of a directory, so a rename in it survives power loss. */
void SyncDirectory(const std::string& dir);
/** `seed` as 64 lowercase hex characters, and back (false when `text` is not that). */
std::string SeedHex(const NodeKeySeed& seed);
bool ParseSeedHex(std::string_view text, NodeKeySeed& seed);

/** The legacy node id in `dir`, or empty when there is none (or it is not 32 lowercase hex). */
std::string ReadLegacyNodeId(const std::string& dir);

}  // namespace gossipchain
