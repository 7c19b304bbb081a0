// Test helper: a loopback TCP server on its own thread that plays a scripted HTTP server (a
// tutorial node that answers well, badly, slowly or never). Each accepted connection has its
// request head read, then the script runs with the socket; the connection is closed after it.
// The destructor stops the server and wakes scripts blocked in Hang().
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace gossipchain::test {

class ScriptedServer {
public:
    using Script = std::function<void(ScriptedServer& server, int fd)>;

    explicit ScriptedServer(Script script) : m_script(std::move(script)) {
        m_listen = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(m_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
        listen(m_listen, 64);
        socklen_t len = sizeof(addr);
        getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &len);
        m_port = ntohs(addr.sin_port);
        if (pipe(m_stop) != 0)
            m_stop[0] = m_stop[1] = -1;
        m_thread = std::thread([this] { Run(); });
    }
    ~ScriptedServer() {
        m_stopping = true;
        if (m_stop[1] >= 0) {
            char byte = 1;
            ssize_t written = write(m_stop[1], &byte, 1);
            static_cast<void>(written);
        }
        m_thread.join();
        close(m_listen);
        close(m_stop[0]);
        close(m_stop[1]);
    }
    ScriptedServer(const ScriptedServer&) = delete;
    ScriptedServer& operator=(const ScriptedServer&) = delete;

    std::uint16_t Port() const { return m_port; }
    /** Connections accepted so far (counted before their script runs); a connection that does
     * not start with a request (a gossip dial) is answered 400 and closed, as Flask does. */
    int Accepted() const { return m_accepted.load(); }
    /** Request heads read so far, each ending in "\r\n\r\n". */
    int Requests() const { return m_requests.load(); }

    /** Writes all of `bytes`; false when the client went away. */
    static bool SendAll(int fd, std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    /** Blocks until the server stops or the client closes: a server that never answers. */
    void Hang(int fd) {
        pollfd pfds[2] = {{fd, POLLIN, 0}, {m_stop[0], POLLIN, 0}};
        char buf[4096];
        while (poll(pfds, 2, -1) >= 0 && pfds[1].revents == 0) {
            if (pfds[0].revents != 0 && recv(fd, buf, sizeof(buf), 0) <= 0)
                return;
        }
    }
    /** The whole `body` as a 200 application/json answer with Content-Length. */
    static std::string Answer(std::string_view body, int status = 200) {
        return "HTTP/1.1 " + std::to_string(status) +
               " X\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + std::string(body);
    }

private:
    void Run() {
        pollfd pfds[2] = {{m_listen, POLLIN, 0}, {m_stop[0], POLLIN, 0}};
        while (!m_stopping && poll(pfds, 2, -1) >= 0 && pfds[1].revents == 0) {
            if (pfds[0].revents == 0)
                continue;
            int fd = accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            ++m_accepted;
            if (ReadHead(fd)) {
                ++m_requests;
                m_script(*this, fd);
            }
            close(fd);
        }
    }
    bool ReadHead(int fd) {
        std::string head;
        char c = 0;
        pollfd pfds[2] = {{fd, POLLIN, 0}, {m_stop[0], POLLIN, 0}};
        while (head.size() < 65536 &&
               (head.size() < 4 || head.substr(head.size() - 4) != "\r\n\r\n")) {
            if (poll(pfds, 2, -1) < 0 || pfds[1].revents != 0 || recv(fd, &c, 1, 0) != 1)
                return false;
            // Not a request (a gossip node's protocol magic): refused the way Flask does.
            if (head.empty() && (c < 'A' || c > 'Z')) {
                SendAll(fd, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
                return false;
            }
            head += c;
        }
        return true;
    }

    Script m_script;
    int m_listen = -1;
    int m_stop[2] = {-1, -1};
    std::uint16_t m_port = 0;
    std::atomic<bool> m_stopping{false};
    std::atomic<int> m_accepted{0};
    std::atomic<int> m_requests{0};
    std::thread m_thread;
};

}  // namespace gossipchain::test
