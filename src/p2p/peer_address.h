// Peer addresses as the peer table and the HTTP shim share them, and what /nodes shows of a link.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gossipchain {

struct PeerAddress {
    std::string host;
    std::uint16_t port = 0;
};

/**
 * Parses "host:port", "[v6]:port" or a tutorial URL ("http://host:port/"), as the tutorial's
 * urlparse(address).netloc would take it. False when there is no host or no valid port.
 */
bool ParseHostPort(std::string_view text, PeerAddress& out);

/** "host:port", with brackets around an IPv6 host. */
std::string FormatHostPort(const PeerAddress& address);

struct PeerView {
    /** "host:port" as we reach it (outbound) or see it (inbound). */
    std::string address;
    bool inbound = false;
    /** "handshake", "ready", "connecting", "backoff" or "http-only". */
    std::string state;
    std::string node_id;
    /** The node key it proved (64 hex), and the link's session id (16 hex, SPEC §7.2). */
    std::string key;
    std::string session_id;
    std::uint64_t height = 0;
    /** Round trip of the link's last answered ping, in ms; 0 before the first answer. */
    std::uint64_t rtt_ms = 0;
};

}  // namespace gossipchain
