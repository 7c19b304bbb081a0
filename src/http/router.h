// Maps an HTTP request to its endpoint handler by method and path: exact paths such as "/chain"
// and prefix routes such as "/blocks/" for "/blocks/{index or hash}". Unknown paths get 404 and a
// known path with the wrong method gets 405 with an Allow header, both as JSON errors. Two
// methods every resource has without a route of their own (RFC 9110 section 9.3): HEAD runs the
// GET handler (HttpSession drops the body and keeps the headers), and OPTIONS is answered here
// with the Allow list, for a path or for "*" (the whole server). Handlers may answer later (e.g.
// /mine waits for the miner threads): they get a Responder, and the HttpSession that made it
// keeps responses in request order on a pipelined connection.
#pragma once

#include "http/request_parser.h"
#include "http/response.h"

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace gossipchain {

/**
 * Answers one request. Call it once, on the loop thread, now or later; extra calls are
 * ignored. Copies refer to the same request. Calling it after the connection closed is a no-op.
 */
using Responder = std::function<void(HttpResponse)>;

/** An endpoint. It must copy whatever it needs from the request before answering later. */
using Handler = std::function<void(const HttpRequest&, Responder)>;

class Router {
public:
    /** Routes `method` on exactly `path` ("/chain"). A later Add for the same pair replaces. */
    void Add(std::string method, std::string path, Handler handler);

    /**
     * Routes `method` on `prefix` + one non-empty segment without '/' ("/blocks/" matches
     * "/blocks/7" but not "/blocks/" or "/blocks/7/x"). Exact routes are tried first.
     */
    void AddPrefix(std::string method, std::string prefix, Handler handler);

    /** Runs the matching handler, or answers OPTIONS, 404 or 405 (with Allow) itself. */
    void Dispatch(const HttpRequest& request, const Responder& respond) const;

    /**
     * The methods `path` answers, sorted and joined with ", ": its routes, HEAD wherever GET
     * is routed, and OPTIONS ("GET, HEAD, OPTIONS"). For "*", every method some path answers.
     * Empty for an unknown path.
     */
    std::string AllowedMethods(std::string_view path) const;

private:
    using MethodTable = std::map<std::string, Handler, std::less<>>;

    /** The handlers for `path`, exact routes first, or nullptr when nothing routes it. */
    const MethodTable* Find(std::string_view path) const;
    /** The handler for `method` in `table` (GET's for HEAD without its own), or nullptr. */
    static const Handler* FindHandler(const MethodTable& table, std::string_view method);
    using MethodSet = std::set<std::string, std::less<>>;
    /** Adds the methods `table` answers to `methods`: its own, HEAD with GET, and OPTIONS. */
    static void AddAnsweredMethods(const MethodTable& table, MethodSet& methods);

    std::map<std::string, MethodTable, std::less<>> m_exact;
    /** Few prefixes exist, so a linear scan in registration order is enough. */
    std::vector<std::pair<std::string, MethodTable>> m_prefixes;
};

/** The segment a prefix route matched: PathSuffix("/blocks/7", "/blocks/") is "7". */
std::string_view PathSuffix(const HttpRequest& request, std::string_view prefix);

/**
 * Nullopt when the request declares an application/json body (parameters allowed, but a charset
 * must be utf-8); otherwise the 415 response to send. POST endpoints call this first.
 */
std::optional<HttpResponse> CheckJsonContentType(const HttpRequest& request);

}  // namespace gossipchain
