// Test helper: builds valid blocks on any parent at a low difficulty, so chain tests can grow
// branches of any shape quickly.
#pragma once

#include "chain/chain_state.h"
#include "consensus/params.h"
#include "consensus/pow.h"
#include "primitives/block.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gossipchain::test {

inline ConsensusParams EasyParams(PowRule rule = PowRule::Linked) {
    ConsensusParams params;
    params.pow_rule = rule;
    params.difficulty = 1;
    return params;
}

/** A copy of the block `entry` stands for (tests build children on it). */
inline Block BlockOf(const ChainState& chain, const BlockEntry& entry) {
    return chain.Body(entry)->block;
}
inline Block TipBlock(const ChainState& chain) {
    return BlockOf(chain, chain.Tip());
}

/** A transaction with a unique id derived from `n`. */
inline Transaction MakeTx(std::uint64_t n, std::int64_t amount = 5, std::string sender = "alice") {
    char id[33];
    std::snprintf(id, sizeof(id), "%032llx", static_cast<unsigned long long>(n));
    return Transaction{std::move(sender), "bob", amount, id};
}

/** The lowest valid proof for a block on `parent`. */
inline std::uint64_t FindProofSlow(const ConsensusParams& params, const Block& parent) {
    std::string parent_hash = BlockHash(parent);
    for (std::uint64_t proof = 0;; ++proof) {
        if (CheckProof(params, parent.proof, proof, parent_hash))
            return proof;
    }
}

/** The lowest valid proof for `block` on `parent` under any rule (the header rule's covers the
 * block's content). */
inline std::uint64_t FindBlockProofSlow(const ConsensusParams& params, const Block& parent,
                                        Block block) {
    if (!PowCommitsToContent(params.pow_rule))
        return FindProofSlow(params, parent);
    std::string parent_hash = BlockHash(parent);
    for (block.proof = 0;; ++block.proof) {
        if (CheckBlockProof(params, block, parent.proof, parent_hash))
            return block.proof;
    }
}

/** A valid child of `parent` carrying `txs`, one second later. */
inline Block MakeChild(const ConsensusParams& params, const Block& parent,
                       std::vector<Transaction> txs = {}, double dt = 1.0) {
    Block block;
    block.index = parent.index + 1;
    block.timestamp = parent.timestamp + dt;
    block.transactions = std::move(txs);
    block.previous_hash = BlockHash(parent);
    block.proof = FindBlockProofSlow(params, parent, block);
    return block;
}

/** `count` valid blocks extending `parent`, each with one transaction numbered from `first_tx`. */
inline std::vector<Block> MakeBranch(const ConsensusParams& params, const Block& parent,
                                     std::size_t count, std::uint64_t first_tx) {
    std::vector<Block> blocks;
    const Block* last = &parent;
    for (std::size_t i = 0; i < count; ++i) {
        blocks.push_back(MakeChild(params, *last, {MakeTx(first_tx + i)}));
        last = &blocks.back();
    }
    return blocks;
}

}  // namespace gossipchain::test
