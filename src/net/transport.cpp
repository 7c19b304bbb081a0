#include "net/transport.h"

#include "net/uv_handle.h"
#include "util/log.h"

#include <algorithm>
#include <cstring>

namespace gossipchain::net {

namespace {

int ParseBindAddress(const std::string& host, uint16_t port, sockaddr_storage* addr) {
    if (host.find(':') != std::string::npos) {
        return uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(addr));
    }
    return uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(addr));
}

/** Accepts the pending connection and closes it at once, so the listener keeps accepting. */
void RejectPending(uv_stream_t* server) {
    auto* handle = UvHandle<uv_tcp_t>::Create(
        nullptr, [&](uv_tcp_t* t) { return uv_tcp_init(server->loop, t); });
    if (handle == nullptr)
        return;
    uv_accept(server, handle->Stream());
    handle->Close();
}

}  // namespace

Transport::Transport(EventLoop& loop, TransportOptions options, ConnectionHandler& gossip,
                     ConnectionHandler& http)
    : m_loop(loop),
      m_options(std::move(options)),
      m_gossip(gossip),
      m_http(http),
      m_read_buffer(DEFAULT_READ_BUFFER_BYTES) {}

Transport::~Transport() {
    if (m_listener != nullptr)
        m_listener->Release();
    // Each Connection releases its handles; their close callbacks then only free memory.
    m_connections.clear();
}

int Transport::Listen() {
    if (m_listener != nullptr)
        return UV_EALREADY;
    sockaddr_storage addr{};
    int rc = ParseBindAddress(m_options.bind, m_options.port, &addr);
    if (rc != 0)
        return rc;
    m_listener = UvHandle<uv_tcp_t>::Create(
        this, [&](uv_tcp_t* t) { return uv_tcp_init(LoopOf(m_loop), t); }, &rc);
    if (m_listener == nullptr)
        return rc;
    rc = uv_tcp_bind(m_listener->Get(), reinterpret_cast<const sockaddr*>(&addr), 0);
    if (rc == 0) {
        rc = uv_listen(m_listener->Stream(), DEFAULT_LISTEN_BACKLOG, &Transport::OnConnection);
    }
    if (rc != 0) {
        m_listener->Close();
        m_listener = nullptr;
    }
    return rc;
}

