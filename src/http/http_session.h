// One HTTP connection's protocol logic, independent of sockets: bytes in, response bytes out.
// src/net owns the socket and hands this class what it reads; the session parses requests,
// dispatches them through the Router, and emits responses through an output callback strictly
// in request order, even when handlers answer asynchronously and out of order (HTTP/1.1
// pipelining requires responses in request order). An answer to HEAD, an error included, goes
// out with the header section the same request with GET would get and no body, so the next
// pipelined response follows right after it. It asks the transport to close after a response
// to `Connection: close`, to HTTP/1.0 without keep-alive, and after a parse error. A streamed
// response (GET /events) is the connection's last: once its header section is out the session
// is done and Options::on_stream takes the connection over.
// Everything here runs on the loop thread.
#pragma once

#include "http/request_parser.h"
#include "http/router.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace gossipchain {

/** Most requests of one connection waiting for their answers, a count; more get 503 + close. */
inline constexpr std::size_t MAX_HTTP_PIPELINE_DEPTH = 64;

class HttpSession {
public:
    /**
     * Receives response bytes in order. `close_after` asks the transport to close the
     * connection once these bytes are written; nothing is emitted after that.
     */
    using Output = std::function<void(std::string bytes, bool close_after)>;

    struct Options {
        RequestParser::Options parser;
        std::size_t max_pipeline_depth = MAX_HTTP_PIPELINE_DEPTH;
        /**
         * Asked before each request is handed to the router: false holds the request (and the
         * ones pipelined after it) until Resume(). The server says false while the client has
         * not read what it was already sent, so a client that pipelines and never reads cannot
         * make the node build answer after answer in memory.
         */
        std::function<bool()> may_dispatch;
        /**
         * Adds a Date header read from the wall clock, as RFC 9110 section 6.6.1 requires of an
         * origin server with a clock; tests turn it off for byte-exact output.
         */
        bool date_header = true;
        /**
         * Called once a streamed response's header section was output (HttpResponse::stream):
         * the session then reads and emits nothing more, and the caller hands the connection
         * to `handler`. Without it a streamed response is sent as its header section and closed.
         */
        std::function<void(HttpStreamHandler& handler)> on_stream;
    };

    /** `router` must outlive the session. */
    HttpSession(const Router& router, Output output);
    HttpSession(const Router& router, Output output, Options options);
    /** Responders still held by handlers become no-ops. */
    ~HttpSession();
    HttpSession(const HttpSession&) = delete;
    HttpSession& operator=(const HttpSession&) = delete;

    /** Feeds bytes read from the connection. Ignored once the session is closing. */
    void OnData(std::string_view bytes);

    /** True once a response with close_after was emitted or queued; no more input is read. */
    bool Closing() const;

    /** True while a request has begun arriving but is not complete. */
    bool InRequest() const;
    /**
     * The client took too long to send its request: answers 408 after the responses already
     * owed, and closes.
     */
    void TimeOut();

    /** Requests dispatched whose responses have not been emitted yet. */
    std::size_t PendingResponses() const;
    /** Requests parsed but held back by Options::may_dispatch. */
    std::size_t WaitingRequests() const;
    /** Hands held-back requests to the router while Options::may_dispatch allows. */
    void Resume();

private:
    struct State;
    std::shared_ptr<State> m_state;
};

}  // namespace gossipchain
