// One TCP connection of the transport: a gossip link (framed) or an HTTP client (raw bytes), told
// apart by the sniffer on inbound connections. Connection moves bytes; it gives them no meaning.
// A Connection is created and owned by Transport and lives until its handler's OnClose returns.
#pragma once

#include "net/frame_decoder.h"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

struct addrinfo;
struct sockaddr;
struct uv_buf_t;
struct uv_connect_s;
struct uv_getaddrinfo_s;
struct uv_handle_s;
struct uv_shutdown_s;
struct uv_stream_s;
struct uv_tcp_s;
struct uv_timer_s;
struct uv_write_s;

namespace gossipchain::net {

class Connection;
class Transport;
struct ResolveRequest;
template <typename T>
class UvHandle;

enum class ConnectionKind { Pending, Gossip, Http };

/**
 * What the upper layer (p2p for Gossip, http for Http) hears about its connections. All calls
 * come on the loop thread. A handler may call any Connection or Transport method from them,
 * including Close() and Transport::CloseAll().
 */
class ConnectionHandler {
public:
    virtual ~ConnectionHandler() = default;
    /** Gossip outbound: after connect and MAGIC were sent (after Connect's done). Inbound: after
     * the sniffer decided the kind. */
    virtual void OnOpen(Connection& /*conn*/) {}
    /** Gossip: one complete frame payload; the view is valid only during the call. */
    virtual void OnFrame(Connection& /*conn*/, std::string_view /*payload*/) {}
    /** Http: bytes as read; the first call includes the sniffed bytes. */
    virtual void OnData(Connection& /*conn*/, std::string_view /*bytes*/) {}
    /** A queued write reached the kernel; QueuedBytes() is smaller now. For pacing. */
    virtual void OnWritable(Connection& /*conn*/) {}
    /**
     * True when closing the connection now loses nothing anyone waits for (an HTTP keep-alive
     * connection between requests): the transport may close it to make room for a newcomer.
     */
    virtual bool IsIdle(const Connection& /*conn*/) const { return false; }
    /** Exactly once per connection that got OnOpen; the Connection is destroyed after it. */
    virtual void OnClose(Connection& /*conn*/, std::string_view /*reason*/) {}
};

class Connection {
public:
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /** Unique per transport, starting at 1. */
    uint64_t Id() const { return m_id; }
    /** "ip:port", or "[ip6]:port". */
    const std::string& RemoteAddress() const { return m_remote_address; }
    bool Inbound() const { return m_inbound; }
    ConnectionKind Kind() const { return m_kind; }
    /** Inbound gossip that opened with LEGACY_MAGIC: a peer of the plaintext protocol 2. */
    bool LegacyMagic() const { return m_legacy_magic; }

    /**
     * Gossip only: queues a 4-byte big-endian length and `payload`. Returns false when the
     * connection is closing, the payload exceeds max_frame_bytes (the link stays open), or the
     * write queue would exceed its bound (the link is then closed: "write queue full").
     */
    bool SendFrame(std::string_view payload);
    /** Queues bytes as they are (HTTP responses); same bound and failure rules as SendFrame. */
    bool SendRaw(std::string bytes);
    /** Idempotent; OnClose(reason) follows asynchronously. Queued writes are dropped. */
    void Close(std::string_view reason) { Close(CloseReason::ByHandler, reason); }
    void Close(CloseReason code, std::string_view reason);
    /** Stops reading, flushes queued writes, sends FIN, then closes (HTTP "Connection: close"). */
    void CloseAfterWrites(std::string_view reason);
    /** Why it closed (ByHandler until it does); valid in OnClose. */
    CloseReason CloseCode() const { return m_close_code; }
    /** The remote IP address without the port ("127.0.0.1", "::1"). */
    std::string RemoteIp() const;
    /** Loop time of the last bytes read (or of opening), in ms. */
    uint64_t LastReadMs() const { return m_last_read_ms; }
    /** Closes with "idle timeout" when nothing was read for `ms`; 0 disables. Not counted while
     * reading is paused. Gossip starts with TransportOptions::idle_timeout_ms, HTTP with
     * http_idle_timeout_ms. */
    void SetIdleTimeout(uint64_t ms);
    uint64_t IdleTimeoutMs() const { return m_idle_timeout_ms; }
    /** Backpressure: stop/restart reading from the socket (bytes already read are still
     * delivered). Paused, the idle timeout does not run (the link waits on us), unless
     * `count_idle`: then it waits on the peer (to read what we sent) and may time out. */
    void PauseReading(bool count_idle = false);
    void ResumeReading();