uint16_t Transport::Port() const {
    if (m_listener == nullptr)
        return 0;
    sockaddr_storage addr{};
    int len = sizeof(addr);
    if (uv_tcp_getsockname(m_listener->Get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        return 0;
    }
    if (addr.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
    }
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

void Transport::OnConnection(uv_stream_s* server, int status) {
    auto* self = UvHandleBase::OwnerOf<Transport>(server);
    if (self == nullptr)
        return;
    CallbackGuard("connection", [&] {
        if (status < 0) {
            LOG_WARN("net: accept failed: %s", ErrorName(status).c_str());
            return;
        }
        Connection* conn = self->NewConnection(/*inbound=*/true);
        if (conn == nullptr) {
            RejectPending(server);
            return;
        }
        const int rc = uv_accept(server, conn->m_tcp->Stream());
        if (rc != 0) {
            conn->Close(CloseReason::ReadError, "accept failed: " + ErrorName(rc));
            return;
        }
        conn->OnAccepted();
        if (!self->Admit(*conn))
            conn->Close(CloseReason::Evicted, "connection limit reached");
    });
}

void Transport::Connect(const std::string& host, uint16_t port, ConnectDone done) {
    Connection* conn = NewConnection(/*inbound=*/false);
    if (conn == nullptr) {
        // Keep the promise that done never runs before Connect returns.
        m_loop.Post([done = std::move(done)] { done(nullptr, UV_ENOMEM); });
        return;
    }
    conn->StartConnect(host, port, std::move(done));
}

void Transport::CloseAll(std::string_view reason) {
    if (m_listener != nullptr) {
        m_listener->Close();
        m_listener = nullptr;
    }
    // Close() never erases from the map (that happens in the close callback), so this is safe.
    for (auto& entry : m_connections)
        entry.second->Close(CloseReason::Shutdown, reason);
}

bool Transport::IsIdle(const Connection& conn) {
    if (!conn.m_inbound || conn.IsClosing() || conn.QueuedBytes() != 0)
        return false;
    // A connection that has not said what it is yet holds nothing; an HTTP one asks its handler.
    if (conn.m_kind == ConnectionKind::Pending)
        return conn.m_bytes_in == 0;
    return conn.m_kind == ConnectionKind::Http && conn.m_handler->IsIdle(conn);
}

bool Transport::EvictIdle(const std::string* ip, const Connection& newcomer) {
    // Of the host holding the most places first, so the newcomer's place comes from whoever
    // crowds the node; then from anyone.
    std::string crowded;
    if (ip == nullptr) {
        size_t most = 0;
        for (const auto& [host, count] : m_per_ip) {
            if (count > most) {
                most = count;
                crowded = host;
            }
        }
    }
    for (int pass = 0; pass < 2; ++pass) {
        Connection* victim = nullptr;
        for (auto& [id, owned] : m_connections) {
            Connection& conn = *owned;
            if (&conn == &newcomer || !IsIdle(conn))
                continue;
            if (ip != nullptr ? conn.RemoteIp() != *ip : pass == 0 && conn.RemoteIp() != crowded)
                continue;
            // Silent longest first; of two silent since the same millisecond, the older one.
            if (victim == nullptr || std::pair(conn.m_last_read_ms, conn.Id()) <
                                         std::pair(victim->m_last_read_ms, victim->Id()))
                victim = &conn;
        }
        if (victim != nullptr) {
            ++m_evictions;
            LOG_INFO("net: closing idle connection %s to make room",
                     victim->RemoteAddress().c_str());
            victim->Close(CloseReason::Evicted, "idle connection closed to make room");
            return true;
        }
        if (ip != nullptr)
            break;
    }
    return false;
}

bool Transport::Admit(Connection& conn) {
    std::string ip = conn.RemoteIp();
    size_t& from_ip = m_per_ip[ip];
    ++from_ip;
    conn.m_counted_ip = true;
    // Closing connections still count until their close callback: count the live ones.
    auto live = [this](const std::string* only) {
        size_t n = 0;
        for (const auto& [id, owned] : m_connections) {
            if (owned->m_inbound && !owned->IsClosing() && (!only || owned->RemoteIp() == *only))
                ++n;
        }
        return n;
    };
    // Every local tool, node and netsim on this machine connects from 127.0.0.1 (or ::1): a cap on
    // that one address would shut the operator out along with an attacker. Other addresses,
    // 127.0.0.2 and up included, are capped (tests and netsim's --netns mode use them as hosts).
    const bool shared_loopback = ip == "127.0.0.1" || ip == "::1";
    if (!shared_loopback && from_ip > m_options.max_connections_per_ip &&
        live(&ip) > m_options.max_connections_per_ip) {
        if (!EvictIdle(&ip, conn)) {
            LOG_WARN("net: %zu connections from %s, refusing another", from_ip - 1, ip.c_str());
            return false;
        }
    }
    if (m_inbound_count > m_options.max_connections && live(nullptr) > m_options.max_connections) {
        if (!EvictIdle(nullptr, conn)) {
            LOG_WARN("net: %zu inbound connections, refusing another", m_inbound_count - 1);
            return false;
        }
    }
    return true;
}

bool Transport::MakeRoomForWrite(Connection& writer, size_t bytes) {
    const size_t cap = m_options.max_total_write_queue_bytes;
    if (m_write_budget->queued + bytes <= cap)
        return true;
    return FreeWriteBudget(cap - std::min(cap, bytes), &writer);
}

bool Transport::FreeWriteBudget(size_t target, const Connection* writer) {
    // Counted as a connection's pending writes: what its unfinished writes keep allocated (the
    // kernel may hold part of them). Bytes of connections already closing go when they close.
    size_t doomed = 0;
    std::vector<Connection*> hogs;
    for (auto& [id, owned] : m_connections) {
        Connection& conn = *owned;
        if (conn.IsClosing())
            doomed += conn.PendingWriteBytes();
        else if (conn.PendingWriteBytes() > 0)
            hogs.push_back(&conn);
    }
    std::sort(hogs.begin(), hogs.end(), [](const Connection* a, const Connection* b) {
        return a->PendingWriteBytes() > b->PendingWriteBytes();
    });
    auto fits = [&] {
        return m_write_budget->queued - std::min(doomed, m_write_budget->queued) <= target;
    };
    for (Connection* hog : hogs) {
        if (fits())
            return true;
        if (hog == writer)
            return false;
        doomed += hog->PendingWriteBytes();
        LOG_WARN(
            "net: %zu bytes wait for the kernel node-wide; closing %s, which reads what it "
            "asked for slowest (%zu bytes unread)",
            m_write_budget->queued, hog->RemoteAddress().c_str(), hog->PendingWriteBytes());
        hog->Close(CloseReason::WriteQueueFull, "node-wide write queue full");
    }
    return fits();
}

std::string Transport::ErrorName(int status) {
    return uv_strerror(status);
}

Connection* Transport::NewConnection(bool inbound) {
    std::unique_ptr<Connection> conn(new Connection(*this, m_next_id++, inbound));
    const int rc = conn->Init();
    if (rc != 0) {
        LOG_ERROR("net: cannot create a connection: %s", ErrorName(rc).c_str());
        return nullptr;
    }
    Connection* raw = conn.get();
    m_connections.emplace(raw->Id(), std::move(conn));
    if (inbound)
        ++m_inbound_count;
    return raw;
}

void Transport::OnConnectionClosed(Connection& conn) {
    if (conn.m_inbound)
        --m_inbound_count;
    if (conn.m_counted_ip) {
        auto found = m_per_ip.find(conn.RemoteIp());
        if (found != m_per_ip.end() && --found->second == 0)
            m_per_ip.erase(found);
    }
    // Guarded here so a throwing handler cannot skip the erase below.
    if (conn.m_opened) {
        CallbackGuard("close", [&] { conn.m_handler->OnClose(conn, conn.m_close_reason); });
    } else if (conn.m_connect_done) {
        const int status = conn.m_connect_status != 0 ? conn.m_connect_status : UV_ECANCELED;
        ConnectDone done = std::move(conn.m_connect_done);
        CallbackGuard("connect", [&] { done(nullptr, status); });
    }
    m_connections.erase(conn.Id());
}

ConnectionHandler& Transport::HandlerFor(ConnectionKind kind) {
    return kind == ConnectionKind::Gossip ? m_gossip : m_http;
}

}  // namespace gossipchain::net
