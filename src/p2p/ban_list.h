// Bans: keys that may not link for a while. A key is an IP, "node:<id>", or an exact host:port
// (on loopback, where every local node shares one IP). Bounded by MAX_BANS: when full, ended bans
// go first, then the one ending soonest. Socket-free and clock-free: callers pass loop time in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace gossipchain {

/** Most ban entries kept (each ban adds up to three keys: address, IP or node id). */
inline constexpr std::size_t MAX_BANS = 4096;

class BanList {
public:
    /** A live ban: its key and the ms left. */
    struct Ban {
        std::string key;
        std::uint64_t remaining_ms = 0;
    };

    explicit BanList(std::size_t capacity = MAX_BANS) : m_capacity(capacity) {}

    /** True while `key`'s ban runs; an ended one is forgotten. */
    bool IsBanned(const std::string& key, std::uint64_t now_ms);
    /** Bans `key` until `until_ms`, or longer if a ban on it already runs longer. */
    void Add(const std::string& key, std::uint64_t until_ms, std::uint64_t now_ms);
    /** The bans still running at `now_ms`. */
    std::vector<Ban> Live(std::uint64_t now_ms) const;
    std::size_t Size() const { return m_until.size(); }

private:
    /** Makes room for one more entry. */
    void Trim(std::uint64_t now_ms);

    std::size_t m_capacity;
    std::unordered_map<std::string, std::uint64_t> m_until;
};

}  // namespace gossipchain
