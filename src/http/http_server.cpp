#include "http/http_server.h"

namespace gossipchain {

void HttpServer::OnOpen(net::Connection& conn) {
    net::Connection* raw = &conn;
    // The session outlives no connection: OnClose destroys it, and a destroyed session turns
    // responders still held by slow handlers (/mine, /nodes/resolve) into no-ops.
    auto session =
        std::make_unique<HttpSession>(m_router, [raw](std::string bytes, bool close_after) {
            raw->SendRaw(std::move(bytes));
            if (close_after)
                raw->CloseAfterWrites("http connection close");
        });
    m_sessions.emplace(conn.Id(), std::move(session));
}

void HttpServer::OnData(net::Connection& conn, std::string_view bytes) {
    auto found = m_sessions.find(conn.Id());
    if (found != m_sessions.end())
        found->second->OnData(bytes);
}

void HttpServer::OnClose(net::Connection& conn, std::string_view) {
    m_sessions.erase(conn.Id());
}

}  // namespace gossipchain
