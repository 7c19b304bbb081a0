// The gossip side of a node: every persistent link to a peer, what each link means, and the peer
// table behind them. It runs the handshake, relays new blocks and transactions once to the peers
// that lack them, syncs with locators so catching up costs O(missing blocks), exchanges addresses,
// keeps links alive with pings, reconnects with exponential backoff and jitter, and scores and
// bans peers that misbehave. Sockets stay in src/net; this class sees frames only.
//
// Everything runs on the loop thread.
#pragma once

#include "chain/chain_state.h"
#include "net/connection.h"
#include "net/event_loop.h"
#include "net/timer.h"
#include "net/transport.h"
#include "p2p/address_book.h"
#include "p2p/codec.h"
#include "p2p/flood_guard.h"
#include "p2p/messages.h"
#include "p2p/peer_address.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace gossipchain {

/** Outbound links the node keeps open when it knows enough addresses. */
inline constexpr std::size_t DEFAULT_TARGET_OUTBOUND = 8;
/** Inbound gossip links accepted at most; further ones are rejected. */
inline constexpr std::size_t DEFAULT_MAX_INBOUND = 125;
/** Time a new link has to complete the Hello exchange, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_HANDSHAKE_TIMEOUT_MS = 10'000;
/** Interval between keepalive pings on an idle link, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_PING_INTERVAL_MS = 20'000;
/** Time a ping may go unanswered before the link is dropped, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_PING_TIMEOUT_MS = 60'000;
/** First reconnect delay after a failure, in milliseconds; doubles per failure. */
inline constexpr std::uint64_t DEFAULT_RECONNECT_MIN_MS = 250;
/** Longest reconnect delay, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_RECONNECT_MAX_MS = 30'000;
/** Period of the housekeeping tick (timeouts, pings, dialing), in milliseconds. */
inline constexpr std::uint64_t PEER_TICK_MS = 100;
/** When the inbound slots are full, the inbound links that most recently gave us a new block are
 * kept (SPEC §13, inbound eviction): this many. */
inline constexpr std::size_t EVICTION_PROTECT_RECENT_BLOCKS = 4;
/** ... and this many that most recently gave us a new transaction. */
inline constexpr std::size_t EVICTION_PROTECT_RECENT_TXS = 4;
/** ... and this many of the longest-standing ones. */
inline constexpr std::size_t EVICTION_PROTECT_LONGEST = 8;
/** Misbehaviour score at which a peer is disconnected and banned. */
inline constexpr int BAN_SCORE = 100;
/** How long a ban lasts, in milliseconds (10 min). */
inline constexpr std::uint64_t DEFAULT_BAN_MS = 10 * 60 * 1000;
/** Most ban entries kept (each ban adds up to three keys: address, IP or node id). */
inline constexpr std::size_t MAX_BANS = 4096;
/** Most block and transaction hashes remembered per peer as already known to it. */
inline constexpr std::size_t MAX_KNOWN_INVENTORY = 16384;
/** Most addresses sent in one Peers message. */
inline constexpr std::size_t PEERS_TO_SHARE = 100;
/** Largest Chain batch a responder builds, in bytes of the blocks' JSON (half a frame). */
inline constexpr std::size_t MAX_CHAIN_BATCH_BYTES = 4u << 20;
/** The next batch of a Chain answer is queued only while less than this waits for the peer's
 * kernel (1 MiB): long answers are paced by the requester's reading. */
inline constexpr std::size_t CHAIN_REPLY_LOW_WATER_BYTES = 1u << 20;
/** Bytes (canonical JSON) of side-branch blocks one peer's sync answers may make us store before
 * its branch becomes the main chain (32 MiB); beyond, its blocks no higher than our tip are not
 * kept. */
inline constexpr std::size_t MAX_UNPROVEN_SIDE_BYTES_PER_PEER = 32u << 20;
/** The same, for all peers together (128 MiB). */
inline constexpr std::size_t MAX_UNPROVEN_SIDE_BYTES = 128u << 20;
/** How often an address whose gossip dial was answered in HTTP (a plain tutorial node) is dialled
 * again, in milliseconds (5 min); /nodes/resolve dials it at once. */
