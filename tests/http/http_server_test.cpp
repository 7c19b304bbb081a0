#include "http/http_server.h"

#include "chain/chain_state.h"
#include "http/chain_stream.h"
#include "http/tutorial_api.h"
#include "net/timer.h"
#include "net/transport.h"
#include "support/chain_builder.h"
#include "support/raw_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

using test::RawClient;

constexpr std::uint64_t DEADLINE_MS = 5'000;

/** An HTTP server on a private loop with one route, GET /ping, and a short request timeout. */
class HttpServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        router.Add("GET", "/ping", [](const HttpRequest&, Responder respond) {
            respond(JsonErrorResponse(200, "pong"));
        });
        ASSERT_EQ(transport.Listen(), 0);
    }
    void TearDown() override {
        transport.CloseAll("test over");
        loop.RunUntil([&] { return transport.ConnectionCount() == 0; }, DEADLINE_MS);
        EXPECT_EQ(server.OpenSessions(), 0u);
        EXPECT_EQ(loop.Close(), 0);
    }

    net::EventLoop loop;
    Router router;
    HttpMetrics metrics;
    HttpServer server{loop, router, metrics, 200};
    net::ConnectionHandler no_gossip;
    net::Transport transport{loop, net::TransportOptions{}, no_gossip, server};
};

