#include "net/connection.h"

#include "net/transport.h"
#include "net/uv_handle.h"
#include "util/log.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace gossipchain::net {

/** An in-flight name lookup; `conn` is cleared when the connection goes away first. */
struct ResolveRequest {
    uv_getaddrinfo_t req{};
    Connection* conn = nullptr;
};

namespace {

std::string FormatAddress(const sockaddr* addr) {
    char ip[64] = {};
    if (addr->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
        uv_ip6_name(in6, ip, sizeof(ip));
        // Appends, not "[" + std::string: GCC 12 at -O3 warns falsely (-Wrestrict) on the latter.
        std::string text(1, '[');
        text += ip;
        text += "]:";
        text += std::to_string(ntohs(in6->sin6_port));
        return text;
    }
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(addr);
    uv_ip4_name(in4, ip, sizeof(ip));
    return std::string(ip) + ":" + std::to_string(ntohs(in4->sin_port));
}

void SetPort(sockaddr* addr, uint16_t port) {
    if (addr->sa_family == AF_INET6) {
        reinterpret_cast<sockaddr_in6*>(addr)->sin6_port = htons(port);
    } else {
        reinterpret_cast<sockaddr_in*>(addr)->sin_port = htons(port);
    }
}

/** IPv4 first: "localhost" often lists ::1 first while nodes listen on 127.0.0.1 by default. */
const addrinfo* PickAddress(const addrinfo* res) {
    for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET)
            return ai;
    }
    return res;
}

}  // namespace

Connection::Connection(Transport& transport, uint64_t id, bool inbound)
    : m_transport(transport),
      m_id(id),
      m_inbound(inbound),
      m_decoder(transport.Options().max_frame_bytes) {}

Connection::~Connection() {
    if (m_resolve != nullptr) {
        m_resolve->conn = nullptr;
        uv_cancel(reinterpret_cast<uv_req_t*>(&m_resolve->req));
    }
    if (m_timer != nullptr)
        m_timer->Release();
    if (m_tcp != nullptr)
        m_tcp->Release();
}

int Connection::Init() {
    uv_loop_t* loop = LoopOf(m_transport.m_loop);
    int rc = 0;
    m_tcp = UvHandle<uv_tcp_t>::Create(
        this, [&](uv_tcp_t* t) { return uv_tcp_init(loop, t); }, &rc);
    if (m_tcp == nullptr)
        return rc;
    m_timer = UvHandle<uv_timer_t>::Create(
        this, [&](uv_timer_t* t) { return uv_timer_init(loop, t); }, &rc);
    if (m_timer == nullptr)
        return rc;
    m_tcp->SetOnClosed([this] { OnTcpClosed(); });
    return 0;
}

void Connection::OnAccepted() {
    sockaddr_storage addr{};
    int len = sizeof(addr);
    if (uv_tcp_getpeername(m_tcp->Get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
        m_remote_address = FormatAddress(reinterpret_cast<sockaddr*>(&addr));
    }
    uv_tcp_nodelay(m_tcp->Get(), 1);
    m_last_read_ms = m_transport.m_loop.NowMs();
    uv_timer_start(m_timer->Get(), &Connection::OnTimer, m_transport.Options().sniff_timeout_ms, 0);
    StartReading();
}

void Connection::StartConnect(const std::string& host, uint16_t port, ConnectDone done) {
    m_connect_done = std::move(done);
    m_connect_port = port;
    m_remote_address = host + ":" + std::to_string(port);
    // libuv times from the loop's cached clock; after a long synchronous piece of work (loading
    // a big chain, then dialling) it is stale, and the timeout would end before it began.
    uv_update_time(m_timer->Get()->loop);
    uv_timer_start(m_timer->Get(), &Connection::OnTimer, m_transport.Options().connect_timeout_ms,
                   0);

    // Numeric addresses skip the thread-pool lookup; "[::1]" is accepted as well as "::1".
    std::string literal = host;
    if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']') {
        literal = literal.substr(1, literal.size() - 2);
    }
    // "localhost" is loopback by definition (RFC 6761); minimal containers often have no
    // /etc/hosts, where a lookup would go to DNS and fail.
    if (literal == "localhost")
        literal = "127.0.0.1";
    sockaddr_in in4{};
    if (uv_ip4_addr(literal.c_str(), port, &in4) == 0) {
        ConnectTo(reinterpret_cast<const sockaddr*>(&in4));
        return;
    }
    sockaddr_in6 in6{};
    if (uv_ip6_addr(literal.c_str(), port, &in6) == 0) {
        ConnectTo(reinterpret_cast<const sockaddr*>(&in6));
        return;
    }
    auto resolve = std::make_unique<ResolveRequest>();
    resolve->conn = this;
    resolve->req.data = resolve.get();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    const int rc = uv_getaddrinfo(LoopOf(m_transport.m_loop), &resolve->req,
                                  &Connection::OnResolved, literal.c_str(), nullptr, &hints);
    if (rc != 0) {
        Fail(rc, CloseReason::ResolveFailed, "resolve failed: " + Transport::ErrorName(rc));
        return;
    }
    m_resolve = resolve.release();
}