inline constexpr std::uint64_t DEFAULT_HTTP_ONLY_REDIAL_MS = 5 * 60 * 1000;
/** Period at which /nodes/resolve checks its links, in milliseconds. */
inline constexpr std::uint64_t RESOLVE_STEP_MS = 10;
/** How long /nodes/resolve waits for links still connecting to become ready, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_RESOLVE_SETTLE_MS = 1'000;
/** How long /nodes/resolve waits for every peer's answer, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_RESOLVE_TIMEOUT_MS = 5'000;

/** A set that remembers at most `capacity` strings, forgetting the oldest first. */
class RecentSet {
public:
    explicit RecentSet(std::size_t capacity) : m_capacity(capacity) {}
    bool Contains(const std::string& key) const { return m_set.count(key) != 0; }
    /** True when the key was new. */
    bool Insert(const std::string& key);

private:
    std::size_t m_capacity;
    std::unordered_set<std::string> m_set;
    std::deque<std::string> m_order;
};

struct PeerManagerOptions {
    ConsensusParams params;
    std::string node_id;
    /** Port advertised in Hello and RegisterPeer; 0 when not listening. */
    std::uint16_t listen_port = 0;
    std::string agent = "gossipchain/0.1.0";
    std::size_t target_outbound = DEFAULT_TARGET_OUTBOUND;
    std::size_t max_inbound = DEFAULT_MAX_INBOUND;
    std::uint64_t handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
    std::uint64_t ping_interval_ms = DEFAULT_PING_INTERVAL_MS;
    std::uint64_t ping_timeout_ms = DEFAULT_PING_TIMEOUT_MS;
    std::uint64_t reconnect_min_ms = DEFAULT_RECONNECT_MIN_MS;
    std::uint64_t reconnect_max_ms = DEFAULT_RECONNECT_MAX_MS;
    std::uint64_t ban_ms = DEFAULT_BAN_MS;
    std::uint64_t resolve_timeout_ms = DEFAULT_RESOLVE_TIMEOUT_MS;
    std::uint64_t resolve_settle_ms = DEFAULT_RESOLVE_SETTLE_MS;
    std::uint64_t http_only_redial_ms = DEFAULT_HTTP_ONLY_REDIAL_MS;
};

/** Counters for /metrics. */
struct P2pMetrics {
    std::uint64_t blocks_received = 0;
    std::uint64_t blocks_relayed = 0;
    std::uint64_t txs_received = 0;
    std::uint64_t txs_relayed = 0;
    std::uint64_t invalid_blocks = 0;
    std::uint64_t bans = 0;
    /** Messages dropped because their sender was over a rate limit (SPEC §12, flooding). */
    std::uint64_t flood_drops = 0;
    /** Transactions not relayed to a peer because our relay budget to it was spent. */
    std::uint64_t txs_relay_skipped = 0;
    /** Inbound links closed to make room for a newcomer (inbound slots full). */
    std::uint64_t inbound_evictions = 0;
    std::map<std::string, std::uint64_t> bytes_in_by_type;
    std::map<std::string, std::uint64_t> bytes_out_by_type;
};

/**
 * Test-only link shaping set through the admin endpoint (tools/netsim): the kernel here has no
 * netem, so the node delays its own outgoing frames and refuses links to chosen peers.
 */
struct LinkShaping {
    /** Added to every outgoing gossip frame, in milliseconds; 0 sends at once. */
    std::uint64_t delay_ms = 0;
    /** Uniform spread around delay_ms, in milliseconds; per-link frame order is kept. */
    std::uint64_t jitter_ms = 0;
    /** Advertised listen addresses ("host:port") no link is kept with, in either direction. */
    std::vector<std::string> blocked;
};

class PeerManager : public net::ConnectionHandler {
public:
    struct Callbacks {
        /** After a block from a peer changed the main chain (the tip moved). */
        std::function<void(const BlockResult&)> on_tip_changed;
        /** A transaction from a peer entered the mempool. */
        std::function<void(const Transaction&)> on_transaction;
        /** A peer was banned: Bans() changed (the node stores it). */
        std::function<void()> on_banned = {};
        /**
         * Set by a node that stores blocks: a block from a peer that would be relayed now is
         * handed here instead, and the node relays it with BroadcastBlock once it is stored.
         * Unset, it is relayed at once.
         */
        std::function<void(const BlockEntry&)> relay_when_stored = {};
    };

    /** Observers for the node's event log (--events); left empty, each costs one test. */
    struct Observers {
        /** A block arrived from `from` and was stored (main chain or side branch). */
        std::function<void(const std::string& hash, std::uint64_t height, const std::string& from)>
            on_block_seen;
        /** A transaction from `from` entered the mempool. */
        std::function<void(const std::string& txid, const std::string& from)> on_tx_seen;
        /** The main chain switched branches, abandoning `depth` blocks. */
        std::function<void(std::size_t depth, const std::string& old_tip,
                           const std::string& new_tip)>
            on_reorg;
        /** A link finished its handshake (`up`) or a ready link closed. */
        std::function<void(const std::string& address, bool up, std::string_view reason)>
            on_peer_link;
    };

