// Test helper for the signed rules: deterministic wallet keys, rewards to an account, and signed
// transfers on a network's id.
#pragma once

#include "consensus/params.h"
#include "consensus/signed_tx.h"
#include "crypto/node_key.h"
#include "support/chain_builder.h"

#include <cstdint>
#include <cstdio>
#include <string>

namespace gossipchain::test {

inline ConsensusParams SignedParams() {
    ConsensusParams params = EasyParams();
    params.rules = RuleSet::Signed;
    return params;
}

/** The key whose seed is `n` repeated: the same wallet in every run. */
inline NodeKey WalletKey(std::uint8_t n) {
    NodeKeySeed seed{};
    seed.fill(n);
    return NodeKey::FromSeed(seed);
}

inline std::string AddressOfKey(const NodeKey& key) {
    return AddressOf(key.PublicKey());
}

/** The reward of a block, to `address`, with an id derived from `n`. */
inline Transaction RewardTo(const std::string& address, std::uint64_t n) {
    char id[33];
    std::snprintf(id, sizeof(id), "%032llx", static_cast<unsigned long long>(n));
    return Transaction{REWARD_SENDER, address, REWARD_AMOUNT, id};
}

inline Transaction Transfer(const ConsensusParams& params, const NodeKey& from, const NodeKey& to,
                            std::int64_t amount, std::uint64_t nonce) {
    return SignTransfer(from, AddressOfKey(to), amount, nonce, NetworkId(params));
}

}  // namespace gossipchain::test
