// The writes of one commit, typed: a block row, a main-chain change, a pending transaction put or
// dropped, a peer address, a ban. The owner fills a WriteBatch as the chain changes; the writer
// thread applies it through a BatchWriter in one SQLite transaction. Every write is idempotent
// (applied twice, it leaves what applying it once leaves), so a batch whose commit failed can be
// applied again; which writes a failed commit keeps for that retry is part of each write (see
// Retry).
#pragma once

#include "chain/mempool.h"
#include "util/result.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

struct sqlite3;

namespace gossipchain {

/**
 * Where a stored peer address came from (schema 3). The store keeps what the operator named
 * apart from what gossip told, so a restart neither forgets a registered address nor lets
 * learned ones take its place. `--peer` addresses are stored as Registered: the flag re-adds
 * them as seeds at every start, and one dropped from the command line is not dialled for ever.
 */
enum class StoredPeerOrigin : int { Registered = 1, Learned = 2 };

/** Whether a write survives a failed commit, to be applied by the next one. */
enum class Retry {
    /** Kept: what the chain, the ban list or a reorg already did in memory. */
    Keep,
    /** Dropped: whoever asked for it is told the commit failed (a client's transaction). */
    Drop,
};

/**
 * How a transaction's origin is stored. The order matters: when one transaction is written twice
 * (relayed to us, then submitted here) the row keeps the smaller code, the origin the mempool
 * protects most (see Mempool: relayed transactions are evicted first).
 */
std::int64_t StoredOriginCode(TxOrigin origin);
/** The origin a stored code names; nullopt for a code no build writes. */
std::optional<TxOrigin> StoredOrigin(std::int64_t code);

class WriteBatch {
public:
    /** A block of the tree with its canonical bytes (kept). */
    void PutBlock(std::uint64_t seq, std::string hash, std::string parent, std::uint64_t height,
                  std::string json);
    /** The main chain's block at `height` is `hash` (kept). */
    void ConnectMain(std::uint64_t height, std::string hash);
    /** The main chain no longer reaches `height` (kept). */
    void DisconnectMain(std::uint64_t height);
    /** A pending transaction; written twice, the row keeps the origin protected most. */
    void PutTransaction(std::string txid, std::string json, TxOrigin origin, Retry retry);
    void DropTransaction(std::string txid, Retry retry);
    /** Every stored peer address goes (dropped on failure: the table is written anew). */
    void ClearPeers();
    /** A peer address; written twice, the row keeps the operator's origin and the later time
     * (dropped on failure: the next table write has it again). */
    void PutPeer(std::string address, std::int64_t last_seen_s, StoredPeerOrigin origin);
    /** A ban until `until_ms`, wall clock; a longer stored ban is kept (kept). */
    void PutBan(std::string key, std::int64_t until_ms);
    /** A ban that has ended (kept). */
    void DropBan(std::string key);

    std::size_t Size() const { return m_writes.size(); }
    bool Empty() const { return m_writes.empty(); }
    /** Moves every write of `later` behind this batch's. */
    void Append(WriteBatch&& later);
    /** Moves the writes marked Retry::Keep behind `kept`'s, in order, and empties this batch. */
    void MoveKeptTo(WriteBatch& kept);

private:
    friend class BatchWriter;
    struct BlockRow {
        std::string hash, parent, json;
        std::int64_t height;
        std::int64_t seq;
    };
    struct MainConnect {
        std::int64_t height;
        std::string hash;
    };
    struct MainDisconnect {
        std::int64_t height;
    };
    struct TransactionRow {
        std::string txid, json;
        std::int64_t origin;
    };
    struct TransactionDrop {
        std::string txid;
    };
    struct PeersClear {};
    struct PeerRow {
        std::string address;
        std::int64_t last_seen_s, origin;
    };
    struct BanRow {
        std::string key;
        std::int64_t until_ms;
    };
    struct BanDrop {
        std::string key;
    };
    using Row = std::variant<BlockRow, MainConnect, MainDisconnect, TransactionRow, TransactionDrop,
                             PeersClear, PeerRow, BanRow, BanDrop>;
    struct Write {
        Row row;
        Retry retry;
    };

    std::vector<Write> m_writes;
};

/** Applies batches to one database through statements prepared once; one thread at a time. */
class BatchWriter {
public:
    explicit BatchWriter(sqlite3* db);
    ~BatchWriter();
    BatchWriter(const BatchWriter&) = delete;
    BatchWriter& operator=(const BatchWriter&) = delete;

    /** Every statement prepared. */
    bool Valid() const;
    /** Applies each write in order, inside the caller's transaction; stops at the first failure. */
    Status Apply(const WriteBatch& batch);

private:
    struct Statements;
    Status Apply(const WriteBatch::Row& row);

    sqlite3* m_db;
    std::unique_ptr<Statements> m_statements;
};

}  // namespace gossipchain
