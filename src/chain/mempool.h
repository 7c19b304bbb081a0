// The pool of transactions waiting for a block. Bounded by count and bytes; deduplicated by txid;
// kept in arrival order, which is the order a block template takes them in (the tutorial appends
// pending transactions in the order they were submitted).
//
// What happens at the bound is chosen so the node never loses a transaction it acknowledged: a full
// pool first evicts the oldest transaction that only arrived by relay (its author's node still
// holds it), and refuses a new one when everything left was acknowledged here. Transactions that
// come back from abandoned blocks in a reorg are always re-admitted, even over the bound. A
// transaction that arrived by relay and is then submitted here is acknowledged from then on: its
// entry becomes Local (so it is never evicted), as its stored row does.
#pragma once

#include "primitives/transaction.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace gossipchain {

/** Default largest number of pending transactions. */
inline constexpr std::size_t DEFAULT_MEMPOOL_MAX_TXS = 100'000;
/** Default largest total canonical JSON size of pending transactions, in bytes. */
inline constexpr std::size_t DEFAULT_MEMPOOL_MAX_BYTES = 64 << 20;

enum class TxOrigin {
    /** Submitted to this node and acknowledged to a client. */
    Local,
    /** Received from a peer. */
    Relay,
    /** Returned from a block abandoned in a reorg. */
    Reorg,
};

class Mempool {
public:
    struct Options {
        std::size_t max_txs = DEFAULT_MEMPOOL_MAX_TXS;
        std::size_t max_bytes = DEFAULT_MEMPOOL_MAX_BYTES;
    };
    enum class AddResult { Added, Duplicate, Full };

    explicit Mempool(Options options) : m_options(options) {}

    /** Called with the txid of every transaction evicted to make room (storage drops its row). */
    void SetEvictionHook(std::function<void(const std::string& txid)> hook) {
        m_on_evicted = std::move(hook);
    }

    /**
     * Adds a transaction. A Local add of one already pending under another origin returns
     * Duplicate and makes the pending entry Local.
     */
    AddResult Add(const Transaction& tx, const std::string& txid, TxOrigin origin);
    bool Contains(const std::string& txid) const { return m_by_id.count(txid) != 0; }
    /** The origin of a pending transaction, if it is pending. */
    std::optional<TxOrigin> OriginOf(const std::string& txid) const;
    /** Removes a transaction if present (it was confirmed in a block); returns the origin it had.
     */
    std::optional<TxOrigin> Remove(const std::string& txid);
    /** Up to `max` pending transactions in arrival order. */
    std::vector<Transaction> Oldest(std::size_t max) const;
    /** Every pending transaction in arrival order. */
    std::vector<Transaction> All() const { return Oldest(m_entries.size()); }

    std::size_t Size() const { return m_entries.size(); }
    std::size_t Bytes() const { return m_bytes; }
    std::uint64_t Evicted() const { return m_evicted; }

private:
    struct Entry;
    using EntryList = std::list<Entry>;
    struct Entry {
        Transaction tx;
        std::string txid;
        std::size_t bytes;
        TxOrigin origin;
        /** Its place in m_relayed while origin is Relay. */
        std::list<EntryList::iterator>::iterator relayed;
    };
    bool Fits(std::size_t bytes) const;
    bool EvictOneRelayed();
    void Erase(EntryList::iterator it);

    Options m_options;
    std::function<void(const std::string&)> m_on_evicted;
    EntryList m_entries;
    /** The Relay entries, oldest first: eviction takes the front without scanning the pool. */
    std::list<EntryList::iterator> m_relayed;
    std::unordered_map<std::string, std::list<Entry>::iterator> m_by_id;
    std::size_t m_bytes = 0;
    std::uint64_t m_evicted = 0;
};

}  // namespace gossipchain
