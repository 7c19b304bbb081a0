// Compact blocks (SPEC §8), in the manner of Bitcoin's BIP152: a block travels as its header and
// one short id per transaction (crypto/short_id.h), and the receiver rebuilds it from its own
// mempool, asking only for what it lacks. A block whose transactions were relayed already costs a
// few bytes per transaction instead of its whole body. Socket-free; PeerManager drives it.
#pragma once

#include "chain/chain_state.h"
#include "p2p/messages.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gossipchain {

/** Peers a new block is pushed to as a CompactBlock; the others get a BlockInventory and ask. */
inline constexpr std::size_t BLOCK_PUSH_PEERS = 2;
/** Blocks being rebuilt while their missing transactions are asked for, node-wide (one per peer
 * at most); a new one past this replaces the oldest. */
inline constexpr std::size_t MAX_PARTIAL_BLOCKS = 16;
/** How long a GetBlock or GetBlockTxs may go unanswered before the block is asked of someone
 * else, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_BLOCK_REQUEST_TIMEOUT_MS = 2'000;
/** Blocks asked for with GetBlock and not yet received, node-wide. */
inline constexpr std::size_t MAX_BLOCK_REQUESTS = 1'024;
/**
 * Mempool entries that rebuilds may look at, node-wide: a burst, then a rate per second. Each
 * rebuild reads the whole mempool (short ids are keyed per block), and the proof of a compact
 * block costs its sender little at a low difficulty; over this, a block is rebuilt from its
 * prefilled transactions only and the rest is asked of its sender.
 */
inline constexpr double MAX_REBUILD_SCAN_BURST = 2'000'000;
inline constexpr double REBUILD_SCAN_PER_SECOND = 1'000'000;

/** `entry`, whose content is `body`, as a CompactBlock: every transaction by short id, the
 * reward prefilled. */
CompactBlock MakeCompactBlock(const BlockEntry& entry, const BlockBody& body);

/** A block being rebuilt from a CompactBlock. */
struct PartialBlock {
    std::string hash;
    Block block;
    /** Positions of the transactions still missing, ascending. */
    std::vector<std::uint32_t> missing;
    /** Every transaction was asked for (after a rebuild that did not hash to `hash`). */
    bool asked_all = false;
    std::uint64_t started_ms = 0;
};

/**
 * Rebuilds what it can of `compact` from its prefilled transactions and `mempool` (none: from
 * the prefilled ones only). A short id that two candidates share is left missing, so a collision
 * costs a round trip, never a wrong block (and a wrong rebuild is caught by the hash check).
 */
PartialBlock StartRebuild(const CompactBlock& compact, const Mempool* mempool);
/** Fills the missing transactions with `txs`, in order; false when the count does not match. */
bool FillMissing(PartialBlock& partial, std::vector<Transaction> txs);
/** Marks every transaction missing again (the rebuild did not hash to its hash). */
void MissAll(PartialBlock& partial);

}  // namespace gossipchain
