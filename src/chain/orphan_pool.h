// Blocks whose parent we do not know yet. They wait here, bounded by count and bytes, until the
// parent arrives (then they are processed in order) or they are evicted oldest first. The pool
// also answers which hash to ask a peer for: the missing ancestor at the root of an orphan's
// branch.
#pragma once

#include "primitives/block.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

namespace gossipchain {

/** Default most orphan blocks kept. */
inline constexpr std::size_t DEFAULT_MAX_ORPHAN_BLOCKS = 1024;
/** Default most bytes of orphan blocks kept (canonical JSON size). */
inline constexpr std::size_t DEFAULT_MAX_ORPHAN_BYTES = 16 << 20;

class OrphanPool {
public:
    struct Options {
        std::size_t max_blocks = DEFAULT_MAX_ORPHAN_BLOCKS;
        std::size_t max_bytes = DEFAULT_MAX_ORPHAN_BYTES;
    };
    explicit OrphanPool(Options options) : m_options(options) {}

    /** Stores an orphan; false when it was already there. Evicts the oldest ones over the bound. */
    bool Add(Block block, std::string hash, std::size_t bytes);
    bool Contains(const std::string& hash) const { return m_blocks.count(hash) != 0; }
    /** Removes and returns the orphans whose parent is `parent_hash`. */
    std::vector<std::pair<std::string, Block>> TakeChildren(const std::string& parent_hash);
    /**
     * The greatest index claimed by an orphan descending from `hash` (waiting for it, or for one
     * of its waiting descendants), 0 when none waits. Bounded by the pool size.
     */
    std::uint64_t HighestDescendant(const std::string& hash) const;
    /** Follows parents inside the pool from `hash` to the first hash the pool does not hold. */
    std::string MissingAncestor(const std::string& hash) const;

    std::size_t Size() const { return m_blocks.size(); }
    std::size_t Bytes() const { return m_bytes; }

private:
    struct Entry {
        Block block;
        std::size_t bytes;
    };
    void Erase(const std::string& hash);

    Options m_options;
    std::unordered_map<std::string, Entry> m_blocks;
    std::unordered_multimap<std::string, std::string> m_by_parent;
    std::deque<std::string> m_arrival;
    std::size_t m_bytes = 0;
};

}  // namespace gossipchain
