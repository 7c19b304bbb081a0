// Test helper: a loopback port that was free a moment ago, for tests that need a port to start a
// process on or one that nobody listens on. Header-only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gossipchain::test {

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: binds port 0 and reads back what the
 * kernel chose. Another process may take it before the caller binds it; tests that start a
 * child on it should retry with a new port when the child fails to listen. 0 on failure.
 */
inline int FindFreePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
        port = ntohs(addr.sin_port);
    }
    ::close(fd);
    return port;
}

}  // namespace gossipchain::test
