// Test support: a small blocking HTTP/1.1 client over POSIX sockets for driving nodes (the
// gossipchain binary or the tutorial's Flask node) from multi-process tests. Header-only so the
// integration test glob does not take it for a test. It is deliberately independent of
// src/http, so a bug in the node's HTTP code cannot hide behind the same bug in the client.
//
// HttpConnection keeps one connection open for keep-alive and pipelining tests; HttpGet and
// HttpPost open a connection per request with `Connection: close`. Every call has a deadline.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gossipchain::test {

struct HttpClientResponse {
    /** 0 when no complete response arrived; then `error` says why. */
    int status = 0;
    /** Header fields in order, names lowercased. */
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string error;

    bool Ok() const { return error.empty() && status != 0; }
    const std::string* Header(std::string_view lowercase_name) const {
        for (const auto& [name, value] : headers) {
            if (name == lowercase_name)
                return &value;
        }
        return nullptr;
    }
};

/** Default deadline for one request, in milliseconds. */
inline constexpr std::chrono::milliseconds DEFAULT_HTTP_CLIENT_TIMEOUT{10000};

class HttpConnection {
public:
    HttpConnection() = default;
    ~HttpConnection() { Close(); }
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    /** Connects to an IPv4 `host` literal and `port`; false with Error() on failure. */
    bool Connect(const std::string& host, int port,
                 std::chrono::milliseconds timeout = DEFAULT_HTTP_CLIENT_TIMEOUT) {
        Close();
        m_host = host + ":" + std::to_string(port);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
            return Fail("bad host " + host);
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (m_fd < 0)
            return Fail(Errno("socket"));
        int one = 1;
        ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
            if (errno != EINPROGRESS)
                return Fail(Errno("connect"));
            if (!WaitReady(POLLOUT, Deadline(timeout)))
                return Fail("connect timed out");
            int err = 0;
            socklen_t len = sizeof(err);
            ::getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0)
                return Fail(std::string("connect: ") + std::strerror(err));
        }
        return true;
    }

    bool Connected() const { return m_fd >= 0; }
    const std::string& Error() const { return m_error; }

    /** Writes raw bytes (one or several requests, or garbage); false on error or timeout. */
    bool Send(std::string_view bytes,
              std::chrono::milliseconds timeout = DEFAULT_HTTP_CLIENT_TIMEOUT) {
        const auto deadline = Deadline(timeout);
        while (!bytes.empty()) {
            if (m_fd < 0)
                return Fail("not connected");
            ssize_t n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n > 0) {
                bytes.remove_prefix(static_cast<std::size_t>(n));
            } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (!WaitReady(POLLOUT, deadline))
                    return Fail("send timed out");
            } else {
                return Fail(Errno("send"));
            }
        }
        return true;
    }

    /** A request with Host and, for a body, Content-Type and Content-Length. */
    bool SendRequest(const std::string& method, const std::string& target,
                     const std::string& body = "", const std::string& content_type = "",
                     const std::vector<std::pair<std::string, std::string>>& extra = {}) {
        std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + m_host + "\r\n";
        if (!content_type.empty())
            req += "Content-Type: " + content_type + "\r\n";
        if (!body.empty() || method == "POST" || method == "PUT") {
            req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
        }
        for (const auto& [name, value] : extra)
            req += name + ": " + value + "\r\n";
        req += "\r\n" + body;
        return Send(req);
    }

    /**
     * Reads the next response (Content-Length, chunked, or until close). Bytes after it stay
     * buffered for the next call, so pipelined responses can be read one by one.
     */
    HttpClientResponse ReadResponse(
        std::chrono::milliseconds timeout = DEFAULT_HTTP_CLIENT_TIMEOUT) {
        HttpClientResponse response;
        const auto deadline = Deadline(timeout);
        std::size_t header_end;
        while ((header_end = m_buffer.find("\r\n\r\n")) == std::string::npos) {
            if (!ReadMore(deadline, response.error))
                return response;
        }
        std::string_view head(m_buffer.data(), header_end);
        std::size_t line_end = head.find("\r\n");
        std::string_view status_line = head.substr(0, line_end);
        if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") {
            response.error = "bad status line: " + std::string(status_line);
            return response;
        }
        int status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
        std::string_view rest =
            line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
        while (!rest.empty()) {
            std::size_t eol = rest.find("\r\n");
            std::string_view line = rest.substr(0, eol);
            rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
            std::size_t colon = line.find(':');
            if (colon == std::string_view::npos)
                continue;
            std::string name(line.substr(0, colon));
            for (char& c : name)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ')
                value.remove_prefix(1);
            while (!value.empty() && value.back() == ' ')
                value.remove_suffix(1);
            response.headers.emplace_back(std::move(name), std::string(value));
        }
        m_buffer.erase(0, header_end + 4);

        if (const std::string* length = response.Header("content-length")) {
            std::size_t n = std::strtoul(length->c_str(), nullptr, 10);
            while (m_buffer.size() < n) {
                if (!ReadMore(deadline, response.error))
                    return response;
            }
            response.body = m_buffer.substr(0, n);
            m_buffer.erase(0, n);
        } else if (const std::string* te = response.Header("transfer-encoding");
                   te != nullptr && te->find("chunked") != std::string::npos) {
            if (!ReadChunked(deadline, response))
                return response;
        } else {
            while (m_fd >= 0) {
                std::string ignored;
                if (!ReadMore(deadline, ignored))
                    break;
            }
            if (m_fd >= 0) {
                response.error = "timed out reading body until close";
                return response;
            }
            response.body = std::move(m_buffer);
            m_buffer.clear();
        }
        response.status = status;
        return response;
    }

    /** True when the peer closed the connection within `timeout` (no more bytes arrive). */
    bool WaitClosed(std::chrono::milliseconds timeout = DEFAULT_HTTP_CLIENT_TIMEOUT) {
        const auto deadline = Deadline(timeout);
        std::string error;
        while (m_fd >= 0) {
            if (!ReadMore(deadline, error))
                return m_fd < 0;
        }
        return true;
    }

    void Close() {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
        m_buffer.clear();
    }