    uint64_t BytesIn() const { return m_bytes_in; }
    /** Bytes the kernel accepted. */
    uint64_t BytesOut() const { return m_bytes_out; }
    /** Bytes queued in user space, waiting for the kernel to take them. */
    size_t QueuedBytes() const;
    /** Bytes handed to writes that have not completed yet (the kernel may hold part of them):
     * what this connection's answers keep allocated. */
    size_t PendingWriteBytes() const { return m_pending_write_bytes; }
    /** Bytes waiting for the kernel on all of the transport's connections together, and the
     * node-wide bound on them (TransportOptions::max_total_write_queue_bytes). */
    size_t TransportQueuedBytes() const;
    size_t TransportQueueLimit() const;
    /** Transport::FreeWriteBudget down to `target`, never closing this connection. */
    void FreeTransportWriteBudget(size_t target);
    /** True once Close or CloseAfterWrites was called: no further frame is delivered. */
    bool IsClosing() const { return m_closing || m_shutting_down; }

    /** The upper layer's per-connection state; the transport never touches it. */
    void* user_data = nullptr;

private:
    friend class Transport;
    using ConnectDone = std::function<void(Connection*, int status)>;

    Connection(Transport& transport, uint64_t id, bool inbound);
    /** Creates the uv handles; 0 or a uv error. */
    int Init();
    void OnAccepted();
    void StartReading();
    void StartConnect(const std::string& host, uint16_t port, ConnectDone done);
    void ConnectTo(const sockaddr* addr);
    void Fail(int status, CloseReason code, std::string_view reason);
    void OnConnected();
    void OnBytes(std::string_view bytes);
    void Sniff(std::string_view bytes);
    void Become(ConnectionKind kind);
    void DeliverFrames(std::string_view bytes);
    void RestartIdleTimer();
    bool Write(std::string bytes);
    void OnTcpClosed();

    static void OnAlloc(uv_handle_s* handle, size_t suggested, uv_buf_t* buf);
    static void OnRead(uv_stream_s* stream, ssize_t nread, const uv_buf_t* buf);
    static void OnWrite(uv_write_s* req, int status);
    static void OnConnect(uv_connect_s* req, int status);
    static void OnShutdown(uv_shutdown_s* req, int status);
    static void OnTimer(uv_timer_s* timer);
    static void OnResolved(uv_getaddrinfo_s* req, int status, addrinfo* res);

    Transport& m_transport;
    const uint64_t m_id;
    const bool m_inbound;
    ConnectionKind m_kind = ConnectionKind::Pending;
    ConnectionHandler* m_handler = nullptr;
    std::string m_remote_address;
    UvHandle<uv_tcp_s>* m_tcp = nullptr;
    UvHandle<uv_timer_s>* m_timer = nullptr;
    ResolveRequest* m_resolve = nullptr;
    FrameDecoder m_decoder;
    std::string m_sniffed;
    ConnectDone m_connect_done;
    int m_connect_status = 0;
    uint16_t m_connect_port = 0;
    uint64_t m_idle_timeout_ms = 0;
    uint64_t m_bytes_in = 0;
    uint64_t m_bytes_out = 0;
    bool m_opened = false;
    bool m_legacy_magic = false;
    bool m_closing = false;
    bool m_paused = false;
    bool m_shutting_down = false;
    std::string m_close_reason;
    CloseReason m_close_code = CloseReason::ByHandler;
    uint64_t m_last_read_ms = 0;
    size_t m_pending_write_bytes = 0;
    /** Counted in Transport's per-IP table (inbound, accepted). */
    bool m_counted_ip = false;
    std::string m_shutdown_reason;
};

}  // namespace gossipchain::net
