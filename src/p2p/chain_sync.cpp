#include "p2p/chain_sync.h"

#include <algorithm>

namespace gossipchain {

std::optional<RequestChain> ChainSync::Request(SyncState& state) const {
    if (state.syncing)
        return std::nullopt;
    state.syncing = true;
    state.received = 0;
    return RequestChain{m_chain.Locator(), MAX_CHAIN_REQUEST_BLOCKS};
}

ChainSync::Next ChainSync::AfterBatch(SyncState& state, std::size_t blocks, bool more,
                                      bool progressed) {
    // One RequestChain is answered with up to MAX_CHAIN_REQUEST_BLOCKS blocks in several
    // batches; the next stretch is asked for only when this answer is complete.
    state.received += blocks;
    if (!more || !progressed) {
        state.syncing = false;
        return Next::Done;
    }
    if (state.received >= MAX_CHAIN_REQUEST_BLOCKS || blocks == 0) {
        state.syncing = false;
        return Next::AskAgain;
    }
    return Next::Wait;
}

bool ChainSync::UnprovenBudgetSpent(const SyncState& state) const {
    return state.unproven_side_bytes >= MAX_UNPROVEN_SIDE_BYTES_PER_PEER ||
           m_unproven_side_bytes >= MAX_UNPROVEN_SIDE_BYTES;
}

std::uint64_t ChainSync::ClaimedHeight(const SyncState& state, std::uint64_t peer_height,
                                       const std::vector<Block>& blocks, bool from_chain,
                                       bool more) const {
    // An announced block claims nothing beyond itself: one no higher than our tip off the main
    // chain is not kept (the sender's next block, an orphan to us, brings it back by sync).
    // A Chain we did not ask for claims nothing either: whoever pushes one may only extend.
    if (!from_chain || !state.syncing || UnprovenBudgetSpent(state))
        return 0;
    // A sync answer claims the end of its batch, or, with more to come, the height the peer said
    // it has: a reorg deeper than one batch stores side blocks before its branch wins.
    std::uint64_t claimed = 0;
    for (const Block& block : blocks)
        claimed = std::max(claimed, block.index);
    return more ? std::max(claimed, peer_height) : claimed;
}

void ChainSync::AddUnproven(SyncState& state, std::size_t bytes) {
    state.unproven_side_bytes += bytes;
    m_unproven_side_bytes += bytes;
}

void ChainSync::Proven(SyncState& state) {
    m_unproven_side_bytes -= std::min(m_unproven_side_bytes, state.unproven_side_bytes);
    state.unproven_side_bytes = 0;
}

std::vector<const BlockEntry*> ChainSync::Answer(const RequestChain& request) const {
    std::size_t limit = std::min<std::size_t>(request.limit, MAX_CHAIN_REQUEST_BLOCKS);
    return m_chain.BlocksAfterLocator(request.locator, limit);
}

void ChainSync::BeginReply(SyncState& state, std::vector<const BlockEntry*> blocks) const {
    std::uint64_t last_height = blocks.empty() ? m_chain.Height() : blocks.back()->Height();
    // A new request replaces an answer still being sent: an honest peer asks again only once
    // it has read the last one.
    state.reply = std::move(blocks);
    state.reply_next = 0;
    state.reply_continues = last_height < m_chain.Height();
    state.replying = true;
}

std::optional<Chain> ChainSync::NextBatch(SyncState& state, RecentSet& known) const {
    if (!state.replying)
        return std::nullopt;
    Chain batch;
    const ChainState::ReadScope reads = m_chain.Reads();
    // Bounded by count and by size, so a batch always fits one frame (the msgpack form of a
    // block is smaller than its JSON form, which is counted here).
    std::size_t batch_bytes = 0;
    for (; state.reply_next < state.reply.size() && batch.blocks.size() < MAX_CHAIN_BATCH_BLOCKS;
         ++state.reply_next) {
        const BlockEntry* entry = state.reply[state.reply_next];
        if (!batch.blocks.empty() && batch_bytes + entry->json_size > MAX_CHAIN_BATCH_BYTES)
            break;
        std::shared_ptr<const BlockBody> body = m_chain.Body(*entry);
        if (!body) {
            // A storage fault (logged): the answer ends here, and says the chain goes on, so
            // the peer asks again from what it got.
            state.reply.resize(state.reply_next);
            state.reply_continues = true;
            break;
        }
        batch_bytes += entry->json_size;
        if (body.use_count() == 1) {
            // Read back for this answer alone (nobody else holds it): its block moves into the
            // batch instead of being copied.
            batch.blocks.push_back(std::move(std::const_pointer_cast<BlockBody>(body)->block));
        } else {
            batch.blocks.push_back(body->block);
        }
        known.Insert(entry->HashHex());
    }
    bool last = state.reply_next >= state.reply.size();
    batch.more = !last || state.reply_continues;
    if (last) {
        state.replying = false;
        state.reply = {};
    }
    return batch;
}

}  // namespace gossipchain
