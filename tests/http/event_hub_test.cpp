#include "http/event_hub.h"

#include "support/fake_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gossipchain {
namespace {

using test::FakeStream;

RecentBlock Block(std::uint64_t index, std::string source = "127.0.0.1:5001") {
    return RecentBlock{std::string(64, 'a'), index, std::move(source), 1.5, std::nullopt};
}

/** The events of an SSE text: one {event, data} per frame, comments skipped. */
std::vector<std::pair<std::string, std::string>> Events(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t start = 0;
    for (std::size_t end; (end = text.find("\n\n", start)) != std::string::npos; start = end + 2) {
        std::string frame = text.substr(start, end - start);
        std::string event, data;
        std::size_t line_start = 0;
        while (line_start <= frame.size()) {
            std::size_t eol = frame.find('\n', line_start);
            std::string line = frame.substr(line_start, eol - line_start);
            if (line.rfind("event: ", 0) == 0)
                event = line.substr(7);
            else if (line.rfind("data: ", 0) == 0)
                data += line.substr(6);
            if (eol == std::string::npos)
                break;
            line_start = eol + 1;
        }
        if (!event.empty())
            out.emplace_back(event, data);
    }
    return out;
}

TEST(EventHub, BlockEventCarriesHashIndexSourceAndTime) {
    EventHub hub;
    FakeStream stream;
    hub.OnStreamOpen(stream);
    hub.PublishBlock(Block(7));
    auto events = Events(stream.written);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].first, "block");
    auto data = nlohmann::json::parse(events[0].second);
    EXPECT_EQ(data["hash"], std::string(64, 'a'));
    EXPECT_EQ(data["index"], 7);
    EXPECT_EQ(data["source"], "127.0.0.1:5001");
    EXPECT_EQ(data["time"], 1.5);
    EXPECT_NE(stream.written.find("retry: "), std::string::npos);
    EXPECT_NE(stream.written.find("\nid: 1\n"), std::string::npos);
}

TEST(EventHub, HostileStringsStayInsideOneAsciiDataLine) {
    EventHub hub;
    FakeStream stream;
    hub.OnStreamOpen(stream);
    const std::string hostile = "x\n\ndata: {}\r\nevent: reorg\n<script>alert(1)</script>\xff\xfe";
    hub.PublishBlock(Block(2, hostile));
    hub.Publish("peer", nlohmann::json{{"peer", hostile}, {"reason", hostile}});
    auto events = Events(stream.written);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].first, "block");
    EXPECT_EQ(events[1].first, "peer");
    for (unsigned char c : stream.written)
        EXPECT_LT(c, 0x80);
    EXPECT_EQ(stream.written.find('\r'), std::string::npos);
    // The string comes back whole (invalid UTF-8 replaced) from its JSON.
    auto data = nlohmann::json::parse(events[0].second);
    EXPECT_EQ(data["source"].get<std::string>().substr(0, 11), "x\n\ndata: {}");
}

TEST(EventHub, AClientThatNeverReadsIsDroppedAtItsBound) {
    EventHub::Options options;
    options.max_client_pending_bytes = 4096;
    EventHub hub(options);
    FakeStream reader;
    FakeStream stuck(/*reads=*/false);
    hub.OnStreamOpen(reader);
    hub.OnStreamOpen(stuck);
    for (std::uint64_t i = 0; i < 200; ++i)
        hub.PublishBlock(Block(i + 2));
    EXPECT_TRUE(stuck.closed);
    EXPECT_EQ(stuck.reason, "event stream: client too slow");
    EXPECT_LE(stuck.pending, options.max_client_pending_bytes);
    EXPECT_FALSE(reader.closed);
    EXPECT_EQ(Events(reader.written).size(), 200u);
    EXPECT_EQ(hub.Clients(), 1u);
    EXPECT_EQ(hub.Metrics().streams_dropped_slow, 1u);
    // Forgotten at once: nothing more is written to it while it closes.
    const std::size_t writes = stuck.writes;
    hub.PublishBlock(Block(300));
    EXPECT_EQ(stuck.writes, writes);
    hub.OnStreamClosed(stuck);  // the server's later notice is harmless
    EXPECT_EQ(hub.Clients(), 1u);
}

TEST(EventHub, StreamsBeyondTheNodeWideBoundAreClosed) {
    EventHub::Options options;
    options.max_clients = 3;
    EventHub hub(options);
    std::vector<FakeStream> streams(4);
    for (FakeStream& stream : streams)
        hub.OnStreamOpen(stream);
    EXPECT_TRUE(hub.Full());
    EXPECT_EQ(hub.Clients(), 3u);
    EXPECT_TRUE(streams[3].closed);
    EXPECT_EQ(hub.Metrics().streams_refused, 1u);
    hub.OnStreamClosed(streams[0]);
    EXPECT_FALSE(hub.Full());
}

TEST(EventHub, ANewStreamGetsTheRecentBlocksWhichAreBounded) {
    EventHub hub;
    for (std::uint64_t i = 0; i < MAX_SSE_RECENT_BLOCKS + 10; ++i)
        hub.PublishBlock(Block(i + 2));
    EXPECT_EQ(hub.RecentBlocks().size(), MAX_SSE_RECENT_BLOCKS);
    EXPECT_EQ(hub.RecentBlocks().front().index, 12u);
    EXPECT_EQ(hub.Metrics().events, 0u);  // nobody listened: nothing was formatted
    FakeStream stream;
    hub.OnStreamOpen(stream);
    auto events = Events(stream.written);
    ASSERT_EQ(events.size(), MAX_SSE_RECENT_BLOCKS);
    EXPECT_EQ(nlohmann::json::parse(events.back().second)["index"], MAX_SSE_RECENT_BLOCKS + 11);
}

TEST(EventHub, MetricsTextCountsStreamsAndEvents) {
    EventHub hub;
    FakeStream stream;
    hub.OnStreamOpen(stream);
    hub.Publish("tx", nlohmann::json{{"txid", "ab"}});
    const std::string text = hub.MetricsText();
    EXPECT_NE(text.find("gossipchain_sse_clients 1\n"), std::string::npos);
    EXPECT_NE(text.find("gossipchain_sse_streams_total 1\n"), std::string::npos);
    EXPECT_NE(text.find("gossipchain_sse_events_total 1\n"), std::string::npos);
    EXPECT_NE(text.find("gossipchain_sse_dropped_slow_total 0\n"), std::string::npos);
}

}  // namespace
}  // namespace gossipchain
