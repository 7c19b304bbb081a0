#include "p2p/peer_manager.h"

#include "consensus/pow.h"
#include "util/clock.h"
#include "util/log.h"

#include <algorithm>

namespace gossipchain {

struct PeerManager::Peer {
    LinkId id = 0;
    /** The remote end, "host:port". */
    std::string remote;
    bool outbound = false;
    /** We closed it; its OnLinkClosed is still to come, and nothing it sends counts. */
    bool closing = false;
    /** Table key this link stands for: the dialled address, or for an inbound peer the address
     * it advertised once a dial there proved the same key (AddressEntry::node_id). Empty when
     * unknown. What it names is not dialled while the link lives. */
    std::string address_key;
    /** An inbound peer's advertised address (Hello's listen port, RegisterPeer), as claimed:
     * for logs, events and link shaping, never for hiding an address from the dialer. */
    std::string claimed_address;
    bool ready = false;
    /** Derived from the key it proved in the handshake (SPEC §7.1). */
    std::string node_id;
    NodePublicKey key{};
    std::string session_id;
    /** An outbound dial that met a node we were already linked with: it only verified the
     * address, and is closed before Hello (SPEC §7.4). */
    bool verified_only = false;
    std::uint64_t height = 0;
    std::string tip;
    int score = 0;
    std::uint64_t opened_ms = 0;
    std::uint64_t last_ping_ms = 0;
    std::uint64_t ping_nonce = 0;
    bool awaiting_pong = false;
    /** Round trip of the last answered ping, in ms; 0 before the first. */
    std::uint64_t rtt_ms = 0;
    /** Loop time (ms) it last gave us a block or a transaction we did not have; 0: never. What
     * protects a useful inbound link from eviction when the inbound slots are full. */
    std::uint64_t last_block_ms = 0;
    std::uint64_t last_tx_ms = 0;
    SyncState sync;
    TxRelayState txs;
    /** A block of its being rebuilt while we wait for its BlockTxs. */
    std::optional<PartialBlock> partial;
    /** SyncEveryPeer asked it: the end of its sync is to be told (PeerEvents::OnPeerSynced). */
    bool sync_watched = false;
    RecentSet known{MAX_KNOWN_INVENTORY};
    /** Blocks this peer announced to us, to tell a repeat from ordinary relay. */
    RecentSet announced{MAX_ANNOUNCED_REMEMBERED};
    /** Rate limits on what it sends us, and on what we relay to it (SPEC §12). */
    FloodGuard flood{0};

