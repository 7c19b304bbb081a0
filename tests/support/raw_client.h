// Test helper: a plain blocking loopback socket, for playing a client or peer that the code
// under test does not control. Reads never block, so tests can poll it from a RunUntil loop.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>

namespace gossipchain::test {

/** A plain blocking socket for playing a peer the transport does not control. */
class RawClient {
public:
    /** `source_ip`, when given, is a loopback address (127.0.0.2, ...) the socket connects from,
     * so one test can play several hosts. */
    explicit RawClient(uint16_t port, int receive_buffer = 0, const char* source_ip = nullptr) {
        m_fd = socket(AF_INET, SOCK_STREAM, 0);
        if (receive_buffer > 0) {
            setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
        }
        if (source_ip != nullptr) {
            sockaddr_in source{};
            source.sin_family = AF_INET;
            inet_pton(AF_INET, source_ip, &source.sin_addr);
            bind(m_fd, reinterpret_cast<sockaddr*>(&source), sizeof(source));
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // Loopback connects complete in the kernel's backlog, without the loop accepting.
        m_connected = connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    }
    ~RawClient() { close(m_fd); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool Connected() const { return m_connected; }
    bool Send(std::string_view bytes) {
        return send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(bytes.size());
    }
    /** Reads what is available without blocking; true once the peer closed (EOF or reset). */
    bool PollClosed() {
        char buf[4096];
        for (;;) {
            const ssize_t n = recv(m_fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (n > 0) {
                received.append(buf, static_cast<size_t>(n));
                continue;
            }
            if (n == 0)
                return true;
            return errno != EAGAIN && errno != EWOULDBLOCK;
        }
    }

    std::string received;

private:
    int m_fd = -1;
    bool m_connected = false;
};

}  // namespace gossipchain::test
