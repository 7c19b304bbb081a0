// Loopback tests of link shaping (LinkShaper delays, PeerManager::SetBlocked), the test-only
// latency and partition feature that tools/netsim drives through POST /admin/links: delayed frames
// keep each link's order and arrive no earlier than the delay allows; a blocked address loses its
// link, is not redialled and is refused when it dials in; healing redials it at once. Two
// in-process nodes on one private EventLoop; the receiving node's gossip handler records what
// arrives, and when.
#include "chain/chain_state.h"
#include "net/connection.h"
#include "net/event_loop.h"
#include "net/transport.h"
#include "p2p/codec.h"
#include "p2p/peer_manager.h"
#include "support/chain_builder.h"
#include "support/gossip_stack.h"
#include "util/log.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

/** Upper bound for any single wait in these tests, in ms. */
constexpr std::uint64_t DEADLINE_MS = 20'000;

/** The HTTP side of the transport, which these tests never use. */
struct NoHttp : net::ConnectionHandler {};

/** One transaction that reached a node, and the loop time it arrived at. */
struct Arrival {
    std::string id;
    std::uint64_t at_ms = 0;
};

/** Passes gossip to the peer manager, counting link closes on the way. */
struct Recorder : net::ConnectionHandler {
    explicit Recorder(net::ConnectionHandler& inner) : m_inner(inner) {}
    void OnOpen(net::Connection& conn) override { m_inner.OnOpen(conn); }
    void OnFrame(net::Connection& conn, std::string_view payload) override {
        m_inner.OnFrame(conn, payload);
    }
    void OnClose(net::Connection& conn, std::string_view reason) override {
        ++closes;
        m_inner.OnClose(conn, reason);
    }

    int closes = 0;

private:
    net::ConnectionHandler& m_inner;
};

/** ChainState, PeerManager and a listening Transport; no peer-exchange dialling. */
struct ShapedNode {
    ShapedNode(net::EventLoop& loop, unsigned /*number*/, std::uint64_t reconnect_min_ms)
        : chain(ChainOptions()),
          stack(loop, chain, PeerOptions(reconnect_min_ms)),
          peers(stack.peers),
          recorder(stack.links) {
        // Transactions as they arrive, decrypted, before the core handles them.
        stack.tap.on_payload = [this, &loop](std::string_view payload) {
            DecodeResult decoded = DecodeMessage(payload);
            if (!decoded.Ok())
                return;
            if (const auto* txs = std::get_if<NewTransactions>(&decoded.Value())) {
                for (const Transaction& tx : txs->transactions)
                    arrivals.push_back({tx.id, loop.NowMs()});
            }
        };
        transport = std::make_unique<net::Transport>(loop, net::TransportOptions{}, recorder, http);
        EXPECT_EQ(transport->Listen(), 0);
        peers.SetIdentity(stack.key.NodeId(), transport->Port());
        stack.Start(*transport);
    }

    static ChainState::Options ChainOptions() {
        ChainState::Options options;
        options.params = test::EasyParams();
        return options;
    }
    static PeerManagerOptions PeerOptions(std::uint64_t reconnect_min_ms) {
        PeerManagerOptions options;
        options.params = test::EasyParams();
        options.target_outbound = 0;
        options.reconnect_min_ms = reconnect_min_ms;
        options.reconnect_max_ms = 5 * reconnect_min_ms;
        return options;
    }
    PeerAddress Address() const { return PeerAddress{"127.0.0.1", transport->Port()}; }
    std::string Key() const { return FormatHostPort(Address()); }

    ChainState chain;
    test::GossipStack stack;
    PeerManager& peers;
    std::vector<Arrival> arrivals;
    Recorder recorder;
    NoHttp http;
    std::unique_ptr<net::Transport> transport;
};

/** Redial delay after a lost link in most tests, in ms: short, so a redial would show quickly. */
constexpr std::uint64_t FAST_RECONNECT_MS = 20;

class LinkShapingTest : public ::testing::Test {
protected:
    void SetUp() override { SetLogLevel(LogLevel::Warn); }
    void TearDown() override {
        for (ShapedNode* node : {m_a.get(), m_b.get()}) {
            node->stack.Stop();
            node->transport->CloseAll("teardown");
        }
        EXPECT_TRUE(RunUntil([&] {
            return m_a->transport->ConnectionCount() == 0 && m_b->transport->ConnectionCount() == 0;
        }));
        m_a.reset();
        m_b.reset();
        EXPECT_EQ(m_loop.Close(), 0);
        SetLogLevel(LogLevel::Info);
    }

    /** Starts the nodes A (the one shaped) and B. */
    void StartNodes(std::uint64_t reconnect_min_ms = FAST_RECONNECT_MS) {
        m_a = std::make_unique<ShapedNode>(m_loop, 1, reconnect_min_ms);
        m_b = std::make_unique<ShapedNode>(m_loop, 2, reconnect_min_ms);
    }