    const std::string& Label() const { return remote; }
};

namespace {

std::string ShortHash(const std::string& hash) {
    return hash.substr(0, 12);
}

/** Misbehaviour cost of an invalid block: a clock a little off is not an attack. */
int PenaltyFor(ValidationReason reason) {
    switch (reason) {
        case ValidationReason::TimestampTooFarAhead:
            return 10;
        default:
            return BAN_SCORE;
    }
}

int PenaltyFor(DecodeErrorCode code) {
    switch (code) {
        case DecodeErrorCode::UnknownType:
            return 10;  // A newer peer; tolerate a few.
        case DecodeErrorCode::InvalidField:
            return 50;
        default:
            return BAN_SCORE;
    }
}

std::string HostOf(const std::string& remote) {
    if (!remote.empty() && remote.front() == '[')
        return remote.substr(1, remote.find(']') - 1);
    return remote.substr(0, remote.rfind(':'));
}

bool IsLoopback(const std::string& host) {
    return host.rfind("127.", 0) == 0 || host == "::1" || host == "localhost";
}

}  // namespace

std::string_view DropReasonName(DropReason reason) {
    switch (reason) {
        case DropReason::Rejected:
            return "rejected";
        case DropReason::RejectedByPeer:
            return "rejected by the peer";
        case DropReason::Duplicate:
            return "duplicate link";
        case DropReason::Self:
            return "connected to ourselves";
        case DropReason::Blocked:
            return "blocked by link shaping";
    }
    return "closed";
}

PeerManager::PeerManager(Links& links, ChainState& chain, PeerManagerOptions options,
                         PeerEvents& events)
    : m_links(links),
      m_chain(chain),
      m_options(std::move(options)),
      m_events(events),
      m_book(AddressBook::Options{.reconnect_min_ms = m_options.reconnect_min_ms,
                                  .reconnect_max_ms = m_options.reconnect_max_ms}),
      m_sync(chain),
      m_tx_relay(chain),
      m_rng(m_options.seed != 0 ? m_options.seed : std::random_device{}()) {}

PeerManager::~PeerManager() = default;

std::string PeerManager::AddressKey(const std::string& host, std::uint16_t port) {
    return FormatHostPort(PeerAddress{host, port});
}

double PeerManager::WallNow() const {
    return m_options.wall_clock ? m_options.wall_clock() : WallSeconds();
}

AddressBook::AddResult PeerManager::AddAddress(const PeerAddress& address, AddressOrigin origin,
                                               const std::string& source) {
    AddressBook::AddResult result = m_book.Add(address, origin, source);
    if (origin == AddressOrigin::Seed) {
        if (AddressEntry* entry = m_book.Find(AddressKey(address.host, address.port)))
            entry->gossip_capable = true;
    }
    return result;
}

std::vector<std::string> PeerManager::KnownAddresses() const {
    std::vector<std::string> out;
    m_book.ForEach([&out](const AddressEntry& entry) {
        if (!entry.self)
            out.push_back(entry.key);
    });
    return out;
}

std::vector<PeerManager::StoredAddress> PeerManager::StoredAddresses() const {
    std::vector<StoredAddress> out;
    m_book.ForEach([&out](const AddressEntry& entry) {
        if (!entry.self)
            out.push_back(StoredAddress{entry.key, entry.origin, entry.last_seen_s});
    });
    return out;
}

std::size_t PeerManager::NewOperatorAddresses(const std::vector<PeerAddress>& addresses) const {
    std::unordered_set<std::string> fresh;
    for (const PeerAddress& address : addresses) {
        std::string key = AddressKey(address.host, address.port);
        const AddressEntry* entry = m_book.Find(key);
        if (entry == nullptr || !entry->Operator())
            fresh.insert(std::move(key));
    }
    return fresh.size();
}

void PeerManager::SetLastSeen(const std::string& address, std::int64_t last_seen_s) {
    if (AddressEntry* entry = m_book.Find(address))
        entry->last_seen_s = last_seen_s;
}

std::vector<PeerAddress> PeerManager::UnlinkedAddresses() const {
    std::unordered_set<std::string> linked;
    for (const auto& [id, peer] : m_peers) {
        if (peer->ready)
            linked.insert(peer->address_key);
    }
    std::vector<PeerAddress> out;
    m_book.ForEach([&](const AddressEntry& entry) {
        // Link shaping (netsim partitions) holds for this HTTP path too.
        if (entry.Operator() && !entry.self && !linked.count(entry.key) && !IsBlocked(entry.key))
            out.push_back(PeerAddress{entry.host, entry.port});
    });
    return out;
}

void PeerManager::MarkGossipCapable(const PeerAddress& address) {
    AddressEntry* entry = m_book.Find(AddressKey(address.host, address.port));
    if (entry == nullptr)
        return;
    entry->gossip_capable = true;
    entry->http_only = false;
}

PeerManager::Peer* PeerManager::Find(LinkId link) const {
    auto found = m_peers.find(link);
    return found == m_peers.end() ? nullptr : found->second.get();
}

std::size_t PeerManager::ReadyPeerCount() const {
    return static_cast<std::size_t>(std::count_if(
        m_peers.begin(), m_peers.end(), [](const auto& item) { return item.second->ready; }));
}

void PeerManager::Tick(std::uint64_t now_ms) {
    m_now_ms = now_ms;
    if (m_stopped)
        return;
    std::vector<Peer*> to_close;
    for (auto& [id, peer] : m_peers) {
        if (peer->closing)
            continue;
        if (!peer->ready) {
            if (now_ms - peer->opened_ms > m_options.handshake_timeout_ms)
                to_close.push_back(peer.get());
            continue;
        }
        if (peer->awaiting_pong && now_ms - peer->last_ping_ms > m_options.ping_timeout_ms) {
            to_close.push_back(peer.get());
        } else if (!peer->awaiting_pong &&
                   now_ms - peer->last_ping_ms >= m_options.ping_interval_ms) {
            peer->ping_nonce = m_rng();
            peer->last_ping_ms = now_ms;
            peer->awaiting_pong = true;
            Send(*peer, Ping{peer->ping_nonce});
        }
    }
    for (Peer* peer : to_close) {
        Disconnect(*peer, RejectCode::Timeout, peer->ready ? "ping timeout" : "handshake timeout");
    }
    ExpireBlockRequests();
    for (auto& [id, peer] : m_peers) {
        if (!peer->ready || peer->closing)
            continue;
        TxRelay::ExpireRequests(peer->txs, now_ms);
        RequestTransactions(*peer);
        OfferTransactions(*peer);
    }

    std::unordered_set<std::string> linked;
    std::unordered_set<std::string> linked_nodes;
    for (const auto& [id, peer] : m_peers) {
        if (!peer->address_key.empty())
            linked.insert(peer->address_key);
        if (peer->ready)
            linked_nodes.insert(peer->node_id);
    }
    // An address verified as a node we are linked with is not dialled again meanwhile.
    std::vector<AddressEntry*> due =
        m_book.DueForDial(now_ms, m_options.target_outbound, [&](const AddressEntry& entry) {
            return linked.count(entry.key) || linked_nodes.count(entry.node_id) ||
                   IsBanned(entry.key) || IsBlocked(entry.key);
        });
    // Dial never calls back before it returns, so no address goes away during this walk.
    for (AddressEntry* entry : due)
        Dial(*entry);
}

void PeerManager::Dial(AddressEntry& entry) {
    entry.dialing = true;
    LOG_DEBUG("dialing %s", entry.key.c_str());
    m_links.Dial(PeerAddress{entry.host, entry.port});
}

void PeerManager::OnDialFailed(const std::string& address_key, DialFailure cause,
                               std::string_view detail, std::uint64_t now_ms) {
    m_now_ms = now_ms;
    // Entries being dialled are never evicted, so it is still there unless the dial was not ours.
    AddressEntry* dialed = m_book.Find(address_key);
    if (dialed == nullptr)
        return;
    dialed->dialing = false;
    // An HTTP answer says what serves the port now; a port that spoke gossip before (or
    // --peer) is only retried sooner. A tutorial node stays in the table: it answered.
    if (cause == DialFailure::AnsweredHttp && !dialed->gossip_capable) {
        if (!dialed->http_only) {
            LOG_INFO(
                "peer %s answers in HTTP: a plain tutorial node (or a gossipchain node older "
                "than protocol %u); /nodes/resolve will fetch its /chain",
                address_key.c_str(), PROTOCOL_VERSION);
        }
        dialed->http_only = true;
        m_book.OnAnswered(address_key);
        m_book.ScheduleRetry(*dialed, false, now_ms, m_rng());
        dialed->next_try_ms = now_ms + m_options.http_only_redial_ms;
        return;
    }
    if (dialed->failures == 0 || LogEnabled(LogLevel::Debug)) {
        LOG_INFO("peer %s %s: %.*s", address_key.c_str(),
                 cause == DialFailure::HandshakeFailed ? "failed the handshake" : "unreachable",
                 static_cast<int>(detail.size()), detail.data());
    }
    m_book.ScheduleRetry(*dialed, false, now_ms, m_rng());
    if (m_book.OnDialFailed(address_key, now_ms))
        LOG_INFO("peer %s forgotten: it has not answered for too long", address_key.c_str());
}

std::string PeerManager::BanKey(const Peer& peer) {
    // The key the peer proved: a peer that misbehaves cannot get another node banned, and nodes
    // that share an IP (loopback, a classroom's NAT) are not banned together.
    return "node:" + peer.node_id;
}

void PeerManager::OnLinkOpened(LinkId link, const LinkInfo& info, std::uint64_t now_ms) {
    m_now_ms = now_ms;
    std::size_t inbound = static_cast<std::size_t>(std::count_if(
        m_peers.begin(), m_peers.end(), [](const auto& item) { return !item.second->outbound; }));
    auto fresh = std::make_unique<Peer>();
    Peer& peer = *fresh;
    peer.id = link;
    peer.remote = info.remote;
    peer.outbound = info.outbound;
    peer.opened_ms = now_ms;
    peer.key = info.peer_key;
    peer.node_id = NodeIdOf(info.peer_key);
    peer.session_id = info.session_id;
    m_peers[link] = std::move(fresh);
    if (info.outbound) {
        peer.address_key = info.dialed;
        m_book.OnAnswered(info.dialed);
    }
    if (peer.node_id == m_options.node_id) {
        if (AddressEntry* found = peer.outbound ? m_book.Find(peer.address_key) : nullptr)
            found->self = true;
        Close(peer, DropReason::Self, "connected to ourselves");
        return;
    }
    if (IsBanned(BanKey(peer))) {
        Disconnect(peer, RejectCode::Banned, "banned");
        return;
    }
    if (!m_options.trusted.empty() && !m_options.trusted.count(KeyHex(peer.key))) {
        LOG_WARN("peer %s refused: key %s is not on the trust list", peer.Label().c_str(),
                 KeyHex(peer.key).c_str());
        Disconnect(peer, RejectCode::NotTrusted, "your key is not on this node's trust list");
        return;
    }
    if (info.outbound && VerifiedOnly(peer))
        return;
    if (!info.outbound) {
        if (inbound >= m_options.max_inbound && !EvictInbound(peer)) {
            Disconnect(peer, RejectCode::TooManyPeers, "too many inbound peers");
            return;
        }
    }
    const BlockEntry& tip = m_chain.Tip();
    Hello hello;
    hello.network_id = NetworkId(m_options.params);
    hello.node_id = m_options.node_id;
    hello.listen_port = m_options.listen_port;
    hello.height = tip.Height();
    hello.tip = tip.HashHex();
    hello.agent = m_options.agent;
    Send(peer, hello);
}

bool PeerManager::VerifiedOnly(Peer& dialed) {
    for (auto& [id, other] : m_peers) {
        if (other.get() == &dialed || !other->ready || other->closing ||
            other->node_id != dialed.node_id)
            continue;
        // The node at this address is one we are linked with already (a claim of its, checked,
        // SPEC §10): the address is verified for it, and the link we have stays. Only the dialler
        // decides, before any Hello, so the other end has no duplicate to settle, and a link the
        // other end's operator asked for keeps its direction.
        if (AddressEntry* entry = m_book.Find(dialed.address_key)) {
            entry->node_id = dialed.node_id;
            entry->failures = 0;
            entry->gossip_capable = true;
        }
        if (other->address_key.empty())
            other->address_key = dialed.address_key;
        dialed.verified_only = true;
        Close(dialed, DropReason::Duplicate, "address verified: already linked with that node");
        return true;
    }
    return false;
}

bool PeerManager::EvictInbound(const Peer& newcomer) {
    // Bitcoin Core's inbound eviction, in small: links that recently gave us new blocks or
    // transactions, and the longest-standing ones, are kept; of the rest, the host with the most
    // links loses its newest. So a newcomer always gets a place, and whoever crowds the node with
    // idle links pays for it, not the peers that are useful.
    std::vector<Peer*> candidates;
    for (auto& [id, owned] : m_peers) {
        Peer* peer = owned.get();
        if (peer != &newcomer && !peer->outbound && !peer->closing)
            candidates.push_back(peer);
    }
    // Keeps (takes out of the candidates) up to `count` peers, those with the greatest `field`;
    // a peer whose field is 0 (never gave us anything new) is not kept for it. No category keeps
    // more than a quarter of what is left, so small inbound caps still have someone to evict.
    auto quarter = [&candidates](std::size_t count) {
        return std::min(count, candidates.size() / 4);
    };
    auto protect_most_recent = [&candidates, &quarter](std::size_t most, auto field) {
        std::size_t count = quarter(most);
        std::sort(candidates.begin(), candidates.end(),
                  [&](const Peer* a, const Peer* b) { return field(*a) > field(*b); });
        std::size_t kept = 0;
        while (kept < count && kept < candidates.size() && field(*candidates[kept]) > 0)
            ++kept;
        candidates.erase(candidates.begin(),
                         candidates.begin() + static_cast<std::ptrdiff_t>(kept));
    };
    auto older = [](const Peer* a, const Peer* b) {
        return std::pair(a->opened_ms, a->id) < std::pair(b->opened_ms, b->id);
    };
    protect_most_recent(EVICTION_PROTECT_RECENT_BLOCKS,
                        [](const Peer& p) { return p.last_block_ms; });
    protect_most_recent(EVICTION_PROTECT_RECENT_TXS, [](const Peer& p) { return p.last_tx_ms; });
    std::sort(candidates.begin(), candidates.end(), older);
    candidates.erase(
        candidates.begin(),
        candidates.begin() + static_cast<std::ptrdiff_t>(quarter(EVICTION_PROTECT_LONGEST)));
    if (candidates.empty())
        return false;
    std::map<std::string, std::vector<Peer*>> by_host;
    for (Peer* peer : candidates)
        by_host[HostOf(peer->remote)].push_back(peer);
    const std::vector<Peer*>* crowded = nullptr;
    for (const auto& [host, peers] : by_host) {
        if (crowded == nullptr || peers.size() > crowded->size())
            crowded = &peers;
    }
    Peer* victim = *std::max_element(crowded->begin(), crowded->end(), older);
    LOG_INFO("inbound links full: evicting %s to make room for %s", victim->Label().c_str(),
             newcomer.Label().c_str());
    ++m_metrics.inbound_evictions;
    Disconnect(*victim, RejectCode::TooManyPeers, "evicted to make room for a new peer");
    return true;
}

void PeerManager::OnLinkClosed(LinkId link, net::CloseReason reason, std::string_view detail,
                               std::uint64_t now_ms) {
    m_now_ms = now_ms;
    Peer* peer = Find(link);
    if (!peer)
        return;
    LOG_INFO("peer %s disconnected: %.*s", peer->Label().c_str(), static_cast<int>(detail.size()),
             detail.data());
    if (peer->ready)
        m_events.OnPeerLink(EventLabel(*peer), false, detail);
    // A frame over MAX_FRAME_BYTES, or one that fails authentication, closes the link in the
    // layers below without scoring: the length travels in the clear, so a man in the middle
    // could cause either (SPEC §2, §7.3).
    if (peer->outbound) {
        if (AddressEntry* found = m_book.Find(peer->address_key)) {
            AddressEntry& entry = *found;
            entry.dialing = false;
            m_book.ScheduleRetry(entry, peer->ready, now_ms, m_rng());
            // Connected but never a peer (another network, refused, silent): that is no better
            // than unreachable for keeping the address. A dial that verified it is.
            if (!peer->ready && !peer->verified_only)
                m_book.OnDialFailed(peer->address_key, now_ms);
        }
    }
    SyncEnded(*peer);
    m_tx_relay.Forget(peer->txs);
    m_peers.erase(link);
}

void PeerManager::Send(Peer& peer, const Message& message) {
    SendEncoded(peer, TypeOf(message), EncodeMessage(message));
}

void PeerManager::SendEncoded(Peer& peer, MessageType type, std::string_view payload) {
    if (peer.closing)
        return;
    m_metrics.bytes_out_by_type[std::string(MessageTypeName(type))] += payload.size() + 4;
    m_links.Send(peer.id, payload);
}

void PeerManager::Close(Peer& peer, DropReason reason, std::string_view detail) {
    if (peer.closing)
        return;
    peer.closing = true;
    m_links.Close(peer.id, reason, detail);
}

std::string PeerManager::EventLabel(const Peer& peer) {
    const std::string& advertised = AdvertisedAddress(peer);
    return advertised.empty() ? peer.remote : advertised;
}

const std::string& PeerManager::AdvertisedAddress(const Peer& peer) {
    return peer.address_key.empty() ? peer.claimed_address : peer.address_key;
}

void PeerManager::SetBlocked(const std::vector<std::string>& blocked_list, std::uint64_t now_ms) {
    std::unordered_set<std::string> blocked(blocked_list.begin(), blocked_list.end());
    for (const std::string& key : m_blocked) {
        AddressEntry* found = m_book.Find(key);
        // A healed address is dialled on the next tick, not after its backoff.
        if (!blocked.count(key) && found != nullptr)
            found->next_try_ms = 0;
    }
    m_blocked = std::move(blocked);
    for (auto& [id, peer] : m_peers) {
        if (IsBlocked(AdvertisedAddress(*peer)))
            Close(*peer, DropReason::Blocked, "blocked by link shaping");
    }
    LOG_INFO("link shaping: %zu blocked", m_blocked.size());
    Tick(now_ms);
}

void PeerManager::Disconnect(Peer& peer, RejectCode code, const std::string& reason) {
    if (peer.closing)
        return;
    Send(peer, Reject{static_cast<std::uint32_t>(code), reason.substr(0, MAX_REJECT_REASON_BYTES)});
    Close(peer, DropReason::Rejected, reason);
}

void PeerManager::Misbehave(Peer& peer, int score, const std::string& why) {
    peer.score += score;
    LOG_WARN("peer %s misbehaved (+%d, now %d): %s", peer.Label().c_str(), score, peer.score,
             why.c_str());
    if (peer.score >= BAN_SCORE) {
        std::uint64_t until = m_now_ms + m_options.ban_ms;
        m_bans.Add(BanKey(peer), until, m_now_ms);
        // And the address we dialled, where this key answered: Tick checks it before redialling
        // a persistent peer. An inbound peer's address is never banned: it may be shared.
        if (peer.outbound && !peer.address_key.empty())
            m_bans.Add(peer.address_key, until, m_now_ms);
        ++m_metrics.bans;
        LOG_WARN("peer %s banned for %llu s", peer.Label().c_str(),
                 static_cast<unsigned long long>(m_options.ban_ms / 1000));
        m_events.OnBanned();
        Disconnect(peer, RejectCode::Misbehaving, why);
    }
}

bool PeerManager::PayForFlood(Peer& peer, FloodKind kind, double cost) {
    if (peer.flood.Allow(kind, cost, m_now_ms))
        return true;
    ++m_metrics.flood_drops;
    Misbehave(peer, FLOOD_PENALTY, std::string("flooding: ") + FloodKindName(kind));
    return false;
}

bool PeerManager::PayPerItem(Peer& peer, FloodKind kind, std::size_t items) {
    // An empty message costs one, like a control message.
    return PayForFlood(peer, kind, static_cast<double>(std::max<std::size_t>(items, 1)));
}

bool PeerManager::PayForMessage(Peer& peer, const Message& message) {
    // Blocks and chain requests pay in their handlers, once it is known what they were worth.
    switch (TypeOf(message)) {
        case MessageType::AnnounceBlock:
        case MessageType::CompactBlock:
        case MessageType::BlockTxs:
        case MessageType::RequestChain:
            return true;
        case MessageType::Chain:
            // The answer to our RequestChain is free; a Chain nobody asked for is not.
            return peer.sync.syncing || PayForFlood(peer, FloodKind::Control, 1);
        case MessageType::NewTransactions: {
            const auto& txs = std::get<NewTransactions>(message).transactions;
            std::size_t count = txs.size();
            // What answers our GetTransactions is free; the rest pays the receive limit.
            if (!peer.txs.asked.empty()) {
                std::vector<std::string> txids;
                txids.reserve(txs.size());
                for (const Transaction& tx : txs)
                    txids.push_back(TxId(tx));
                count = TxRelay::Unasked(peer.txs, txids);
                if (count == 0 && !txs.empty())
                    return true;
            }
            return PayPerItem(peer, FloodKind::TxsReceived, count);
        }
        case MessageType::TxInventory:
            return PayPerItem(peer, FloodKind::InventoryReceived,
                              std::get<TxInventory>(message).txids.size());
        case MessageType::GetTransactions:
            return PayPerItem(peer, FloodKind::TxRequests,
                              std::get<GetTransactions>(message).txids.size());
        case MessageType::GetBlockTxs:
            // Each position asked for is a transaction sent: paid like GetTransactions.
            return PayPerItem(peer, FloodKind::TxRequests,
                              std::get<GetBlockTxs>(message).indexes.size());
        case MessageType::Peers:
            return PayPerItem(peer, FloodKind::Addresses,
                              std::get<gossipchain::Peers>(message).addresses.size());
        default:
            return PayForFlood(peer, FloodKind::Control, 1);
    }
}

void PeerManager::OnPayload(LinkId link, std::string_view payload, std::uint64_t now_ms) {
    m_now_ms = now_ms;
    Peer* peer = Find(link);
    if (!peer || peer->closing)
        return;
    DecodeResult decoded = DecodeMessage(payload);
    if (!decoded.Ok()) {
        Misbehave(*peer, PenaltyFor(decoded.Error().code),
                  "undecodable message: " + decoded.Error().text);
        return;
    }
    Message& message = decoded.Value();
    MessageType type = TypeOf(message);
    m_metrics.bytes_in_by_type[std::string(MessageTypeName(type))] += payload.size() + 4;
    if (!peer->ready && type != MessageType::Hello) {
        if (type == MessageType::Reject) {
            const auto& reject = std::get<Reject>(message);
            LOG_WARN("peer %s rejected us: %s", peer->Label().c_str(), reject.reason.c_str());
            Close(*peer, DropReason::RejectedByPeer, "rejected: " + reject.reason);
            return;
        }
        Misbehave(*peer, BAN_SCORE, std::string(MessageTypeName(type)) + " before Hello");
        return;
    }
    if (!PayForMessage(*peer, message))
        return;
    HandleMessage(*peer, message);
}

void PeerManager::HandleMessage(Peer& peer, Message& message) {
    std::visit(
        [&](auto& body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, Hello>) {
                HandleHello(peer, body);
            } else if constexpr (std::is_same_v<T, Ping>) {
                Send(peer, Pong{body.nonce});
            } else if constexpr (std::is_same_v<T, Pong>) {
                if (peer.awaiting_pong && body.nonce == peer.ping_nonce) {
                    peer.awaiting_pong = false;
                    peer.rtt_ms = m_now_ms - peer.last_ping_ms;
                }
            } else if constexpr (std::is_same_v<T, AnnounceBlock>) {
                std::vector<Block> one;
                one.push_back(std::move(body.block));
                HandleBlocks(peer, one, false, false);
            } else if constexpr (std::is_same_v<T, RequestChain>) {
                HandleRequestChain(peer, body);
            } else if constexpr (std::is_same_v<T, Chain>) {
                HandleBlocks(peer, body.blocks, true, body.more);
            } else if constexpr (std::is_same_v<T, RegisterPeer>) {
                HandleRegisterPeer(peer, body);
            } else if constexpr (std::is_same_v<T, gossipchain::Peers>) {
                HandlePeers(peer, body.addresses);
            } else if constexpr (std::is_same_v<T, NewTransactions>) {
                HandleTransactions(peer, body.transactions);
            } else if constexpr (std::is_same_v<T, TxInventory>) {
                HandleTxInventory(peer, body);
            } else if constexpr (std::is_same_v<T, GetTransactions>) {
                HandleGetTransactions(peer, body);
            } else if constexpr (std::is_same_v<T, BlockInventory>) {
                HandleBlockInventory(peer, body);
            } else if constexpr (std::is_same_v<T, GetBlock>) {
                HandleGetBlock(peer, body);
            } else if constexpr (std::is_same_v<T, CompactBlock>) {
                HandleCompactBlock(peer, body);
            } else if constexpr (std::is_same_v<T, GetBlockTxs>) {
                HandleGetBlockTxs(peer, body);
            } else if constexpr (std::is_same_v<T, BlockTxs>) {
                HandleBlockTxs(peer, body);
            } else if constexpr (std::is_same_v<T, Reject>) {
                LOG_WARN("peer %s rejected: %s", peer.Label().c_str(), body.reason.c_str());
                Close(peer, DropReason::RejectedByPeer, "rejected: " + body.reason);
            }
        },
        message);
}

