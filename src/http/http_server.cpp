#include "http/http_server.h"

namespace gossipchain {
namespace {

/** Counts one serialized response by the status in its line ("HTTP/1.1 201 Created"). */
void CountResponse(HttpMetrics& metrics, std::string_view bytes) {
    constexpr std::string_view PREFIX = "HTTP/1.1 ";
    if (bytes.size() < PREFIX.size() + 3 || bytes.substr(0, PREFIX.size()) != PREFIX)
        return;
    int status = 0;
    for (char c : bytes.substr(PREFIX.size(), 3))
        status = status * 10 + (c - '0');
    ++metrics.responses_by_status[status];
}

}  // namespace

void HttpServer::OnOpen(net::Connection& conn) {
    net::Connection* raw = &conn;
    HttpMetrics* metrics = &m_metrics;
    // The session outlives no connection: OnClose destroys it, and a destroyed session turns
    // responders still held by slow handlers (/mine, /nodes/resolve) into no-ops.
    Client client;
    HttpSession::Options options;
    // An answer is built only while this client has little unread and, if it has anything
    // unread at all, all clients together are under half the node-wide budget: many clients that
    // do not read wait instead of having answers built only for the budget to throw them away,
    // and a client that has read everything (a /status probe) is always answered.
    options.may_dispatch = [raw] {
        // Counted until each write completes: bytes the kernel took at once still hold memory here
        // until then, and a loop of sync answers must not see 0 after every write.
        const std::size_t own = raw->PendingWriteBytes();
        const std::size_t limit = raw->TransportQueueLimit();
        return own < DEFAULT_HTTP_ANSWER_LOW_WATER_BYTES &&
               raw->TransportQueuedBytes() < (own == 0 ? limit : limit / 2);
    };
    options.on_stream = [this, raw](HttpStreamHandler& handler) { StartStream(*raw, handler); };
    client.session = std::make_unique<HttpSession>(
        m_router,
        [this, raw, metrics](std::string bytes, bool close_after) {
            CountResponse(*metrics, bytes);
            raw->SendRaw(std::move(bytes));
            if (close_after)
                raw->CloseAfterWrites("http connection close");
            else
                RearmIdleTimeout(*raw);
        },
        options);
    client.request_timer = std::make_unique<net::Timer>(m_loop);
    client.conn = raw;
    m_sessions.emplace(conn.Id(), std::move(client));
}

void HttpServer::OnData(net::Connection& conn, std::string_view bytes) {
    auto found = m_sessions.find(conn.Id());
    if (found == m_sessions.end())
        return;
    Client& client = found->second;
    client.session->OnData(bytes);
    // While a handler works on an answer (/mine, /nodes/resolve) the client waits on us, not we
    // on it: the idle timeout stops until the answers owed are out.
    if (client.session->PendingResponses() > 0 && !client.idle_suspended) {
        client.idle_suspended = true;
        client.idle_timeout_ms = conn.IdleTimeoutMs();
        conn.SetIdleTimeout(0);
    }
    // Requests wait for the client to read its answers: read no more of them meanwhile (the idle
    // timeout keeps running, so a client that never reads is closed in the end).
    if (client.session->WaitingRequests() > 0) {
        conn.PauseReading(/*count_idle=*/true);
        WatchHeldRequests();
    }
    // A slow-drip client gets m_request_timeout_ms from the first byte of a request to its end.
    const bool in_request = client.session->InRequest();
    if (in_request && !client.timing) {
        client.timing = true;
        HttpSession* session = client.session.get();
        client.request_timer->Start(m_request_timeout_ms, 0, [session] { session->TimeOut(); });
    } else if (!in_request && client.timing) {
        client.timing = false;
        client.request_timer->Stop();
    }
}

void HttpServer::RearmIdleTimeout(net::Connection& conn) {
    auto found = m_sessions.find(conn.Id());
    if (found == m_sessions.end())
        return;
    Client& client = found->second;
    if (client.idle_suspended && client.session->PendingResponses() == 0) {
        client.idle_suspended = false;
        conn.SetIdleTimeout(client.idle_timeout_ms);
    }
}

void HttpServer::StartStream(net::Connection& conn, HttpStreamHandler& handler) {
    auto found = m_sessions.find(conn.Id());
    if (found == m_sessions.end())
        return;
    Client& client = found->second;
    client.timing = false;
    client.request_timer->Stop();
    client.idle_suspended = false;
    conn.SetIdleTimeout(0);
    client.stream = std::make_unique<ConnectionStream>(conn);
    client.stream_handler = &handler;
    handler.OnStreamOpen(*client.stream);
}

HttpServer::~HttpServer() {
    for (auto& [id, client] : m_sessions) {
        if (client.stream_handler != nullptr)
            client.stream_handler->OnStreamClosed(*client.stream);
    }
}

void HttpServer::OnWritable(net::Connection& conn) {
    auto found = m_sessions.find(conn.Id());
    if (found != m_sessions.end() && found->second.stream_handler != nullptr)
        return found->second.stream_handler->OnStreamWritable(*found->second.stream);
    ResumeHeld(conn.Id());
}

void HttpServer::ResumeHeld(std::uint64_t id) {
    auto found = m_sessions.find(id);
    if (found == m_sessions.end() || found->second.session->WaitingRequests() == 0)
        return;
    found->second.session->Resume();
    found = m_sessions.find(id);
    if (found != m_sessions.end() && found->second.session->WaitingRequests() == 0)
        found->second.conn->ResumeReading();
}

void HttpServer::WatchHeldRequests() {
    // A client held back by the node-wide budget hears no OnWritable of its own when others'
    // writes drain it: look at the held ones every HTTP_HELD_RECHECK_MS while there are any.
    if (!m_held_timer)
        m_held_timer = std::make_unique<net::Timer>(m_loop);
    if (m_held_timer_running)
        return;
    m_held_timer_running = true;
    m_held_timer->Start(HTTP_HELD_RECHECK_MS, HTTP_HELD_RECHECK_MS, [this] {
        std::vector<std::uint64_t> held;
        for (const auto& [id, client] : m_sessions) {
            if (client.session->WaitingRequests() > 0)
                held.push_back(id);
        }
        for (std::uint64_t id : held) {
            ResumeHeld(id);
            // One that has read everything waits only because the node-wide budget is spent:
            // the clients that read least make room for it (they are closed).
            auto found = m_sessions.find(id);
            if (found != m_sessions.end() && found->second.session->WaitingRequests() > 0 &&
                found->second.conn->PendingWriteBytes() == 0) {
                found->second.conn->FreeTransportWriteBudget(
                    found->second.conn->TransportQueueLimit() / 2);
            }
        }
        bool any = false;
        for (const auto& [id, client] : m_sessions)
            any = any || client.session->WaitingRequests() > 0;
        if (!any) {
            m_held_timer_running = false;
            m_held_timer->Stop();
        }
    });
}

bool HttpServer::IsIdle(const net::Connection& conn) const {
    auto found = m_sessions.find(conn.Id());
    if (found == m_sessions.end())
        return false;
    const HttpSession& session = *found->second.session;
    return !session.InRequest() && session.PendingResponses() == 0 &&
           session.WaitingRequests() == 0 && !session.Closing();
}

void HttpServer::OnClose(net::Connection& conn, std::string_view) {
    auto found = m_sessions.find(conn.Id());
    if (found != m_sessions.end() && found->second.stream_handler != nullptr)
        found->second.stream_handler->OnStreamClosed(*found->second.stream);
    m_sessions.erase(conn.Id());
}

}  // namespace gossipchain
