// The gossip protocol core: what every link to a peer means, without sockets, timers or clocks.
// It runs the handshake, relays new blocks and transactions once to the peers that lack them,
// syncs with locators (ChainSync) so catching up costs O(missing blocks), exchanges addresses,
// keeps links alive with pings, redials with backoff (AddressBook), and scores and bans peers
// that misbehave (BanList). It hears the network through LinkEvents, each event with the loop
// time it happened at, acts on it through Links, and tells the node what happened through
// PeerEvents. NetLinks runs it over src/net; tests and the fuzz target run it over a fake.
//
// Everything runs on one thread (the loop thread in the node).
#pragma once

#include "chain/chain_state.h"
#include "p2p/address_book.h"
#include "p2p/ban_list.h"
#include "p2p/chain_sync.h"
#include "p2p/codec.h"
#include "p2p/compact_blocks.h"
#include "p2p/flood_guard.h"
#include "p2p/links.h"
#include "p2p/messages.h"
#include "p2p/peer_address.h"
#include "p2p/peer_events.h"
#include "p2p/recent_set.h"
#include "p2p/tx_relay.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
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
/** Most block and transaction hashes remembered per peer as already known to it. */
inline constexpr std::size_t MAX_KNOWN_INVENTORY = 16384;
/** Transactions are offered to a peer only while less than this waits unread on its link (1 MiB):
 * relay to a peer that does not read is paced by its reading, as a Chain answer is. */
inline constexpr std::size_t TX_RELAY_LOW_WATER_BYTES = 1u << 20;
/** Most addresses sent in one Peers message. */
inline constexpr std::size_t PEERS_TO_SHARE = 100;
/** How often an address whose gossip dial was answered in HTTP (a plain tutorial node) is dialled
 * again, in milliseconds (5 min); /nodes/resolve dials it at once. */
inline constexpr std::uint64_t DEFAULT_HTTP_ONLY_REDIAL_MS = 5 * 60 * 1000;

struct PeerManagerOptions {
    ConsensusParams params;
    /** Ours: derived from the node key (SPEC §7.1); a link that proves it is to ourselves. */
    std::string node_id;
    /** Keys (64 hex) allowed to link, when not empty (--trust); anyone otherwise. */
    std::unordered_set<std::string> trusted;
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
    std::uint64_t http_only_redial_ms = DEFAULT_HTTP_ONLY_REDIAL_MS;
    /** Wall clock in seconds (block timestamps are checked against it, SPEC §6; handshakes are
     * stamped with it). Tests and the fuzz target pin it. */
    std::function<double()> wall_clock;
    /** Seeds pings' nonces, backoff jitter and link shaping; 0 picks a random seed. */
    std::uint64_t seed = 0;
};

/** Counters for /metrics. */
struct P2pMetrics {
    std::uint64_t blocks_received = 0;
    /** Block relays sent: CompactBlock pushes and BlockInventory announcements. */
    std::uint64_t blocks_relayed = 0;
    /** Blocks received as CompactBlock and rebuilt, and how many of them needed a GetBlockTxs. */
    std::uint64_t compact_blocks_rebuilt = 0;
    std::uint64_t compact_blocks_fetched = 0;
    /** Of those, rebuilt without reading the mempool: rebuilds were over REBUILD_SCAN_PER_SECOND.
     */
    std::uint64_t compact_blocks_unscanned = 0;
    std::uint64_t txs_received = 0;
    /** Transactions sent whole: pushed, or answering a GetTransactions. */
    std::uint64_t txs_relayed = 0;
    /** Transactions announced by txid (TxInventory). */
    std::uint64_t txs_announced = 0;
    /** Transactions asked of peers (GetTransactions). */
    std::uint64_t txs_requested = 0;
    /** Announced txids not queued: the queue for that peer, or all peers, was full. */
    std::uint64_t txs_wanted_dropped = 0;
    std::uint64_t invalid_blocks = 0;
    std::uint64_t bans = 0;
    /** Messages dropped because their sender was over a rate limit (SPEC §12, flooding). */
    std::uint64_t flood_drops = 0;
    /** Inbound links closed to make room for a newcomer (inbound slots full). */
    std::uint64_t inbound_evictions = 0;
    std::map<std::string, std::uint64_t> bytes_in_by_type;
    std::map<std::string, std::uint64_t> bytes_out_by_type;
};

