#include "p2p/peer_manager.h"

#include "util/clock.h"
#include "util/hex.h"
#include "util/log.h"

#include <algorithm>

namespace gossipchain {

bool RecentSet::Insert(const std::string& key) {
    if (!m_set.insert(key).second)
        return false;
    m_order.push_back(key);
    if (m_order.size() > m_capacity) {
        m_set.erase(m_order.front());
        m_order.pop_front();
    }
    return true;
}

struct PeerManager::Peer {
    net::Connection* conn = nullptr;
    bool outbound = false;
    /** Table key this link stands for: the dialled address, or the one an inbound peer
     * advertised in Hello/RegisterPeer. Empty when unknown. */
    std::string address_key;
    bool ready = false;
    std::string node_id;
    std::uint64_t height = 0;
    std::string tip;
    int score = 0;
    std::uint64_t opened_ms = 0;
    std::uint64_t last_ping_ms = 0;
    std::uint64_t ping_nonce = 0;
    bool awaiting_pong = false;
    bool syncing = false;
    /** Blocks received for the outstanding RequestChain; its answer may span several batches. */
    std::size_t sync_received = 0;
    /** Loop time (ms) it last gave us a block or a transaction we did not have; 0: never. What
     * protects a useful inbound link from eviction when the inbound slots are full. */
    std::uint64_t last_block_ms = 0;
    std::uint64_t last_tx_ms = 0;
    /** Bytes of side-branch blocks its sync answers made us store that have not yet become the
     * main chain (SPEC §8); reset when its blocks move our tip. */
    std::size_t unproven_side_bytes = 0;
    /** Resolve rounds waiting for this peer's sync to finish. */
    std::vector<std::uint64_t> resolves;
    RecentSet known{MAX_KNOWN_INVENTORY};
    /** Blocks this peer announced to us, to tell a repeat from ordinary relay. */
    RecentSet announced{MAX_ANNOUNCED_REMEMBERED};
    /** Rate limits on what it sends us, and on what we relay to it (SPEC §12). */
    FloodGuard flood{0};
    /** The answer to its last RequestChain still to be sent, paced by its reading (SPEC §9). */
    struct ChainReply {
        /** Blocks are never removed from ChainState, so the entries outlive the answer. */
        std::vector<const BlockEntry*> blocks;
        std::size_t next = 0;
        /** Our chain goes on past the last block of the answer. */
        bool continues = false;
        bool active = false;
    } reply;
    /** Frames held back by link shaping, with the loop time (ms) each is due, in send order. */
    std::deque<std::pair<std::uint64_t, std::string>> delayed;

