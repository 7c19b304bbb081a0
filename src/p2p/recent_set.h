// A bounded set of strings that forgets the oldest first: what a peer is known to have (block and
// transaction hashes), or what it announced, without growing with the peer's traffic.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_set>

namespace gossipchain {

/** A set that remembers at most `capacity` strings, forgetting the oldest first. */
class RecentSet {
public:
    explicit RecentSet(std::size_t capacity) : m_capacity(capacity) {}
    bool Contains(const std::string& key) const { return m_set.count(key) != 0; }
    /** True when the key was new. */
    bool Insert(const std::string& key);
    std::size_t Size() const { return m_set.size(); }

private:
    std::size_t m_capacity;
    std::unordered_set<std::string> m_set;
    std::deque<std::string> m_order;
};

}  // namespace gossipchain
