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
    options.may_dispatch = [raw] {
        return raw->QueuedBytes() < DEFAULT_HTTP_ANSWER_LOW_WATER_BYTES;
    };
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
    if (client.session->WaitingRequests() > 0)
        conn.PauseReading(/*count_idle=*/true);
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

void HttpServer::OnWritable(net::Connection& conn) {
    auto found = m_sessions.find(conn.Id());
    if (found == m_sessions.end() || found->second.session->WaitingRequests() == 0)
        return;
    found->second.session->Resume();
    if (m_sessions.count(conn.Id()) != 0 && found->second.session->WaitingRequests() == 0)
        conn.ResumeReading();
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
    m_sessions.erase(conn.Id());
}

}  // namespace gossipchain
