// Proof of work. Consensus is pure: nothing here reads a clock, does I/O or touches a global.
// Under the tutorial's rules the preimage is the decimal text it formats with f-strings:
// "{last_proof}{proof}" under the seed rule, "{last_proof}{proof}{last_hash}" under the linked
// rule. Under the header rule it is an 80-byte header, as Bitcoin's is: the parent's hash, a
// digest of the block's content, the parent's proof and the proof (SPEC §6.1). A proof is valid
// when the lowercase hex SHA-256 digest of the preimage starts with `difficulty` zeros.
#pragma once

#include "consensus/params.h"
#include "crypto/sha256.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gossipchain {

/** The exact bytes hashed for a proof attempt. */
std::string PowPreimage(PowRule rule, std::uint64_t last_proof, std::uint64_t proof,
                        std::string_view last_hash);

/** Longest preimage WritePowPreimage may write, in bytes (two 20-digit numbers and a hash). */
inline constexpr std::size_t MAX_POW_PREIMAGE_BYTES = 2 * 20 + 64;

/**
 * Writes the same bytes as PowPreimage to `out` (MAX_POW_PREIMAGE_BYTES long) and returns their
 * length; `last_hash` must be at most 64 bytes. For hot loops that must not allocate.
 */
std::size_t WritePowPreimage(char* out, PowRule rule, std::uint64_t last_proof, std::uint64_t proof,
                             std::string_view last_hash);

/** True when `digest` (raw bytes) starts with `difficulty` hex zeros. */
bool HasLeadingHexZeros(const Hash256& digest, int difficulty);

/**
 * The tutorial's valid_proof, with the chosen rule and difficulty. Only for the rules whose
 * preimage leaves out the block's content (seed, linked): false under the header rule, whose
 * proofs CheckBlockProof judges.
 */
bool CheckProof(const ConsensusParams& params, std::uint64_t last_proof, std::uint64_t proof,
                std::string_view last_hash);

/** Bytes of the header rule's preimage (Bitcoin's header is as long). */
inline constexpr std::size_t HEADER_PREIMAGE_BYTES = 80;
using HeaderPreimage = std::array<std::uint8_t, HEADER_PREIMAGE_BYTES>;

/** True when the rule's preimage holds a digest of the block's content. */
constexpr bool PowCommitsToContent(PowRule rule) {
    return rule == PowRule::Header;
}

/** SHA-256 of the block's canonical JSON with `proof` 0: what the header rule commits to. */
Hash256 BlockContentDigest(const Block& block);

/**
 * The header rule's preimage: parent hash (32 bytes, from its hex), content digest (32), the
 * parent's proof and the proof (8 bytes each, big-endian). `parent_hash` must be 64 hex.
 */
HeaderPreimage MakeHeaderPreimage(std::string_view parent_hash, const Hash256& content,
                                  std::uint64_t parent_proof, std::uint64_t proof);

/** The block's proof under the network's rule, whatever the rule (the one check validation
 * uses). */
bool CheckBlockProof(const ConsensusParams& params, const Block& block, std::uint64_t parent_proof,
                     std::string_view parent_hash);

}  // namespace gossipchain
