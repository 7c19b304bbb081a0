#include "consensus/pow.h"

#include <charconv>
#include <cstring>

namespace gossipchain {

std::string PowPreimage(PowRule rule, std::uint64_t last_proof, std::uint64_t proof,
                        std::string_view last_hash) {
    std::string text = std::to_string(last_proof);
    text += std::to_string(proof);
    if (rule == PowRule::Linked)
        text += last_hash;
    return text;
}

bool HasLeadingHexZeros(const Hash256& digest, int difficulty) {
    int full_bytes = difficulty / 2;
    for (int i = 0; i < full_bytes; ++i) {
        if (digest[static_cast<std::size_t>(i)] != 0)
            return false;
    }
    return difficulty % 2 == 0 || (digest[static_cast<std::size_t>(full_bytes)] >> 4) == 0;
}

bool CheckProof(const ConsensusParams& params, std::uint64_t last_proof, std::uint64_t proof,
                std::string_view last_hash) {
    if (proof > MAX_PROOF)
        return false;
    return HasLeadingHexZeros(Sha256(PowPreimage(params.pow_rule, last_proof, proof, last_hash)),
                              params.difficulty);
}

}  // namespace gossipchain