void PeerManager::HandleRegisterPeer(Peer& peer, const RegisterPeer& body) {
    // Port 0 is nothing anyone can dial; taking it would only fill the table.
    if (body.port == 0)
        return;
    std::string source = HostOf(peer.remote);
    std::string host = body.host.empty() ? source : body.host;
    AddAddress(PeerAddress{host, body.port}, AddressOrigin::Learned, source);
    if (!peer.outbound)
        ClaimAddress(peer, AddressKey(host, body.port));
}

void PeerManager::ClaimAddress(Peer& peer, std::string key) {
    // A claim hides nothing by itself: an attacker could claim to be reachable at an honest
    // peer's address. Only when a dial there proved this same key (AddressEntry::node_id) does
    // the link stand for the address; else the address is dialled as any other, and a dial that
    // meets the same node is a duplicate link the rule of SPEC §7.4 settles.
    peer.claimed_address = std::move(key);
    const AddressEntry* entry = m_book.Find(peer.claimed_address);
    if (entry != nullptr && entry->node_id == peer.node_id && !entry->node_id.empty())
        peer.address_key = peer.claimed_address;
}

void PeerManager::HandleHello(Peer& peer, const Hello& hello) {
    if (peer.ready) {
        Misbehave(peer, 20, "second Hello");
        return;
    }
    if (hello.protocol_version != PROTOCOL_VERSION) {
        Disconnect(peer, RejectCode::ProtocolVersion,
                   "protocol version " + std::to_string(hello.protocol_version) + ", we speak " +
                       std::to_string(PROTOCOL_VERSION));
        return;
    }
    std::string ours = NetworkId(m_options.params);
    if (hello.network_id != ours) {
        LOG_WARN("peer %s is on another network (%s, we are %s)", peer.Label().c_str(),
                 hello.network_id.c_str(), ours.c_str());
        // Say which parameter differs: "rules signed, ours open" tells the operator what to
        // change, where two 80-character ids do not.
        Disconnect(peer, RejectCode::WrongNetwork,
                   "wrong network: " + NetworkIdDifference(hello.network_id, ours) + " (we are " +
                       ours + ")");
        return;
    }
    if (hello.node_id != peer.node_id) {
        // Not scored: a peer that misstates its own id misleads only about itself.
        Disconnect(
            peer, RejectCode::Misbehaving,
            "node_id " + hello.node_id.substr(0, 32) + " is not the id of the key you proved");
        return;
    }
    if (!peer.outbound && hello.listen_port != 0 &&
        IsBlocked(AddressKey(HostOf(peer.remote), hello.listen_port))) {
        Close(peer, DropReason::Blocked, "blocked by link shaping");
        return;
    }
    if (peer.outbound) {
        // This address answered with this key: the address is verified for it (SPEC §10).
        if (AddressEntry* entry = m_book.Find(peer.address_key)) {
            entry->node_id = peer.node_id;
            entry->last_seen_s = static_cast<std::int64_t>(WallNow());
            entry->failures = 0;
            entry->gossip_capable = true;
            entry->http_only = false;
        }
    } else if (hello.listen_port != 0) {
        std::string host = HostOf(peer.remote);
        AddAddress(PeerAddress{host, hello.listen_port}, AddressOrigin::Learned, host);
        ClaimAddress(peer, AddressKey(host, hello.listen_port));
    }
    for (auto& [id, other] : m_peers) {
        if (other.get() == &peer || !other->ready || other->closing ||
            other->node_id != peer.node_id)
            continue;
        // Two links to one node (both dialled at once, or a dial that verified an inbound
        // peer's address). Keep, on both ends, the link dialled by the smaller node id, so the
        // two ends agree on which one survives; the survivor stands for the verified address.
        bool we_are_smaller = m_options.node_id < peer.node_id;
        bool keep_new = peer.outbound == we_are_smaller;
        Peer& loser = keep_new ? *other : peer;
        Peer& winner = keep_new ? peer : *other;
        if (winner.address_key.empty() && loser.outbound)
            winner.address_key = loser.address_key;
        Close(loser, DropReason::Duplicate, "duplicate link");
        if (!keep_new)
            return;
        break;
    }
    peer.height = hello.height;
    peer.tip = hello.tip;
    peer.ready = true;
    peer.last_ping_ms = m_now_ms;
    LOG_INFO("peer %s connected (%s, node %s, height %llu)", peer.Label().c_str(),
             peer.outbound ? "outbound" : "inbound", ShortHash(hello.node_id).c_str(),
             static_cast<unsigned long long>(hello.height));
    m_events.OnPeerLink(EventLabel(peer), true, {});
    if (m_options.listen_port != 0)
        Send(peer, RegisterPeer{"", m_options.listen_port});
    gossipchain::Peers share;
    m_book.ForEach([&](const AddressEntry& entry) {
        if (share.addresses.size() < PEERS_TO_SHARE && entry.key != AdvertisedAddress(peer) &&
            !entry.self)
            share.addresses.push_back(entry.key);
    });
    if (!share.addresses.empty())
        Send(peer, share);
    if (!m_chain.Knows(hello.tip))
        RequestSync(peer);
    // What is pending here is announced to the new peer (by txid; it fetches what it lacks).
    m_tx_relay.Start(peer.txs);
    OfferTransactions(peer);
}