class PeerManager : public LinkEvents {
public:
    /** `links` and `events` must outlive it. */
    PeerManager(Links& links, ChainState& chain, PeerManagerOptions options, PeerEvents& events);
    ~PeerManager() override;
    PeerManager(const PeerManager&) = delete;
    PeerManager& operator=(const PeerManager&) = delete;

    /** Sets the node id and listen port announced in Hello; before the first link only. */
    void SetIdentity(std::string node_id, std::uint16_t listen_port) {
        m_options.node_id = std::move(node_id);
        m_options.listen_port = listen_port;
    }
    /** Stops dialing and housekeeping for good (the node is shutting down). */
    void Stop() { m_stopped = true; }

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

    /** The bans still running at `now_ms`, so the node can keep them across a restart. */
    std::vector<BanList::Ban> Bans(std::uint64_t now_ms) const { return m_bans.Live(now_ms); }
    /** Bans `key` for `remaining_ms` more (a stored ban after a restart). */
    void RestoreBan(const std::string& key, std::uint64_t remaining_ms, std::uint64_t now_ms) {
        m_bans.Add(key, now_ms + remaining_ms, now_ms);
    }

    /** Relays a block we connected ourselves (mined, stored, or learned elsewhere). */
    void BroadcastBlock(const BlockEntry& entry, std::uint64_t now_ms);
    /** Asks for the next stretch of every sync PeerEvents::HoldSync held, unless it still
     * holds them. */
    void ResumeSync(std::uint64_t now_ms);
    /** Offers what is new in our mempool to every ready peer (TxRelay), as far as each one's
     * relay budget allows now; the rest goes at later ticks. */
    void RelayTransactions(std::uint64_t now_ms);

    // For /nodes/resolve (src/node/resolver), which runs the round and its deadlines.
    /** Plain HTTP nodes are asked for gossip again at the next Tick. */
    void RedialHttpOnly();
    /** True while some link is being dialled or is in handshake. */
    bool LinksUnsettled() const;
    /** Asks every ready peer for what it has beyond our tip; each asked link later gets one
     * PeerEvents::OnPeerSynced. Returns the links asked. */
    std::vector<LinkId> SyncEveryPeer(std::uint64_t now_ms);

    std::vector<PeerView> Peers() const;
    std::size_t ReadyPeerCount() const;
    const P2pMetrics& Metrics() const { return m_metrics; }
    /** Link shaping (netsim): advertised listen addresses ("host:port") no link is kept with,
     * in either direction. Closes links to newly blocked peers, redials healed ones. */
    void SetBlocked(const std::vector<std::string>& blocked, std::uint64_t now_ms);

    // LinkEvents
    void OnLinkOpened(LinkId link, const LinkInfo& info, std::uint64_t now_ms) override;
    void OnPayload(LinkId link, std::string_view payload, std::uint64_t now_ms) override;
    void OnWritable(LinkId link, std::uint64_t now_ms) override;
    void OnLinkClosed(LinkId link, net::CloseReason reason, std::string_view detail,
                      std::uint64_t now_ms) override;
    void OnDialFailed(const std::string& address_key, DialFailure cause, std::string_view detail,
                      std::uint64_t now_ms) override;
    void Tick(std::uint64_t now_ms) override;

private:
    struct Peer;

    static std::string AddressKey(const std::string& host, std::uint16_t port);
    Peer* Find(LinkId link) const;
    double WallNow() const;
    void Dial(AddressEntry& entry);
    static std::string BanKey(const Peer& peer);
    /** Records an inbound peer's advertised address; it stands for it only once verified. */
    void ClaimAddress(Peer& peer, std::string key);
    /** The address the peer stands for, or the one it claims; empty when neither. */
    static const std::string& AdvertisedAddress(const Peer& peer);
    bool IsBanned(const std::string& key) { return m_bans.IsBanned(key, m_now_ms); }

