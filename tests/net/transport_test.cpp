// Loopback tests of the transport on a private EventLoop: gossip links both ways, the HTTP sniffer,
// limits (write queue, idle, sniff timeout, frame size, connection cap) and exact callback counts.
#include "net/transport.h"

#include "net/frame_decoder.h"
#include "net/timer.h"
#include "support/raw_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace gossipchain::net {
namespace {

using test::RawClient;

/** Upper bound for any single wait in these tests, in ms. */
constexpr uint64_t DEADLINE_MS = 5'000;

/** Counts every handler callback and lets a test hook into them. */
struct Recorder : ConnectionHandler {
    int opens = 0;
    int closes = 0;
    int data_calls = 0;
    int writable_calls = 0;
    std::vector<std::string> frames;
    std::string data;
    std::vector<std::string> reasons;
    std::vector<CloseReason> codes;
    /** What IsIdle answers (the HTTP server says so between requests). */
    bool idle = false;
    Connection* conn = nullptr;
    std::function<void(Connection&)> on_open;
    std::function<void(Connection&, std::string_view)> on_frame;
    std::function<void(Connection&, std::string_view)> on_data;
    std::function<void(Connection&)> on_writable;

    void OnOpen(Connection& c) override {
        ++opens;
        conn = &c;
        if (on_open)
            on_open(c);
    }
    void OnFrame(Connection& c, std::string_view payload) override {
        frames.emplace_back(payload);
        if (on_frame)
            on_frame(c, payload);
    }
    void OnData(Connection& c, std::string_view bytes) override {
        ++data_calls;
        data.append(bytes);
        if (on_data)
            on_data(c, bytes);
    }
    bool IsIdle(const Connection&) const override { return idle; }
    void OnWritable(Connection& c) override {
        ++writable_calls;
        if (on_writable)
            on_writable(c);
    }
    void OnClose(Connection& c, std::string_view reason) override {
        ++closes;
        reasons.emplace_back(reason);
        codes.push_back(c.CloseCode());
        if (conn == &c)
            conn = nullptr;
    }
};

std::string Magic() {
    return std::string(MAGIC.begin(), MAGIC.end());
}

class TransportTest : public ::testing::Test {
protected:
    Transport& Server(TransportOptions options = {}) {
        m_transports.push_back(
            std::make_unique<Transport>(m_loop, std::move(options), server_gossip, server_http));
        Transport& server = *m_transports.back();
        EXPECT_EQ(server.Listen(), 0);
        EXPECT_NE(server.Port(), 0);
        return server;
    }
    Transport& Client(TransportOptions options = {}) {
        m_transports.push_back(
            std::make_unique<Transport>(m_loop, std::move(options), client_gossip, client_http));
        return *m_transports.back();
    }
    bool RunUntil(const std::function<bool()>& done) { return m_loop.RunUntil(done, DEADLINE_MS); }
    /** Connects a client transport to `server` and waits until both ends are open. */
    Connection* ConnectPair(Transport& client, Transport& server) {
        Connection* outbound = nullptr;
        int status = 1;
        client.Connect("127.0.0.1", server.Port(), [&](Connection* conn, int s) {
            outbound = conn;
            status = s;
        });
        EXPECT_TRUE(RunUntil([&] { return status != 1 && server_gossip.opens == 1; }));
        EXPECT_EQ(status, 0);
        return outbound;
    }

    void TearDown() override {
        for (auto& transport : m_transports)
            transport->CloseAll("teardown");
        EXPECT_TRUE(RunUntil([&] {
            for (auto& transport : m_transports) {
                if (transport->ConnectionCount() != 0)
                    return false;
            }
            return true;
        }));
        m_transports.clear();
        EXPECT_EQ(m_loop.Close(), 0);
    }

