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
//
// Each entry also has a sequence number, increasing with every add (a transaction a reorg returns
// gets a new one): relay walks the pool in that order with one cursor per peer (SPEC §8), so a
// transaction pending here is offered to every peer once, whenever its budget allows. An entry may
// be held back from relay (an acknowledged transaction until its commit is durable): a walk stops
// there until it is released.
//
// Signed transfers (SPEC §6.7) are also indexed by sender and nonce, so the chain can check a new
// one against what its sender has pending without scanning the pool. A full pool evicts a relayed
// signed transfer only when it is its sender's last pending one: evicting an earlier nonce would
// strand the later ones, which no block could take.
#pragma once

#include "consensus/ledger.h"
#include "primitives/transaction.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
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

    /** A pending transaction as relay sees it. */
    struct Pending {
        const Transaction* tx = nullptr;
        const std::string* txid = nullptr;
        std::uint64_t seq = 0;
        /** Not to be relayed yet (SetRelayHeld). */
        bool held = false;
    };
    /** The pending transaction with the smallest sequence number above `seq`, if any. */
    std::optional<Pending> After(std::uint64_t seq) const;
    /** The pending transaction `txid`, if any. */
    std::optional<Pending> Find(const std::string& txid) const;
    /** The sequence number of the last add (0 before the first). */
    std::uint64_t LastSeq() const { return m_next_seq - 1; }
    /** Calls `visit(txid, tx)` for every pending transaction, in arrival order. */
    template <typename Visit>
    void ForEach(Visit&& visit) const {
        for (const Entry& entry : m_entries)
            visit(entry.txid, entry.tx);
    }
    /** Holds `txid` back from relay, or releases it. */
    void SetRelayHeld(const std::string& txid, bool held);

    /** What `sender` has pending: its highest pending nonce and the sum of its pending amounts. */
    PendingSpend PendingOf(const std::string& sender) const;
    /** The txids of `sender`'s pending signed transfers, by nonce. */
    std::vector<std::pair<std::uint64_t, std::string>> PendingNonces(
        const std::string& sender) const;

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
        std::uint64_t seq = 0;
        bool relay_held = false;
    };
    static Pending ViewOf(const Entry& entry) {
        return Pending{&entry.tx, &entry.txid, entry.seq, entry.relay_held};
    }
    bool Fits(std::size_t bytes) const;
    bool EvictOneRelayed();
    void Erase(EntryList::iterator it);
    /** True when `entry` is a signed transfer and its sender has a later nonce pending. */
    bool HasLaterNonce(const Entry& entry) const;
    /** The relayed entry a full pool evicts: the oldest that strands no later nonce. */
    std::optional<EntryList::iterator> RelayedVictim();

    Options m_options;
    std::function<void(const std::string&)> m_on_evicted;
    EntryList m_entries;
    /** The Relay entries, oldest first: eviction takes the front without scanning the pool. */
    std::list<EntryList::iterator> m_relayed;
    std::unordered_map<std::string, std::list<Entry>::iterator> m_by_id;
    /** The entries by sequence number (the same order as m_entries). */
    std::map<std::uint64_t, EntryList::iterator> m_by_seq;
    /** One sender's pending signed transfers by nonce, and the sum of their amounts. */
    struct SenderPending {
        std::map<std::uint64_t, EntryList::iterator> by_nonce;
        std::int64_t amount = 0;
    };
    std::unordered_map<std::string, SenderPending> m_by_sender;
    std::uint64_t m_next_seq = 1;
    std::size_t m_bytes = 0;
    std::uint64_t m_evicted = 0;
};

}  // namespace gossipchain
