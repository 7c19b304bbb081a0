#include "crypto/sha256.h"

#include "crypto/sha256_kernel.h"
#include "util/hex.h"

#include <cpuid.h>
#include <immintrin.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace gossipchain {
namespace {

/** The SHA-256 round constants K0..K63 (FIPS 180-4, section 4.2.2). */
alignas(16) constexpr std::uint32_t ROUND_CONSTANTS[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// The SHA-NI code is compiled for the SHA extensions per function, not per build, so the same
// binary still runs (on the libsodium kernel) on CPUs without them. The helpers are always inlined
// into the two kernels below, which is what lets the two-lane kernel interleave its lanes.
#define GOSSIPCHAIN_SHA_NI __attribute__((target("sha,sse4.1,ssse3")))
#define GOSSIPCHAIN_SHA_NI_INLINE __attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline

/** The working variables as sha256rnds2 wants them: ABEF and CDGH rather than ABCD and EFGH. */
struct ShaNiState {
    __m128i abef;
    __m128i cdgh;
};

GOSSIPCHAIN_SHA_NI_INLINE ShaNiState LoadShaNiState(const Sha256State& state) {
    const __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[0]));
    const __m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[4]));
    const __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    const __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    return {_mm_alignr_epi8(cdab, efgh, 8), _mm_blend_epi16(efgh, cdab, 0xF0)};
}

GOSSIPCHAIN_SHA_NI_INLINE void StoreShaNiState(const ShaNiState& in, Sha256State& state) {
    const __m128i feba = _mm_shuffle_epi32(in.abef, 0x1B);
    const __m128i dchg = _mm_shuffle_epi32(in.cdgh, 0xB1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[0]), _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[4]), _mm_alignr_epi8(dchg, feba, 8));
}

GOSSIPCHAIN_SHA_NI_INLINE void CompressBlockShaNi(ShaNiState& state, const std::uint8_t* block) {
    // Message words are big-endian; this shuffle swaps the bytes of each 32-bit lane.
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    const ShaNiState in = state;
    // The message schedule, four words per register, kept as a ring of the last 16 words.
    __m128i schedule[4];
    for (int i = 0; i < 4; ++i) {
        schedule[i] = _mm_shuffle_epi8(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * i)), byte_swap);
    }
#pragma GCC unroll 16
    for (int group = 0; group < 16; ++group) {
        const __m128i words = schedule[group & 3];
        const __m128i with_constants = _mm_add_epi32(
            words, _mm_load_si128(reinterpret_cast<const __m128i*>(&ROUND_CONSTANTS[4 * group])));
        state.cdgh = _mm_sha256rnds2_epu32(state.cdgh, state.abef, with_constants);
        state.abef =
            _mm_sha256rnds2_epu32(state.abef, state.cdgh, _mm_shuffle_epi32(with_constants, 0x0E));
        if (group < 12) {
            // W[t+16..t+19] from W[t..t+15]: msg1 adds sigma0, the alignr supplies W[t+9..t+12],
            // msg2 adds sigma1.
            const __m128i next = schedule[(group + 1) & 3];
            const __m128i third = schedule[(group + 2) & 3];
            const __m128i last = schedule[(group + 3) & 3];
            __m128i expanded = _mm_sha256msg1_epu32(words, next);
            expanded = _mm_add_epi32(expanded, _mm_alignr_epi8(last, third, 4));
            schedule[group & 3] = _mm_sha256msg2_epu32(expanded, last);
        }
    }
    state.abef = _mm_add_epi32(state.abef, in.abef);
    state.cdgh = _mm_add_epi32(state.cdgh, in.cdgh);
}

GOSSIPCHAIN_SHA_NI void CompressShaNi(Sha256State& state, const std::uint8_t* blocks,
                                      std::size_t block_count) {
    ShaNiState working = LoadShaNiState(state);
    for (; block_count > 0; --block_count, blocks += SHA256_BLOCK_BYTES) {
        CompressBlockShaNi(working, blocks);
    }
    StoreShaNiState(working, state);
}

GOSSIPCHAIN_SHA_NI void CompressTwoShaNi(Sha256State& state_a, const std::uint8_t* blocks_a,
                                         Sha256State& state_b, const std::uint8_t* blocks_b,
                                         std::size_t block_count) {
    ShaNiState working_a = LoadShaNiState(state_a);
    ShaNiState working_b = LoadShaNiState(state_b);
    for (std::size_t i = 0; i < block_count; ++i) {
        CompressBlockShaNi(working_a, blocks_a + i * SHA256_BLOCK_BYTES);
        CompressBlockShaNi(working_b, blocks_b + i * SHA256_BLOCK_BYTES);
    }
    StoreShaNiState(working_a, state_a);
    StoreShaNiState(working_b, state_b);
}

