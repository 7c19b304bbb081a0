// Chain sync, both directions, without sockets (SPEC §9). Asking: one RequestChain with a block
// locator at a time per peer; an answer comes in batches, and the next stretch is asked for only
// when one answer is complete. Answering: the blocks after the peer's locator, handed out one
// batch at a time (bounded by count and bytes so each fits a frame) while the caller finds the
// peer's queue short, so a peer that asks and never reads holds one batch of our memory.
// Also the unproven side-branch budget (SPEC §8): how many bytes of side blocks a peer's sync
// answers may make us keep before its branch wins, per peer and for all peers together.
//
// Loop thread only. The answer keeps pointers to ChainState entries, which are never removed.
#pragma once

#include "chain/chain_state.h"
#include "p2p/messages.h"
#include "p2p/recent_set.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace gossipchain {

/** Largest Chain batch a responder builds, in bytes of the blocks' JSON (half a frame). */
inline constexpr std::size_t MAX_CHAIN_BATCH_BYTES = 4u << 20;
/** The next batch of a Chain answer is queued only while less than this waits for the peer's
 * kernel (1 MiB): long answers are paced by the requester's reading. */
inline constexpr std::size_t CHAIN_REPLY_LOW_WATER_BYTES = 1u << 20;
/** Bytes (canonical JSON) of side-branch blocks one peer's sync answers may make us store before
 * its branch becomes the main chain (32 MiB); beyond, its blocks no higher than our tip are not
 * kept. */
inline constexpr std::size_t MAX_UNPROVEN_SIDE_BYTES_PER_PEER = 32u << 20;
/** The same, for all peers together (128 MiB). */
inline constexpr std::size_t MAX_UNPROVEN_SIDE_BYTES = 128u << 20;

/** One link's sync state, both directions. */
struct SyncState {
    /** A RequestChain of ours is outstanding. */
    bool syncing = false;
    /** The next one waits for the node's storage (PeerEvents::HoldSync). */
    bool held = false;
    /** Blocks received for it so far; its answer may span several batches. */
    std::size_t received = 0;
    /** Bytes of side blocks its answers made us keep that have not yet become the main chain. */
    std::size_t unproven_side_bytes = 0;
    /** The answer to its last RequestChain still to be sent. */
    std::vector<const BlockEntry*> reply;
    std::size_t reply_next = 0;
    /** Our chain goes on past the last block of the answer. */
    bool reply_continues = false;
    bool replying = false;
};

class ChainSync {
public:
    explicit ChainSync(const ChainState& chain) : m_chain(chain) {}

    /** Our request for what the peer has beyond our tip; nothing while one is outstanding. */
    std::optional<RequestChain> Request(SyncState& state) const;
    /** Forgets an outstanding request, so Request asks again (/nodes/resolve). */
    static void Restart(SyncState& state) { state.syncing = false; }

    /** What to do after a batch of the answer to our request. */
    enum class Next {
        /** More batches of this answer are coming. */
        Wait,
        /** The sync with this peer is over (it has nothing more, or nothing new came). */
        Done,
        /** The answer was complete and the peer has more: ask for the next stretch. */
        AskAgain,
    };
    static Next AfterBatch(SyncState& state, std::size_t blocks, bool more, bool progressed);

    /**
     * How high a batch of blocks from the peer says its branch goes (ChainState::ProcessBlock's
     * claim): nothing for announcements and unrequested Chains, nothing once its unproven
     * budget is spent, else the batch's end or, with more to come, the height the peer reported.
     */
    std::uint64_t ClaimedHeight(const SyncState& state, std::uint64_t peer_height,
                                const std::vector<Block>& blocks, bool from_chain, bool more) const;
    bool UnprovenBudgetSpent(const SyncState& state) const;
    /** A side block of `bytes` kept because of the peer's claim. */
    void AddUnproven(SyncState& state, std::size_t bytes);
    /** The peer's blocks moved our tip: its side blocks are no longer unproven. */
    void Proven(SyncState& state);
    std::size_t UnprovenBytes() const { return m_unproven_side_bytes; }

    /**
     * The main-chain blocks after `request`'s locator, up to its limit (at most
     * MAX_CHAIN_REQUEST_BLOCKS). Empty when we have nothing beyond it.
     */
    std::vector<const BlockEntry*> Answer(const RequestChain& request) const;
    /** Makes `blocks` (from Answer) the answer to send, replacing one still being sent. */
    void BeginReply(SyncState& state, std::vector<const BlockEntry*> blocks) const;
    /** The next batch of the answer, nothing once it is all out; what it holds goes into
     * `known`. */
    std::optional<Chain> NextBatch(SyncState& state, RecentSet& known) const;

private:
    const ChainState& m_chain;
    /** Sum of the peers' unproven_side_bytes, kept after a peer leaves (its blocks stay). */
    std::size_t m_unproven_side_bytes = 0;
};

}  // namespace gossipchain
