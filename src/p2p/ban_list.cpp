#include "p2p/ban_list.h"

#include <algorithm>

namespace gossipchain {

bool BanList::IsBanned(const std::string& key, std::uint64_t now_ms) {
    auto found = m_until.find(key);
    if (found == m_until.end())
        return false;
    if (found->second <= now_ms) {
        m_until.erase(found);
        return false;
    }
    return true;
}

void BanList::Trim(std::uint64_t now_ms) {
    if (m_until.size() < m_capacity)
        return;
    // Forget ended bans first; if all are live, the table stays bounded by dropping the entry
    // ending soonest.
    std::erase_if(m_until, [now_ms](const auto& item) { return item.second <= now_ms; });
    while (!m_until.empty() && m_until.size() >= m_capacity) {
        m_until.erase(
            std::min_element(m_until.begin(), m_until.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
}

void BanList::Add(const std::string& key, std::uint64_t until_ms, std::uint64_t now_ms) {
    if (m_until.find(key) == m_until.end())
        Trim(now_ms);
    std::uint64_t& until = m_until[key];
    until = std::max(until, until_ms);
}

std::vector<BanList::Ban> BanList::Live(std::uint64_t now_ms) const {
    std::vector<Ban> out;
    for (const auto& [key, until] : m_until) {
        if (until > now_ms)
            out.push_back(Ban{key, until - now_ms});
    }
    return out;
}

}  // namespace gossipchain