    void Send(Peer& peer, const Message& message);
    void SendEncoded(Peer& peer, MessageType type, std::string_view payload);
    void Close(Peer& peer, DropReason reason, std::string_view detail);
    void Misbehave(Peer& peer, int score, const std::string& why);
    /** Pays for a message from the peer's flood bucket; when it cannot, scores the peer
     * FLOOD_PENALTY and returns false: the message is to be dropped. */
    bool PayForFlood(Peer& peer, FloodKind kind, double cost);
    /** PayForFlood of one per item, an empty message paying one. */
    bool PayPerItem(Peer& peer, FloodKind kind, std::size_t items);
    /** What a message costs before it is handled (SPEC §12); false: it was dropped. */
    bool PayForMessage(Peer& peer, const Message& message);
    /** What a processed block costs: orphans and repeats only; false: stop reading the message. */
    bool PayForBlock(Peer& peer, const BlockResult& result, bool from_chain);
    void Disconnect(Peer& peer, RejectCode code, const std::string& reason);
    /** An outbound link to a node we have a ready link with: records the address as verified for
     * it and closes the new link (SPEC §7.4); false when there is no such link. */
    bool VerifiedOnly(Peer& dialed);
    /** Closes the least useful inbound link other than `newcomer`; false when every one is
     * protected. */
    bool EvictInbound(const Peer& newcomer);
    void RequestSync(Peer& peer);
    /** The next stretch of a sync, unless the listener holds it (PeerEvents::HoldSync). */
    void ContinueSync(Peer& peer);
    /** The sync asked of `peer` is over: tells the listener if SyncEveryPeer asked for it. */
    void SyncEnded(Peer& peer);

    void HandleMessage(Peer& peer, Message& message);
    void HandleHello(Peer& peer, const Hello& hello);
    void HandleBlocks(Peer& peer, std::vector<Block>& blocks, bool from_chain, bool more);
    void HandleRequestChain(Peer& peer, const RequestChain& request);
    /** Queues batches of the peer's pending Chain answer while its queue is short. */
    void SendChainReply(Peer& peer);
    void HandleTransactions(Peer& peer, const std::vector<Transaction>& txs);
    void HandleTxInventory(Peer& peer, const TxInventory& inventory);
    void HandleBlockInventory(Peer& peer, const BlockInventory& inventory);
    void HandleGetBlock(Peer& peer, const GetBlock& request);
    void HandleCompactBlock(Peer& peer, const CompactBlock& compact);
    void HandleGetBlockTxs(Peer& peer, const GetBlockTxs& request);
    void HandleBlockTxs(Peer& peer, BlockTxs& answer);
    /** Processes the peer's rebuilt block, or asks for what it still lacks. */
    void FinishRebuild(Peer& peer);
    /** Drops requests and rebuilds past their timeout, and keeps MAX_PARTIAL_BLOCKS. */
    void ExpireBlockRequests();
    void HandleGetTransactions(Peer& peer, const GetTransactions& request);
    /** Sends the peer the offers its budget and its reading allow now. */
    void OfferTransactions(Peer& peer);
    /** Asks the peer for transactions it announced, as far as room in flight allows. */
    void RequestTransactions(Peer& peer);
    void HandlePeers(Peer& peer, const std::vector<std::string>& addresses);
    void HandleRegisterPeer(Peer& peer, const RegisterPeer& body);
    void RelayBlock(const BlockEntry& entry, const Peer* except);
    /** Relays a block `from` gave us, now or once stored (PeerEvents::HoldRelayUntilStored). */
    void RelayReceived(const BlockEntry& entry, Peer& from);
    /** True when link shaping blocks the peer at `key` (an advertised listen address). */
    bool IsBlocked(const std::string& key) const { return m_blocked.count(key) != 0; }
    /** The peer's advertised address for events, or its remote address before Hello. */
    static std::string EventLabel(const Peer& peer);

    Links& m_links;
    ChainState& m_chain;
    PeerManagerOptions m_options;
    PeerEvents& m_events;
    /** Loop time of the event being handled. */
    std::uint64_t m_now_ms = 0;
    std::unordered_map<LinkId, std::unique_ptr<Peer>> m_peers;
    AddressBook m_book;
    BanList m_bans;
    ChainSync m_sync;
    TxRelay m_tx_relay;
    /** Blocks asked for with GetBlock, with the loop time each was asked (SPEC §8). */
    std::unordered_map<std::string, std::uint64_t> m_block_requests;
    std::mt19937_64 m_rng;
    /** Mempool entries rebuilds may still read (MAX_REBUILD_SCAN_BURST), node-wide. */
    TokenBucket m_rebuild_scans{MAX_REBUILD_SCAN_BURST, REBUILD_SCAN_PER_SECOND, 0};
    P2pMetrics m_metrics;
    bool m_stopped = false;
    std::unordered_set<std::string> m_blocked;
};

}  // namespace gossipchain
