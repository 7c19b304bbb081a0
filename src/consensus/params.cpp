#include "consensus/params.h"

namespace gossipchain {

std::string_view PowRuleName(PowRule rule) {
    return rule == PowRule::Seed ? "seed" : "linked";
}

std::optional<PowRule> ParsePowRule(std::string_view name) {
    if (name == "seed")
        return PowRule::Seed;
    if (name == "linked")
        return PowRule::Linked;
    return std::nullopt;
}

Block MakeGenesis(const ConsensusParams& params) {
    Block genesis;
    genesis.index = 1;
    genesis.timestamp = params.genesis_timestamp;
    genesis.proof = GENESIS_PROOF;
    genesis.previous_hash = std::int64_t{1};
    return genesis;
}

std::string NetworkId(const ConsensusParams& params) {
    return BlockHash(MakeGenesis(params)) + "/" + std::string(PowRuleName(params.pow_rule)) + "/" +
           std::to_string(params.difficulty);
}

}  // namespace gossipchain
