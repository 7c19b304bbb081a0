// Incremental HTTP/1.1 request parsing for the HTTP shim: turns arbitrary byte chunks from one
// connection into complete, bounded HttpRequest values in arrival order (pipelining), or one
// HttpError after which the connection must be closed. llhttp does the grammar; this file adds
// the limits llhttp leaves to its embedder (header section, target, body sizes) so a client
// cannot make the node buffer without bound, and the message rules of RFC 9112 llhttp leaves
// to it: the three request-target forms a server must accept (origin, absolute, and "*" for
// OPTIONS), no body when neither Content-Length nor Transfer-Encoding is sent (section 6.3, so
// a bodiless POST is a POST with empty content, never 411), and 505 for a major version other
// than 1. llhttp types stay inside request_parser.cpp.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gossipchain {

/** Largest request body accepted, in bytes (1 MiB); larger bodies get 413. */
inline constexpr std::size_t MAX_HTTP_BODY_BYTES = 1024 * 1024;
/** Largest request line plus header section, in bytes (16 KiB); larger get 431. */
inline constexpr std::size_t MAX_HTTP_HEADER_BYTES = 16 * 1024;
/** Most header fields in one request, a count; more get 431. */
inline constexpr std::size_t MAX_HTTP_HEADER_COUNT = 100;
/** Longest request target (path and query), in bytes (8 KiB); longer get 414. */
inline constexpr std::size_t MAX_HTTP_TARGET_BYTES = 8 * 1024;

struct HttpRequest {
    std::string method;  // "GET", "POST", ... as llhttp names it
    std::string target;  // raw request target, e.g. "/blocks/a%20b?x=1"
    std::string path;    // percent-decoded path part of the target, valid UTF-8 without NUL
    std::string query;   // raw text after '?', not decoded
    /** Header fields in arrival order; names lowercased, values with surrounding blanks trimmed. */
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool keep_alive = true;  // llhttp's verdict from the version and Connection header
    int http_minor = 1;

    /** The first header named `lowercase_name`, or nullptr. */
    const std::string* Header(std::string_view lowercase_name) const;
};

struct HttpError {
    int status = 400;
    std::string message;
    /** The request that failed is a HEAD, so its answer must not carry a body either. */
    bool head = false;
};

/** What one Feed() call produced: the requests completed by these bytes, then maybe an error. */
struct HttpFeedResult {
    std::vector<HttpRequest> requests;
    std::optional<HttpError> error;
    /**
     * A request's header section with `Expect: 100-continue` ended in these bytes and its body
     * is still missing: the client waits for "100 Continue" (curl does for bodies over 1 KiB).
     */
    bool expect_continue = false;
};

class RequestParser {
public:
    struct Options {
        std::size_t max_body_bytes = MAX_HTTP_BODY_BYTES;
        std::size_t max_header_bytes = MAX_HTTP_HEADER_BYTES;
        std::size_t max_header_count = MAX_HTTP_HEADER_COUNT;
        std::size_t max_target_bytes = MAX_HTTP_TARGET_BYTES;
    };

    RequestParser();
    explicit RequestParser(Options options);
    ~RequestParser();
    RequestParser(const RequestParser&) = delete;
    RequestParser& operator=(const RequestParser&) = delete;

    /**
     * Parses the next bytes of the connection. Requests completed before an error are still
     * returned. After an error, or after a request that does not keep the connection alive,
     * the parser is finished and ignores further bytes.
     */
    HttpFeedResult Feed(std::string_view bytes);

    /** True once an error was reported or a non-keep-alive request completed. */
    bool Finished() const;

    /** True while a request has begun arriving but is not complete (for the 408 timeout). */
    bool InRequest() const;

    /** True while the request that is arriving is known to be a HEAD (its answer has no body). */
    bool InHeadRequest() const;

private:
    class Impl;
    std::unique_ptr<Impl> m_impl;
};

/**
 * Percent-decodes a request path. False when a '%' is not followed by two hex digits, or the
 * result contains NUL or is not valid UTF-8 (it ends up in JSON error messages and lookups).
 */
bool DecodePercentPath(std::string_view encoded, std::string& decoded);

}  // namespace gossipchain