void Connection::OnResolved(uv_getaddrinfo_s* req, int status, addrinfo* res) {
    std::unique_ptr<ResolveRequest> resolve(static_cast<ResolveRequest*>(req->data));
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> results(res, &uv_freeaddrinfo);
    Connection* self = resolve->conn;
    if (self == nullptr)
        return;
    self->m_resolve = nullptr;
    const bool ok = CallbackGuard("resolve", [&] {
        if (status < 0 || res == nullptr) {
            const int error = status < 0 ? status : UV_EAI_NONAME;
            self->Fail(error, CloseReason::ResolveFailed,
                       "resolve failed: " + Transport::ErrorName(error));
            return;
        }
        const addrinfo* pick = PickAddress(res);
        sockaddr_storage addr{};
        std::memcpy(&addr, pick->ai_addr, std::min(sizeof(addr), size_t{pick->ai_addrlen}));
        SetPort(reinterpret_cast<sockaddr*>(&addr), self->m_connect_port);
        self->ConnectTo(reinterpret_cast<const sockaddr*>(&addr));
    });
    if (!ok)
        self->Close(CloseReason::HandlerError, "handler error");
}

void Connection::ConnectTo(const sockaddr* addr) {
    if (m_closing)
        return;
    m_remote_address = FormatAddress(addr);
    auto req = std::make_unique<uv_connect_t>();
    const int rc = uv_tcp_connect(req.get(), m_tcp->Get(), addr, &Connection::OnConnect);
    if (rc != 0) {
        Fail(rc, CloseReason::ConnectFailed, "connect failed: " + Transport::ErrorName(rc));
        return;
    }
    static_cast<void>(req.release());
}

void Connection::OnConnect(uv_connect_s* req, int status) {
    std::unique_ptr<uv_connect_t> owned(req);
    auto* self = UvHandleBase::OwnerOf<Connection>(req->handle);
    if (self == nullptr || self->m_closing)
        return;
    const bool ok = CallbackGuard("connect", [&] {
        if (status < 0) {
            self->Fail(status, CloseReason::ConnectFailed,
                       "connect failed: " + Transport::ErrorName(status));
        } else {
            self->OnConnected();
        }
    });
    if (!ok)
        self->Close(CloseReason::HandlerError, "handler error");
}

void Connection::OnConnected() {
    uv_tcp_nodelay(m_tcp->Get(), 1);
    if (!Write(std::string(MAGIC.begin(), MAGIC.end())))
        return;
    StartReading();
    if (m_closing)
        return;
    Become(ConnectionKind::Gossip);
    // done first, so the upper layer can attach its user_data before OnOpen sees the link.
    ConnectDone done = std::move(m_connect_done);
    m_connect_done = nullptr;
    if (done)
        done(this, 0);
    m_handler->OnOpen(*this);
}

