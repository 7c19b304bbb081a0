#include "consensus/pow.h"

#include "primitives/canonical_json.h"
#include "util/hex.h"

#include <charconv>
#include <cstring>

namespace gossipchain {
namespace {
/** Hash length the stack preimage has room for. */
constexpr std::size_t HASH_HEX_CHARS_FOR_POW = 64;
}  // namespace

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

std::size_t WritePowPreimage(char* out, PowRule rule, std::uint64_t last_proof, std::uint64_t proof,
                             std::string_view last_hash) {
    char* end = std::to_chars(out, out + 20, last_proof).ptr;
    end = std::to_chars(end, end + 20, proof).ptr;
    if (rule == PowRule::Linked) {
        std::memcpy(end, last_hash.data(), last_hash.size());
        end += last_hash.size();
    }
    return static_cast<std::size_t>(end - out);
}

bool CheckProof(const ConsensusParams& params, std::uint64_t last_proof, std::uint64_t proof,
                std::string_view last_hash) {
    if (proof > MAX_PROOF || PowCommitsToContent(params.pow_rule))
        return false;
    if (last_hash.size() > HASH_HEX_CHARS_FOR_POW) {
        return HasLeadingHexZeros(
            Sha256(PowPreimage(params.pow_rule, last_proof, proof, last_hash)), params.difficulty);
    }
    // Chain validation checks every block's proof: format on the stack, not in a std::string.
    char preimage[MAX_POW_PREIMAGE_BYTES];
    std::size_t length = WritePowPreimage(preimage, params.pow_rule, last_proof, proof, last_hash);
    return HasLeadingHexZeros(Sha256(std::string_view(preimage, length)), params.difficulty);
}

namespace {
void PutBigEndian(std::uint8_t* out, std::uint64_t value) {
    for (int i = 7; i >= 0; --i) {
        out[i] = static_cast<std::uint8_t>(value);
        value >>= 8;
    }
}
}  // namespace

Hash256 BlockContentDigest(const Block& block) {
    Block content = block;
    content.proof = 0;
    return Sha256(BlockJson(content));
}

HeaderPreimage MakeHeaderPreimage(std::string_view parent_hash, const Hash256& content,
                                  std::uint64_t parent_proof, std::uint64_t proof) {
    HeaderPreimage preimage{};
    if (!HexDecodeTo(parent_hash, std::span<std::uint8_t>(preimage.data(), 32)))
        std::fill(preimage.begin(), preimage.begin() + 32, std::uint8_t{0});
    std::memcpy(preimage.data() + 32, content.data(), content.size());
    PutBigEndian(preimage.data() + 64, parent_proof);
    PutBigEndian(preimage.data() + 72, proof);
    return preimage;
}

bool CheckBlockProof(const ConsensusParams& params, const Block& block, std::uint64_t parent_proof,
                     std::string_view parent_hash) {
    if (!PowCommitsToContent(params.pow_rule))
        return CheckProof(params, parent_proof, block.proof, parent_hash);
    if (block.proof > MAX_PROOF)
        return false;
    HeaderPreimage preimage =
        MakeHeaderPreimage(parent_hash, BlockContentDigest(block), parent_proof, block.proof);
    return HasLeadingHexZeros(
        Sha256(std::string_view(reinterpret_cast<const char*>(preimage.data()), preimage.size())),
        params.difficulty);
}

}  // namespace gossipchain
