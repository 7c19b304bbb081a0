// The node's one TCP port: a listener whose inbound connections are sniffed into gossip links or
// HTTP clients, outbound gossip links, and the bookkeeping (ids, connection cap, shared read
// buffer). Meaning lives above: p2p handles the gossip connections, http the HTTP ones.
#pragma once

#include "net/connection.h"
#include "net/constants.h"
#include "net/event_loop.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct uv_stream_s;
struct uv_tcp_s;

namespace gossipchain::net {

struct TransportOptions {
    /** IPv4 or IPv6 literal to listen on. */
    std::string bind = std::string(DEFAULT_BIND);
    /** 0 picks a free port (see Transport::Port()). */
    uint16_t port = 0;
    size_t max_frame_bytes = MAX_FRAME_BYTES;
    /** Write-queue bound of HTTP connections. */
    size_t max_write_queue_bytes = DEFAULT_MAX_WRITE_QUEUE_BYTES;
    /** Write-queue bound of gossip links. */
    size_t max_gossip_write_queue_bytes = DEFAULT_MAX_GOSSIP_WRITE_QUEUE_BYTES;
    uint64_t sniff_timeout_ms = DEFAULT_SNIFF_TIMEOUT_MS;
    uint64_t connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    uint64_t idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;
    uint64_t http_idle_timeout_ms = DEFAULT_HTTP_IDLE_TIMEOUT_MS;
    /** Cap on inbound connections; outbound links are not counted. */
    size_t max_connections = DEFAULT_MAX_CONNECTIONS;
    /** Cap on inbound connections from one IP address. */
    size_t max_connections_per_ip = DEFAULT_MAX_CONNECTIONS_PER_IP;
    /** Cap on bytes waiting for the kernel on all connections together. */
    size_t max_total_write_queue_bytes = DEFAULT_MAX_TOTAL_WRITE_QUEUE_BYTES;
};

class Transport {
public:
    using ConnectDone = std::function<void(Connection* conn, int status)>;

    Transport(EventLoop& loop, TransportOptions options, ConnectionHandler& gossip,
              ConnectionHandler& http);
    /**
     * Closes everything without calling handlers. To give every opened connection its OnClose,
     * call CloseAll() and run the loop until ConnectionCount() is 0 before destroying.
     */
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    /** Binds options.bind:options.port and listens; 0 or a negative uv error. */
    int Listen();
    /** The bound port (useful with port 0); 0 when not listening. */
    uint16_t Port() const;

    /**
     * Opens an outbound gossip link: resolves `host` (IP literal or name, e.g. "localhost"),
     * connects, sends MAGIC, and calls done(conn, 0) followed by the gossip handler's OnOpen.
     * On failure (resolve, connect, connect timeout, CloseAll) calls done(nullptr, uv error)
     * instead. done is always called exactly once and never before Connect returns.
     */
    void Connect(const std::string& host, uint16_t port, ConnectDone done);

    /** Closes the listener and every connection; OnClose and failed-connect callbacks follow. */
    void CloseAll(std::string_view reason);

    /** Connections not yet fully closed, inbound and outbound, including pending ones. */
    size_t ConnectionCount() const { return m_connections.size(); }
    /** Bytes waiting for the kernel on all connections together. */
    size_t QueuedBytes() const { return m_write_budget->queued; }
    /**
     * Closes the connections with the most unread bytes, largest first, until the node-wide
     * write budget holds at most `target`; stops (false) when `writer` would be next.
     */
    bool FreeWriteBudget(size_t target, const Connection* writer = nullptr);
    /** Inbound connections closed to make room for newcomers (SPEC §13). */
    uint64_t Evictions() const { return m_evictions; }

    const TransportOptions& Options() const { return m_options; }

    /** Human-readable text of a negative uv error code. */
    static std::string ErrorName(int status);

private:
    friend class Connection;

    Connection* NewConnection(bool inbound);
    void OnConnectionClosed(Connection& conn);
    /** Applies the connection caps to a just-accepted connection: false when it must go. */
    bool Admit(Connection& conn);
    /** Closes the idle inbound connection read from longest ago, of `ip` only when given (else
     * of the IP with the most connections first); false when none is idle. */
    bool EvictIdle(const std::string* ip, const Connection& newcomer);
    /** Makes the node-wide write budget fit `bytes` more for `writer`, closing the connections
     * with the most unread bytes first; false when the writer itself has the most (it must
     * close). */
    bool MakeRoomForWrite(Connection& writer, size_t bytes);
    bool IsIdle(const Connection& conn);
    ConnectionHandler& HandlerFor(ConnectionKind kind);
    std::vector<char>& ReadBuffer() { return m_read_buffer; }

    static void OnConnection(uv_stream_s* server, int status);

    EventLoop& m_loop;
    TransportOptions m_options;
    ConnectionHandler& m_gossip;
    ConnectionHandler& m_http;
    UvHandle<uv_tcp_s>* m_listener = nullptr;
    std::unordered_map<uint64_t, std::unique_ptr<Connection>> m_connections;
    size_t m_inbound_count = 0;
    /** Accepted inbound connections per remote IP. */
    std::unordered_map<std::string, size_t> m_per_ip;
    std::shared_ptr<WriteBudget> m_write_budget = std::make_shared<WriteBudget>();
    uint64_t m_evictions = 0;
    uint64_t m_next_id = 1;
    std::vector<char> m_read_buffer;
};

}  // namespace gossipchain::net