private:
    using Clock = std::chrono::steady_clock;

    static Clock::time_point Deadline(std::chrono::milliseconds timeout) {
        return Clock::now() + timeout;
    }

    static std::string Errno(const char* what) {
        return std::string(what) + ": " + std::strerror(errno);
    }

    bool Fail(std::string error) {
        m_error = std::move(error);
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
        return false;
    }

    bool WaitReady(short events, Clock::time_point deadline) {
        while (true) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0)
                return false;
            pollfd pfd{m_fd, events, 0};
            int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
            if (r > 0)
                return true;
            if (r < 0 && errno != EINTR)
                return false;
        }
    }

    /** Appends what arrives to m_buffer; false on timeout, error or EOF (which closes m_fd). */
    bool ReadMore(Clock::time_point deadline, std::string& error) {
        if (m_fd < 0) {
            error = "connection closed";
            return false;
        }
        while (true) {
            char buf[16384];
            ssize_t n = ::recv(m_fd, buf, sizeof(buf), 0);
            if (n > 0) {
                m_buffer.append(buf, static_cast<std::size_t>(n));
                return true;
            }
            if (n == 0) {
                ::close(m_fd);
                m_fd = -1;
                error = "connection closed";
                return false;
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN) {
                error = Errno("recv");
                ::close(m_fd);
                m_fd = -1;
                return false;
            }
            if (!WaitReady(POLLIN, deadline)) {
                error = "timed out waiting for the response";
                return false;
            }
        }
    }

    bool ReadChunked(Clock::time_point deadline, HttpClientResponse& response) {
        while (true) {
            std::size_t eol;
            while ((eol = m_buffer.find("\r\n")) == std::string::npos) {
                if (!ReadMore(deadline, response.error))
                    return false;
            }
            std::size_t size = std::strtoul(m_buffer.substr(0, eol).c_str(), nullptr, 16);
            m_buffer.erase(0, eol + 2);
            while (m_buffer.size() < size + 2) {
                if (!ReadMore(deadline, response.error))
                    return false;
            }
            if (size == 0) {
                // No trailers are expected from our servers; skip the final CRLF.
                m_buffer.erase(0, 2);
                return true;
            }
            response.body += m_buffer.substr(0, size);
            m_buffer.erase(0, size + 2);
        }
    }

    int m_fd = -1;
    std::string m_host;
    std::string m_buffer;
    std::string m_error;
};

/** One request on a fresh connection with `Connection: close`. */
inline HttpClientResponse HttpFetch(
    const std::string& host, int port, const std::string& method, const std::string& target,
    const std::string& body = "", const std::string& content_type = "",
    std::chrono::milliseconds timeout = DEFAULT_HTTP_CLIENT_TIMEOUT) {
    HttpConnection connection;
    HttpClientResponse response;
    if (!connection.Connect(host, port, timeout) ||
        !connection.SendRequest(method, target, body, content_type, {{"Connection", "close"}})) {
        response.error = connection.Error();
        return response;
    }
    return connection.ReadResponse(timeout);
}

inline HttpClientResponse HttpGet(const std::string& host, int port, const std::string& target,
                                  std::chrono::milliseconds timeout = DEFAULT_HTTP_CLIENT_TIMEOUT) {
    return HttpFetch(host, port, "GET", target, "", "", timeout);
}

/** POSTs `json_body` as application/json. */
inline HttpClientResponse HttpPost(
    const std::string& host, int port, const std::string& target, const std::string& json_body,
    std::chrono::milliseconds timeout = DEFAULT_HTTP_CLIENT_TIMEOUT) {
    return HttpFetch(host, port, "POST", target, json_body, "application/json", timeout);
}

}  // namespace gossipchain::test
