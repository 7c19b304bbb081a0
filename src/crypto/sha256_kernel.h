// The SHA-256 compression function and the padding around it, for callers that hash many similar
// messages and want to skip the per-call work of Sha256() (the miner rewrites a few digits of one
// padded buffer per attempt). Two kernels exist: the x86 SHA extensions (SHA-NI), used when CPUID
// reports them, and libsodium, which every CPU runs. Both are callable directly so tests can
// check each against the reference; Sha256Compress() picks the fastest once per process.
#pragma once

#include "crypto/sha256.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace gossipchain {

/** The SHA-256 chaining value: the eight 32-bit words H0..H7 of FIPS 180-4. */
using Sha256State = std::array<std::uint32_t, 8>;

/** Size of one SHA-256 message block, in bytes. */
inline constexpr std::size_t SHA256_BLOCK_BYTES = 64;

/** The chaining value every SHA-256 hash starts from (FIPS 180-4, section 5.3.3). */
inline constexpr Sha256State SHA256_INITIAL_STATE = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

/**
 * A compression kernel: folds `block_count` consecutive 64-byte blocks starting at `blocks` into
 * `state`.
 */
using Sha256CompressFn = void (*)(Sha256State& state, const std::uint8_t* blocks,
                                  std::size_t block_count);

/**
 * A two-lane kernel: compresses two independent block sequences of equal length. One compression
 * is a chain of dependent rounds; running two side by side keeps the SHA unit busy while each
 * waits for its previous round.
 */
using Sha256CompressTwoFn = void (*)(Sha256State& state_a, const std::uint8_t* blocks_a,
                                     Sha256State& state_b, const std::uint8_t* blocks_b,
                                     std::size_t block_count);

/** Which compression kernel to run. */
enum class Sha256Kernel { ShaNi, Libsodium };

/** True when this CPU implements the x86 SHA extensions (CPUID leaf 7, EBX bit 29). */
bool CpuHasShaNi();

/** The kernel Sha256Compress() uses on this CPU. */
Sha256Kernel FastestSha256Kernel();

/** The compression function of `kernel`. Asking for ShaNi on a CPU without it is a bug. */
Sha256CompressFn Sha256CompressFunction(Sha256Kernel kernel);

/** The two-lane compression function of `kernel`. */
Sha256CompressTwoFn Sha256CompressTwoFunction(Sha256Kernel kernel);

/** Compresses with the fastest kernel this CPU runs. */
void Sha256Compress(Sha256State& state, const std::uint8_t* blocks, std::size_t block_count);

/** Length of a `message_bytes`-byte message once padded: a multiple of 64 bytes. */
constexpr std::size_t Sha256PaddedSize(std::size_t message_bytes) {
    // One 0x80 byte and the 8-byte bit length must fit after the message.
    return (message_bytes + 8) / SHA256_BLOCK_BYTES * SHA256_BLOCK_BYTES + SHA256_BLOCK_BYTES;
}

/**
 * Writes the padding after a `message_bytes`-byte message that starts at `padded[0]`: the 0x80
 * byte, zeros, and the big-endian bit length. `padded` must be Sha256PaddedSize(message_bytes)
 * bytes long.
 */
void Sha256WritePadding(std::span<std::uint8_t> padded, std::size_t message_bytes);

/** The 32-byte digest a final chaining value stands for (each word big-endian). */
Hash256 Sha256StateDigest(const Sha256State& state);

/** SHA-256 of `data` with one particular kernel, so tests can exercise the fallback directly. */
Hash256 Sha256WithKernel(Sha256Kernel kernel, std::string_view data);

}  // namespace gossipchain
