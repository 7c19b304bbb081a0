#include "crypto/sha256.h"

#include "crypto/sha256_kernel.h"
#include "util/hex.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

std::string RandomBytes(std::mt19937_64& rng, std::size_t length) {
    std::string bytes(length, '\0');
    for (char& c : bytes)
        c = static_cast<char>(rng());
    return bytes;
}

/** Kernels this CPU can run; the SHA-NI one only where CPUID reports it. */
std::vector<Sha256Kernel> RunnableKernels() {
    std::vector<Sha256Kernel> kernels = {Sha256Kernel::Libsodium};
    if (CpuHasShaNi())
        kernels.push_back(Sha256Kernel::ShaNi);
    return kernels;
}

TEST(Sha256, KnownVectors) {
    // FIPS 180-4 examples, plus the empty string.
    EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, KnownVectorsOnEveryKernel) {
    for (Sha256Kernel kernel : RunnableKernels()) {
        EXPECT_EQ(HexEncode(Sha256WithKernel(kernel, "abc")),
                  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        EXPECT_EQ(HexEncode(Sha256WithKernel(kernel, "")),
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}

TEST(Sha256, FastKernelIsShaNiWhenCpuHasIt) {
    EXPECT_EQ(FastestSha256Kernel() == Sha256Kernel::ShaNi, CpuHasShaNi());
    EXPECT_STREQ(Sha256KernelName(), CpuHasShaNi() ? "sha-ni" : "libsodium");
}

TEST(Sha256, EveryLengthUpTo200MatchesReference) {
    std::mt19937_64 rng(1);
    for (std::size_t length = 0; length <= 200; ++length) {
        const std::string message = RandomBytes(rng, length);
        const Hash256 expected = Sha256Reference(message);
        EXPECT_EQ(Sha256(message), expected) << "length " << length;
        for (Sha256Kernel kernel : RunnableKernels()) {
            EXPECT_EQ(Sha256WithKernel(kernel, message), expected)
                << "length " << length << " kernel " << static_cast<int>(kernel);
        }
    }
}

TEST(Sha256, TwoAtOnceMatchesReferenceForEveryPairOfLengths) {
    std::mt19937_64 rng(4);
    // Equal block counts take the two-lane path, unequal ones the fallback; both must agree.
    for (std::size_t a = 0; a <= 200; a += 3) {
        for (std::size_t b = 0; b <= 200; b += 7) {
            const std::string first = RandomBytes(rng, a);
            const std::string second = RandomBytes(rng, b);
            Hash256 digest_a;
            Hash256 digest_b;
            Sha256Two(first, second, digest_a, digest_b);
            ASSERT_EQ(digest_a, Sha256Reference(first)) << a << " " << b;
            ASSERT_EQ(digest_b, Sha256Reference(second)) << a << " " << b;
        }
    }
}

TEST(Sha256, LongMessagesMatchReference) {
    std::mt19937_64 rng(2);
    for (std::size_t length : {1000U, 4095U, 4096U, 65537U, 1000003U}) {
        const std::string message = RandomBytes(rng, length);
        const Hash256 expected = Sha256Reference(message);
        for (Sha256Kernel kernel : RunnableKernels()) {
            EXPECT_EQ(Sha256WithKernel(kernel, message), expected) << "length " << length;
        }
    }
}

TEST(Sha256, KernelsAgreeOnRawCompression) {
    // Arbitrary chaining values and blocks, not only those a real message produces.
    std::mt19937_64 rng(3);
    for (int trial = 0; trial < 100; ++trial) {
        Sha256State start;
        for (std::uint32_t& word : start)
            word = static_cast<std::uint32_t>(rng());
        const std::string blocks = RandomBytes(rng, SHA256_BLOCK_BYTES * (1 + trial % 3));
        const auto* data = reinterpret_cast<const std::uint8_t*>(blocks.data());
        const std::size_t count = blocks.size() / SHA256_BLOCK_BYTES;
        Sha256State via_sodium = start;
        Sha256CompressFunction(Sha256Kernel::Libsodium)(via_sodium, data, count);
        Sha256State via_default = start;
        Sha256Compress(via_default, data, count);
        EXPECT_EQ(via_default, via_sodium);
        EXPECT_NE(via_sodium, start);
    }
}

TEST(Sha256, TwoLaneKernelsMatchOneLane) {
    std::mt19937_64 rng(4);
    for (int trial = 0; trial < 50; ++trial) {
        const std::size_t count = 1 + trial % 3;
        const std::string blocks_a = RandomBytes(rng, SHA256_BLOCK_BYTES * count);
        const std::string blocks_b = RandomBytes(rng, SHA256_BLOCK_BYTES * count);
        const auto* data_a = reinterpret_cast<const std::uint8_t*>(blocks_a.data());
        const auto* data_b = reinterpret_cast<const std::uint8_t*>(blocks_b.data());
        Sha256State expected_a = SHA256_INITIAL_STATE;
        Sha256State expected_b = {1, 2, 3, 4, 5, 6, 7, static_cast<std::uint32_t>(trial)};
        const Sha256State start_b = expected_b;
        Sha256CompressFunction(Sha256Kernel::Libsodium)(expected_a, data_a, count);
        Sha256CompressFunction(Sha256Kernel::Libsodium)(expected_b, data_b, count);
        for (Sha256Kernel kernel : RunnableKernels()) {
            Sha256State lane_a = SHA256_INITIAL_STATE;
            Sha256State lane_b = start_b;
            Sha256CompressTwoFunction(kernel)(lane_a, data_a, lane_b, data_b, count);
            EXPECT_EQ(lane_a, expected_a) << "kernel " << static_cast<int>(kernel);
            EXPECT_EQ(lane_b, expected_b) << "kernel " << static_cast<int>(kernel);
        }
    }
}

TEST(Sha256, PaddedSizeLeavesRoomForTerminatorAndLength) {
    EXPECT_EQ(Sha256PaddedSize(0), 64U);
    EXPECT_EQ(Sha256PaddedSize(55), 64U);
    EXPECT_EQ(Sha256PaddedSize(56), 128U);
    EXPECT_EQ(Sha256PaddedSize(64), 128U);
    EXPECT_EQ(Sha256PaddedSize(119), 128U);
    EXPECT_EQ(Sha256PaddedSize(120), 192U);
}

TEST(Sha256, PaddingThenCompressionIsTheHash) {
    const std::string message = "100035293";
    std::vector<std::uint8_t> padded(Sha256PaddedSize(message.size()), 0xAA);
    std::copy(message.begin(), message.end(), padded.begin());
    Sha256WritePadding(padded, message.size());
    EXPECT_EQ(padded[message.size()], 0x80);
    EXPECT_EQ(padded[63], message.size() * 8);
    Sha256State state = SHA256_INITIAL_STATE;
    Sha256Compress(state, padded.data(), padded.size() / SHA256_BLOCK_BYTES);
    EXPECT_EQ(Sha256StateDigest(state), Sha256Reference(message));
}

}  // namespace
}  // namespace gossipchain