    bool RunUntil(const std::function<bool()>& done, std::uint64_t timeout_ms = DEADLINE_MS) {
        return m_loop.RunUntil(done, timeout_ms);
    }
    bool BothReady() const {
        return m_a->peers.ReadyPeerCount() == 1 && m_b->peers.ReadyPeerCount() == 1;
    }
    /** A dials B persistently and both count the link ready. */
    void LinkAToB() {
        m_a->peers.AddAddress(m_b->Address(), AddressOrigin::Seed);
        ASSERT_TRUE(RunUntil([&] { return BothReady(); }));
    }
    /** Relays transaction `n` from A, one NewTransactions frame per call; its id. */
    std::string SendTx(std::uint64_t n) {
        Transaction tx = test::MakeTx(n);
        EXPECT_EQ(m_a->chain.SubmitTransaction(tx, TxOrigin::Local).status, TxStatus::Accepted);
        m_a->peers.RelayTransactions(m_loop.NowMs());
        return tx.id;
    }
    std::vector<std::string> ArrivedIds() const {
        std::vector<std::string> ids;
        for (const Arrival& arrival : m_b->arrivals)
            ids.push_back(arrival.id);
        return ids;
    }

    net::EventLoop m_loop;
    std::unique_ptr<ShapedNode> m_a;
    std::unique_ptr<ShapedNode> m_b;
};

TEST_F(LinkShapingTest, DelayedFramesKeepTheirOrderAndWaitAtLeastDelayMinusJitter) {
    StartNodes();
    LinkAToB();
    constexpr std::uint64_t DELAY_MS = 40;
    constexpr std::uint64_t JITTER_MS = 30;
    m_a->stack.SetLinkShaping(LinkShaping{DELAY_MS, JITTER_MS, {}});

    // Sent in quick succession, so without the order rule jitter would swap many neighbours.
    std::vector<std::string> sent;
    std::vector<std::uint64_t> sent_at;
    for (std::uint64_t n = 1; n <= 30; ++n) {
        sent_at.push_back(m_loop.NowMs());
        sent.push_back(SendTx(n));
    }
    ASSERT_TRUE(RunUntil([&] { return m_b->arrivals.size() == sent.size(); }));
    EXPECT_EQ(ArrivedIds(), sent);
    for (std::size_t i = 0; i < sent.size(); ++i)
        EXPECT_GE(m_b->arrivals[i].at_ms - sent_at[i], DELAY_MS - JITTER_MS) << i;
    EXPECT_EQ(m_b->recorder.closes, 0);
}

TEST_F(LinkShapingTest, FramesQueuedBeforeDelayIsSwitchedOffStillGoFirst) {
    StartNodes();
    LinkAToB();
    m_a->stack.SetLinkShaping(LinkShaping{200, 0, {}});
    std::uint64_t slow_sent_at = m_loop.NowMs();
    std::string slow = SendTx(1);
    m_a->stack.SetLinkShaping(LinkShaping{});
    std::string fast = SendTx(2);

    ASSERT_TRUE(RunUntil([&] { return m_b->arrivals.size() == 2; }));
    EXPECT_EQ(ArrivedIds(), (std::vector<std::string>{slow, fast}));
    EXPECT_GE(m_b->arrivals[0].at_ms - slow_sent_at, 200u);
}

TEST_F(LinkShapingTest, BlockingClosesTheLinkAndTheAddressIsNotRedialled) {
    StartNodes();
    LinkAToB();
    m_a->stack.SetLinkShaping(LinkShaping{0, 0, {m_b->Key()}});
    ASSERT_TRUE(RunUntil(
        [&] { return m_a->peers.ReadyPeerCount() == 0 && m_b->peers.ReadyPeerCount() == 0; }));
    EXPECT_EQ(m_b->recorder.closes, 1);
    // Redials would come every 20-100 ms without the block; none gets through for 500 ms.
    EXPECT_FALSE(RunUntil([&] { return m_b->recorder.closes > 1 || BothReady(); }, 500));
    EXPECT_EQ(m_b->transport->ConnectionCount(), 0u);
}

TEST_F(LinkShapingTest, BlockedPeerDiallingInIsRefusedAtItsHello) {
    StartNodes();
    m_a->stack.SetLinkShaping(LinkShaping{0, 0, {m_b->Key()}});
    m_b->peers.AddAddress(m_a->Address(), AddressOrigin::Seed);
    // B keeps redialling (it is not shaped); A closes each link once B's Hello names it.
    ASSERT_TRUE(RunUntil([&] { return m_a->recorder.closes >= 2; }));
    EXPECT_EQ(m_a->peers.ReadyPeerCount(), 0u);
    EXPECT_TRUE(m_a->arrivals.empty());
}

TEST_F(LinkShapingTest, HealingRedialsAtOnceAndTrafficFlowsAgain) {
    // The lost link's redial is due a minute later at the earliest: only the heal explains a
    // redial within the 20 s deadline.
    StartNodes(60'000);
    LinkAToB();
    m_a->stack.SetLinkShaping(LinkShaping{0, 0, {m_b->Key()}});
    ASSERT_TRUE(RunUntil(
        [&] { return m_a->peers.ReadyPeerCount() == 0 && m_b->peers.ReadyPeerCount() == 0; }));

    m_a->stack.SetLinkShaping(LinkShaping{});
    ASSERT_TRUE(RunUntil([&] { return BothReady(); }));
    std::string id = SendTx(7);
    ASSERT_TRUE(RunUntil([&] { return m_b->arrivals.size() == 1; }));
    EXPECT_EQ(m_b->arrivals[0].id, id);
}

}  // namespace
}  // namespace gossipchain