#undef GOSSIPCHAIN_SHA_NI_INLINE
#undef GOSSIPCHAIN_SHA_NI

void CompressLibsodium(Sha256State& state, const std::uint8_t* blocks, std::size_t block_count) {
    // libsodium has no public compression function, but its streaming state is a public struct:
    // with a zero byte count, update() runs the compression on every whole block it is given and
    // buffers nothing, so the chaining value it leaves is exactly the compression's output.
    crypto_hash_sha256_state sodium_state;
    std::copy(state.begin(), state.end(), sodium_state.state);
    sodium_state.count = 0;
    crypto_hash_sha256_update(&sodium_state, blocks, block_count * SHA256_BLOCK_BYTES);
    std::copy(std::begin(sodium_state.state), std::end(sodium_state.state), state.begin());
}

void CompressTwoLibsodium(Sha256State& state_a, const std::uint8_t* blocks_a, Sha256State& state_b,
                          const std::uint8_t* blocks_b, std::size_t block_count) {
    CompressLibsodium(state_a, blocks_a, block_count);
    CompressLibsodium(state_b, blocks_b, block_count);
}

/** Stores the message length in bits, big-endian, in the last 8 bytes of a padded message. */
void WriteBitLength(std::span<std::uint8_t> padded, std::uint64_t message_bytes) {
    std::uint64_t bits = message_bytes * 8;
    for (std::size_t i = 1; i <= 8; ++i, bits >>= 8) {
        padded[padded.size() - i] = static_cast<std::uint8_t>(bits);
    }
}

}  // namespace

bool CpuHasShaNi() {
    unsigned int eax = 0;
    unsigned int ebx = 0;
    unsigned int ecx = 0;
    unsigned int edx = 0;
    // __builtin_cpu_supports() has no "sha" feature, so read CPUID leaf 7 directly. The kernel
    // also uses SSSE3 (pshufb) and SSE4.1 (pblendw); every CPU with SHA-NI has both.
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0)
        return false;
    return (ebx & (1U << 29)) != 0 && __builtin_cpu_supports("sse4.1") &&
           __builtin_cpu_supports("ssse3");
}

Sha256Kernel FastestSha256Kernel() {
    static const Sha256Kernel kernel =
        CpuHasShaNi() ? Sha256Kernel::ShaNi : Sha256Kernel::Libsodium;
    return kernel;
}

Sha256CompressFn Sha256CompressFunction(Sha256Kernel kernel) {
    return kernel == Sha256Kernel::ShaNi ? &CompressShaNi : &CompressLibsodium;
}

Sha256CompressTwoFn Sha256CompressTwoFunction(Sha256Kernel kernel) {
    return kernel == Sha256Kernel::ShaNi ? &CompressTwoShaNi : &CompressTwoLibsodium;
}

void Sha256Compress(Sha256State& state, const std::uint8_t* blocks, std::size_t block_count) {
    static const Sha256CompressFn compress = Sha256CompressFunction(FastestSha256Kernel());
    compress(state, blocks, block_count);
}

void Sha256WritePadding(std::span<std::uint8_t> padded, std::size_t message_bytes) {
    std::fill(padded.begin() + static_cast<std::ptrdiff_t>(message_bytes), padded.end(), 0);
    padded[message_bytes] = 0x80;
    WriteBitLength(padded, message_bytes);
}

Hash256 Sha256StateDigest(const Sha256State& state) {
    Hash256 digest;
    for (std::size_t i = 0; i < state.size(); ++i) {
        for (std::size_t j = 0; j < 4; ++j) {
            digest[4 * i + j] = static_cast<std::uint8_t>(state[i] >> (24 - 8 * j));
        }
    }
    return digest;
}