void Connection::Become(ConnectionKind kind) {
    m_kind = kind;
    m_handler = &m_transport.HandlerFor(kind);
    m_opened = true;
    m_idle_timeout_ms = kind == ConnectionKind::Gossip ? m_transport.Options().idle_timeout_ms
                                                       : m_transport.Options().http_idle_timeout_ms;
    uv_timer_stop(m_timer->Get());
    RestartIdleTimer();
}

void Connection::StartReading() {
    const int rc = uv_read_start(m_tcp->Stream(), &Connection::OnAlloc, &Connection::OnRead);
    if (rc != 0)
        Fail(rc, CloseReason::ReadError, "read failed: " + Transport::ErrorName(rc));
}

void Connection::OnAlloc(uv_handle_s* handle, size_t /*suggested*/, uv_buf_t* buf) {
    auto* self = UvHandleBase::OwnerOf<Connection>(handle);
    if (self == nullptr) {
        *buf = uv_buf_init(nullptr, 0);  // libuv reports UV_ENOBUFS to OnRead
        return;
    }
    // Reads are handled completely inside OnRead, so one buffer per transport is enough.
    std::vector<char>& buffer = self->m_transport.ReadBuffer();
    *buf = uv_buf_init(buffer.data(), static_cast<unsigned int>(buffer.size()));
}

void Connection::OnRead(uv_stream_s* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* self = UvHandleBase::OwnerOf<Connection>(stream);
    if (self == nullptr || nread == 0)
        return;
    const bool ok = CallbackGuard("read", [&] {
        if (nread < 0) {
            if (nread == UV_EOF)
                self->Close(CloseReason::PeerClosed, "peer closed");
            else
                self->Close(CloseReason::ReadError,
                            "read error: " + Transport::ErrorName(int(nread)));
            return;
        }
        self->OnBytes(std::string_view(buf->base, static_cast<size_t>(nread)));
    });
    if (!ok)
        self->Close(CloseReason::HandlerError, "handler error");
}

void Connection::OnBytes(std::string_view bytes) {
    if (m_closing)
        return;
    m_bytes_in += bytes.size();
    m_last_read_ms = m_transport.m_loop.NowMs();
    RestartIdleTimer();
    switch (m_kind) {
        case ConnectionKind::Pending:
            Sniff(bytes);
            break;
        case ConnectionKind::Gossip:
            // A plain HTTP server (such as the tutorial's Flask node) answers our magic with an
            // error page; say so instead of reporting a 1.2 GB frame named "HTTP".
            if (!m_inbound && m_bytes_in == bytes.size() && bytes.substr(0, 4) == "HTTP") {
                Close(CloseReason::PeerSpeaksHttp, "peer speaks HTTP");
                return;
            }
            DeliverFrames(bytes);
            break;
        case ConnectionKind::Http:
            m_handler->OnData(*this, bytes);
            break;
    }
}

void Connection::Sniff(std::string_view bytes) {
    m_sniffed.append(bytes);
    const bool current =
        std::memcmp(m_sniffed.data(), MAGIC.data(), std::min(m_sniffed.size(), MAGIC.size())) == 0;
    const bool legacy = std::memcmp(m_sniffed.data(), LEGACY_MAGIC.data(),
                                    std::min(m_sniffed.size(), LEGACY_MAGIC.size())) == 0;
    if (!current && !legacy) {
        // One differing byte is enough: nothing but a gossip peer starts with these prefixes.
        const std::string sniffed = std::move(m_sniffed);
        m_sniffed.clear();
        Become(ConnectionKind::Http);
        m_handler->OnOpen(*this);
        if (!m_closing)
            m_handler->OnData(*this, sniffed);
        return;
    }
    // The two magics part at their fourth byte; each is complete at its own length.
    const size_t magic_size = current ? MAGIC.size() : LEGACY_MAGIC.size();
    if (m_sniffed.size() < magic_size || (current && legacy))
        return;
    const std::string rest = m_sniffed.substr(magic_size);
    m_sniffed.clear();
    m_sniffed.shrink_to_fit();
    m_legacy_magic = !current;
    Become(ConnectionKind::Gossip);
    m_handler->OnOpen(*this);
    if (!m_closing && !rest.empty())
        DeliverFrames(rest);
}