void PeerManager::RequestSync(Peer& peer) {
    if (std::optional<RequestChain> request = m_sync.Request(peer.sync))
        Send(peer, *request);
}

void PeerManager::ContinueSync(Peer& peer) {
    if (m_events.HoldSync()) {
        peer.sync.held = true;
        return;
    }
    peer.sync.held = false;
    RequestSync(peer);
}

void PeerManager::ResumeSync(std::uint64_t now_ms) {
    m_now_ms = now_ms;
    for (auto& [id, peer] : m_peers) {
        if (peer->sync.held && peer->ready && !peer->closing)
            ContinueSync(*peer);
    }
}

void PeerManager::SyncEnded(Peer& peer) {
    if (!peer.sync_watched)
        return;
    peer.sync_watched = false;
    m_events.OnPeerSynced(peer.id);
}

void PeerManager::HandleBlocks(Peer& peer, std::vector<Block>& blocks, bool from_chain, bool more) {
    double now = WallNow();
    const BlockEntry* old_tip = &m_chain.Tip();
    BlockResult last_change;
    bool progressed = false;
    bool orphan = false;
    std::uint64_t claimed = m_sync.ClaimedHeight(peer.sync, peer.height, blocks, from_chain, more);
    for (Block& block : blocks) {
        ++m_metrics.blocks_received;
        bool last = &block == &blocks.back();
        BlockResult result = m_chain.ProcessBlock(std::move(block), now, claimed);
        // The peer has what it sent. Of a sync batch only the last block is remembered: nothing
        // older than the tip is ever relayed, and this spares up to 2,000 inserts per answer.
        if (!from_chain || last)
            peer.known.Insert(result.hash);
        if (!PayForBlock(peer, result, from_chain))
            break;
        if (const BlockEntry* entry = m_chain.Find(result.hash))
            peer.height = std::max(peer.height, entry->Height());
        switch (result.status) {
            case BlockStatus::Connected:
                progressed = true;
                peer.last_block_ms = m_now_ms;
                for (const BlockEntry* entry : result.connected) {
                    LOG_INFO("block %llu %s accepted from %s",
                             static_cast<unsigned long long>(entry->Height()),
                             ShortHash(result.hash).c_str(), peer.Label().c_str());
                    m_events.OnBlockSeen(result.hash, entry->Height(), EventLabel(peer));
                    if (!from_chain)
                        RelayReceived(*entry, peer);
                }
                if (result.reorg_depth > 0) {
                    LOG_INFO("reorg depth %zu: tip %s -> %s", result.reorg_depth,
                             ShortHash(result.old_tip).c_str(),
                             ShortHash(m_chain.Tip().HashHex()).c_str());
                    m_events.OnReorg(result.reorg_depth, result.old_tip, m_chain.Tip().HashHex());
                }
                last_change = std::move(result);
                break;
            case BlockStatus::SideBranch:
                progressed = true;
                LOG_DEBUG("block %s from %s stored on a side branch",
                          ShortHash(result.hash).c_str(), peer.Label().c_str());
                if (const BlockEntry* entry = m_chain.Find(result.hash)) {
                    m_sync.AddUnproven(peer.sync, entry->json_size);
                    m_events.OnBlockSeen(result.hash, entry->Height(), EventLabel(peer));
                }
                if (m_sync.UnprovenBudgetSpent(peer.sync))
                    claimed = 0;
                break;
            case BlockStatus::Duplicate:
                progressed = true;
                break;
            case BlockStatus::Stale:
                // Not stored and not relayed; a sync answer that brings only these is done.
                LOG_DEBUG("block %s from %s not kept: no higher than our tip",
                          ShortHash(result.hash).c_str(), peer.Label().c_str());
                break;
            case BlockStatus::Orphan:
                orphan = true;
                break;
            case BlockStatus::Invalid:
                ++m_metrics.invalid_blocks;
                LOG_WARN("block %s from %s rejected: %s", ShortHash(result.hash).c_str(),
                         peer.Label().c_str(), result.validation.ToString().c_str());
                Misbehave(peer, PenaltyFor(result.validation.reason),
                          "invalid block: " + result.validation.ToString());
                if (peer.closing)
                    return;
                break;
        }
    }
    if (&m_chain.Tip() != old_tip) {
        // Its side blocks won (or were overtaken): they no longer count as unproven.
        m_sync.Proven(peer.sync);
        if (from_chain)
            RelayReceived(m_chain.Tip(), peer);
        m_events.OnTipChanged(last_change);
        // A reorg gave back the abandoned blocks' transactions: they are offered again.
        RelayTransactions(m_now_ms);
    }
    if (from_chain) {
        switch (ChainSync::AfterBatch(peer.sync, blocks.size(), more, progressed)) {
            case ChainSync::Next::Wait:
                break;
            case ChainSync::Next::Done:
                SyncEnded(peer);
                break;
            case ChainSync::Next::AskAgain:
                ContinueSync(peer);
                break;
        }
    } else if (orphan) {
        RequestSync(peer);
    }
}

