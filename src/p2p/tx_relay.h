// Transaction relay that paces instead of dropping (SPEC §8), without sockets. Invariant: in a
// connected mesh every transaction pending at a node is eventually pending or confirmed at every
// node. Three parts make it hold:
// - Offering. Each link keeps a cursor into the mempool's sequence order (Mempool::After): every
//   transaction pending here is offered to the peer once, in order, whenever the relay budget to
//   it allows; what does not fit waits for the next call, nothing is skipped. Transactions that
//   were pending when the link came up are announced by txid (TxInventory); later ones are pushed
//   whole (NewTransactions), which costs no round trip. A transaction a reorg returns gets a new
//   sequence number, so it is offered again to every peer that is not known to have it. The walk
//   stops at a transaction held back until its commit is durable.
// - Fetching. Txids a peer announced that we lack wait in a per-link queue and are asked for with
//   GetTransactions, at most MAX_TXS_IN_FLIGHT_PER_PEER at a time; the NewTransactions answering
//   them are free of the receive limit, and an unanswered request lapses after
//   DEFAULT_TX_REQUEST_TIMEOUT_MS.
// - Answering. A GetTransactions is answered with those of its txids still pending here.
//
// Loop thread only. Time is the loop's milliseconds, passed in.
#pragma once

#include "chain/chain_state.h"
#include "p2p/flood_guard.h"
#include "p2p/messages.h"
#include "p2p/recent_set.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace gossipchain {

/** Txids one peer announced that we lack, kept at most, waiting to be asked for. Asked for 2,000
 * per round trip, an honest announcer (5,000 a second) fills it only on a link slower than
 * 400 ms; beyond, announced txids are dropped (counted) until a later link-up announces them. */
inline constexpr std::size_t MAX_WANTED_TXS_PER_PEER = 20'000;
/** The same, for all peers together (about 20 MB). */
inline constexpr std::size_t MAX_WANTED_TXS = 200'000;
/** Transactions asked of one peer and not yet received, at most. */
inline constexpr std::size_t MAX_TXS_IN_FLIGHT_PER_PEER = 2'000;
/** How long a GetTransactions may go unanswered before its txids are given up, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_TX_REQUEST_TIMEOUT_MS = 10'000;

/** One link's transaction relay state. */
struct TxRelayState {
    /** Every pending transaction with a sequence number up to this was offered. */
    std::uint64_t cursor = 0;
    /** Those up to this one are announced by txid; later ones are pushed whole. */
    std::uint64_t announce_until = 0;
    std::deque<std::string> wanted;
    std::unordered_set<std::string> wanted_set;
    std::unordered_set<std::string> asked;
    /** Loop time of the last GetTransactions sent (for the timeout). */
    std::uint64_t asked_ms = 0;
};

/** What to send one peer now. */
struct TxOffer {
    NewTransactions push;
    TxInventory announce;
    bool Empty() const { return push.transactions.empty() && announce.txids.empty(); }
};

class TxRelay {
public:
    explicit TxRelay(const ChainState& chain) : m_chain(chain) {}

    /** The link became ready: what is pending now is to be announced to it by txid. */
    void Start(TxRelayState& state) const;
    /**
     * The next offer for the peer, at most one message of each kind, paid from `flood`'s
     * relay buckets; empty when it has been offered everything, the budget is spent, or the walk
     * reached a held transaction. What goes into the offer goes into `known`.
     */
    TxOffer NextOffer(TxRelayState& state, RecentSet& known, FloodGuard& flood,
                      std::uint64_t now_ms) const;

    /** The peer announced `txids`: those we lack are queued to be asked for, within
     * MAX_WANTED_TXS_PER_PEER and MAX_WANTED_TXS; how many did not fit. */
    std::size_t OnInventory(TxRelayState& state, const std::vector<std::string>& txids);
    /** The next GetTransactions for the peer, if any is due and room is left in flight. */
    std::optional<GetTransactions> NextRequest(TxRelayState& state, std::uint64_t now_ms);
    /** The link is gone: its queue no longer counts against MAX_WANTED_TXS. */
    void Forget(TxRelayState& state);
    std::size_t WantedTotal() const { return m_wanted_total; }
    /** Drops requests the peer left unanswered past the timeout, so others can be asked. */
    static void ExpireRequests(TxRelayState& state, std::uint64_t now_ms,
                               std::uint64_t timeout_ms = DEFAULT_TX_REQUEST_TIMEOUT_MS);
    /** How many of `txs` (with their `txids`) we did not ask for: what they cost to receive.
     * The asked ones stop being in flight. */
    static std::size_t Unasked(TxRelayState& state, const std::vector<std::string>& txids);

    /** The answer to `request`: those of its txids pending here and not held. */
    NewTransactions Answer(const GetTransactions& request, RecentSet& known) const;

private:
    bool Have(const std::string& txid) const;

    const ChainState& m_chain;
    /** Txids queued on all links together. */
    std::size_t m_wanted_total = 0;
};

}  // namespace gossipchain