Hash256 Sha256WithKernel(Sha256Kernel kernel, std::string_view data) {
    const Sha256CompressFn compress = Sha256CompressFunction(kernel);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
    Sha256State state = SHA256_INITIAL_STATE;
    // Whole blocks are compressed in place; only the tail is copied to be padded.
    const std::size_t whole_blocks = data.size() / SHA256_BLOCK_BYTES;
    compress(state, bytes, whole_blocks);
    const std::size_t tail_bytes = data.size() - whole_blocks * SHA256_BLOCK_BYTES;
    std::array<std::uint8_t, 2 * SHA256_BLOCK_BYTES> tail;
    const std::span<std::uint8_t> padded(tail.data(), Sha256PaddedSize(tail_bytes));
    std::memcpy(tail.data(), bytes + whole_blocks * SHA256_BLOCK_BYTES, tail_bytes);
    Sha256WritePadding(padded, tail_bytes);
    // The length field counts the whole message, not only the tail.
    WriteBitLength(padded, data.size());
    compress(state, padded.data(), padded.size() / SHA256_BLOCK_BYTES);
    return Sha256StateDigest(state);
}

void Sha256Two(std::string_view a, std::string_view b, Hash256& digest_a, Hash256& digest_b) {
    const std::size_t whole = a.size() / SHA256_BLOCK_BYTES;
    const std::size_t tail_a = a.size() - whole * SHA256_BLOCK_BYTES;
    const std::size_t tail_b = b.size() - whole * SHA256_BLOCK_BYTES;
    if (b.size() / SHA256_BLOCK_BYTES != whole ||
        Sha256PaddedSize(tail_a) != Sha256PaddedSize(tail_b)) {
        digest_a = Sha256(a);
        digest_b = Sha256(b);
        return;
    }
    static const Sha256CompressTwoFn compress_two =
        Sha256CompressTwoFunction(FastestSha256Kernel());
    const auto* bytes_a = reinterpret_cast<const std::uint8_t*>(a.data());
    const auto* bytes_b = reinterpret_cast<const std::uint8_t*>(b.data());
    Sha256State state_a = SHA256_INITIAL_STATE;
    Sha256State state_b = SHA256_INITIAL_STATE;
    compress_two(state_a, bytes_a, state_b, bytes_b, whole);
    std::array<std::uint8_t, 2 * SHA256_BLOCK_BYTES> pad_a;
    std::array<std::uint8_t, 2 * SHA256_BLOCK_BYTES> pad_b;
    const std::size_t padded = Sha256PaddedSize(tail_a);
    std::memcpy(pad_a.data(), bytes_a + whole * SHA256_BLOCK_BYTES, tail_a);
    std::memcpy(pad_b.data(), bytes_b + whole * SHA256_BLOCK_BYTES, tail_b);
    Sha256WritePadding(std::span<std::uint8_t>(pad_a.data(), padded), tail_a);
    Sha256WritePadding(std::span<std::uint8_t>(pad_b.data(), padded), tail_b);
    WriteBitLength(std::span<std::uint8_t>(pad_a.data(), padded), a.size());
    WriteBitLength(std::span<std::uint8_t>(pad_b.data(), padded), b.size());
    compress_two(state_a, pad_a.data(), state_b, pad_b.data(), padded / SHA256_BLOCK_BYTES);
    digest_a = Sha256StateDigest(state_a);
    digest_b = Sha256StateDigest(state_b);
}

Hash256 Sha256Reference(std::string_view data) {
    Hash256 out;
    crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size());
    return out;
}

Hash256 Sha256(std::string_view data) {
    return Sha256WithKernel(FastestSha256Kernel(), data);
}

std::string Sha256Hex(std::string_view data) {
    return HexEncode(Sha256(data));
}

std::string DigestHex(const Hash256& digest) {
    return HexEncode(digest);
}

std::optional<Hash256> ParseDigestHex(std::string_view hex) {
    Hash256 digest;
    if (!IsLowerHex(hex, 2 * digest.size()) || !HexDecodeTo(hex, digest))
        return std::nullopt;
    return digest;
}

std::size_t DigestHasher::operator()(const Hash256& digest) const {
    static const std::uint64_t KEY = [] {
        std::uint64_t key;
        randombytes_buf(&key, sizeof key);
        return key | 1;
    }();
    std::uint64_t word;
    std::memcpy(&word, digest.data(), sizeof word);
    // An odd multiplier is a bijection: distinct words stay distinct, and the high bits, which
    // the multiply mixes most, are folded down.
    word = (word ^ (KEY >> 1)) * KEY;
    return static_cast<std::size_t>(word ^ (word >> 32));
}

const char* Sha256KernelName() {
    return FastestSha256Kernel() == Sha256Kernel::ShaNi ? "sha-ni" : "libsodium";
}

}  // namespace gossipchain