bool PeerManager::PayForBlock(Peer& peer, const BlockResult& result, bool from_chain) {
    // An announced block the same peer announced before is a repeat (honest peers remember
    // what they sent); duplicates from different peers are ordinary gossip and cost nothing.
    bool repeat = !from_chain && !peer.announced.Insert(result.hash);
    if (result.status == BlockStatus::Orphan ||
        (result.status == BlockStatus::Stale && !from_chain))
        return PayForFlood(peer, FloodKind::JunkBlocks, repeat ? REPEATED_BLOCK_COST : 1);
    if (result.status == BlockStatus::Duplicate && repeat)
        return PayForFlood(peer, FloodKind::JunkBlocks, REPEATED_BLOCK_COST);
    return true;
}

void PeerManager::HandleRequestChain(Peer& peer, const RequestChain& request) {
    std::vector<const BlockEntry*> blocks = m_sync.Answer(request);
    // An honest peer asks for blocks it lacks; asking again for what it already has (or asking
    // when there is nothing to send) only makes us work.
    if (blocks.empty() ? !PayForFlood(peer, FloodKind::Control, 1)
                       : peer.known.Contains(blocks.front()->HashHex()) &&
                             !PayForFlood(peer, FloodKind::RedundantRequests, 1)) {
        return;
    }
    m_sync.BeginReply(peer.sync, std::move(blocks));
    SendChainReply(peer);
}

