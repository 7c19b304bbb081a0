#include "p2p/peer_address.h"

#include <charconv>

namespace gossipchain {

bool ParseHostPort(std::string_view text, PeerAddress& out) {
    if (auto scheme = text.find("://"); scheme != std::string_view::npos) {
        text.remove_prefix(scheme + 3);
    }
    if (auto slash = text.find('/'); slash != std::string_view::npos)
        text = text.substr(0, slash);
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return false;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return false;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            return false;
    }
    if (host.empty() || host.size() > 255 || port.empty())
        return false;
    for (char c : host) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == ':' || c == '_';
        if (!ok)
            return false;
    }
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
        return false;
    }
    out.host = std::string(host);
    out.port = static_cast<std::uint16_t>(value);
    return true;
}

std::string FormatHostPort(const PeerAddress& address) {
    if (address.host.find(':') != std::string::npos) {
        return "[" + address.host + "]:" + std::to_string(address.port);
    }
    return address.host + ":" + std::to_string(address.port);
}

}  // namespace gossipchain
