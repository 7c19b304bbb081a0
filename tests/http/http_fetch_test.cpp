// The blocking HTTP client of /nodes/resolve against scripted loopback servers: bodies reach the
// sink in pieces (with and without Content-Length, chunked), the body cap holds before and while
// reading, the sink can stop a fetch, and timeouts and the canceller end a fetch of a server that
// never answers.
#include "http/http_fetch.h"

#include "support/free_port.h"
#include "support/scripted_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace gossipchain {
namespace {

using test::ScriptedServer;

/** Upper bound for any single wait in these tests, in ms. */
constexpr std::uint64_t DEADLINE_MS = 10'000;

/** Keeps what it gets; stops after `stop_after` body bytes when that is set. */
struct CollectingSink : FetchSink {
    bool OnHead(int status_in, std::optional<std::uint64_t> length) override {
        status = status_in;
        content_length = length;
        return accept_head;
    }
    bool OnBody(std::string_view bytes) override {
        ++pieces;
        body.append(bytes);
        return stop_after == 0 || body.size() < stop_after;
    }
    int status = 0;
    std::optional<std::uint64_t> content_length;
    std::string body;
    int pieces = 0;
    bool accept_head = true;
    std::size_t stop_after = 0;
};

FetchOptions WithCap(std::size_t max_body, std::uint64_t timeout_ms = DEADLINE_MS) {
    FetchOptions options;
    options.max_body_bytes = max_body;
    options.timeout_ms = timeout_ms;
    return options;
}

TEST(HttpFetch, HandsTheBodyToTheSink) {
    ScriptedServer server([](ScriptedServer&, int fd) {
        ScriptedServer::SendAll(fd, ScriptedServer::Answer(R"({"chain":[],"length":0})"));
    });
    CollectingSink sink;
    FetchResult result = HttpGet("127.0.0.1", server.Port(), "/chain", sink, WithCap(1 << 20));
    ASSERT_TRUE(result.Ok()) << result.detail;
    EXPECT_EQ(result.status, 200);
    EXPECT_EQ(sink.status, 200);
    EXPECT_EQ(sink.content_length, 23u);
    EXPECT_EQ(sink.body, R"({"chain":[],"length":0})");
    EXPECT_EQ(result.body_bytes, 23u);
}

TEST(HttpFetch, DecodesChunkedAndCloseDelimitedBodies) {
    ScriptedServer chunked([](ScriptedServer&, int fd) {
        ScriptedServer::SendAll(fd,
                                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    });
    CollectingSink sink;
    FetchResult result = HttpGet("127.0.0.1", chunked.Port(), "/", sink, WithCap(100));
    ASSERT_TRUE(result.Ok()) << result.detail;
    EXPECT_EQ(sink.body, "hello world");
    EXPECT_FALSE(sink.content_length);

    ScriptedServer until_close([](ScriptedServer&, int fd) {
        ScriptedServer::SendAll(fd, "HTTP/1.0 200 OK\r\n\r\nuntil the end");
    });
    CollectingSink eof_sink;
    result = HttpGet("127.0.0.1", until_close.Port(), "/", eof_sink, WithCap(100));
    ASSERT_TRUE(result.Ok()) << result.detail;
    EXPECT_EQ(eof_sink.body, "until the end");
}

TEST(HttpFetch, RefusesAContentLengthOverTheCapBeforeReadingTheBody) {
    // The server announces 1 GB and then sends nothing: only the header can end this fetch.
    ScriptedServer server([](ScriptedServer& self, int fd) {
        ScriptedServer::SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n");
        self.Hang(fd);
    });
    CollectingSink sink;
    FetchResult result = HttpGet("127.0.0.1", server.Port(), "/chain", sink, WithCap(1 << 20));
    EXPECT_EQ(result.error, FetchError::TooLarge) << result.detail;
    EXPECT_EQ(sink.status, 0) << "the sink should not even see the head";
    EXPECT_EQ(sink.pieces, 0);
}

TEST(HttpFetch, StopsABodyWithoutLengthAtTheCap) {
    ScriptedServer server([](ScriptedServer&, int fd) {
        std::string chunk(4096, 'x');
        std::string framed = "1000\r\n" + chunk + "\r\n";
        if (!ScriptedServer::SendAll(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
            return;
        // Far more than the cap; the client stops reading long before.
        for (int i = 0; i < 4096 && ScriptedServer::SendAll(fd, framed); ++i) {
        }
    });
    CollectingSink sink;
    FetchResult result = HttpGet("127.0.0.1", server.Port(), "/chain", sink, WithCap(100'000));
    EXPECT_EQ(result.error, FetchError::TooLarge) << result.detail;
    EXPECT_LE(sink.body.size(), 100'000u);
    EXPECT_LE(result.body_bytes, 100'000u);
}

TEST(HttpFetch, TheSinkCanStopAFetch) {
    ScriptedServer server([](ScriptedServer&, int fd) {
        ScriptedServer::SendAll(fd, ScriptedServer::Answer(std::string(200'000, 'y')));
    });
    CollectingSink sink;
    sink.stop_after = 1;
    FetchResult result = HttpGet("127.0.0.1", server.Port(), "/", sink, WithCap(1 << 20));
    EXPECT_EQ(result.error, FetchError::Stopped);
    EXPECT_EQ(sink.pieces, 1);

    CollectingSink refuse_head;
    refuse_head.accept_head = false;
    result = HttpGet("127.0.0.1", server.Port(), "/", refuse_head, WithCap(1 << 20));
    EXPECT_EQ(result.error, FetchError::Stopped);
    EXPECT_EQ(refuse_head.pieces, 0);
}

TEST(HttpFetch, ReportsNonHttpAnswersAndRefusedConnections) {
    ScriptedServer junk([](ScriptedServer&, int fd) { ScriptedServer::SendAll(fd, "<html>\r\n"); });
    CollectingSink sink;
    FetchResult result = HttpGet("127.0.0.1", junk.Port(), "/", sink, WithCap(100));
    EXPECT_EQ(result.error, FetchError::BadResponse) << result.detail;

    // A port nobody listens on: free a moment ago, and nothing was started on it.
    result = HttpGet("127.0.0.1", static_cast<std::uint16_t>(test::FindFreePort()), "/", sink,
                     WithCap(100));
    EXPECT_EQ(result.error, FetchError::Connect) << result.detail;
    EXPECT_FALSE(result.detail.empty());
}

TEST(HttpFetch, ASilentServerTimesOut) {
    ScriptedServer server([](ScriptedServer& self, int fd) { self.Hang(fd); });
    CollectingSink sink;
    FetchResult result = HttpGet("127.0.0.1", server.Port(), "/", sink, WithCap(100, 200));
    EXPECT_EQ(result.error, FetchError::Timeout) << result.detail;
}

TEST(HttpFetch, CancelEndsARunningFetchAtOnce) {
    ScriptedServer server([](ScriptedServer& self, int fd) { self.Hang(fd); });
    FetchCanceller cancel;
    ASSERT_GE(cancel.Fd(), 0);
    FetchOptions options = WithCap(100, 3'600'000);  // an hour: only Cancel can end it
    options.cancel = &cancel;
    auto running = std::async(std::launch::async, [&] {
        CollectingSink sink;
        return HttpGet("127.0.0.1", server.Port(), "/", sink, options);
    });
    // Cancel once the request is waiting for its answer.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(DEADLINE_MS);
    while (server.Requests() == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    ASSERT_EQ(server.Requests(), 1);
    cancel.Cancel();
    ASSERT_EQ(running.wait_for(std::chrono::milliseconds(DEADLINE_MS)), std::future_status::ready);
    EXPECT_EQ(running.get().error, FetchError::Cancelled);
    EXPECT_TRUE(cancel.Cancelled());

    // Sticky: a fetch started afterwards ends before it connects.
    CollectingSink sink;
    EXPECT_EQ(HttpGet("127.0.0.1", server.Port(), "/", sink, options).error, FetchError::Cancelled);
}

}  // namespace
}  // namespace gossipchain