void PeerManager::SendChainReply(Peer& peer) {
    // One batch at a time while the peer keeps reading: a peer that asks and never reads holds
    // at most this low-water mark and one batch of our memory, not the whole answer.
    while (peer.sync.replying && !peer.closing &&
           m_links.QueuedBytes(peer.id) < CHAIN_REPLY_LOW_WATER_BYTES) {
        if (std::optional<Chain> batch = m_sync.NextBatch(peer.sync, peer.known))
            Send(peer, *batch);
    }
}

void PeerManager::OnWritable(LinkId link, std::uint64_t now_ms) {
    m_now_ms = now_ms;
    Peer* peer = Find(link);
    if (peer == nullptr)
        return;
    if (peer->sync.replying)
        SendChainReply(*peer);
    if (peer->ready)
        OfferTransactions(*peer);
}

void PeerManager::HandleTransactions(Peer& peer, const std::vector<Transaction>& txs) {
    bool accepted = false;
    for (const Transaction& tx : txs) {
        ++m_metrics.txs_received;
        TxResult result = m_chain.SubmitTransaction(tx, TxOrigin::Relay);
        if (!result.txid.empty())
            peer.known.Insert(result.txid);
        if (result.status == TxStatus::Accepted) {
            peer.last_tx_ms = m_now_ms;
            accepted = true;
            m_events.OnTransaction(tx, result.txid, EventLabel(peer));
        } else if (result.status == TxStatus::Invalid &&
                   !DependsOnAccounts(result.validation.reason)) {
            Misbehave(peer, 10, "invalid transaction: " + result.validation.ToString());
            if (peer.closing)
                return;
        }
    }
    RequestTransactions(peer);
    if (accepted)
        RelayTransactions(m_now_ms);
}