TEST_F(HttpServerTest, AnswersAndKeepsTheConnectionAlive) {
    RawClient client(transport.Port());
    ASSERT_TRUE(client.Connected());
    ASSERT_TRUE(
        client.Send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
    bool closed = false;
    ASSERT_TRUE(loop.RunUntil(
        [&] {
            closed = client.PollClosed();
            return client.received.find("pong", client.received.find("pong") + 1) !=
                   std::string::npos;
        },
        DEADLINE_MS));
    EXPECT_FALSE(closed);
    EXPECT_EQ(client.received.rfind("HTTP/1.1 200 OK", 0), 0u);
    EXPECT_EQ(server.OpenSessions(), 1u);
    EXPECT_EQ(metrics.responses_by_status[200], 2u);
}

TEST_F(HttpServerTest, ALongChainIsStreamedWholeAndTheConnectionClosesAfterIt) {
    ChainState::Options options;
    options.params = test::EasyParams();
    ChainState chain(options);
    std::uint64_t tx = 1;
    while (ChainResponseBody(chain).size() < 2 * CHAIN_STREAM_MIN_BYTES) {
        for (Block& block : test::MakeBranch(chain.Params(), test::TipBlock(chain), 1'000, tx))
            chain.ProcessBlock(std::move(block), DEFAULT_GENESIS_TIMESTAMP + 864'000);
        tx += 1'000;
    }
    ChainStreamer streamer(chain);
    router.Add("GET", "/chain", [&streamer](const HttpRequest&, Responder respond) {
        respond(streamer.Respond(ChainResponseHead()));
    });
    RawClient client(transport.Port());
    // Connection: close, as urllib sends it: the body still comes whole, then the close.
    ASSERT_TRUE(client.Send("GET /chain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    ASSERT_TRUE(loop.RunUntil([&] { return client.PollClosed(); }, DEADLINE_MS));
    const std::size_t body = client.received.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos);
    EXPECT_EQ(client.received.substr(body + 4), ChainResponseBody(chain));
    EXPECT_EQ(client.received.find("Content-Length"), std::string::npos);
    EXPECT_EQ(streamer.Streams(), 0u);
    transport.CloseAll("test over");
    loop.RunUntil([&] { return transport.ConnectionCount() == 0; }, DEADLINE_MS);
}

TEST_F(HttpServerTest, ClientTooSlowToFinishItsRequestGets408) {
    RawClient client(transport.Port());
    ASSERT_TRUE(client.Connected());
    ASSERT_TRUE(client.Send("GET /ping HTTP/1.1\r\nHost: x\r\n"));
    ASSERT_TRUE(loop.RunUntil([&] { return client.PollClosed(); }, DEADLINE_MS));
    EXPECT_EQ(client.received.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << client.received;
    EXPECT_NE(client.received.find("request timeout"), std::string::npos);
    EXPECT_EQ(metrics.responses_by_status[408], 1u);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsNotAnswered408) {
    RawClient client(transport.Port());
    ASSERT_TRUE(client.Send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(loop.RunUntil(
        [&] {
            client.PollClosed();
            return client.received.find("pong") != std::string::npos;
        },
        DEADLINE_MS));
    // Well past the request timeout with no request started: nothing more is sent.
    std::uint64_t until = loop.NowMs() + 600;
    loop.RunUntil([&] { return loop.NowMs() >= until; }, DEADLINE_MS);
    EXPECT_FALSE(client.PollClosed());
    EXPECT_EQ(client.received.find("408"), std::string::npos);
}

TEST(HttpServerIdle, AnAnswerAHandlerIsStillWorkingOnIsNotCutOffByTheIdleTimeout) {
    // /slow answers after 600 ms, like /mine or /nodes/resolve; the idle timeout is 200 ms. The
    // client waits on the node meanwhile: it gets its answer, and only then the idle clock runs.
    net::EventLoop loop;
    Router router;
    std::vector<Responder> owed;
    router.Add("GET", "/slow", [&owed](const HttpRequest&, Responder respond) {
        owed.push_back(std::move(respond));
    });
    HttpMetrics metrics;
    HttpServer server{loop, router, metrics};
    net::ConnectionHandler no_gossip;
    net::TransportOptions options;
    options.http_idle_timeout_ms = 200;
    net::Transport transport{loop, options, no_gossip, server};
    ASSERT_EQ(transport.Listen(), 0);
    net::Timer later(loop);
    RawClient client(transport.Port());
    ASSERT_TRUE(client.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(loop.RunUntil([&] { return owed.size() == 1; }, DEADLINE_MS));
    later.Start(600, 0, [&] { owed.front()(JsonErrorResponse(200, "done")); });
    bool closed = false;
    ASSERT_TRUE(loop.RunUntil(
        [&] {
            closed = client.PollClosed();
            return closed || client.received.find("done") != std::string::npos;
        },
        DEADLINE_MS));
    EXPECT_NE(client.received.find("done"), std::string::npos) << "cut off before its answer";
    // Answered and quiet again: the idle timeout closes the connection.
    EXPECT_TRUE(loop.RunUntil([&] { return client.PollClosed(); }, DEADLINE_MS));
    transport.CloseAll("test over");
    loop.RunUntil([&] { return transport.ConnectionCount() == 0; }, DEADLINE_MS);
    later.Stop();
    EXPECT_EQ(server.OpenSessions(), 0u);
}

TEST(HttpServerBudget, ManyClientsThatDoNotReadWaitInsteadOfFillingTheWriteBudget) {
    // Six clients pipeline five 1.5 MB answers each and do not read. Each gets one answer (a
    // client with nothing unread is always answered); more are built only while all together hold
    // under half the node-wide budget (16 MiB here): the other 24 requests wait instead of being
    // answered into memory and closed by the budget. When the clients read, every answer arrives.
    net::EventLoop loop;
    Router router;
    const std::string big(1'500'000, 'b');
    router.Add("GET", "/big", [&big](const HttpRequest&, Responder respond) {
        HttpResponse response;
        response.status = 200;
        response.body = big;
        respond(std::move(response));
    });
    HttpMetrics metrics;
    HttpServer server{loop, router, metrics};
    net::ConnectionHandler no_gossip;
    net::TransportOptions options;
    options.max_total_write_queue_bytes = 16u << 20;
    net::Transport transport{loop, options, no_gossip, server};
    ASSERT_EQ(transport.Listen(), 0);
    std::string five;
    for (int i = 0; i < 5; ++i)
        five += "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 6; ++i) {
        clients.push_back(std::make_unique<RawClient>(transport.Port(), 4096));
        ASSERT_TRUE(clients.back()->Send(five));
    }
    std::size_t peak = 0;
    std::uint64_t until = loop.NowMs() + 300;
    loop.RunUntil(
        [&] {
            peak = std::max(peak, transport.QueuedBytes());
            return loop.NowMs() >= until;
        },
        DEADLINE_MS);
    EXPECT_LE(peak, 7 * big.size() + 4096) << "answers were built past the budget";
    EXPECT_EQ(transport.ConnectionCount(), 6u) << "a client was closed instead of made to wait";
    auto answers = [](const std::string& bytes) {
        std::size_t n = 0;
        for (std::size_t at = bytes.find("HTTP/1.1 200"); at != std::string::npos;
             at = bytes.find("HTTP/1.1 200", at + 1))
            ++n;
        return n;
    };
    ASSERT_TRUE(loop.RunUntil(
        [&] {
            std::size_t done = 0;
            for (auto& client : clients) {
                client->PollClosed();
                done += client->received.size() >= 5 * big.size() && answers(client->received) == 5;
            }
            return done == clients.size();
        },
        DEADLINE_MS));
    transport.CloseAll("test over");
    loop.RunUntil([&] { return transport.ConnectionCount() == 0; }, DEADLINE_MS);
    EXPECT_EQ(server.OpenSessions(), 0u);
}

}  // namespace
}  // namespace gossipchain
