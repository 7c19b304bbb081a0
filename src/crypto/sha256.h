// SHA-256 for the whole node. One entry point picks, once per process, the fastest kernel this
// CPU runs: the x86 SHA extensions (SHA-NI) when CPUID reports them, libsodium otherwise.
// libsodium is also exposed separately as the reference the tests compare against.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gossipchain {

using Hash256 = std::array<std::uint8_t, 32>;

/** SHA-256 of `data` with the fastest kernel available. */
Hash256 Sha256(std::string_view data);

/**
 * SHA-256 of two messages at once. When both need the same number of blocks, the SHA-NI kernel
 * interleaves them (two independent dependency chains keep the SHA unit busy); otherwise it
 * hashes them one after the other. Used where a batch of similar messages is hashed (chain
 * validation).
 */
void Sha256Two(std::string_view a, std::string_view b, Hash256& digest_a, Hash256& digest_b);

/** Lowercase hex SHA-256 of `data`, the form the tutorial compares (hexdigest()). */
std::string Sha256Hex(std::string_view data);

/** `digest` as lowercase hex (64 characters), the form hashes take in JSON and on the wire. */
std::string DigestHex(const Hash256& digest);
/** The digest written as `hex` (exactly 64 lowercase hex characters), or nothing. */
std::optional<Hash256> ParseDigestHex(std::string_view hex);

/**
 * Hash of a digest for unordered containers: 8 of its bytes mixed with a key drawn once per
 * process. SHA-256 output spreads keys evenly already; the key keeps a peer who grinds block
 * hashes from aiming many of them at one bucket.
 */
struct DigestHasher {
    std::size_t operator()(const Hash256& digest) const;
};

/** SHA-256 computed by libsodium; the reference implementation. */
Hash256 Sha256Reference(std::string_view data);

/** Name of the kernel Sha256() uses: "sha-ni" or "libsodium". */
const char* Sha256KernelName();

}  // namespace gossipchain