    EventLoop m_loop;
    Recorder server_gossip;
    Recorder server_http;
    Recorder client_gossip;
    Recorder client_http;

private:
    std::vector<std::unique_ptr<Transport>> m_transports;
};

TEST_F(TransportTest, GossipFramesFlowBothWaysWithExactCallbackCounts) {
    Transport& server = Server();
    Transport& client = Client();
    const std::string big(1024 * 1024, 'b');  // larger than one read, so it is reassembled
    server_gossip.on_frame = [&](Connection& c, std::string_view payload) {
        EXPECT_TRUE(c.SendFrame("echo:" + std::string(payload.substr(0, 5))));
    };
    Connection* outbound = ConnectPair(client, server);
    ASSERT_NE(outbound, nullptr);
    EXPECT_EQ(outbound->Kind(), ConnectionKind::Gossip);
    EXPECT_FALSE(outbound->Inbound());
    EXPECT_EQ(outbound->RemoteAddress(), "127.0.0.1:" + std::to_string(server.Port()));
    ASSERT_NE(server_gossip.conn, nullptr);
    EXPECT_TRUE(server_gossip.conn->Inbound());
    EXPECT_EQ(server_gossip.conn->Kind(), ConnectionKind::Gossip);
    EXPECT_EQ(client_gossip.opens, 1);

    EXPECT_TRUE(outbound->SendFrame("hello"));
    EXPECT_TRUE(outbound->SendFrame(""));
    EXPECT_TRUE(outbound->SendFrame(big));
    ASSERT_TRUE(RunUntil([&] { return client_gossip.frames.size() == 3; }));
    EXPECT_EQ(server_gossip.frames, (std::vector<std::string>{"hello", "", big}));
    EXPECT_EQ(client_gossip.frames,
              (std::vector<std::string>{"echo:hello", "echo:", "echo:bbbbb"}));
    EXPECT_EQ(outbound->BytesOut(), MAGIC.size() + 3 * FRAME_HEADER_BYTES + 5 + big.size());
    EXPECT_EQ(server_gossip.conn->BytesIn(), outbound->BytesOut());

    outbound->Close("done");
    outbound->Close("twice");  // idempotent
    ASSERT_TRUE(RunUntil([&] { return server_gossip.closes == 1 && client_gossip.closes == 1; }));
    EXPECT_EQ(client_gossip.reasons, (std::vector<std::string>{"done"}));
    EXPECT_EQ(server_gossip.reasons, (std::vector<std::string>{"peer closed"}));
    EXPECT_EQ(server_gossip.opens, 1);
    EXPECT_EQ(client_gossip.opens, 1);
    EXPECT_EQ(server_http.opens + server_http.closes + server_http.data_calls, 0);
    EXPECT_EQ(server.ConnectionCount(), 0u);
    EXPECT_EQ(client.ConnectionCount(), 0u);
}

TEST_F(TransportTest, ConnectResolvesLocalhost) {
    Transport& server = Server();
    Transport& client = Client();
    int status = 1;
    client.Connect("localhost", server.Port(), [&](Connection*, int s) { status = s; });
    EXPECT_TRUE(RunUntil([&] { return status != 1 && server_gossip.opens == 1; }));
    EXPECT_EQ(status, 0);
    EXPECT_EQ(client_gossip.opens, 1);
}

TEST_F(TransportTest, ConnectToClosedPortFailsOnceWithoutOpen) {
    uint16_t port = 0;
    {
        Transport& probe = Server();
        port = probe.Port();
        probe.CloseAll("free the port");
    }
    Transport& client = Client();
    int calls = 0;
    int status = 0;
    Connection* conn = reinterpret_cast<Connection*>(1);
    client.Connect("127.0.0.1", port, [&](Connection* c, int s) {
        ++calls;
        conn = c;
        status = s;
    });
    EXPECT_EQ(calls, 0);  // never before Connect returns
    EXPECT_TRUE(RunUntil([&] { return calls == 1; }));
    EXPECT_EQ(conn, nullptr);
    EXPECT_EQ(status, UV_ECONNREFUSED);
    EXPECT_EQ(client_gossip.opens + client_gossip.closes, 0);
    EXPECT_EQ(client.ConnectionCount(), 0u);
}

TEST_F(TransportTest, CloseAllCancelsPendingResolve) {
    Transport& client = Client();
    int calls = 0;
    int status = 0;
    client.Connect("localhost", 9, [&](Connection*, int s) {
        ++calls;
        status = s;
    });
    client.CloseAll("shutdown");
    EXPECT_TRUE(RunUntil([&] { return calls == 1 && client.ConnectionCount() == 0; }));
    EXPECT_EQ(status, UV_ECANCELED);
    EXPECT_EQ(client_gossip.opens + client_gossip.closes, 0);
}

TEST_F(TransportTest, HttpRequestIsSniffedAndAnswered) {
    Transport& server = Server();
    const std::string request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    server_http.on_data = [&](Connection& c, std::string_view) {
        if (server_http.data.size() < request.size())
            return;
        EXPECT_EQ(c.Kind(), ConnectionKind::Http);
        EXPECT_TRUE(c.SendRaw(response));
        c.CloseAfterWrites("response sent");
    };
    RawClient client(server.Port());
    ASSERT_TRUE(client.Connected());
    ASSERT_TRUE(client.Send(request));
    ASSERT_TRUE(RunUntil([&] { return client.PollClosed(); }));
    EXPECT_EQ(client.received, response);
    EXPECT_EQ(server_http.data, request);
    EXPECT_TRUE(RunUntil([&] { return server_http.closes == 1; }));
    EXPECT_EQ(server_http.opens, 1);
    EXPECT_EQ(server_http.reasons, (std::vector<std::string>{"response sent"}));
    EXPECT_EQ(server_gossip.opens + server_gossip.closes, 0);
}

TEST_F(TransportTest, PrefixOfMagicThenDifferentByteIsHttpWithAllBytes) {
    Transport& server = Server();
    RawClient client(server.Port());
    ASSERT_TRUE(client.Send(std::string("\xF0\x9F", 2)));
    ASSERT_TRUE(RunUntil([&] { return server.ConnectionCount() == 1; }));
    // Two matching bytes are not enough to decide.
    EXPECT_FALSE(m_loop.RunUntil([&] { return server_http.opens + server_gossip.opens > 0; }, 20));
    ASSERT_TRUE(client.Send(std::string("\x00rest", 5)));
    ASSERT_TRUE(RunUntil([&] { return server_http.data.size() == 7; }));
    EXPECT_EQ(server_http.data, std::string("\xF0\x9F\x00rest", 7));
    EXPECT_EQ(server_http.opens, 1);
    EXPECT_EQ(server_gossip.opens, 0);
}

TEST_F(TransportTest, MagicSplitAcrossReadsIsGossip) {
    Transport& server = Server();
    RawClient client(server.Port());
    const std::string stream =
        Magic() + FrameDecoder::Encode("first") + FrameDecoder::Encode("2nd");
    ASSERT_TRUE(client.Send(stream.substr(0, 2)));
    ASSERT_TRUE(RunUntil([&] { return server.ConnectionCount() == 1; }));
    m_loop.RunUntil([] { return false; }, 20);
    EXPECT_EQ(server_gossip.opens + server_http.opens, 0);  // still undecided
    ASSERT_TRUE(client.Send(stream.substr(2)));
    ASSERT_TRUE(RunUntil([&] { return server_gossip.frames.size() == 2; }));
    EXPECT_EQ(server_gossip.frames, (std::vector<std::string>{"first", "2nd"}));
    EXPECT_EQ(server_gossip.opens, 1);
    EXPECT_EQ(server_http.opens, 0);
}

TEST_F(TransportTest, OversizedFrameClosesConnection) {
    Transport& server = Server();
    RawClient client(server.Port());
    ASSERT_TRUE(client.Send(Magic() + std::string("\xFF\xFF\xFF\xFF", 4)));
    ASSERT_TRUE(RunUntil([&] { return server_gossip.closes == 1; }));
    EXPECT_EQ(server_gossip.reasons, (std::vector<std::string>{"frame too large"}));
    EXPECT_EQ(server_gossip.opens, 1);
    EXPECT_TRUE(server_gossip.frames.empty());
    EXPECT_TRUE(RunUntil([&] { return client.PollClosed(); }));
}

TEST_F(TransportTest, SlowPeerIsDroppedWhenWriteQueueOverflows) {
    TransportOptions options;
    options.max_gossip_write_queue_bytes = 1024 * 1024;
    options.max_write_queue_bytes = 64 * 1024 * 1024;  // HTTP's bound; not the one that applies
    Transport& server = Server(options);
    const std::string chunk(64 * 1024, 'w');
    int accepted = 0;
    size_t max_queued = 0;
    server_gossip.on_open = [&](Connection& c) {
        // The peer never reads, so the kernel buffers fill and the queue must hit its bound.
        for (int i = 0; i < 10'000; ++i) {
            if (!c.SendFrame(chunk))
                break;
            ++accepted;
            max_queued = std::max(max_queued, c.QueuedBytes());
        }
        EXPECT_TRUE(c.IsClosing());
        EXPECT_FALSE(c.SendFrame("after close"));
    };
    RawClient client(server.Port(), /*receive_buffer=*/4096);
    ASSERT_TRUE(client.Send(Magic()));
    ASSERT_TRUE(RunUntil([&] { return server_gossip.closes == 1; }));
    EXPECT_EQ(server_gossip.reasons, (std::vector<std::string>{"write queue full"}));
    EXPECT_LT(accepted, 10'000);
    EXPECT_GT(accepted, 0);
    EXPECT_LE(max_queued, options.max_gossip_write_queue_bytes);
}

TEST_F(TransportTest, WritableFollowsWritesSoASenderCanPaceItself) {
    Transport& server = Server();
    Transport& client = Client();
    Connection* outbound = ConnectPair(client, server);
    ASSERT_NE(outbound, nullptr);
    // Send the next frame only when the previous one reached the kernel: a paced stream.
    int sent = 0;
    client_gossip.on_writable = [&](Connection& c) {
        if (sent < 5 && c.QueuedBytes() == 0) {
            ++sent;
            c.SendFrame("frame " + std::to_string(sent));
        }
    };
    ++sent;
    outbound->SendFrame("frame 1");
    ASSERT_TRUE(RunUntil([&] { return server_gossip.frames.size() == 5; }));
    EXPECT_EQ(server_gossip.frames.front(), "frame 1");
    EXPECT_EQ(server_gossip.frames.back(), "frame 5");
    EXPECT_GE(client_gossip.writable_calls, 5);
    // HTTP connections have no use for it.
    EXPECT_EQ(server_http.writable_calls, 0);
}

TEST_F(TransportTest, IdleGossipLinkIsClosed) {
    Transport& server = Server();
    Transport& client = Client();
    server_gossip.on_open = [](Connection& c) { c.SetIdleTimeout(50); };
    ASSERT_NE(ConnectPair(client, server), nullptr);
    const uint64_t opened_at = m_loop.NowMs();
    ASSERT_TRUE(RunUntil([&] { return server_gossip.closes == 1 && client_gossip.closes == 1; }));
    EXPECT_GE(m_loop.NowMs() - opened_at, 40u);
    EXPECT_EQ(server_gossip.reasons, (std::vector<std::string>{"idle timeout"}));
    EXPECT_EQ(client_gossip.reasons, (std::vector<std::string>{"peer closed"}));
}

TEST_F(TransportTest, TrafficKeepsLinkAliveAndPausedLinkIsNotIdle) {
    Transport& server = Server();
    Transport& client = Client();
    server_gossip.on_open = [](Connection& c) { c.SetIdleTimeout(250); };
    Connection* outbound = ConnectPair(client, server);
    ASSERT_NE(outbound, nullptr);
    Timer ticker(m_loop);
    ticker.Start(20, 20, [&] { outbound->SendFrame("ping"); });
    m_loop.RunUntil([] { return false; }, 400);
    ticker.Stop();
    EXPECT_EQ(server_gossip.closes, 0);
    EXPECT_GE(server_gossip.frames.size(), 5u);  // ticks every 20 ms, well inside 250 ms
    server_gossip.conn->PauseReading();
    m_loop.RunUntil([] { return false; }, 400);
    EXPECT_EQ(server_gossip.closes, 0);
    server_gossip.conn->ResumeReading();
    ASSERT_TRUE(RunUntil([&] { return server_gossip.closes == 1; }));
    EXPECT_EQ(server_gossip.reasons, (std::vector<std::string>{"idle timeout"}));
}

TEST_F(TransportTest, SilentInboundConnectionIsClosedBySniffTimeout) {
    TransportOptions options;
    options.sniff_timeout_ms = 50;
    Transport& server = Server(options);
    RawClient client(server.Port());
    ASSERT_TRUE(RunUntil([&] { return server.ConnectionCount() == 1; }));
    ASSERT_TRUE(RunUntil([&] { return client.PollClosed(); }));
    EXPECT_TRUE(RunUntil([&] { return server.ConnectionCount() == 0; }));
    EXPECT_EQ(server_gossip.opens + server_gossip.closes + server_http.opens + server_http.closes,
              0);
}

TEST_F(TransportTest, InboundBeyondCapIsClosedAtOnceWhenNoneIsIdle) {
    TransportOptions options;
    options.max_connections = 1;
    Transport& server = Server(options);
    RawClient first(server.Port());
    ASSERT_TRUE(first.Send(Magic()));
    ASSERT_TRUE(RunUntil([&] { return server_gossip.opens == 1; }));
    RawClient second(server.Port());
    ASSERT_TRUE(RunUntil([&] { return second.PollClosed(); }));
    EXPECT_FALSE(first.PollClosed());
    EXPECT_EQ(server.ConnectionCount(), 1u);
    EXPECT_EQ(server.Evictions(), 0u);
}

TEST_F(TransportTest, AtTheCapANewcomerTakesTheIdleConnectionsPlace) {
    // Connections that never say anything, or HTTP clients between requests, hold nothing: a
    // newcomer gets the place of the one silent longest instead of being shut out.
    TransportOptions options;
    options.max_connections = 3;
    Transport& server = Server(options);
    server_http.idle = true;
    RawClient silent(server.Port());
    ASSERT_TRUE(RunUntil([&] { return server.ConnectionCount() == 1; }));
    RawClient http(server.Port());
    ASSERT_TRUE(http.Send("GET / HTTP/1.1\r\n"));
    RawClient gossip(server.Port());
    ASSERT_TRUE(gossip.Send(Magic()));
    ASSERT_TRUE(RunUntil([&] { return server_http.opens == 1 && server_gossip.opens == 1; }));
    RawClient newcomer(server.Port());
    ASSERT_TRUE(RunUntil([&] { return silent.PollClosed(); }));
    ASSERT_TRUE(newcomer.Send("GET / HTTP/1.1\r\n"));
    ASSERT_TRUE(RunUntil([&] { return server_http.opens == 2; }));
    EXPECT_EQ(server.Evictions(), 1u);
    // Next the idle HTTP client makes room; the gossip link is never the transport's to evict.
    RawClient another(server.Port());
    ASSERT_TRUE(RunUntil([&] { return server_http.closes == 1; }));
    EXPECT_EQ(server_http.codes, std::vector<CloseReason>{CloseReason::Evicted});
    EXPECT_FALSE(gossip.PollClosed());
    EXPECT_EQ(server_gossip.closes, 0);
    EXPECT_EQ(server.Evictions(), 2u);
}

TEST_F(TransportTest, OneAddressCannotTakeEveryPlace) {
    TransportOptions options;
    options.max_connections = 8;
    options.max_connections_per_ip = 2;
    Transport& server = Server(options);
    RawClient a1(server.Port(), 0, "127.0.0.2");
    RawClient a2(server.Port(), 0, "127.0.0.2");
    ASSERT_TRUE(a1.Send(Magic()) && a2.Send(Magic()));
    ASSERT_TRUE(RunUntil([&] { return server_gossip.opens == 2; }));
    RawClient a3(server.Port(), 0, "127.0.0.2");
    ASSERT_TRUE(RunUntil([&] { return a3.PollClosed(); }));
    // Another host still gets in.
    RawClient b1(server.Port(), 0, "127.0.0.3");
    ASSERT_TRUE(b1.Send(Magic()));
    ASSERT_TRUE(RunUntil([&] { return server_gossip.opens == 3; }));
    EXPECT_FALSE(a1.PollClosed());
    EXPECT_FALSE(b1.PollClosed());
    // 127.0.0.1, which every local tool and node shares, is not capped.
    RawClient l1(server.Port(), 0, "127.0.0.1");
    RawClient l2(server.Port(), 0, "127.0.0.1");
    RawClient l3(server.Port(), 0, "127.0.0.1");
    ASSERT_TRUE(l1.Send(Magic()) && l2.Send(Magic()) && l3.Send(Magic()));
    ASSERT_TRUE(RunUntil([&] { return server_gossip.opens == 6; }));
    EXPECT_FALSE(l3.PollClosed());
}

TEST_F(TransportTest, ClientsThatDoNotReadAreClosedWhenTheNodeWideWriteBudgetIsSpent) {
    // Each client asks for 16 MiB and reads nothing; together they would hold 32 MiB, over the
    // node-wide 24 MiB: the one with the most waiting is closed, the other keeps its answer.
    TransportOptions options;
    options.max_total_write_queue_bytes = 24u << 20;
    Transport& server = Server(options);
    server_http.on_data = [](Connection& c, std::string_view) {
        c.SendRaw(std::string(16u << 20, 'x'));
    };
    RawClient first(server.Port(), 4096);
    ASSERT_TRUE(first.Send("GET"));
    ASSERT_TRUE(RunUntil([&] { return server.QueuedBytes() > (8u << 20); }));
    RawClient second(server.Port(), 4096);
    ASSERT_TRUE(second.Send("GET"));
    ASSERT_TRUE(RunUntil([&] { return server_http.closes == 1; }));
    EXPECT_EQ(server_http.codes, std::vector<CloseReason>{CloseReason::WriteQueueFull});
    EXPECT_EQ(server_http.reasons, std::vector<std::string>{"node-wide write queue full"});
    ASSERT_TRUE(RunUntil([&] { return first.PollClosed(); }));
    EXPECT_LE(server.QueuedBytes(), options.max_total_write_queue_bytes);
    EXPECT_EQ(server.ConnectionCount(), 1u);
}

TEST_F(TransportTest, TheNodeWideWriteBudgetClosesTheSlowestReaderNotTheWriter) {
    // A gossip peer that reads nothing holds 6 MiB; an honest one is sent 4 MiB: over the 8 MiB
    // budget, the one that does not read goes, and the honest write is queued.
    TransportOptions options;
    options.max_total_write_queue_bytes = 8u << 20;
    Transport& server = Server(options);
    std::vector<Connection*> links;
    server_gossip.on_open = [&](Connection& c) { links.push_back(&c); };
    RawClient slow(server.Port(), 4096);
    ASSERT_TRUE(slow.Send(Magic()));
    ASSERT_TRUE(RunUntil([&] { return links.size() == 1; }));
    ASSERT_TRUE(links[0]->SendFrame(std::string(6u << 20, 's')));
    ASSERT_TRUE(RunUntil([&] { return server.QueuedBytes() > (3u << 20); }));
    RawClient honest(server.Port());
    ASSERT_TRUE(honest.Send(Magic()));
    ASSERT_TRUE(RunUntil([&] { return links.size() == 2; }));
    EXPECT_TRUE(links[1]->SendFrame(std::string(4u << 20, 'h')));
    ASSERT_TRUE(RunUntil([&] { return server_gossip.closes == 1; }));
    EXPECT_EQ(server_gossip.codes, std::vector<CloseReason>{CloseReason::WriteQueueFull});
    ASSERT_TRUE(RunUntil([&] { return slow.PollClosed(); }));
    std::size_t received = 0;
    ASSERT_TRUE(RunUntil([&] {
        honest.PollClosed();
        received = honest.received.size();
        return received >= (4u << 20) + FRAME_HEADER_BYTES;
    }));
    EXPECT_EQ(server.ConnectionCount(), 1u);
}

TEST_F(TransportTest, CloseAllClosesListenerAndLinksOnce) {
    Transport& server = Server();
    Transport& client = Client();
    ASSERT_NE(ConnectPair(client, server), nullptr);
    const uint16_t port = server.Port();
    server.CloseAll("shutdown");
    server.CloseAll("again");
    ASSERT_TRUE(RunUntil([&] { return server_gossip.closes == 1 && client_gossip.closes == 1; }));
    EXPECT_EQ(server_gossip.reasons, (std::vector<std::string>{"shutdown"}));
    EXPECT_EQ(server.Port(), 0);
    RawClient late(port);
    EXPECT_FALSE(late.Connected());
}

TEST_F(TransportTest, ThrowingHandlerClosesOnlyItsConnection) {
    Transport& server = Server();
    Transport& client = Client();
    server_gossip.on_frame = [](Connection&, std::string_view) {
        throw std::runtime_error("bad message");
    };
    Connection* outbound = ConnectPair(client, server);
    ASSERT_NE(outbound, nullptr);
    EXPECT_TRUE(outbound->SendFrame("x"));
    ASSERT_TRUE(RunUntil([&] { return server_gossip.closes == 1 && client_gossip.closes == 1; }));
    EXPECT_EQ(server_gossip.reasons, (std::vector<std::string>{"handler error"}));
}

TEST_F(TransportTest, HandlerMayCloseEverythingFromACallback) {
    Transport& server = Server();
    Transport& client = Client();
    server_gossip.on_frame = [&](Connection&, std::string_view) { server.CloseAll("stop"); };
    Connection* outbound = ConnectPair(client, server);
    ASSERT_NE(outbound, nullptr);
    // Coalesced frames: the ones after CloseAll must not be delivered.
    EXPECT_TRUE(outbound->SendRaw(FrameDecoder::Encode("1") + FrameDecoder::Encode("2")));
    ASSERT_TRUE(RunUntil([&] { return server_gossip.closes == 1 && client_gossip.closes == 1; }));
    EXPECT_EQ(server_gossip.frames, (std::vector<std::string>{"1"}));
    EXPECT_EQ(server_gossip.reasons, (std::vector<std::string>{"stop"}));
}

TEST_F(TransportTest, DestroyingTransportWithLiveLinksIsSafe) {
    Recorder gossip;
    Recorder http;
    int connect_calls = 0;
    {
        Transport server(m_loop, {}, gossip, http);
        ASSERT_EQ(server.Listen(), 0);
        Transport client(m_loop, {}, gossip, http);
        client.Connect("127.0.0.1", server.Port(), [&](Connection*, int) { ++connect_calls; });
        ASSERT_TRUE(RunUntil([&] { return gossip.opens == 2; }));
        RawClient silent(server.Port());
        ASSERT_TRUE(RunUntil([&] { return server.ConnectionCount() == 2; }));
        // A lookup that cannot finish before its transport goes away: its callback only runs on
        // the loop, after the destructors.
        client.Connect("localhost", server.Port(), [&](Connection*, int) { ++connect_calls; });
    }
    // Destruction tells no handler anything; TearDown checks every handle was closed.
    EXPECT_EQ(connect_calls, 1);
    EXPECT_EQ(gossip.closes, 0);
}

TEST_F(TransportTest, ListensOnIpv6Loopback) {
    TransportOptions options;
    options.bind = "::1";
    m_loop.RunUntil([] { return true; }, 0);
    auto probe = std::make_unique<Transport>(m_loop, options, server_gossip, server_http);
    const int rc = probe->Listen();
    probe.reset();
    if (rc == UV_EADDRNOTAVAIL || rc == UV_EAFNOSUPPORT)
        GTEST_SKIP() << "no IPv6 loopback here";
    ASSERT_EQ(rc, 0);
    Transport& server = Server(options);
    Transport& client = Client();
    int status = 1;
    Connection* outbound = nullptr;
    client.Connect("::1", server.Port(), [&](Connection* c, int s) {
        outbound = c;
        status = s;
    });
    ASSERT_TRUE(RunUntil([&] { return status != 1 && server_gossip.opens == 1; }));
    EXPECT_EQ(status, 0);
    ASSERT_NE(outbound, nullptr);
    EXPECT_EQ(outbound->RemoteAddress(), "[::1]:" + std::to_string(server.Port()));
}

TEST_F(TransportTest, ListenRejectsBadBindAddress) {
    TransportOptions options;
    options.bind = "not-an-ip";
    Transport& client = Client(options);
    EXPECT_EQ(client.Listen(), UV_EINVAL);
    EXPECT_EQ(client.Port(), 0);
}

}  // namespace
}  // namespace gossipchain::net
