// HTTP/1.1 response values and their wire bytes. The tutorial's endpoints answer with Flask's
// `jsonify`, so JSON bodies are written the way Flask (>= 2.3, non-debug) writes them: sorted
// keys, compact separators, ensure_ascii, Python float repr, and a trailing newline. Errors use
// a JSON `{"error": "..."}` body; the tutorial's two plain-string errors ("Missing values",
// "Error: Please supply a valid list of nodes") are sent as text/html like Flask sends a bare
// string, so clients written against the tutorial see the same Content-Type.
#pragma once

#include "http/http_stream.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gossipchain {

struct HttpResponse {
    int status = 200;
    /** Empty for a response without content (an OPTIONS answer): no Content-Type is sent. */
    std::string content_type = "application/json";
    /** Extra header fields such as Allow; Content-Type/Length and Connection are added. */
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    /**
     * Set for a response that goes on after its header section (GET /events): no
     * Content-Length, `Connection: close` (the stream ends with the connection), and the
     * handler gets the connection once the header section and `body` are out.
     */
    HttpStreamHandler* stream = nullptr;
};

/** The RFC 9110 reason phrase for `status`, or "Unknown" for codes we never send. */
std::string_view ReasonPhrase(int status);

/** Flask jsonify's body bytes for `value` (compact, sorted keys, ASCII only, then "\n"). */
std::string FlaskJsonBody(const nlohmann::json& value);

/** A JSON response whose body is FlaskJsonBody(value). */
HttpResponse JsonResponse(int status, const nlohmann::json& value);

/** `{"error": message}` with `status`, the shape of every non-tutorial error. */
HttpResponse JsonErrorResponse(int status, std::string_view message);

/** A bare string body as Flask returns it from a view: text/html; charset=utf-8. */
HttpResponse TextResponse(int status, std::string body);

/**
 * The wire bytes of `response`: status line, Content-Type, Content-Length, Connection
 * (keep-alive or close), the extra headers, a Date header when `unix_seconds` is given, and
 * the body. Always HTTP/1.1: RFC 9110 lets a server answer a 1.0 request with a 1.1 response.
 * For a HEAD request (`head_request`) the header section is exactly the one GET would get,
 * Content-Length of the body included, and the body itself is left out (RFC 9110 section 9.3.2;
 * RFC 9112 section 6.3 says a client ends such a response at its empty line).
 */
std::string SerializeResponse(const HttpResponse& response, bool keep_alive,
                              std::optional<std::int64_t> unix_seconds = std::nullopt,
                              bool head_request = false);

/** An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for the Date header. */
std::string HttpDate(std::int64_t unix_seconds);

}  // namespace gossipchain