    std::string Label() const { return conn->RemoteAddress(); }
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

PeerManager::PeerManager(net::EventLoop& loop, ChainState& chain, PeerManagerOptions options,
                         Callbacks callbacks)
    : m_loop(loop),
      m_chain(chain),
      m_options(std::move(options)),
      m_callbacks(std::move(callbacks)),
      m_rng(std::random_device{}()) {}

PeerManager::~PeerManager() = default;

std::string PeerManager::AddressKey(const std::string& host, std::uint16_t port) {
    return FormatHostPort(PeerAddress{host, port});
}

void PeerManager::Start(net::Transport& transport) {
    m_transport = &transport;
    m_tick = std::make_unique<net::Timer>(m_loop);
    m_tick->Start(0, PEER_TICK_MS, [this] { Tick(); });
}

void PeerManager::Stop() {
    m_stopped = true;
    if (m_tick)
        m_tick->Stop();
    for (auto& [id, round] : m_resolves) {
        if (round.timer)
            round.timer->Stop();
    }
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

PeerManager::Peer* PeerManager::PeerOf(net::Connection& conn) const {
    return static_cast<Peer*>(conn.user_data);
}

std::size_t PeerManager::ReadyPeerCount() const {
    return static_cast<std::size_t>(std::count_if(
        m_peers.begin(), m_peers.end(), [](const auto& item) { return item.second->ready; }));
}

void PeerManager::Tick() {
    if (m_stopped)
        return;
    std::uint64_t now = m_loop.NowMs();
    std::vector<Peer*> to_close;
    for (auto& [id, peer] : m_peers) {
        if (!peer->ready) {
            if (now - peer->opened_ms > m_options.handshake_timeout_ms)
                to_close.push_back(peer.get());
            continue;
        }
        if (peer->awaiting_pong && now - peer->last_ping_ms > m_options.ping_timeout_ms) {
            to_close.push_back(peer.get());
        } else if (!peer->awaiting_pong && now - peer->last_ping_ms >= m_options.ping_interval_ms) {
            peer->ping_nonce = m_rng();
            peer->last_ping_ms = now;
            peer->awaiting_pong = true;
            Send(*peer, Ping{peer->ping_nonce});
        }
    }
    for (Peer* peer : to_close) {
        Disconnect(*peer, RejectCode::Timeout, peer->ready ? "ping timeout" : "handshake timeout");
    }

    std::size_t outbound = 0;
    m_book.ForEach([&outbound](const AddressEntry& entry) { outbound += entry.dialing; });
    std::unordered_set<std::string> linked;
    for (const auto& [id, peer] : m_peers) {
        if (!peer->address_key.empty())
            linked.insert(peer->address_key);
    }
    // Dial never calls back before it returns, so no address goes away during this walk.
    m_book.ForEach([&](AddressEntry& entry) {
        if (entry.dialing || entry.self || linked.count(entry.key))
            return;
        if (entry.next_try_ms > now || IsBanned(entry.key) || IsBlocked(entry.key))
            return;
        if (!entry.Operator() && outbound >= m_options.target_outbound)
            return;
        Dial(entry);
        ++outbound;
    });
}

void PeerManager::Dial(AddressEntry& entry) {
    const std::string key = entry.key;
    entry.dialing = true;
    LOG_DEBUG("dialing %s", key.c_str());
    m_transport->Connect(entry.host, entry.port, [this, key](net::Connection* conn, int status) {
        // Entries being dialled are never evicted, so it is still there.
        AddressEntry* dialed = m_book.Find(key);
        if (!conn) {
            if (dialed == nullptr)
                return;
            dialed->dialing = false;
            if (dialed->failures == 0 || LogEnabled(LogLevel::Debug)) {
                LOG_INFO("peer %s unreachable: %s", key.c_str(),
                         net::Transport::ErrorName(status).c_str());
            }
            ScheduleRetry(*dialed, false);
            if (m_book.OnDialFailed(key, m_loop.NowMs()))
                LOG_INFO("peer %s forgotten: it has not answered for too long", key.c_str());
            return;
        }
        if (dialed != nullptr)
            m_book.OnAnswered(key);
        auto peer = std::make_unique<Peer>();
        peer->conn = conn;
        peer->outbound = true;
        peer->address_key = key;
        peer->opened_ms = m_loop.NowMs();
        conn->user_data = peer.get();
        m_peers.emplace(conn->Id(), std::move(peer));
    });
}

void PeerManager::ScheduleRetry(AddressEntry& address, bool was_ready) {
    address.failures = was_ready ? 0 : address.failures + 1;
    std::uint64_t delay = m_options.reconnect_min_ms;
    for (std::uint32_t i = 1; i < address.failures && delay < m_options.reconnect_max_ms; ++i) {
        delay *= 2;
    }
    delay = std::min(delay, m_options.reconnect_max_ms);
    // Jitter of up to half the delay, so nodes restarted together do not redial in lockstep.
    delay += m_rng() % (delay / 2 + 1);
    address.next_try_ms = m_loop.NowMs() + delay;
}

std::string PeerManager::BanKey(const Peer& peer) const {
    // On loopback every local node shares one IP, so banning it would cut off honest neighbours;
    // there the node id (or the exact address before the handshake) is banned instead.
    std::string host = HostOf(peer.conn->RemoteAddress());
    if (!IsLoopback(host))
        return host;
    if (!peer.node_id.empty())
        return "node:" + peer.node_id;
    return peer.conn->RemoteAddress();
}

bool PeerManager::IsBanned(const std::string& key) {
    auto found = m_bans.find(key);
    if (found == m_bans.end())
        return false;
    if (found->second <= m_loop.NowMs()) {
        m_bans.erase(found);
        return false;
    }
    return true;
}

void PeerManager::TrimBans(std::uint64_t now) {
    if (m_bans.size() < MAX_BANS)
        return;
    // Forget expired bans first; if all are live, the table stays bounded by dropping the entry
    // ending soonest.
    std::erase_if(m_bans, [now](const auto& item) { return item.second <= now; });
    while (m_bans.size() >= MAX_BANS) {
        m_bans.erase(
            std::min_element(m_bans.begin(), m_bans.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
}

std::vector<PeerManager::Ban> PeerManager::Bans() const {
    std::uint64_t now = m_loop.NowMs();
    std::vector<Ban> out;
    for (const auto& [key, until] : m_bans) {
        if (until > now)
            out.push_back(Ban{key, until - now});
    }
    return out;
}

void PeerManager::RestoreBan(const std::string& key, std::uint64_t remaining_ms) {
    std::uint64_t now = m_loop.NowMs();
    TrimBans(now);
    std::uint64_t& until = m_bans[key];
    until = std::max(until, now + remaining_ms);
}

void PeerManager::OnOpen(net::Connection& conn) {
    Peer* peer = PeerOf(conn);
    if (!peer) {
        // Inbound: the transport sniffed the magic.
        std::size_t inbound = static_cast<std::size_t>(
            std::count_if(m_peers.begin(), m_peers.end(),
                          [](const auto& item) { return !item.second->outbound; }));
        auto fresh = std::make_unique<Peer>();
        fresh->conn = &conn;
        fresh->opened_ms = m_loop.NowMs();
        conn.user_data = fresh.get();
        peer = fresh.get();
        m_peers.emplace(conn.Id(), std::move(fresh));
        if (IsBanned(BanKey(*peer))) {
            Disconnect(*peer, RejectCode::Banned, "banned");
            return;
        }
        if (inbound >= m_options.max_inbound && !EvictInbound(*peer)) {
            Disconnect(*peer, RejectCode::TooManyPeers, "too many inbound peers");
            return;
        }
    }
    const BlockEntry& tip = m_chain.Tip();
    Hello hello;
    hello.network_id = NetworkId(m_options.params);
    hello.node_id = m_options.node_id;
    hello.listen_port = m_options.listen_port;
    hello.height = tip.Height();
    hello.tip = tip.hash;
    hello.agent = m_options.agent;
    Send(*peer, hello);
}

bool PeerManager::EvictInbound(const Peer& newcomer) {
    // Bitcoin Core's inbound eviction, in small: links that recently gave us new blocks or
    // transactions, and the longest-standing ones, are kept; of the rest, the host with the most
    // links loses its newest. So a newcomer always gets a place, and whoever crowds the node with
    // idle links pays for it, not the peers that are useful.
    std::vector<Peer*> candidates;
    for (auto& [id, owned] : m_peers) {
        Peer* peer = owned.get();
        if (peer != &newcomer && !peer->outbound && !peer->conn->IsClosing())
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
        return std::pair(a->opened_ms, a->conn->Id()) < std::pair(b->opened_ms, b->conn->Id());
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
        by_host[HostOf(peer->conn->RemoteAddress())].push_back(peer);
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

void PeerManager::OnClose(net::Connection& conn, std::string_view reason) {
    Peer* peer = PeerOf(conn);
    if (!peer)
        return;
    LOG_INFO("peer %s disconnected: %.*s", peer->Label().c_str(), static_cast<int>(reason.size()),
             reason.data());
    if (peer->ready && m_observers.on_peer_link)
        m_observers.on_peer_link(EventLabel(*peer), false, reason);
    // The transport closes a link whose frame is over MAX_FRAME_BYTES before we see it; SPEC §12
    // scores that 100. An outbound link that never completed the handshake is exempt: that is how
    // a plain HTTP server (a tutorial node) answers our magic.
    if (conn.CloseCode() == net::CloseReason::FrameTooLarge && (!peer->outbound || peer->ready))
        Misbehave(*peer, BAN_SCORE, "frame over MAX_FRAME_BYTES");
    if (peer->outbound) {
        if (AddressEntry* found = m_book.Find(peer->address_key)) {
            AddressEntry& entry = *found;
            entry.dialing = false;
            // An HTTP server answers our magic with a status line, or, as Python's http.server
            // (the tutorial's Flask) does, with a bare HTML page read as an oversized frame.
            // That says what serves the port now; a port that spoke gossip before (or --peer)
            // is only retried sooner.
            const bool answered_http =
                !peer->ready && (conn.CloseCode() == net::CloseReason::PeerSpeaksHttp ||
                                 conn.CloseCode() == net::CloseReason::FrameTooLarge);
            if (answered_http && !entry.gossip_capable) {
                if (!entry.http_only) {
                    LOG_INFO("peer %s is a plain HTTP node; /nodes/resolve will fetch its /chain",
                             peer->address_key.c_str());
                }
                entry.http_only = true;
            }
            ScheduleRetry(entry, peer->ready);
            if (entry.http_only)
                entry.next_try_ms = m_loop.NowMs() + m_options.http_only_redial_ms;
            // Connected but never a peer (another network, refused, silent): that is no better
            // than unreachable for keeping the address. A tutorial node stays: it answered.
            if (!peer->ready && !entry.http_only)
                m_book.OnDialFailed(peer->address_key, m_loop.NowMs());
        }
    }
    FinishResolve(*peer);
    conn.user_data = nullptr;
    m_peers.erase(conn.Id());
}

void PeerManager::Send(Peer& peer, const Message& message) {
    SendEncoded(peer, TypeOf(message), EncodeMessage(message));
}

void PeerManager::SendEncoded(Peer& peer, MessageType type, std::string_view payload) {
    m_metrics.bytes_out_by_type[std::string(MessageTypeName(type))] += payload.size() + 4;
    // Frames queued before shaping was switched off still go first, to keep the link's order.
    if (m_delay_ms == 0 && m_jitter_ms == 0 && peer.delayed.empty()) {
        peer.conn->SendFrame(payload);
        return;
    }
    DelayFrame(peer, payload);
}

std::string PeerManager::EventLabel(const Peer& peer) {
    return peer.address_key.empty() ? peer.conn->RemoteAddress() : peer.address_key;
}

void PeerManager::SetLinkShaping(LinkShaping shaping) {
    m_delay_ms = shaping.delay_ms;
    m_jitter_ms = std::min(shaping.jitter_ms, shaping.delay_ms);
    std::unordered_set<std::string> blocked(shaping.blocked.begin(), shaping.blocked.end());
    for (const std::string& key : m_blocked) {
        AddressEntry* found = m_book.Find(key);
        // A healed address is dialled on the next tick, not after its backoff.
        if (!blocked.count(key) && found != nullptr)
            found->next_try_ms = 0;
    }
    m_blocked = std::move(blocked);
    for (auto& [id, peer] : m_peers) {
        if (IsBlocked(peer->address_key) && !peer->conn->IsClosing())
            peer->conn->Close("blocked by link shaping");
    }
    LOG_INFO("link shaping: delay %llu ms, jitter %llu ms, %zu blocked",
             static_cast<unsigned long long>(m_delay_ms),
             static_cast<unsigned long long>(m_jitter_ms), m_blocked.size());
    Tick();
}

void PeerManager::DelayFrame(Peer& peer, std::string_view payload) {
    std::uint64_t now = m_loop.NowMs();
    std::uint64_t due = now + m_delay_ms - m_jitter_ms;
    if (m_jitter_ms != 0)
        due += m_rng() % (2 * m_jitter_ms + 1);
    // Never before the frame queued ahead of it: jitter must not reorder one link's frames.
    if (!peer.delayed.empty())
        due = std::max(due, peer.delayed.back().first);
    peer.delayed.emplace_back(due, std::string(payload));
    if (!m_delay_timer)
        m_delay_timer = std::make_unique<net::Timer>(m_loop);
    if (peer.delayed.size() == 1)
        FlushDelayed();
}

void PeerManager::FlushDelayed() {
    std::uint64_t now = m_loop.NowMs();
    std::uint64_t next = UINT64_MAX;
    for (auto& [id, peer] : m_peers) {
        auto& queue = peer->delayed;
        while (!queue.empty() && queue.front().first <= now) {
            if (!peer->conn->IsClosing())
                peer->conn->SendFrame(queue.front().second);
            queue.pop_front();
        }
        if (!queue.empty())
            next = std::min(next, queue.front().first);
    }
    if (next != UINT64_MAX)
        m_delay_timer->Start(next - now, 0, [this] { FlushDelayed(); });
}

void PeerManager::Disconnect(Peer& peer, RejectCode code, const std::string& reason) {
    if (peer.conn->IsClosing())
        return;
    Send(peer, Reject{static_cast<std::uint32_t>(code), reason.substr(0, MAX_REJECT_REASON_BYTES)});
    peer.conn->CloseAfterWrites(reason);
}

void PeerManager::Misbehave(Peer& peer, int score, const std::string& why) {
    peer.score += score;
    LOG_WARN("peer %s misbehaved (+%d, now %d): %s", peer.Label().c_str(), score, peer.score,
             why.c_str());
    if (peer.score >= BAN_SCORE) {
        std::uint64_t now = m_loop.NowMs();
        std::uint64_t until = now + m_options.ban_ms;
        TrimBans(now);
        m_bans[BanKey(peer)] = until;
        // BanKey alone misses the peer's other ways back: once known, its node id is banned too
        // (a non-loopback peer returning from another address is caught at its Hello), and the
        // address we dialled, which Tick checks before redialling a persistent peer.
        if (!peer.node_id.empty())
            m_bans["node:" + peer.node_id] = until;
        if (peer.outbound && !peer.address_key.empty())
            m_bans[peer.address_key] = until;
        ++m_metrics.bans;
        LOG_WARN("peer %s banned for %llu s", peer.Label().c_str(),
                 static_cast<unsigned long long>(m_options.ban_ms / 1000));
        if (m_callbacks.on_banned)
            m_callbacks.on_banned();
        Disconnect(peer, RejectCode::Misbehaving, why);
    }
}

bool PeerManager::PayForFlood(Peer& peer, FloodKind kind, double cost) {
    if (peer.flood.Allow(kind, cost, m_loop.NowMs()))
        return true;
    ++m_metrics.flood_drops;
    Misbehave(peer, FLOOD_PENALTY, std::string("flooding: ") + FloodKindName(kind));
    return false;
}

bool PeerManager::PayForMessage(Peer& peer, const Message& message) {
    // Blocks and chain requests pay in their handlers, once it is known what they were worth.
    switch (TypeOf(message)) {
        case MessageType::AnnounceBlock:
        case MessageType::RequestChain:
            return true;
        case MessageType::Chain:
            // The answer to our RequestChain is free; a Chain nobody asked for is not.
            return peer.syncing || PayForFlood(peer, FloodKind::Control, 1);
        case MessageType::NewTransactions: {
            std::size_t count = std::get<NewTransactions>(message).transactions.size();
            return PayForFlood(peer, FloodKind::TxsReceived,
                               static_cast<double>(std::max<std::size_t>(count, 1)));
        }
        case MessageType::Peers: {
            std::size_t count = std::get<gossipchain::Peers>(message).addresses.size();
            return PayForFlood(peer, FloodKind::Addresses,
                               static_cast<double>(std::max<std::size_t>(count, 1)));
        }
        default:
            return PayForFlood(peer, FloodKind::Control, 1);
    }
}

void PeerManager::OnFrame(net::Connection& conn, std::string_view payload) {
    Peer* peer = PeerOf(conn);
    if (!peer || conn.IsClosing())
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
            conn.Close("rejected: " + reject.reason);
            return;
        }
        Misbehave(*peer, BAN_SCORE, std::string(MessageTypeName(type)) + " before Hello");
        return;
    }
    if (!PayForMessage(*peer, message))
        return;
    std::visit(
        [&](auto& body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, Hello>) {
                HandleHello(*peer, body);
            } else if constexpr (std::is_same_v<T, Ping>) {
                Send(*peer, Pong{body.nonce});
            } else if constexpr (std::is_same_v<T, Pong>) {
                if (body.nonce == peer->ping_nonce)
                    peer->awaiting_pong = false;
            } else if constexpr (std::is_same_v<T, AnnounceBlock>) {
                std::vector<Block> one;
                one.push_back(std::move(body.block));
                HandleBlocks(*peer, one, false, false);
            } else if constexpr (std::is_same_v<T, RequestChain>) {
                HandleRequestChain(*peer, body);
            } else if constexpr (std::is_same_v<T, Chain>) {
                HandleBlocks(*peer, body.blocks, true, body.more);
            } else if constexpr (std::is_same_v<T, RegisterPeer>) {
                // Port 0 is nothing anyone can dial; taking it would only fill the table.
                if (body.port == 0)
                    return;
                std::string host = body.host.empty() ? HostOf(conn.RemoteAddress()) : body.host;
                AddAddress(PeerAddress{host, body.port}, AddressOrigin::Learned,
                           HostOf(conn.RemoteAddress()));
                if (!peer->outbound)
                    peer->address_key = AddressKey(host, body.port);
            } else if constexpr (std::is_same_v<T, gossipchain::Peers>) {
                HandlePeers(*peer, body.addresses);
            } else if constexpr (std::is_same_v<T, NewTransactions>) {
                HandleTransactions(*peer, body.transactions);
            } else if constexpr (std::is_same_v<T, Reject>) {
                LOG_WARN("peer %s rejected: %s", peer->Label().c_str(), body.reason.c_str());
                conn.Close("rejected: " + body.reason);
            }
        },
        message);
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
        Disconnect(peer, RejectCode::WrongNetwork, "wrong network: we are " + ours);
        return;
    }
    if (hello.node_id == m_options.node_id) {
        if (peer.outbound) {
            if (AddressEntry* found = m_book.Find(peer.address_key))
                found->self = true;
        }
        peer.conn->Close("connected to ourselves");
        return;
    }
    if (IsBanned("node:" + hello.node_id)) {
        Disconnect(peer, RejectCode::Banned, "banned");
        return;
    }
    for (auto& [id, other] : m_peers) {
        if (other.get() == &peer || !other->ready || other->node_id != hello.node_id)
            continue;
        // Two links to one node (both dialled at once). Keep, on both ends, the link dialled by
        // the smaller node id, so the two ends agree on which one survives.
        bool we_are_smaller = m_options.node_id < hello.node_id;
        bool keep_new = peer.outbound == we_are_smaller;
        Peer& loser = keep_new ? *other : peer;
        loser.conn->Close("duplicate link");
        if (!keep_new)
            return;
        break;
    }
    if (!peer.outbound && hello.listen_port != 0 &&
        IsBlocked(AddressKey(HostOf(peer.conn->RemoteAddress()), hello.listen_port))) {
        peer.conn->Close("blocked by link shaping");
        return;
    }
    peer.node_id = hello.node_id;
    peer.height = hello.height;
    peer.tip = hello.tip;
    peer.ready = true;
    peer.last_ping_ms = m_loop.NowMs();
    if (!peer.outbound && hello.listen_port != 0) {
        std::string host = HostOf(peer.conn->RemoteAddress());
        AddAddress(PeerAddress{host, hello.listen_port}, AddressOrigin::Learned, host);
        peer.address_key = AddressKey(host, hello.listen_port);
    }
    if (peer.outbound) {
        if (AddressEntry* entry = m_book.Find(peer.address_key)) {
            entry->last_seen_s = static_cast<std::int64_t>(WallSeconds());
            entry->failures = 0;
            entry->gossip_capable = true;
            entry->http_only = false;
        }
    }
    LOG_INFO("peer %s connected (%s, node %s, height %llu)", peer.Label().c_str(),
             peer.outbound ? "outbound" : "inbound", ShortHash(hello.node_id).c_str(),
             static_cast<unsigned long long>(hello.height));
    if (m_observers.on_peer_link)
        m_observers.on_peer_link(EventLabel(peer), true, {});
    if (m_options.listen_port != 0)
        Send(peer, RegisterPeer{"", m_options.listen_port});
    gossipchain::Peers share;
    m_book.ForEach([&](const AddressEntry& entry) {
        if (share.addresses.size() < PEERS_TO_SHARE && entry.key != peer.address_key && !entry.self)
            share.addresses.push_back(entry.key);
    });
    if (!share.addresses.empty())
        Send(peer, share);
    if (!m_chain.Knows(hello.tip))
        RequestSync(peer);
}

void PeerManager::RequestSync(Peer& peer) {
    if (peer.syncing)
        return;
    peer.syncing = true;
    peer.sync_received = 0;
    Send(peer, RequestChain{m_chain.Locator(), MAX_CHAIN_REQUEST_BLOCKS});
}

bool PeerManager::UnprovenSideBudgetSpent(const Peer& peer) const {
    return peer.unproven_side_bytes >= MAX_UNPROVEN_SIDE_BYTES_PER_PEER ||
           m_unproven_side_bytes >= MAX_UNPROVEN_SIDE_BYTES;
}

std::uint64_t PeerManager::ClaimedHeight(const Peer& peer, const std::vector<Block>& blocks,
                                         bool from_chain, bool more) const {
    // An announced block claims nothing beyond itself: one no higher than our tip off the main
    // chain is not kept (the sender's next block, an orphan to us, brings it back by sync).
    // A Chain we did not ask for claims nothing either: whoever pushes one may only extend.
    if (!from_chain || !peer.syncing)
        return 0;
    if (UnprovenSideBudgetSpent(peer))
        return 0;
    // A sync answer claims the end of its batch, or, with more to come, the height the peer said
    // it has: a reorg deeper than one batch stores side blocks before its branch wins.
    std::uint64_t claimed = 0;
    for (const Block& block : blocks)
        claimed = std::max(claimed, block.index);
    return more ? std::max(claimed, peer.height) : claimed;
}

void PeerManager::HandleBlocks(Peer& peer, std::vector<Block>& blocks, bool from_chain, bool more) {
    double now = WallSeconds();
    const BlockEntry* old_tip = &m_chain.Tip();
    BlockResult last_change;
    bool progressed = false;
    bool orphan = false;
    std::uint64_t claimed = ClaimedHeight(peer, blocks, from_chain, more);
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
                peer.last_block_ms = m_loop.NowMs();
                for (const BlockEntry* entry : result.connected) {
                    LOG_INFO("block %llu %s accepted from %s",
                             static_cast<unsigned long long>(entry->Height()),
                             ShortHash(entry->hash).c_str(), peer.Label().c_str());
                    if (m_observers.on_block_seen)
                        m_observers.on_block_seen(entry->hash, entry->Height(), EventLabel(peer));
                    if (!from_chain)
                        RelayReceived(*entry, peer);
                }
                if (result.reorg_depth > 0) {
                    LOG_INFO("reorg depth %zu: tip %s -> %s", result.reorg_depth,
                             ShortHash(result.old_tip).c_str(),
                             ShortHash(m_chain.Tip().hash).c_str());
                    if (m_observers.on_reorg) {
                        m_observers.on_reorg(result.reorg_depth, result.old_tip,
                                             m_chain.Tip().hash);
                    }
                }
                last_change = std::move(result);
                break;
            case BlockStatus::SideBranch:
                progressed = true;
                LOG_DEBUG("block %s from %s stored on a side branch",
                          ShortHash(result.hash).c_str(), peer.Label().c_str());
                if (const BlockEntry* entry = m_chain.Find(result.hash)) {
                    peer.unproven_side_bytes += entry->json.size();
                    m_unproven_side_bytes += entry->json.size();
                }
                if (UnprovenSideBudgetSpent(peer))
                    claimed = 0;
                if (m_observers.on_block_seen) {
                    const BlockEntry* entry = m_chain.Find(result.hash);
                    m_observers.on_block_seen(result.hash, entry ? entry->Height() : 0,
                                              EventLabel(peer));
                }
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
                if (peer.conn->IsClosing())
                    return;
                break;
        }
    }
    if (&m_chain.Tip() != old_tip) {
        // Its side blocks won (or were overtaken): they no longer count as unproven.
        m_unproven_side_bytes -= std::min(m_unproven_side_bytes, peer.unproven_side_bytes);
        peer.unproven_side_bytes = 0;
        if (from_chain)
            RelayReceived(m_chain.Tip(), peer);
        if (m_callbacks.on_tip_changed)
            m_callbacks.on_tip_changed(last_change);
    }
    if (from_chain) {
        // One RequestChain is answered with up to MAX_CHAIN_REQUEST_BLOCKS blocks in several
        // batches; ask for the next stretch only when this answer is complete.
        peer.sync_received += blocks.size();
        if (!more || !progressed) {
            peer.syncing = false;
            FinishResolve(peer);
        } else if (peer.sync_received >= MAX_CHAIN_REQUEST_BLOCKS || blocks.empty()) {
            peer.syncing = false;
            RequestSync(peer);
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
    std::size_t limit = std::min<std::size_t>(request.limit, MAX_CHAIN_REQUEST_BLOCKS);
    std::vector<const BlockEntry*> blocks = m_chain.BlocksAfterLocator(request.locator, limit);
    // An honest peer asks for blocks it lacks; asking again for what it already has (or asking
    // when there is nothing to send) only makes us work.
    if (blocks.empty() ? !PayForFlood(peer, FloodKind::Control, 1)
                       : peer.known.Contains(blocks.front()->hash) &&
                             !PayForFlood(peer, FloodKind::RedundantRequests, 1)) {
        return;
    }
    std::uint64_t last_height = blocks.empty() ? m_chain.Height() : blocks.back()->Height();
    // A new request replaces an answer still being sent: an honest peer asks again only once
    // it has read the last one.
    Peer::ChainReply& reply = peer.reply;
    reply.blocks = std::move(blocks);
    reply.next = 0;
    reply.continues = last_height < m_chain.Height();
    reply.active = true;
    SendChainReply(peer);
}

std::size_t PeerManager::QueuedBytes(const Peer& peer) {
    std::size_t bytes = peer.conn->QueuedBytes();
    for (const auto& [due, frame] : peer.delayed)
        bytes += frame.size();
    return bytes;
}

void PeerManager::SendChainReply(Peer& peer) {
    Peer::ChainReply& reply = peer.reply;
    // One batch at a time while the peer keeps reading: a peer that asks and never reads holds
    // at most this low-water mark and one batch of our memory, not the whole answer.
    while (reply.active && !peer.conn->IsClosing() &&
           QueuedBytes(peer) < CHAIN_REPLY_LOW_WATER_BYTES) {
        Chain batch;
        // Bounded by count and by size, so a batch always fits one frame (the msgpack form of a
        // block is smaller than its JSON form, which is counted here).
        std::size_t batch_bytes = 0;
        for (; reply.next < reply.blocks.size() && batch.blocks.size() < MAX_CHAIN_BATCH_BLOCKS;
             ++reply.next) {
            const BlockEntry* entry = reply.blocks[reply.next];
            if (!batch.blocks.empty() && batch_bytes + entry->json.size() > MAX_CHAIN_BATCH_BYTES)
                break;
            batch_bytes += entry->json.size();
            batch.blocks.push_back(entry->block);
            peer.known.Insert(entry->hash);
        }
        bool last = reply.next >= reply.blocks.size();
        batch.more = !last || reply.continues;
        if (last) {
            reply.active = false;
            reply.blocks = {};
        }
        Send(peer, batch);
    }
}

void PeerManager::OnWritable(net::Connection& conn) {
    Peer* peer = PeerOf(conn);
    if (peer != nullptr && peer->reply.active)
        SendChainReply(*peer);
}

void PeerManager::HandleTransactions(Peer& peer, const std::vector<Transaction>& txs) {
    std::vector<Transaction> accepted;
    for (const Transaction& tx : txs) {
        ++m_metrics.txs_received;
        TxResult result = m_chain.SubmitTransaction(tx, TxOrigin::Relay);
        if (!result.txid.empty())
            peer.known.Insert(result.txid);
        if (result.status == TxStatus::Accepted) {
            peer.last_tx_ms = m_loop.NowMs();
            accepted.push_back(tx);
            if (m_observers.on_tx_seen)
                m_observers.on_tx_seen(result.txid, EventLabel(peer));
            if (m_callbacks.on_transaction)
                m_callbacks.on_transaction(tx);
        } else if (result.status == TxStatus::Invalid) {
            Misbehave(peer, 10, "invalid transaction: " + result.validation.ToString());
            if (peer.conn->IsClosing())
                return;
        }
    }
    if (!accepted.empty())
        BroadcastTransactions(accepted);
}

void PeerManager::HandlePeers(Peer& peer, const std::vector<std::string>& addresses) {
    std::string source = HostOf(peer.conn->RemoteAddress());
    for (const std::string& text : addresses) {
        PeerAddress address;
        if (ParseHostPort(text, address))
            AddAddress(address, AddressOrigin::Learned, source);
    }
}

void PeerManager::RelayBlock(const BlockEntry& entry, const Peer* except) {
    std::string payload;
    for (auto& [id, peer] : m_peers) {
        if (peer.get() == except || !peer->ready || peer->known.Contains(entry.hash))
            continue;
        if (payload.empty())
            payload = EncodeMessage(AnnounceBlock{entry.block});
        peer->known.Insert(entry.hash);
        SendEncoded(*peer, MessageType::AnnounceBlock, payload);
        ++m_metrics.blocks_relayed;
    }
}

void PeerManager::RelayReceived(const BlockEntry& entry, Peer& from) {
    if (!m_callbacks.relay_when_stored)
        return RelayBlock(entry, &from);
    // The sender has this block (it sent it or a descendant): a later broadcast skips it.
    from.known.Insert(entry.hash);
    m_callbacks.relay_when_stored(entry);
}

void PeerManager::BroadcastBlock(const BlockEntry& entry) {
    RelayBlock(entry, nullptr);
}

void PeerManager::BroadcastTransactions(const std::vector<Transaction>& txs) {
    std::vector<std::string> txids;
    txids.reserve(txs.size());
    for (const Transaction& tx : txs)
        txids.push_back(TxId(tx));
    std::uint64_t now_ms = m_loop.NowMs();
    for (auto& [id, peer] : m_peers) {
        if (!peer->ready)
            continue;
        NewTransactions message;
        for (std::size_t i = 0; i < txs.size(); ++i) {
            if (peer->known.Contains(txids[i]))
                continue;
            // Over our relay budget to this peer the transaction stays in our mempool only
            // (to be mined here); sending it anyway would trip the peer's own limit.
            if (!peer->flood.Allow(FloodKind::TxsRelayed, 1, now_ms)) {
                ++m_metrics.txs_relay_skipped;
                continue;
            }
            peer->known.Insert(txids[i]);
            message.transactions.push_back(txs[i]);
            if (message.transactions.size() == MAX_TXS_PER_MESSAGE) {
                m_metrics.txs_relayed += message.transactions.size();
                Send(*peer, message);
                message.transactions.clear();
            }
        }
        if (!message.transactions.empty()) {
            m_metrics.txs_relayed += message.transactions.size();
            Send(*peer, message);
        }
    }
}

void PeerManager::SyncAll(std::function<void()> done) {
    std::uint64_t id = m_next_resolve++;
    ResolveRound& round = m_resolves[id];
    round.done = std::move(done);
    round.deadline_ms = m_loop.NowMs() + m_options.resolve_settle_ms;
    // Plain HTTP nodes are asked for gossip again now: a gossipchain node may have taken the port
    // over since their last dial.
    m_book.ForEach([](AddressEntry& entry) {
        if (entry.http_only && !entry.dialing)
            entry.next_try_ms = 0;
    });
    // Dial what was registered a moment ago, so the tutorial's register-then-resolve works.
    Tick();
    round.timer = std::make_unique<net::Timer>(m_loop);
    round.timer->Start(0, RESOLVE_STEP_MS, [this, id] { StepResolve(id); });
}

bool PeerManager::LinksUnsettled() const {
    std::unordered_set<std::string> linked;
    for (const auto& [conn_id, peer] : m_peers) {
        if (!peer->ready && !peer->conn->IsClosing())
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

void PeerManager::StepResolve(std::uint64_t id) {
    auto found = m_resolves.find(id);
    if (found == m_resolves.end())
        return;
    ResolveRound& round = found->second;
    std::uint64_t now = m_loop.NowMs();
    if (round.started) {
        if (now >= round.deadline_ms)
            CompleteResolve(id);
        return;
    }
    if (LinksUnsettled() && now < round.deadline_ms)
        return;
    round.started = true;
    round.deadline_ms = now + m_options.resolve_timeout_ms;
    for (auto& [conn_id, peer] : m_peers) {
        if (!peer->ready || peer->conn->IsClosing())
            continue;
        peer->resolves.push_back(id);
        ++round.pending;
        peer->syncing = false;
        RequestSync(*peer);
    }
    if (round.pending == 0)
        CompleteResolve(id);
}

void PeerManager::CompleteResolve(std::uint64_t id) {
    auto found = m_resolves.find(id);
    if (found == m_resolves.end())
        return;
    auto callback = std::move(found->second.done);
    found->second.timer->Stop();
    // The timer may be the one running this call: destroy it on a later loop turn.
    auto timer = std::shared_ptr<net::Timer>(std::move(found->second.timer));
    m_resolves.erase(found);
    m_loop.Post([timer] {});
    callback();
}

void PeerManager::FinishResolve(Peer& peer) {
    std::vector<std::uint64_t> rounds = std::move(peer.resolves);
    peer.resolves.clear();
    for (std::uint64_t id : rounds) {
        auto found = m_resolves.find(id);
        if (found != m_resolves.end() && --found->second.pending == 0)
            CompleteResolve(id);
    }
}

std::vector<PeerView> PeerManager::Peers() const {
    std::vector<PeerView> out;
    std::unordered_set<std::string> linked;
    for (const auto& [id, peer] : m_peers) {
        PeerView view;
        view.address = peer->outbound ? peer->address_key : peer->conn->RemoteAddress();
        view.inbound = !peer->outbound;
        view.state = peer->ready ? "ready" : "handshake";
        view.node_id = peer->node_id;
        view.height = peer->height;
        if (!peer->address_key.empty())
            linked.insert(peer->address_key);
        out.push_back(std::move(view));
    }
    m_book.ForEach([&](const AddressEntry& entry) {
        if (linked.count(entry.key) || entry.self)
            return;
        PeerView view;
        view.address = entry.key;
        view.state = entry.http_only ? "http-only" : entry.dialing ? "connecting" : "backoff";
        out.push_back(std::move(view));
    });
    return out;
}

}  // namespace gossipchain
