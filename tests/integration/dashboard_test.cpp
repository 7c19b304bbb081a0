// GET /events and /dashboard of real gossipchain processes: a block from a peer reaches an open
// event stream as it is accepted, a client that never reads is closed at its bound while the
// node goes on answering, streams beyond the node-wide bound get 503, and the page is served.
// The browser's view of the page is tests/integration/dashboard_browser_test.py.
#include "integration/support/node_harness.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace gossipchain::test {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

/** A raw GET /events client; `receive_buffer` > 0 shrinks its socket's receive buffer. */
class EventStreamClient {
public:
    explicit EventStreamClient(int port, int receive_buffer = 0) {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (receive_buffer > 0)
            ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
        if (::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
            return;
        const std::string request = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        m_connected = ::send(m_fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                      static_cast<ssize_t>(request.size());
    }
    ~EventStreamClient() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    EventStreamClient(const EventStreamClient&) = delete;
    EventStreamClient& operator=(const EventStreamClient&) = delete;

    bool Connected() const { return m_connected; }
    const std::string& Received() const { return m_received; }

    /** Reads until `text` has arrived; false at the deadline or when the node closed. */
    bool WaitFor(const std::string& text, milliseconds timeout = milliseconds(10'000)) {
        const auto deadline = Clock::now() + timeout;
        while (m_received.find(text) == std::string::npos) {
            auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
            pollfd pfd{m_fd, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
                return false;
            char buf[16384];
            ssize_t n = ::recv(m_fd, buf, sizeof(buf), 0);
            if (n <= 0)
                return false;
            m_received.append(buf, static_cast<std::size_t>(n));
        }
        return true;
    }

private:
    int m_fd = -1;
    bool m_connected = false;
    std::string m_received;
};

/** The value of an unlabelled sample in /metrics, or -1. */
long long MetricValue(const GossipNode& node, const std::string& name) {
    HttpClientResponse metrics = node.Get("/metrics");
    const std::string key = "\n" + name + " ";
    std::size_t at = metrics.body.find(key);
    return at == std::string::npos ? -1 : std::stoll(metrics.body.substr(at + key.size()));
}

TEST(Dashboard, ABlockFromAPeerReachesAnOpenEventStreamAsItIsAccepted) {
    TempDir root;
    GossipNode a(root, "a", NodeConfig().Difficulty(1));
    ASSERT_EQ(a.Start(), "");
    GossipNode b(root, "b", NodeConfig().Difficulty(1).Peer(a.Port()));
    ASSERT_EQ(b.Start(), "");
    ASSERT_TRUE(WaitUntil([&] { return b.ReadyPeers() >= 1 && a.ReadyPeers() >= 1; }));
    EventStreamClient stream(b.Port());
    ASSERT_TRUE(stream.Connected());
    ASSERT_TRUE(stream.WaitFor("retry: 2000\n\n"));
    EXPECT_NE(stream.Received().find("Content-Type: text/event-stream\r\n"), std::string::npos);
    EXPECT_EQ(stream.Received().find("Content-Length"), std::string::npos);
    ASSERT_EQ(a.Mine(), 2u);
    const std::string tip = a.Tip();
    // The event is asserted to arrive (under a deadline), not timed: its latency is measured by
    // tools/sse_latency.py, which does not depend on how loaded the test machine is.
    ASSERT_TRUE(stream.WaitFor("\"hash\":\"" + tip + "\"")) << stream.Received();
    const std::string& text = stream.Received();
    const std::size_t frame = text.rfind("event: block\ndata: ", text.find(tip));
    ASSERT_NE(frame, std::string::npos);
    Json data = Json::parse(text.substr(frame + 19, text.find('\n', frame + 19) - frame - 19));
    EXPECT_EQ(data["index"], 2);
    EXPECT_EQ(data["source"], a.HostPort());
    EXPECT_TRUE(data["time"].is_number_float());
    // Peer changes and transactions are streamed too.
    ASSERT_EQ(
        a.Post("/transactions/new", Json{{"sender", "alice"}, {"recipient", "bob"}, {"amount", 5}})
            .status,
        201);
    EXPECT_TRUE(stream.WaitFor("event: tx\n"));
    a.Kill();
    EXPECT_TRUE(stream.WaitFor("\"up\":false"));
    EXPECT_GE(MetricValue(b, "gossipchain_sse_events_total"), 3);
}

TEST(Dashboard, AnEventStreamClientThatNeverReadsIsClosedAtItsBound) {
    TempDir root;
    GossipNode node(root, "n", NodeConfig().Difficulty(1));
    ASSERT_EQ(node.Start(), "");
    EventStreamClient stuck(node.Port(), /*receive_buffer=*/4096);
    ASSERT_TRUE(stuck.Connected());
    ASSERT_TRUE(WaitUntil([&] { return MetricValue(node, "gossipchain_sse_clients") == 1; }));
    // Blocks are mined on one keep-alive connection until the node gives up on the client: the
    // kernel's socket buffers fill first, then MAX_SSE_CLIENT_PENDING_BYTES.
    HttpConnection miner;
    ASSERT_TRUE(miner.Connect("127.0.0.1", node.Port()));
    const auto deadline = Clock::now() + std::chrono::seconds(90);
    int mined = 0;
    while (MetricValue(node, "gossipchain_sse_dropped_slow_total") < 1 && Clock::now() < deadline) {
        for (int i = 0; i < 200; ++i) {
            ASSERT_TRUE(miner.SendRequest("GET", "/mine"));
            ASSERT_EQ(miner.ReadResponse().status, 200);
            ++mined;
        }
    }
    EXPECT_EQ(MetricValue(node, "gossipchain_sse_dropped_slow_total"), 1) << mined << " blocks";
    EXPECT_EQ(MetricValue(node, "gossipchain_sse_clients"), 0);
    RecordProperty("blocks_until_dropped", mined);
    EXPECT_EQ(node.Status()["height"], mined + 1);
}

TEST(Dashboard, StreamsBeyondTheNodeWideBoundGet503AndTheNodeStillAnswers) {
    TempDir root;
    GossipNode node(root, "n", NodeConfig().Difficulty(1));
    ASSERT_EQ(node.Start(), "");
    std::vector<std::unique_ptr<EventStreamClient>> streams;
    for (int i = 0; i < 64; ++i) {
        streams.push_back(std::make_unique<EventStreamClient>(node.Port()));
        ASSERT_TRUE(streams.back()->WaitFor("retry: 2000\n\n")) << i;
    }
    EventStreamClient refused(node.Port());
    EXPECT_TRUE(refused.WaitFor("HTTP/1.1 503 Service Unavailable\r\n")) << refused.Received();
    EXPECT_EQ(MetricValue(node, "gossipchain_sse_refused_total"), 1);
    EXPECT_EQ(node.Mine(), 2u);
    for (auto& stream : streams)
        EXPECT_TRUE(stream->WaitFor("\"index\":2"));
    HttpClientResponse page = node.Get("/dashboard");
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("<script src=\"/dashboard.js\"></script>"), std::string::npos);
}

}  // namespace
}  // namespace gossipchain::test