    PeerManager(net::EventLoop& loop, ChainState& chain, PeerManagerOptions options,
                Callbacks callbacks);
    ~PeerManager() override;
    PeerManager(const PeerManager&) = delete;
    PeerManager& operator=(const PeerManager&) = delete;

    /** Sets the node id and listen port announced in Hello; before Start() only. */
    void SetIdentity(std::string node_id, std::uint16_t listen_port) {
        m_options.node_id = std::move(node_id);
        m_options.listen_port = listen_port;
    }
    /** Starts housekeeping and dialing through `transport`. */
    void Start(net::Transport& transport);
    /** Stops timers and dialing; the transport closes the links. */
    void Stop();

    /**
     * Adds an address to the peer table (AddressBook): the operator's (Seed, Registered) are
     * dialled whatever target_outbound says; `source` is the IP of the peer that told us of a
     * Learned one. Full when the table has no place for it (it was not added).
     */
    AddressBook::AddResult AddAddress(const PeerAddress& address, AddressOrigin origin,
                                      const std::string& source = {});
    /** How many of `addresses` are not the operator's yet (each would take a place). */
    std::size_t NewOperatorAddresses(const std::vector<PeerAddress>& addresses) const;
    /** Places left for operator addresses (POST /nodes/register checks before adding). */
    std::size_t OperatorRoom() const { return m_book.OperatorRoom(); }
    /** An address of the table with where it came from, for the store. */
    struct StoredAddress {
        std::string address;
        AddressOrigin origin;
        std::int64_t last_seen_s = 0;
    };
    /** Sets when `address` last completed a gossip handshake (a stored one, after a restart). */
    void SetLastSeen(const std::string& address, std::int64_t last_seen_s);
    /** Every address but ourselves, in insertion order, with its origin. */
    std::vector<StoredAddress> StoredAddresses() const;
    /** Every address in the table, "host:port", in insertion order. */
    std::vector<std::string> KnownAddresses() const;
    /**
     * Registered or seed addresses without a ready gossip link: plain tutorial nodes (HTTP
     * only), or gossip nodes we cannot reach or share no network with.
     */
    std::vector<PeerAddress> UnlinkedAddresses() const;
    /** The operator named it as a gossip peer (--peer): never taken for a plain HTTP node. */
    void MarkGossipCapable(const PeerAddress& address);

    /** A live ban: its key (an IP, "node:<id>" or a host:port) and the ms left. */
    struct Ban {
        std::string key;
        std::uint64_t remaining_ms = 0;
    };
    /** The bans still running, so the node can keep them across a restart. */
    std::vector<Ban> Bans() const;
    /** Bans `key` for `remaining_ms` more (a stored ban after a restart). */
    void RestoreBan(const std::string& key, std::uint64_t remaining_ms);

    /** Relays a block we connected ourselves (mined or learned elsewhere) to every peer. */
    void BroadcastBlock(const BlockEntry& entry);
    /** Relays transactions admitted to our mempool to every peer that lacks them. */
    void BroadcastTransactions(const std::vector<Transaction>& txs);
    /**
     * Asks every peer for what it has beyond our tip; `done` runs when all answered. Links still
     * being dialled or in handshake (e.g. registered a moment ago) get up to
     * DEFAULT_RESOLVE_SETTLE_MS to become ready first.
     */
    void SyncAll(std::function<void()> done);

    std::vector<PeerView> Peers() const;
    std::size_t ReadyPeerCount() const;
    const P2pMetrics& Metrics() const { return m_metrics; }
    /** Sets the event observers; before Start() only. */
    void SetObservers(Observers observers) { m_observers = std::move(observers); }
    /** Replaces the link shaping: closes links to newly blocked peers, redials healed ones. */
    void SetLinkShaping(LinkShaping shaping);

    // net::ConnectionHandler
    void OnOpen(net::Connection& conn) override;
    void OnFrame(net::Connection& conn, std::string_view payload) override;
    void OnWritable(net::Connection& conn) override;
    void OnClose(net::Connection& conn, std::string_view reason) override;

private:
    struct Peer;
    struct ResolveRound {
        std::size_t pending = 0;
        std::function<void()> done;
        std::unique_ptr<net::Timer> timer;
        /** False while waiting for new links to settle; true once the requests went out. */
        bool started = false;
        std::uint64_t deadline_ms = 0;
    };