void Connection::DeliverFrames(std::string_view bytes) {
    const FrameStatus status = m_decoder.Feed(bytes, [this](std::string_view payload) {
        m_handler->OnFrame(*this, payload);
        return !IsClosing();
    });
    if (status == FrameStatus::FrameTooLarge)
        Close(CloseReason::FrameTooLarge, "frame too large");
}

void Connection::RestartIdleTimer() {
    if (m_kind == ConnectionKind::Pending || m_timer == nullptr || m_paused)
        return;
    if (m_idle_timeout_ms == 0) {
        uv_timer_stop(m_timer->Get());
    } else {
        uv_timer_start(m_timer->Get(), &Connection::OnTimer, m_idle_timeout_ms, 0);
    }
}

void Connection::OnTimer(uv_timer_s* timer) {
    auto* self = UvHandleBase::OwnerOf<Connection>(timer);
    if (self == nullptr)
        return;
    CallbackGuard("timer", [&] {
        if (self->m_kind != ConnectionKind::Pending) {
            self->Close(CloseReason::IdleTimeout, "idle timeout");
        } else if (self->m_inbound) {
            self->Close(CloseReason::SniffTimeout, "sniff timeout");
        } else {
            self->Fail(UV_ETIMEDOUT, CloseReason::ConnectTimeout, "connect timeout");
        }
    });
}

bool Connection::SendFrame(std::string_view payload) {
    if (m_kind != ConnectionKind::Gossip)
        return false;
    if (payload.size() > m_transport.Options().max_frame_bytes) {
        LOG_WARN("net: refusing to send a %zu-byte frame to %s", payload.size(),
                 m_remote_address.c_str());
        return false;
    }
    return Write(FrameDecoder::Encode(payload));
}

bool Connection::SendRaw(std::string bytes) {
    return Write(std::move(bytes));
}

bool Connection::Write(std::string bytes) {
    if (m_closing || m_shutting_down || m_tcp == nullptr)
        return false;
    const TransportOptions& options = m_transport.Options();
    const size_t bound = m_kind == ConnectionKind::Http ? options.max_write_queue_bytes
                                                        : options.max_gossip_write_queue_bytes;
    if (QueuedBytes() + bytes.size() > bound) {
        // The peer does not read fast enough; buffering more would let it grow our memory.
        Close(CloseReason::WriteQueueFull, "write queue full");
        return false;
    }
    if (!m_transport.MakeRoomForWrite(*this, bytes.size())) {
        Close(CloseReason::WriteQueueFull, "node-wide write queue full");
        return false;
    }
    auto req = std::make_unique<WriteRequest>();
    req->bytes = std::move(bytes);
    req->req.data = req.get();
    const uv_buf_t buf =
        uv_buf_init(req->bytes.data(), static_cast<unsigned int>(req->bytes.size()));
    req->budget = m_transport.m_write_budget;
    req->budget->queued += req->bytes.size();
    m_pending_write_bytes += req->bytes.size();
    const int rc = uv_write(&req->req, m_tcp->Stream(), &buf, 1, &Connection::OnWrite);
    if (rc != 0) {
        m_pending_write_bytes -= req->bytes.size();
        Close(CloseReason::WriteError, "write failed: " + Transport::ErrorName(rc));
        return false;
    }
    static_cast<void>(req.release());
    return true;
}