void PeerManager::HandleTxInventory(Peer& peer, const TxInventory& inventory) {
    // The sender has them: they need not be offered back.
    for (const std::string& txid : inventory.txids)
        peer.known.Insert(txid);
    m_metrics.txs_wanted_dropped += m_tx_relay.OnInventory(peer.txs, inventory.txids);
    RequestTransactions(peer);
}

void PeerManager::HandleGetTransactions(Peer& peer, const GetTransactions& request) {
    NewTransactions answer = m_tx_relay.Answer(request, peer.known);
    if (answer.transactions.empty())
        return;
    m_metrics.txs_relayed += answer.transactions.size();
    Send(peer, answer);
}

void PeerManager::RequestTransactions(Peer& peer) {
    while (!peer.closing) {
        std::optional<GetTransactions> request = m_tx_relay.NextRequest(peer.txs, m_now_ms);
        if (!request)
            return;
        m_metrics.txs_requested += request->txids.size();
        Send(peer, *request);
    }
}

void PeerManager::OfferTransactions(Peer& peer) {
    while (!peer.closing && m_links.QueuedBytes(peer.id) < TX_RELAY_LOW_WATER_BYTES) {
        TxOffer offer = m_tx_relay.NextOffer(peer.txs, peer.known, peer.flood, m_now_ms);
        if (offer.Empty())
            return;
        if (!offer.announce.txids.empty()) {
            m_metrics.txs_announced += offer.announce.txids.size();
            Send(peer, offer.announce);
        }
        if (!offer.push.transactions.empty()) {
            m_metrics.txs_relayed += offer.push.transactions.size();
            Send(peer, offer.push);
        }
    }
}

void PeerManager::HandlePeers(Peer& peer, const std::vector<std::string>& addresses) {
    std::string source = HostOf(peer.remote);
    for (const std::string& text : addresses) {
        PeerAddress address;
        if (ParseHostPort(text, address))
            AddAddress(address, AddressOrigin::Learned, source);
    }
}

void PeerManager::RelayBlock(const BlockEntry& entry, const Peer* except) {
    const std::string hash = entry.HashHex();
    std::vector<Peer*> targets;
    for (auto& [id, peer] : m_peers) {
        if (peer.get() != except && peer->ready && !peer->closing && !peer->known.Contains(hash))
            targets.push_back(peer.get());
    }
    if (targets.empty())
        return;
    // Pushed whole-but-compact to a few peers chosen at random, announced to the rest (GossipSub's
    // eager and lazy push): the pushes carry the block across the mesh in a few hops, and a peer
    // that hears of it first by announcement asks once.
    std::shuffle(targets.begin(), targets.end(), m_rng);
    std::string compact;
    std::string inventory;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        Peer& peer = *targets[i];
        peer.known.Insert(hash);
        ++m_metrics.blocks_relayed;
        if (i < BLOCK_PUSH_PEERS && compact.empty()) {
            // Unreadable (a storage fault, logged): announced to every peer instead.
            if (std::shared_ptr<const BlockBody> body = m_chain.Body(entry))
                compact = EncodeMessage(MakeCompactBlock(entry, *body));
        }
        if (i < BLOCK_PUSH_PEERS && !compact.empty()) {
            SendEncoded(peer, MessageType::CompactBlock, compact);
        } else {
            if (inventory.empty())
                inventory = EncodeMessage(BlockInventory{hash, entry.Height()});
            SendEncoded(peer, MessageType::BlockInventory, inventory);
        }
    }
}

void PeerManager::HandleBlockInventory(Peer& peer, const BlockInventory& inventory) {
    peer.known.Insert(inventory.hash);
    if (m_chain.Knows(inventory.hash) || m_block_requests.count(inventory.hash) ||
        m_block_requests.size() >= MAX_BLOCK_REQUESTS)
        return;
    for (const auto& [id, other] : m_peers) {
        if (other->partial && other->partial->hash == inventory.hash)
            return;
    }
    m_block_requests.emplace(inventory.hash, m_now_ms);
    Send(peer, GetBlock{inventory.hash});
}

void PeerManager::HandleGetBlock(Peer& peer, const GetBlock& request) {
    const BlockEntry* entry = m_chain.Find(request.hash);
    if (entry == nullptr)
        return;
    std::shared_ptr<const BlockBody> body = m_chain.Body(*entry);
    if (!body)
        return;  // A storage fault (logged); the peer asks someone else after its timeout.
    peer.known.Insert(request.hash);
    Send(peer, MakeCompactBlock(*entry, *body));
}

void PeerManager::HandleCompactBlock(Peer& peer, const CompactBlock& compact) {
    peer.known.Insert(compact.hash);
    m_block_requests.erase(compact.hash);
    if (m_chain.Knows(compact.hash)) {
        // Counted as received (a duplicate), as a repeated AnnounceBlock is.
        ++m_metrics.blocks_received;
        // Ordinary gossip from a second peer; the same peer pushing it again is a repeat.
        if (!peer.announced.Insert(compact.hash))
            PayForFlood(peer, FloodKind::JunkBlocks, REPEATED_BLOCK_COST);
        return;
    }
    const BlockEntry* parent = m_chain.Find(compact.header.ParentHash());
    if (parent == nullptr) {
        // We lack its parent: the locator sync brings the block with its ancestors.
        if (PayForFlood(peer, FloodKind::JunkBlocks, 1))
            RequestSync(peer);
        return;
    }
    // No higher than our tip, it cannot win (SPEC §8, stale blocks): not worth rebuilding. An
    // honest fork at the tip still resolves by the sync the next block of it triggers.
    if (compact.header.index <= m_chain.Height()) {
        PayForFlood(peer, FloodKind::JunkBlocks, 1);
        return;
    }
    // One rebuild per peer: a new one while the last is unfinished pays like junk, so nobody
    // makes us scan the mempool again and again for nothing.
    if (peer.partial && !PayForFlood(peer, FloodKind::JunkBlocks, 1))
        return;
    // Under the tutorial's rules the proof depends only on the header and the parent: checked
    // before any rebuilding work. The header rule's proof covers the transactions too, so it is
    // checked with the rebuilt block (and an invalid one costs its sender a ban there).
    const bool proof_checkable = !PowCommitsToContent(m_chain.Params().pow_rule);
    if (compact.header.index != parent->Height() + 1 ||
        (proof_checkable &&
         !CheckProof(m_chain.Params(), parent->proof, compact.header.proof, parent->HashHex()))) {
        ++m_metrics.invalid_blocks;
        Misbehave(peer, BAN_SCORE, "compact block with a wrong index or proof");
        return;
    }
    ++m_metrics.compact_blocks_rebuilt;
    const Mempool& mempool = m_chain.GetMempool();
    const bool scan = m_rebuild_scans.Take(static_cast<double>(mempool.Size()), m_now_ms);
    if (!scan)
        ++m_metrics.compact_blocks_unscanned;
    peer.partial = StartRebuild(compact, scan ? &mempool : nullptr);
    peer.partial->started_ms = m_now_ms;
    ExpireBlockRequests();
    FinishRebuild(peer);
}

