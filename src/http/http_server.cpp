#include "http/http_server.h"

namespace gossipchain {

void HttpServer::OnOpen(net::Connection& conn) {
    net::Connection* raw = &conn;
    // The session outlives no connection: OnClose destroys it, and a destroyed session turns
    // responders still held by slow handlers (/mine, /nodes/resolve) into no-ops.
    Client client;
    client.session =
        std::make_unique<HttpSession>(m_router, [raw](std::string bytes, bool close_after) {
            raw->SendRaw(std::move(bytes));
            if (close_after)
                raw->CloseAfterWrites("http connection close");
        });
    client.request_timer = std::make_unique<net::Timer>(m_loop);
    m_sessions.emplace(conn.Id(), std::move(client));
}

void HttpServer::OnData(net::Connection& conn, std::string_view bytes) {
    auto found = m_sessions.find(conn.Id());
    if (found == m_sessions.end())
        return;
    Client& client = found->second;
    client.session->OnData(bytes);
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

void HttpServer::OnClose(net::Connection& conn, std::string_view) {
    m_sessions.erase(conn.Id());
}

}  // namespace gossipchain
