// A small blocking HTTP/1.1 client for the one place the node acts as an HTTP client: asking a
// plain tutorial node for GET /chain during /nodes/resolve, as the tutorial's resolve_conflicts
// does with requests.get. It runs on a worker thread, never on the loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace gossipchain {

/** Largest response body HttpGet accepts, in bytes (a 100,000-block chain is about 25 MB). */
inline constexpr std::size_t MAX_FETCH_BODY_BYTES = 256u << 20;
/** Default time allowed for the whole request, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_FETCH_TIMEOUT_MS = 5'000;

struct FetchResult {
    /** HTTP status, or 0 when the request failed (see error). */
    int status = 0;
    std::string body;
    std::string error;
};

FetchResult HttpGet(const std::string& host, std::uint16_t port, const std::string& path,
                    std::uint64_t timeout_ms = DEFAULT_FETCH_TIMEOUT_MS,
                    std::size_t max_body_bytes = MAX_FETCH_BODY_BYTES);

}  // namespace gossipchain
