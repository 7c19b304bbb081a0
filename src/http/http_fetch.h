// A small blocking HTTP/1.1 client for the places gossipchain acts as an HTTP client: asking a
// plain tutorial node for GET /chain during /nodes/resolve, as the tutorial's resolve_conflicts
// does with requests.get (on a worker thread, never on the loop thread), and `gossipchain
// wallet` asking a node for an account and posting a transfer.
//
// The body is never buffered here: it goes to a FetchSink piece by piece as it arrives (after
// chunked decoding), so a reader can parse it incrementally and stop at the first byte it does
// not want. A Content-Length over the caller's cap ends the fetch before any body is read.
// Every wait polls a FetchCanceller too, so an owner that stops (the node shutting down) ends
// its fetches at once instead of waiting out their timeouts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gossipchain {

/** Default time allowed for the whole request (connect, send, read), in milliseconds. */
inline constexpr std::uint64_t DEFAULT_FETCH_TIMEOUT_MS = 5'000;

/**
 * Ends fetches early from another thread. Cancel() is sticky: every fetch polling this canceller,
 * running or started later, ends with FetchError::Cancelled. Thread-safe.
 */
class FetchCanceller {
public:
    FetchCanceller();
    ~FetchCanceller();
    FetchCanceller(const FetchCanceller&) = delete;
    FetchCanceller& operator=(const FetchCanceller&) = delete;

    void Cancel();
    bool Cancelled() const;
    /** A descriptor that becomes readable on Cancel(), for poll(); -1 if none could be made. */
    int Fd() const { return m_fd; }

private:
    int m_fd = -1;
};

/** Receives a response as it arrives. Returning false ends the fetch (FetchError::Stopped). */
class FetchSink {
public:
    virtual ~FetchSink() = default;
    /** The status line and headers arrived; `content_length` when the server sent one. */
    virtual bool OnHead(int /*status*/, std::optional<std::uint64_t> /*content_length*/) {
        return true;
    }
    /** The next piece of the body. */
    virtual bool OnBody(std::string_view bytes) = 0;
};

enum class FetchError {
    None,
    /** The host name did not resolve. */
    Resolve,
    /** No connection (refused, unreachable). */
    Connect,
    /** The timeout passed before the response was complete. */
    Timeout,
    /** Sending the request or reading the response failed, or the server closed too early. */
    Io,
    /** What came back is not HTTP/1.x. */
    BadResponse,
    /** The body is longer than FetchOptions::max_body_bytes (by Content-Length or as read). */
    TooLarge,
    /** The sink returned false. */
    Stopped,
    /** The FetchCanceller was cancelled. */
    Cancelled,
};

struct FetchOptions {
    std::uint64_t timeout_ms = DEFAULT_FETCH_TIMEOUT_MS;
    /** Longest body read; 0 reads none (the head only). */
    std::size_t max_body_bytes = 0;
    /** Polled during every wait; may be null. */
    const FetchCanceller* cancel = nullptr;
};

struct FetchResult {
    FetchError error = FetchError::None;
    /** The HTTP status once the head arrived, else 0. */
    int status = 0;
    /** Body bytes handed to the sink. */
    std::size_t body_bytes = 0;
    /** For people: what went wrong, e.g. "connection refused". Empty when error is None. */
    std::string detail;

    bool Ok() const { return error == FetchError::None; }
};

/**
 * GET `path` from host:port with `Connection: close`, handing the response to `sink`. Ok() when
 * the whole response arrived and the sink took all of it (whatever its status).
 */
FetchResult HttpGet(const std::string& host, std::uint16_t port, const std::string& path,
                    FetchSink& sink, const FetchOptions& options);
/** POST `json` to `path` (Content-Type: application/json), otherwise as HttpGet (the wallet). */
FetchResult HttpPostJson(const std::string& host, std::uint16_t port, const std::string& path,
                         std::string_view json, FetchSink& sink, const FetchOptions& options);

}  // namespace gossipchain
