// Tests for the pure frame decoder: arbitrary splits, coalesced frames, and limits checked before
// any allocation.
#include "net/frame_decoder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

namespace {

// Counts every global allocation so a test can prove a code path allocates nothing.
std::atomic<size_t> g_allocations{0};

}  // namespace

// GCC cannot see that these replace the global pair, and warns that free() does not match new.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
    ++g_allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size))
        return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t /*size*/) noexcept {
    std::free(p);
}
#pragma GCC diagnostic pop

namespace gossipchain::net {
namespace {

std::vector<std::string> SamplePayloads() {
    return {"a", "", std::string(300, 'x'), "hello world", std::string(1, '\0'), "last"};
}

std::string EncodeAll(const std::vector<std::string>& payloads) {
    std::string stream;
    for (const auto& p : payloads)
        stream += FrameDecoder::Encode(p);
    return stream;
}

TEST(FrameDecoder, EncodeWritesBigEndianLength) {
    EXPECT_EQ(FrameDecoder::Encode("abc"), std::string("\x00\x00\x00\x03"
                                                       "abc",
                                                       7));
    EXPECT_EQ(FrameDecoder::Encode(std::string(0x010203, 'z')).substr(0, 4),
              std::string("\x00\x01\x02\x03", 4));
}

TEST(FrameDecoder, StreamSplitAtEveryByteBoundary) {
    const auto payloads = SamplePayloads();
    const std::string stream = EncodeAll(payloads);
    for (size_t split = 0; split <= stream.size(); ++split) {
        FrameDecoder decoder;
        std::vector<std::string> got;
        const FrameDecoder::FrameCallback collect = [&](std::string_view p) {
            got.emplace_back(p);
            return true;
        };
        ASSERT_EQ(decoder.Feed(std::string_view(stream).substr(0, split), collect),
                  FrameStatus::Ok);
        ASSERT_EQ(decoder.Feed(std::string_view(stream).substr(split), collect), FrameStatus::Ok);
        ASSERT_EQ(got, payloads) << "split at " << split;
        EXPECT_EQ(decoder.BufferedBytes(), 0u);
    }
}

TEST(FrameDecoder, StreamFedOneByteAtATime) {
    const auto payloads = SamplePayloads();
    const std::string stream = EncodeAll(payloads);
    FrameDecoder decoder;
    std::vector<std::string> got;
    for (char c : stream) {
        ASSERT_EQ(decoder.Feed(std::string_view(&c, 1),
                               [&](std::string_view p) {
                                   got.emplace_back(p);
                                   return true;
                               }),
                  FrameStatus::Ok);
    }
    EXPECT_EQ(got, payloads);
}

TEST(FrameDecoder, ManyFramesCoalescedInOneChunk) {
    std::vector<std::string> payloads;
    for (int i = 0; i < 1000; ++i)
        payloads.push_back("frame-" + std::to_string(i));
    FrameDecoder decoder;
    std::vector<std::string> got;
    EXPECT_EQ(decoder.Feed(EncodeAll(payloads),
                           [&](std::string_view p) {
                               got.emplace_back(p);
                               return true;
                           }),
              FrameStatus::Ok);
    EXPECT_EQ(got, payloads);
}

TEST(FrameDecoder, DeclaredFourGiBIsRejectedWithoutAllocating) {
    FrameDecoder decoder;
    int frames = 0;
    const FrameDecoder::FrameCallback count = [&](std::string_view) {
        ++frames;
        return true;
    };
    const std::string header(
        "\xFF\xFF\xFF\xFF"
        "payload",
        11);
    const size_t before = g_allocations.load();
    const FrameStatus status = decoder.Feed(header, count);
    const size_t after = g_allocations.load();
    EXPECT_EQ(status, FrameStatus::FrameTooLarge);
    EXPECT_EQ(after, before);
    EXPECT_EQ(decoder.BufferedBytes(), 0u);
    EXPECT_EQ(frames, 0);
    // The failure is sticky: later bytes, even a valid frame, are refused.
    EXPECT_EQ(decoder.Feed(FrameDecoder::Encode("ok"), count), FrameStatus::FrameTooLarge);
    EXPECT_EQ(frames, 0);
}

TEST(FrameDecoder, LimitIsInclusive) {
    FrameDecoder at_limit(16);
    int frames = 0;
    const FrameDecoder::FrameCallback count = [&](std::string_view) {
        ++frames;
        return true;
    };
    EXPECT_EQ(at_limit.Feed(FrameDecoder::Encode(std::string(16, 'a')), count), FrameStatus::Ok);
    EXPECT_EQ(frames, 1);
    FrameDecoder above_limit(16);
    EXPECT_EQ(above_limit.Feed(FrameDecoder::Encode(std::string(17, 'a')), count),
              FrameStatus::FrameTooLarge);
    EXPECT_EQ(frames, 1);
}

TEST(FrameDecoder, BufferGrowsOnlyWithBytesReceived) {
    FrameDecoder decoder;
    const std::string partial =
        FrameDecoder::Encode(std::string(MAX_FRAME_BYTES, 'q')).substr(0, 14);
    EXPECT_EQ(decoder.Feed(partial, [](std::string_view) { return true; }), FrameStatus::Ok);
    EXPECT_EQ(decoder.BufferedBytes(), 10u);
}

TEST(FrameDecoder, ZeroLengthFrameIsDelivered) {
    FrameDecoder decoder;
    std::vector<std::string> got;
    EXPECT_EQ(decoder.Feed(std::string(4, '\0'),
                           [&](std::string_view p) {
                               got.emplace_back(p);
                               return true;
                           }),
              FrameStatus::Ok);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(got[0].empty());
}

TEST(FrameDecoder, CallbackCanStopDecoding) {
    FrameDecoder decoder;
    int frames = 0;
    EXPECT_EQ(decoder.Feed(EncodeAll({"one", "two", "three"}),
                           [&](std::string_view) {
                               ++frames;
                               return false;
                           }),
              FrameStatus::Ok);
    EXPECT_EQ(frames, 1);
}

}  // namespace
}  // namespace gossipchain::net
