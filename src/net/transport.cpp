#include "net/transport.h"

#include "net/uv_handle.h"
#include "util/log.h"

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
        if (self->m_inbound_count >= self->m_options.max_connections) {
            LOG_WARN("net: %zu inbound connections, refusing another", self->m_inbound_count);
            RejectPending(server);
            return;
        }
        Connection* conn = self->NewConnection(/*inbound=*/true);
        if (conn == nullptr) {
            RejectPending(server);
            return;
        }
        const int rc = uv_accept(server, conn->m_tcp->Stream());
        if (rc != 0) {
            conn->Close("accept failed: " + ErrorName(rc));
            return;
        }
        conn->OnAccepted();
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
        entry.second->Close(reason);
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