void Connection::OnWrite(uv_write_s* req, int status) {
    std::unique_ptr<WriteRequest> write(static_cast<WriteRequest*>(req->data));
    auto* self = UvHandleBase::OwnerOf<Connection>(req->handle);
    if (self == nullptr)
        return;
    self->m_pending_write_bytes -= write->bytes.size();
    if (status == 0) {
        self->m_bytes_out += write->bytes.size();
        if (!self->IsClosing() && self->m_handler)
            CallbackGuard("writable", [&] { self->m_handler->OnWritable(*self); });
    } else if (status != UV_ECANCELED) {
        CallbackGuard("write", [&] {
            self->Close(CloseReason::WriteError, "write error: " + Transport::ErrorName(status));
        });
    }
}

size_t Connection::TransportQueuedBytes() const {
    return m_transport.QueuedBytes();
}

size_t Connection::TransportQueueLimit() const {
    return m_transport.Options().max_total_write_queue_bytes;
}

void Connection::FreeTransportWriteBudget(size_t target) {
    m_transport.FreeWriteBudget(target, this);
}

size_t Connection::QueuedBytes() const {
    return m_tcp == nullptr ? 0 : uv_stream_get_write_queue_size(m_tcp->Stream());
}

void Connection::Close(CloseReason code, std::string_view reason) {
    if (m_closing)
        return;
    m_closing = true;
    m_close_code = code;
    m_close_reason = reason;
    if (!m_opened && m_connect_status == 0)
        m_connect_status = UV_ECANCELED;
    if (m_resolve != nullptr) {
        m_resolve->conn = nullptr;
        uv_cancel(reinterpret_cast<uv_req_t*>(&m_resolve->req));
        m_resolve = nullptr;
    }
    if (m_timer != nullptr) {
        m_timer->Close();
        m_timer = nullptr;
    }
    if (m_tcp != nullptr)
        m_tcp->Close();
}

void Connection::Fail(int status, CloseReason code, std::string_view reason) {
    if (!m_opened && m_connect_status == 0)
        m_connect_status = status;
    Close(code, reason);
}

std::string Connection::RemoteIp() const {
    const std::string& address = m_remote_address;
    if (!address.empty() && address.front() == '[') {
        auto end = address.find(']');
        return end == std::string::npos ? address : address.substr(1, end - 1);
    }
    return address.substr(0, address.rfind(':'));
}

void Connection::CloseAfterWrites(std::string_view reason) {
    if (m_closing || m_shutting_down || m_tcp == nullptr)
        return;
    PauseReading();
    m_shutdown_reason = reason;
    // uv_shutdown waits for every queued write, then sends FIN; OnShutdown closes the handle.
    auto req = std::make_unique<uv_shutdown_t>();
    const int rc = uv_shutdown(req.get(), m_tcp->Stream(), &Connection::OnShutdown);
    if (rc != 0) {
        Close(reason);
        return;
    }
    static_cast<void>(req.release());
    m_shutting_down = true;
}

void Connection::OnShutdown(uv_shutdown_s* req, int /*status*/) {
    std::unique_ptr<uv_shutdown_t> owned(req);
    auto* self = UvHandleBase::OwnerOf<Connection>(req->handle);
    if (self == nullptr)
        return;
    CallbackGuard("shutdown", [&] { self->Close(self->m_shutdown_reason); });
}

void Connection::SetIdleTimeout(uint64_t ms) {
    m_idle_timeout_ms = ms;
    RestartIdleTimer();
}

void Connection::PauseReading(bool count_idle) {
    if (m_closing || m_paused || m_tcp == nullptr)
        return;
    m_paused = true;
    uv_read_stop(m_tcp->Stream());
    // A paused link is usually waiting on us, not on the peer, so it must not count as idle.
    if (!count_idle && m_kind != ConnectionKind::Pending && m_timer != nullptr)
        uv_timer_stop(m_timer->Get());
}

void Connection::ResumeReading() {
    if (!m_paused || m_closing || m_shutting_down)
        return;
    m_paused = false;
    StartReading();
    RestartIdleTimer();
}

void Connection::OnTcpClosed() {
    m_tcp = nullptr;
    m_transport.OnConnectionClosed(*this);  // destroys this
}

}  // namespace gossipchain::net