void PeerManager::FinishRebuild(Peer& peer) {
    PartialBlock& partial = *peer.partial;
    if (partial.missing.empty() && BlockHash(partial.block) != partial.hash) {
        if (partial.asked_all) {
            peer.partial.reset();
            Misbehave(peer, BAN_SCORE, "compact block transactions do not match its hash");
            return;
        }
        // A short id collision with our mempool, or a lie: ask for every transaction.
        MissAll(partial);
    }
    if (!partial.missing.empty()) {
        ++m_metrics.compact_blocks_fetched;
        Send(peer, GetBlockTxs{partial.hash, partial.missing});
        return;
    }
    std::vector<Block> one;
    one.push_back(std::move(partial.block));
    peer.partial.reset();
    HandleBlocks(peer, one, false, false);
}

void PeerManager::HandleGetBlockTxs(Peer& peer, const GetBlockTxs& request) {
    const BlockEntry* entry = m_chain.Find(request.hash);
    if (entry == nullptr)
        return;
    const std::shared_ptr<const BlockBody> body = m_chain.Body(*entry);
    if (!body)
        return;
    BlockTxs answer;
    answer.hash = request.hash;
    for (std::uint32_t index : request.indexes) {
        if (index >= body->block.transactions.size()) {
            Misbehave(peer, 50, "GetBlockTxs for a position the block does not have");
            return;
        }
        answer.transactions.push_back(body->block.transactions[index]);
    }
    Send(peer, answer);
}

void PeerManager::HandleBlockTxs(Peer& peer, BlockTxs& answer) {
    if (!peer.partial || peer.partial->hash != answer.hash) {
        PayForFlood(peer, FloodKind::JunkBlocks, 1);
        return;
    }
    if (!FillMissing(*peer.partial, std::move(answer.transactions))) {
        peer.partial.reset();
        Misbehave(peer, 50, "BlockTxs does not answer our GetBlockTxs");
        return;
    }
    FinishRebuild(peer);
}

void PeerManager::ExpireBlockRequests() {
    const std::uint64_t timeout = DEFAULT_BLOCK_REQUEST_TIMEOUT_MS;
    std::erase_if(m_block_requests,
                  [&](const auto& item) { return m_now_ms - item.second > timeout; });
    std::vector<Peer*> rebuilding;
    for (auto& [id, peer] : m_peers) {
        if (!peer->partial)
            continue;
        // Given up: the block comes by another peer's push or announcement, or by sync.
        if (m_now_ms - peer->partial->started_ms > timeout)
            peer->partial.reset();
        else
            rebuilding.push_back(peer.get());
    }
    if (rebuilding.size() <= MAX_PARTIAL_BLOCKS)
        return;
    std::sort(rebuilding.begin(), rebuilding.end(), [](const Peer* a, const Peer* b) {
        return a->partial->started_ms < b->partial->started_ms;
    });
    for (std::size_t i = 0; i + MAX_PARTIAL_BLOCKS < rebuilding.size(); ++i)
        rebuilding[i]->partial.reset();
}

void PeerManager::RelayReceived(const BlockEntry& entry, Peer& from) {
    // The sender has this block (it sent it or a descendant): a later broadcast skips it.
    from.known.Insert(entry.HashHex());
    if (!m_events.HoldRelayUntilStored(entry))
        RelayBlock(entry, &from);
}

void PeerManager::BroadcastBlock(const BlockEntry& entry, std::uint64_t now_ms) {
    m_now_ms = now_ms;
    RelayBlock(entry, nullptr);
}

void PeerManager::RelayTransactions(std::uint64_t now_ms) {
    m_now_ms = now_ms;
    for (auto& [id, peer] : m_peers) {
        if (peer->ready && !peer->closing)
            OfferTransactions(*peer);
    }
}

void PeerManager::RedialHttpOnly() {
    // A gossipchain node may have taken the port of a plain HTTP node over since its last dial.
    m_book.ForEach([](AddressEntry& entry) {
        if (entry.http_only && !entry.dialing)
            entry.next_try_ms = 0;
    });
}

bool PeerManager::LinksUnsettled() const {
    std::unordered_set<std::string> linked;
    for (const auto& [id, peer] : m_peers) {
        if (!peer->ready && !peer->closing)
            return true;
        if (!peer->address_key.empty())
            linked.insert(peer->address_key);
    }
    bool dialing = false;
    m_book.ForEach([&](const AddressEntry& entry) {
        dialing = dialing || (entry.dialing && !linked.count(entry.key));
    });
    return dialing;
}

std::vector<LinkId> PeerManager::SyncEveryPeer(std::uint64_t now_ms) {
    m_now_ms = now_ms;
    std::vector<LinkId> asked;
    for (auto& [id, peer] : m_peers) {
        if (!peer->ready || peer->closing)
            continue;
        peer->sync_watched = true;
        asked.push_back(id);
        ChainSync::Restart(peer->sync);
        RequestSync(*peer);
    }
    return asked;
}

std::vector<PeerView> PeerManager::Peers() const {
    std::vector<PeerView> out;
    std::unordered_set<std::string> linked;
    std::unordered_set<std::string> claimed;
    for (const auto& [id, peer] : m_peers) {
        PeerView view;
        view.address = peer->outbound ? peer->address_key : peer->remote;
        view.inbound = !peer->outbound;
        view.state = peer->ready ? "ready" : "handshake";
        view.node_id = peer->node_id;
        view.key = KeyHex(peer->key);
        view.session_id = peer->session_id;
        view.height = peer->height;
        view.rtt_ms = peer->rtt_ms;
        if (!peer->address_key.empty())
            linked.insert(peer->address_key);
        else if (!peer->claimed_address.empty())
            claimed.insert(peer->claimed_address);
        out.push_back(std::move(view));
    }
    m_book.ForEach([&](const AddressEntry& entry) {
        // A learned address a linked peer claims is shown as that peer; an operator's is shown
        // on its own until a dial proves who is there.
        if (linked.count(entry.key) || entry.self ||
            (!entry.Operator() && claimed.count(entry.key)))
            return;
        PeerView view;
        view.address = entry.key;
        view.state = entry.http_only ? "http-only" : entry.dialing ? "connecting" : "backoff";
        out.push_back(std::move(view));
    });
    return out;
}

}  // namespace gossipchain
