#include "chain/orphan_pool.h"

#include <algorithm>

namespace gossipchain {

bool OrphanPool::Add(Block block, std::string hash, std::size_t bytes) {
    if (Contains(hash))
        return false;
    m_by_parent.emplace(block.ParentHash(), hash);
    m_blocks.emplace(hash, Entry{std::move(block), bytes});
    m_arrival.push_back(std::move(hash));
    m_bytes += bytes;
    if (m_arrival.size() > 4 * m_options.max_blocks) {
        // Drop the arrival records of orphans that were taken, so the queue stays bounded too.
        std::erase_if(m_arrival, [this](const std::string& h) { return !Contains(h); });
    }
    while (m_blocks.size() > m_options.max_blocks || m_bytes > m_options.max_bytes) {
        // Arrival entries of orphans already taken are skipped lazily here.
        std::string oldest = std::move(m_arrival.front());
        m_arrival.pop_front();
        Erase(oldest);
    }
    return true;
}

void OrphanPool::Erase(const std::string& hash) {
    auto found = m_blocks.find(hash);
    if (found == m_blocks.end())
        return;
    auto [begin, end] = m_by_parent.equal_range(found->second.block.ParentHash());
    for (auto it = begin; it != end; ++it) {
        if (it->second == hash) {
            m_by_parent.erase(it);
            break;
        }
    }
    m_bytes -= found->second.bytes;
    m_blocks.erase(found);
}

std::vector<std::pair<std::string, Block>> OrphanPool::TakeChildren(
    const std::string& parent_hash) {
    std::vector<std::pair<std::string, Block>> children;
    auto [begin, end] = m_by_parent.equal_range(parent_hash);
    for (auto it = begin; it != end; ++it) {
        auto found = m_blocks.find(it->second);
        if (found == m_blocks.end())
            continue;
        m_bytes -= found->second.bytes;
        children.emplace_back(it->second, std::move(found->second.block));
        m_blocks.erase(found);
    }
    m_by_parent.erase(parent_hash);
    if (m_blocks.empty())
        m_arrival.clear();
    return children;
}

std::uint64_t OrphanPool::HighestDescendant(const std::string& hash) const {
    std::uint64_t highest = 0;
    std::vector<const std::string*> frontier{&hash};
    // Each orphan is visited at most once: it has one parent, so one path leads to it.
    for (std::size_t visited = 0; !frontier.empty() && visited <= m_blocks.size(); ++visited) {
        const std::string* parent = frontier.back();
        frontier.pop_back();
        auto [begin, end] = m_by_parent.equal_range(*parent);
        for (auto it = begin; it != end; ++it) {
            auto found = m_blocks.find(it->second);
            if (found == m_blocks.end())
                continue;
            highest = std::max(highest, found->second.block.index);
            frontier.push_back(&found->first);
        }
    }
    return highest;
}

std::string OrphanPool::MissingAncestor(const std::string& hash) const {
    std::string current = hash;
    // Bounded by the pool size, so a cycle of forged hashes cannot loop forever.
    for (std::size_t steps = 0; steps <= m_blocks.size(); ++steps) {
        auto found = m_blocks.find(current);
        if (found == m_blocks.end())
            return current;
        current = found->second.block.ParentHash();
    }
    return current;
}

}  // namespace gossipchain
