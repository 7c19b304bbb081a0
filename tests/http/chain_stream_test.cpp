// GET /chain streamed (http/chain_stream.h): the same bytes as the whole answer, written only
// while the client keeps up, and the main chain as it was when the body started even when a
// reorg comes in the middle.
#include "http/chain_stream.h"

#include "chain/chain_state.h"
#include "http/tutorial_api.h"
#include "support/chain_builder.h"
#include "support/fake_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gossipchain {
namespace {

using test::FakeStream;

constexpr double WALL_NOW = DEFAULT_GENESIS_TIMESTAMP + 864'000;

class ChainStreamTest : public ::testing::Test {
protected:
    ChainStreamTest() : m_chain(Options()) {}
    static ChainState::Options Options() {
        ChainState::Options options;
        options.params = test::EasyParams();
        return options;
    }
    /** `count` blocks on the tip, or on the main-chain block at `from`. */
    void Grow(std::size_t count, std::uint64_t first_tx, std::uint64_t from = 0) {
        const Block parent =
            test::BlockOf(m_chain, from == 0 ? m_chain.Tip() : *m_chain.AtHeight(from));
        for (Block& block : test::MakeBranch(m_chain.Params(), parent, count, first_tx))
            m_chain.ProcessBlock(std::move(block), WALL_NOW);
    }
    /** Blocks on the tip until the whole /chain answer is over CHAIN_STREAM_MIN_BYTES. */
    void GrowLong() {
        std::uint64_t tx = 1;
        while (ChainResponseBody(m_chain).size() < CHAIN_STREAM_MIN_BYTES + (64 << 10)) {
            Grow(1'000, tx);
            tx += 1'000;
        }
    }
    /** Reads everything the stream has written so far and tells the streamer, until it ends. */
    void DrainToTheEnd(FakeStream& stream) {
        for (int turns = 0; !stream.finished && turns < 100'000; ++turns) {
            EXPECT_LE(stream.pending, CHAIN_STREAM_LOW_WATER_BYTES + 256 * 1024);
            stream.pending = 0;
            m_streamer.OnStreamWritable(stream);
        }
    }

    ChainState m_chain;
    ChainStreamer m_streamer{m_chain};
};

TEST_F(ChainStreamTest, AShortChainIsAnsweredWhole) {
    Grow(10, 1);
    EXPECT_FALSE(m_streamer.ShouldStream());
}

TEST_F(ChainStreamTest, ALongChainStreamsTheBytesOfTheWholeAnswerAsTheClientReads) {
    GrowLong();
    ASSERT_TRUE(m_streamer.ShouldStream());
    const std::string whole = ChainResponseBody(m_chain);
    ASSERT_GE(whole.size(), CHAIN_STREAM_MIN_BYTES);
    HttpResponse response = m_streamer.Respond(ChainResponseHead());
    ASSERT_EQ(response.stream, &m_streamer);
    // The head goes with the header section; the stream writes the rest.
    EXPECT_EQ(response.body, R"({"chain":[)");
    FakeStream stream(/*reads=*/false);
    m_streamer.OnStreamOpen(stream);
    // A client that reads nothing gets about the low-water mark, not the whole chain.
    EXPECT_GE(stream.pending, CHAIN_STREAM_LOW_WATER_BYTES);
    EXPECT_LT(stream.written.size(), whole.size() / 2);
    EXPECT_FALSE(stream.finished);
    DrainToTheEnd(stream);
    EXPECT_TRUE(stream.finished);
    EXPECT_EQ(response.body + stream.written, whole);
    m_streamer.OnStreamClosed(stream);
    EXPECT_EQ(m_streamer.Streams(), 0u);
}

TEST_F(ChainStreamTest, AReorgInTheMiddleDoesNotMixBranches) {
    GrowLong();
    const std::string before = ChainResponseBody(m_chain);
    FakeStream stream(/*reads=*/false);
    m_streamer.OnStreamOpen(stream);
    ASSERT_FALSE(stream.finished);
    // A longer branch from below the tip wins while the answer is being read.
    const std::uint64_t height = m_chain.Height();
    Grow(20, 100'000, height - 10);
    ASSERT_EQ(m_chain.Height(), height + 10);
    ASSERT_NE(ChainResponseBody(m_chain), before);
    DrainToTheEnd(stream);
    EXPECT_EQ(ChainResponseHead() + stream.written, before);
}

TEST_F(ChainStreamTest, TheResolveShapeStreamsAfterItsOwnHead) {
    GrowLong();
    const std::string prefix = R"("message":"Our chain was replaced",)";
    HttpResponse response = m_streamer.Respond(ChainResponseHead("new_chain", prefix));
    FakeStream stream;
    m_streamer.OnStreamOpen(stream);
    DrainToTheEnd(stream);
    EXPECT_EQ(response.body + stream.written, ChainResponseBody(m_chain, "new_chain", prefix));
}

TEST_F(ChainStreamTest, StreamsPastTheLimitAreRefused) {
    GrowLong();
    std::vector<FakeStream> streams(MAX_CHAIN_STREAMS);
    for (FakeStream& stream : streams) {
        stream = FakeStream(/*reads=*/false);
        ASSERT_EQ(m_streamer.Respond(ChainResponseHead()).stream, &m_streamer);
        m_streamer.OnStreamOpen(stream);
    }
    EXPECT_EQ(m_streamer.Respond(ChainResponseHead()).status, 503);
    m_streamer.OnStreamClosed(streams[0]);
    EXPECT_EQ(m_streamer.Respond(ChainResponseHead()).stream, &m_streamer);
    for (FakeStream& stream : streams)
        m_streamer.OnStreamClosed(stream);
}

}  // namespace
}  // namespace gossipchain
