// Glue between the transport and HttpSession: one session per HTTP connection the sniffer hands
// over, response bytes written back in order, the connection closed when the session asks.
#pragma once

#include "http/http_session.h"
#include "http/router.h"
#include "net/connection.h"

#include <cstdint>
#include <memory>
#include <unordered_map>

namespace gossipchain {

class HttpServer : public net::ConnectionHandler {
public:
    /** `router` must outlive the server. */
    explicit HttpServer(const Router& router) : m_router(router) {}

    void OnOpen(net::Connection& conn) override;
    void OnData(net::Connection& conn, std::string_view bytes) override;
    void OnClose(net::Connection& conn, std::string_view reason) override;

    std::size_t OpenSessions() const { return m_sessions.size(); }

private:
    const Router& m_router;
    std::unordered_map<std::uint64_t, std::unique_ptr<HttpSession>> m_sessions;
};

}  // namespace gossipchain
