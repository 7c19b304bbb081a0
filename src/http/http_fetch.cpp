#include "http/http_fetch.h"

#include "p2p/peer_address.h"

#include <llhttp.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace gossipchain {

FetchCanceller::FetchCanceller() : m_fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

FetchCanceller::~FetchCanceller() {
    if (m_fd >= 0)
        close(m_fd);
}

void FetchCanceller::Cancel() {
    if (m_fd < 0)
        return;
    // The counter stays non-zero (nobody reads it), so the descriptor stays readable for good.
    std::uint64_t one = 1;
    ssize_t written = write(m_fd, &one, sizeof(one));
    static_cast<void>(written);
}

bool FetchCanceller::Cancelled() const {
    if (m_fd < 0)
        return false;
    pollfd pfd{m_fd, POLLIN, 0};
    return poll(&pfd, 1, 0) == 1;
}

namespace {

using Clock = std::chrono::steady_clock;

struct ResponseState {
    FetchSink* sink = nullptr;
    std::size_t max_body = 0;
    std::size_t body_bytes = 0;
    bool complete = false;
    /** Why a callback stopped the parser. */
    FetchError error = FetchError::None;
};

ResponseState& StateOf(llhttp_t* parser) {
    return *static_cast<ResponseState*>(parser->data);
}

int OnHeadersComplete(llhttp_t* parser) {
    ResponseState& state = StateOf(parser);
    // An interim 1xx response has no body; the real one follows.
    if (parser->status_code < 200)
        return 0;
    std::optional<std::uint64_t> length;
    if ((parser->flags & F_CONTENT_LENGTH) != 0)
        length = parser->content_length;
    // Refused before a byte of the body is read.
    if (length && *length > state.max_body) {
        state.error = FetchError::TooLarge;
        return -1;
    }
    if (!state.sink->OnHead(parser->status_code, length)) {
        state.error = FetchError::Stopped;
        return -1;
    }
    return 0;
}

int OnBody(llhttp_t* parser, const char* at, size_t length) {
    ResponseState& state = StateOf(parser);
    if (length > state.max_body - state.body_bytes) {
        state.error = FetchError::TooLarge;
        return -1;
    }
    state.body_bytes += length;
    if (!state.sink->OnBody(std::string_view(at, length))) {
        state.error = FetchError::Stopped;
        return -1;
    }
    return 0;
}

int OnMessageComplete(llhttp_t* parser) {
    if (parser->status_code < 200)
        return 0;
    StateOf(parser).complete = true;
    return HPE_PAUSED;
}

/** Milliseconds left until `deadline`, at least 0. */
int Remaining(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

/** Waits for `events` on `fd`, the canceller or the deadline: None when `fd` is ready. */
FetchError Wait(int fd, short events, Clock::time_point deadline, const FetchCanceller* cancel) {
    pollfd pfds[2] = {{fd, events, 0}, {cancel ? cancel->Fd() : -1, POLLIN, 0}};
    for (;;) {
        int rc = poll(pfds, 2, Remaining(deadline));
        if (rc < 0 && errno == EINTR)
            continue;
        if (pfds[1].revents != 0)
            return FetchError::Cancelled;
        if (rc == 0) {
            // poll() counts whole milliseconds: it may return a fraction early.
            if (Clock::now() < deadline)
                continue;
            return FetchError::Timeout;
        }
        return rc > 0 ? FetchError::None : FetchError::Io;
    }
}

FetchResult Failed(FetchError error, std::string detail) {
    FetchResult result;
    result.error = error;
    result.detail = std::move(detail);
    return result;
}

/** A connected socket, or -1 with `result` saying why. */
int Connect(const std::string& host, std::uint16_t port, Clock::time_point deadline,
            const FetchCanceller* cancel, FetchResult& result) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    // As in src/net: "localhost" is loopback even where /etc/hosts is missing.
    const std::string& name = host == "localhost" ? std::string("127.0.0.1") : host;
    int rc = getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0) {
        result = Failed(FetchError::Resolve, "cannot resolve " + host + ": " + gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (addrinfo* ai = found; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        FetchError error = FetchError::Connect;
        std::string detail = std::strerror(errno);
        if (errno == EINPROGRESS) {
            error = Wait(fd, POLLOUT, deadline, cancel);
            int soerr = 0;
            socklen_t len = sizeof(soerr);
            if (error == FetchError::None &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0) {
                break;
            }
            if (error == FetchError::None || error == FetchError::Io)
                error = FetchError::Connect;
            detail = error == FetchError::Timeout     ? "connect timed out"
                     : error == FetchError::Cancelled ? "cancelled"
                     : soerr != 0                     ? std::strerror(soerr)
                                                      : "connect failed";
        }
        result = Failed(error, detail);
        close(fd);
        fd = -1;
        if (error == FetchError::Cancelled || error == FetchError::Timeout)
            break;
    }
    freeaddrinfo(found);
    return fd;
}

FetchResult SendRequest(int fd, const std::string& request, Clock::time_point deadline,
                        const FetchCanceller* cancel) {
    std::size_t sent = 0;
    while (sent < request.size()) {
        FetchError waited = Wait(fd, POLLOUT, deadline, cancel);
        if (waited != FetchError::None)
            return Failed(
                waited, "sending the request: " +
                            std::string(waited == FetchError::Timeout ? "timed out" : "cancelled"));
        ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            return Failed(FetchError::Io, std::string("send failed: ") + std::strerror(errno));
        sent += static_cast<std::size_t>(n);
    }
    return {};
}

FetchResult ReadResponse(int fd, FetchSink& sink, const FetchOptions& options,
                         Clock::time_point deadline) {
    llhttp_settings_t settings;
    llhttp_settings_init(&settings);
    settings.on_headers_complete = OnHeadersComplete;
    settings.on_body = OnBody;
    settings.on_message_complete = OnMessageComplete;
    llhttp_t parser;
    llhttp_init(&parser, HTTP_RESPONSE, &settings);
    ResponseState state;
    state.sink = &sink;
    state.max_body = options.max_body_bytes;
    parser.data = &state;
    FetchResult result;
    char buffer[64 * 1024];
    while (!state.complete) {
        FetchError waited = Wait(fd, POLLIN, deadline, options.cancel);
        if (waited != FetchError::None) {
            result = Failed(waited, waited == FetchError::Timeout
                                        ? "timed out reading the response"
                                        : "cancelled while reading the response");
            break;
        }
        ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        llhttp_errno_t err = HPE_OK;
        if (n <= 0) {
            // EOF ends a body that has no length; anything else is a response cut short.
            err = llhttp_finish(&parser);
            if (err == HPE_OK && !state.complete) {
                result = Failed(FetchError::Io,
                                n == 0 ? "connection closed before the end of "
                                         "the response"
                                       : std::string("recv failed: ") + std::strerror(errno));
                break;
            }
        } else {
            err = llhttp_execute(&parser, buffer, static_cast<std::size_t>(n));
        }
        if (err != HPE_OK && err != HPE_PAUSED) {
            FetchError error =
                state.error != FetchError::None ? state.error : FetchError::BadResponse;
            std::string detail =
                error == FetchError::TooLarge
                    ? "response body over " + std::to_string(options.max_body_bytes) + " bytes"
                : error == FetchError::Stopped
                    ? "stopped by the reader"
                    : std::string("not an HTTP response: ") + llhttp_get_error_reason(&parser);
            result = Failed(error, detail);
            break;
        }
        if (n <= 0)
            break;
    }
    if (parser.status_code >= 200)
        result.status = parser.status_code;
    result.body_bytes = state.body_bytes;
    return result;
}

/** Sends `request` (all of it, head and body) to host:port and reads the answer into `sink`. */
FetchResult Fetch(const std::string& host, std::uint16_t port, const std::string& request,
                  FetchSink& sink, const FetchOptions& options) {
    if (options.cancel && options.cancel->Cancelled())
        return Failed(FetchError::Cancelled, "cancelled");
    auto deadline = Clock::now() + std::chrono::milliseconds(options.timeout_ms);
    FetchResult result;
    int fd = Connect(host, port, deadline, options.cancel, result);
    if (fd < 0)
        return result;
    result = SendRequest(fd, request, deadline, options.cancel);
    if (result.Ok())
        result = ReadResponse(fd, sink, options, deadline);
    close(fd);
    return result;
}

std::string RequestHead(std::string_view method, const std::string& host, std::uint16_t port,
                        const std::string& path) {
    return std::string(method) + " " + path +
           " HTTP/1.1\r\nHost: " + FormatHostPort(PeerAddress{host, port}) +
           "\r\nAccept: application/json\r\nConnection: close\r\n";
}

}  // namespace

FetchResult HttpGet(const std::string& host, std::uint16_t port, const std::string& path,
                    FetchSink& sink, const FetchOptions& options) {
    return Fetch(host, port, RequestHead("GET", host, port, path) + "\r\n", sink, options);
}

FetchResult HttpPostJson(const std::string& host, std::uint16_t port, const std::string& path,
                         std::string_view json, FetchSink& sink, const FetchOptions& options) {
    std::string request =
        RequestHead("POST", host, port, path) +
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(json.size()) +
        "\r\n\r\n";
    request += json;
    return Fetch(host, port, request, sink, options);
}

}  // namespace gossipchain