    static std::string AddressKey(const std::string& host, std::uint16_t port);
    Peer* PeerOf(net::Connection& conn) const;
    void Tick();
    void Dial(AddressEntry& entry);
    void ScheduleRetry(AddressEntry& address, bool was_ready);
    std::string BanKey(const Peer& peer) const;
    bool IsBanned(const std::string& key);
    /** Makes room for one more ban entry: ended bans go first, then the one ending soonest. */
    void TrimBans(std::uint64_t now);

    void Send(Peer& peer, const Message& message);
    void SendEncoded(Peer& peer, MessageType type, std::string_view payload);
    void Misbehave(Peer& peer, int score, const std::string& why);
    /** Pays for a message from the peer's flood bucket; when it cannot, scores the peer
     * FLOOD_PENALTY and returns false: the message is to be dropped. */
    bool PayForFlood(Peer& peer, FloodKind kind, double cost);
    /** What a message costs before it is handled (SPEC §12); false: it was dropped. */
    bool PayForMessage(Peer& peer, const Message& message);
    /** What a processed block costs: orphans and repeats only; false: stop reading the message. */
    bool PayForBlock(Peer& peer, const BlockResult& result, bool from_chain);
    void Disconnect(Peer& peer, RejectCode code, const std::string& reason);
    /** Closes the least useful inbound link other than `newcomer`; false when every one is
     * protected. */
    bool EvictInbound(const Peer& newcomer);
    void RequestSync(Peer& peer);

    void HandleHello(Peer& peer, const Hello& hello);
    void HandleBlocks(Peer& peer, std::vector<Block>& blocks, bool from_chain, bool more);
    /** True when `peer`, or all peers together, stored as many unproven side blocks as allowed. */
    bool UnprovenSideBudgetSpent(const Peer& peer) const;
    /** How high a batch of blocks from `peer` says its branch goes (ChainState::ProcessBlock). */
    std::uint64_t ClaimedHeight(const Peer& peer, const std::vector<Block>& blocks, bool from_chain,
                                bool more) const;
    void HandleRequestChain(Peer& peer, const RequestChain& request);
    /** Queues batches of the peer's pending Chain answer while its write queue is short. */
    void SendChainReply(Peer& peer);
    /** Bytes waiting to go to the peer: the link's write queue plus frames held by shaping. */
    static std::size_t QueuedBytes(const Peer& peer);
    void HandleTransactions(Peer& peer, const std::vector<Transaction>& txs);
    void HandlePeers(Peer& peer, const std::vector<std::string>& addresses);
    void FinishResolve(Peer& peer);
    void StepResolve(std::uint64_t id);
    void CompleteResolve(std::uint64_t id);
    /** True while some link is being dialled or is in handshake. */
    bool LinksUnsettled() const;
    void RelayBlock(const BlockEntry& entry, const Peer* except);
    /** Relays a block `from` gave us, now or once stored (Callbacks::relay_when_stored). */
    void RelayReceived(const BlockEntry& entry, Peer& from);
    /** True when link shaping blocks the peer at `key` (an advertised listen address). */
    bool IsBlocked(const std::string& key) const { return m_blocked.count(key) != 0; }
    /** The peer's advertised address for events, or its remote address before Hello. */
    static std::string EventLabel(const Peer& peer);
    void DelayFrame(Peer& peer, std::string_view payload);
    void FlushDelayed();

    net::EventLoop& m_loop;
    ChainState& m_chain;
    PeerManagerOptions m_options;
    Callbacks m_callbacks;
    Observers m_observers;
    net::Transport* m_transport = nullptr;
    std::unique_ptr<net::Timer> m_tick;
    std::unordered_map<std::uint64_t, std::unique_ptr<Peer>> m_peers;
    AddressBook m_book{AddressBook::Options{}};
    std::unordered_map<std::string, std::uint64_t> m_bans;
    std::map<std::uint64_t, ResolveRound> m_resolves;
    std::uint64_t m_next_resolve = 1;
    std::mt19937_64 m_rng;
    P2pMetrics m_metrics;
    /** Sum of the peers' unproven_side_bytes, kept after a peer leaves (its blocks stay). */
    std::size_t m_unproven_side_bytes = 0;
    bool m_stopped = false;
    std::uint64_t m_delay_ms = 0;
    std::uint64_t m_jitter_ms = 0;
    std::unordered_set<std::string> m_blocked;
    /** Fires when the earliest delayed frame is due; created on first use. */
    std::unique_ptr<net::Timer> m_delay_timer;
};

}  // namespace gossipchain
