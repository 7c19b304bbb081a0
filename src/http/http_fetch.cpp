#include "http/http_fetch.h"

#include <llhttp.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace gossipchain {
namespace {

using Clock = std::chrono::steady_clock;

struct ResponseState {
    std::string body;
    std::size_t max_body = 0;
    bool complete = false;
    bool too_large = false;
};

int OnBody(llhttp_t* parser, const char* at, size_t length) {
    auto* state = static_cast<ResponseState*>(parser->data);
    if (state->body.size() + length > state->max_body) {
        state->too_large = true;
        return -1;
    }
    state->body.append(at, length);
    return 0;
}

int OnMessageComplete(llhttp_t* parser) {
    static_cast<ResponseState*>(parser->data)->complete = true;
    return HPE_PAUSED;
}

/** Milliseconds left until `deadline`, at least 0. */
int Remaining(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

int ConnectWithDeadline(const std::string& host, std::uint16_t port, Clock::time_point deadline,
                        std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    // As in src/net: "localhost" is loopback even where /etc/hosts is missing.
    const std::string& name = host == "localhost" ? std::string("127.0.0.1") : host;
    int rc = getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0) {
        error = std::string("cannot resolve ") + host + ": " + gai_strerror(rc);
        return -1;
    }
    int fd = -1;
    for (addrinfo* ai = found; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS) {
            pollfd pfd{fd, POLLOUT, 0};
            int soerr = 0;
            socklen_t len = sizeof(soerr);
            if (poll(&pfd, 1, Remaining(deadline)) == 1 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0) {
                break;
            }
            error = soerr ? std::strerror(soerr) : "connect timed out";
        } else {
            error = std::strerror(errno);
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(found);
    return fd;
}

}  // namespace

FetchResult HttpGet(const std::string& host, std::uint16_t port, const std::string& path,
                    std::uint64_t timeout_ms, std::size_t max_body_bytes) {
    FetchResult result;
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    int fd = ConnectWithDeadline(host, port, deadline, result.error);
    if (fd < 0)
        return result;

    std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" +
                          std::to_string(port) +
                          "\r\nAccept: application/json\r\nConnection: close\r\n\r\n";
    std::size_t sent = 0;
    while (sent < request.size()) {
        pollfd pfd{fd, POLLOUT, 0};
        if (poll(&pfd, 1, Remaining(deadline)) != 1) {
            result.error = "timed out sending the request";
            close(fd);
            return result;
        }
        ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0 && errno != EAGAIN) {
            result.error = std::string("send failed: ") + std::strerror(errno);
            close(fd);
            return result;
        }
        if (n > 0)
            sent += static_cast<std::size_t>(n);
    }

    llhttp_settings_t settings;
    llhttp_settings_init(&settings);
    settings.on_body = OnBody;
    settings.on_message_complete = OnMessageComplete;
    llhttp_t parser;
    llhttp_init(&parser, HTTP_RESPONSE, &settings);
    ResponseState state;
    state.max_body = max_body_bytes;
    parser.data = &state;
    char buffer[64 * 1024];
    while (!state.complete) {
        pollfd pfd{fd, POLLIN, 0};
        if (poll(&pfd, 1, Remaining(deadline)) != 1) {
            result.error = "timed out reading the response";
            break;
        }
        ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
        if (n < 0 && errno == EAGAIN)
            continue;
        if (n <= 0) {
            // EOF ends a body that has no length.
            if (llhttp_finish(&parser) != HPE_OK && !state.complete) {
                result.error = "connection closed before the response was complete";
            }
            break;
        }
        llhttp_errno_t err = llhttp_execute(&parser, buffer, static_cast<std::size_t>(n));
        if (err != HPE_OK && err != HPE_PAUSED) {
            result.error = state.too_large
                               ? "response body too large"
                               : std::string("bad HTTP response: ") + llhttp_errno_name(err);
            break;
        }
    }
    close(fd);
    if (state.complete) {
        result.status = parser.status_code;
        result.body = std::move(state.body);
        result.error.clear();
    }
    return result;
}

}  // namespace gossipchain
