// Glue between the transport and HttpSession: one session per HTTP connection the sniffer hands
// over, response bytes written back in order, the connection closed when the session asks. A
// streamed response (GET /events) hands the connection to its HttpStreamHandler through a
// ConnectionStream until it closes; the idle and request timeouts are off for it (the client
// only reads), and its handler bounds what waits for it.
#pragma once

#include "http/http_session.h"
#include "http/router.h"
#include "http/tutorial_api.h"
#include "net/connection.h"
#include "net/event_loop.h"
#include "net/timer.h"

#include <cstdint>
#include <memory>
#include <unordered_map>

namespace gossipchain {

/** A pipelined request is handled only while less than this waits to be sent to its client
 * (1 MiB): one that does not read its answers gets one answer queued, not one per request. */
inline constexpr std::size_t DEFAULT_HTTP_ANSWER_LOW_WATER_BYTES = 1u << 20;

/** How often requests held back by the node-wide write budget are looked at again, in ms. */
inline constexpr std::uint64_t HTTP_HELD_RECHECK_MS = 10;

/** Time a client has to finish a request once it began sending it, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_HTTP_REQUEST_TIMEOUT_MS = 10'000;

class HttpServer : public net::ConnectionHandler {
public:
    /** `loop`, `router` and `metrics` must outlive the server. */
    HttpServer(net::EventLoop& loop, const Router& router, HttpMetrics& metrics,
               std::uint64_t request_timeout_ms = DEFAULT_HTTP_REQUEST_TIMEOUT_MS)
        : m_loop(loop),
          m_router(router),
          m_metrics(metrics),
          m_request_timeout_ms(request_timeout_ms) {}

    void OnOpen(net::Connection& conn) override;
    void OnData(net::Connection& conn, std::string_view bytes) override;
    /** Answers were read: held-back requests go on. */
    void OnWritable(net::Connection& conn) override;
    ~HttpServer() override;
    void OnClose(net::Connection& conn, std::string_view reason) override;
    /** A keep-alive connection between requests: no request arriving, no answer owed. */
    bool IsIdle(const net::Connection& conn) const override;

    std::size_t OpenSessions() const { return m_sessions.size(); }

private:
    /** A streamed response's view of its connection. */
    class ConnectionStream final : public HttpStream {
    public:
        explicit ConnectionStream(net::Connection& conn) : m_conn(conn) {}
        std::size_t PendingBytes() const override { return m_conn.PendingWriteBytes(); }
        bool Write(std::string bytes) override { return m_conn.SendRaw(std::move(bytes)); }
        void Close(std::string_view reason) override { m_conn.Close(reason); }
        void Finish(std::string_view reason) override { m_conn.CloseAfterWrites(reason); }
        const std::string& Peer() const override { return m_conn.RemoteAddress(); }

    private:
        net::Connection& m_conn;
    };
    struct Client {
        std::unique_ptr<HttpSession> session;
        /** Runs while a request is incomplete; fires the 408. */
        std::unique_ptr<net::Timer> request_timer;
        bool timing = false;
        net::Connection* conn = nullptr;
        /** The idle timeout is off while answers are owed; this is what it was. */
        bool idle_suspended = false;
        std::uint64_t idle_timeout_ms = 0;
        /** Set once a streamed response took the connection over. */
        std::unique_ptr<ConnectionStream> stream;
        HttpStreamHandler* stream_handler = nullptr;
    };
    /** Hands `conn` to `handler` after a streamed response's header section. */
    void StartStream(net::Connection& conn, HttpStreamHandler& handler);
    void RearmIdleTimeout(net::Connection& conn);
    /** Dispatches a client's held requests if it may now; resumes reading when none is left. */
    void ResumeHeld(std::uint64_t id);
    /** Starts the recheck of held clients, unless it runs. */
    void WatchHeldRequests();

    net::EventLoop& m_loop;
    const Router& m_router;
    HttpMetrics& m_metrics;
    std::uint64_t m_request_timeout_ms;
    std::unordered_map<std::uint64_t, Client> m_sessions;
    std::unique_ptr<net::Timer> m_held_timer;
    bool m_held_timer_running = false;
};

}  // namespace gossipchain
