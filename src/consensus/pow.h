// Proof of work. Consensus is pure: nothing here reads a clock, does I/O or touches a global.
// The preimage is the decimal text the tutorial formats with f-strings: "{last_proof}{proof}" under
// the seed rule, "{last_proof}{proof}{last_hash}" under the linked rule. A proof is valid when the
// lowercase hex SHA-256 digest of that text starts with `difficulty` zeros.
#pragma once

#include "consensus/params.h"
#include "crypto/sha256.h"

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

/** The tutorial's valid_proof, with the chosen rule and difficulty. */
bool CheckProof(const ConsensusParams& params, std::uint64_t last_proof, std::uint64_t proof,
                std::string_view last_hash);

}  // namespace gossipchain
