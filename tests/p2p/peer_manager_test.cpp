// Loopback tests of the peer manager: several in-process nodes (ChainState + PeerManager +
// Transport) on one private EventLoop, plus raw "evil" peers that speak frames directly. They
// cover the handshake and its refusals, relay, locator sync in several requests, misbehaviour
// and bans, keepalive, SyncEveryPeer and reconnecting.
#include "p2p/peer_manager.h"

#include "chain/chain_state.h"
#include "consensus/pow.h"
#include "net/connection.h"
#include "net/event_loop.h"
#include "net/transport.h"
#include "p2p/codec.h"
#include "p2p/messages.h"
#include "p2p/secure_channel.h"
#include "support/chain_builder.h"
#include "support/gossip_stack.h"
#include "util/clock.h"
#include "util/log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gossipchain {
namespace {

/** Upper bound for any single wait in these tests, in ms. */
constexpr std::uint64_t DEADLINE_MS = 20'000;

/** The key of peer number `n` (nodes and evil peers alike), the same in every run. */
const NodeKey& KeyFor(unsigned n) {
    static std::map<unsigned, NodeKey> keys;
    auto found = keys.find(n);
    if (found == keys.end()) {
        NodeKeySeed seed{};
        for (std::size_t i = 0; i < 4; ++i)
            seed[i] = static_cast<std::uint8_t>(n >> (8 * i));
        seed[31] = 0x5a;
        found = keys.emplace(n, NodeKey::FromSeed(seed)).first;
    }
    return found->second;
}

/** The node id peer number `n` proves. */
std::string NodeId(unsigned n) {
    return KeyFor(n).NodeId();
}

/** Stands in for the HTTP side, which these tests never use. */
struct NullHandler : net::ConnectionHandler {};

/** Forwards gossip callbacks to the peer manager and counts what went through. */
struct CountingHandler : net::ConnectionHandler {
    explicit CountingHandler(net::ConnectionHandler& inner) : m_inner(inner) {}
    void OnOpen(net::Connection& conn) override {
        ++opens;
        m_inner.OnOpen(conn);
    }
    void OnFrame(net::Connection& conn, std::string_view payload) override {
        m_inner.OnFrame(conn, payload);
    }
    void OnWritable(net::Connection& conn) override { m_inner.OnWritable(conn); }
    void OnClose(net::Connection& conn, std::string_view reason) override {
        ++closes;
        m_inner.OnClose(conn, reason);
    }
    int opens = 0;
    int closes = 0;

private:
    net::ConnectionHandler& m_inner;
};

ChainState::Options ChainOptions(const ConsensusParams& params) {
    ChainState::Options options;
    options.params = params;
    return options;
}

/** Fast timeouts; no peer-exchange dialing, so the topology is exactly what a test links. */
PeerManagerOptions FastOptions() {
    PeerManagerOptions options;
    options.params = test::EasyParams();
    options.target_outbound = 0;
    options.handshake_timeout_ms = 2'000;
    options.ping_interval_ms = 5'000;
    options.ping_timeout_ms = 5'000;
    options.reconnect_min_ms = 20;
    options.reconnect_max_ms = 200;
    return options;
}

struct TestNode {
    TestNode(net::EventLoop& loop, PeerManagerOptions options, const NodeKey& key)
        : chain(ChainOptions(options.params)),
          stack(loop, chain, options, key),
          peers(stack.peers),
          tip_changes(stack.events.tip_changes),
          transactions(stack.events.transactions),
          gossip(stack.links),
          tap(stack.tap) {
        OpenTransport(loop, 0);
        peers.SetIdentity(key.NodeId(), port);
    }

    /** Listens on `listen_port` (0: any) and hands the new transport to the peer manager. */
    void OpenTransport(net::EventLoop& loop, std::uint16_t listen_port) {
        net::TransportOptions options;
        options.port = listen_port;
        transport = std::make_unique<net::Transport>(loop, options, gossip, http);
        EXPECT_EQ(transport->Listen(), 0);
        port = transport->Port();
    }

    PeerAddress Address() const { return PeerAddress{"127.0.0.1", port}; }

    ChainState chain;
    test::GossipStack stack;
    PeerManager& peers;
    const int& tip_changes;
    const int& transactions;
    CountingHandler gossip;
    test::LinkEventsTap& tap;
    NullHandler http;
    std::uint16_t port = 0;
    std::unique_ptr<net::Transport> transport;
};

/**
 * A peer under the test's direct control: it runs the real handshake (SPEC §7.2) with its own
 * key, KeyFor(99) unless the test sets `key` before connecting, then sends any message or any
 * payload sealed, and records what it gets back.
 */
struct EvilPeer : net::ConnectionHandler {
    EvilPeer(net::EventLoop& loop) : transport(loop, net::TransportOptions{}, *this, http) {}

    void OnOpen(net::Connection& c) override {
        conn = &c;
        ++opens;
        channel = std::make_unique<SecureChannel>(
            *key, c.Inbound() ? ChannelRole::Responder : ChannelRole::Initiator);
        c.SendFrame(channel->KeyFrame());
    }
    void OnFrame(net::Connection& c, std::string_view frame) override {
        std::string plaintext;
        std::string to_send;
        ChannelEvent event = channel->Receive(frame, plaintext, to_send);
        if (!to_send.empty())
            c.SendFrame(to_send);
        if (event == ChannelEvent::Established) {
            open = true;
            if (hello_on_open)
                Send(*hello_on_open);
            return;
        }
        if (event == ChannelEvent::Failed)
            ADD_FAILURE() << "evil peer's channel failed: " << channel->FailureText();
        if (event != ChannelEvent::Delivered)
            return;
        DecodeResult decoded = DecodeMessage(plaintext);
        ASSERT_TRUE(decoded.Ok()) << decoded.Error().text;
        received.push_back(decoded.Value());
        if (answer_pings) {
            if (const auto* ping = std::get_if<Ping>(&received.back()))
                Send(Pong{ping->nonce});
        }
    }
    void OnClose(net::Connection& /*conn*/, std::string_view reason) override {
        conn = nullptr;
        open = false;
        ++closes;
        close_reason = std::string(reason);
    }

    void Connect(std::uint16_t port) {
        transport.Connect("127.0.0.1", port,
                          [](net::Connection*, int status) { EXPECT_EQ(status, 0); });
    }
    /** Seals and sends one payload, whatever it holds. */
    void SendPayload(std::string_view payload) const { conn->SendFrame(channel->Seal(payload)); }
    void Send(const Message& message) const { SendPayload(EncodeMessage(message)); }

    template <typename T>
    std::vector<T> Received() const {
        std::vector<T> out;
        for (const Message& message : received) {
            if (const auto* body = std::get_if<T>(&message))
                out.push_back(*body);
        }
        return out;
    }
    bool GotReject(RejectCode code) const {
        for (const Reject& reject : Received<Reject>()) {
            if (reject.code == static_cast<std::uint32_t>(code))
                return true;
        }
        return false;
    }

    const NodeKey* key = &KeyFor(99);
    NullHandler http;
    net::Transport transport;
    net::Connection* conn = nullptr;
    std::unique_ptr<SecureChannel> channel;
    /** The handshake is done: messages may be sent. */
    bool open = false;
    int opens = 0;
    int closes = 0;
    bool answer_pings = true;
    /** Sent as soon as a link opens, for evil peers that are dialled rather than dialling. */
    std::optional<Hello> hello_on_open;
    std::string close_reason;
    std::vector<Message> received;
};

Hello HelloFor(const ConsensusParams& params, const std::string& node_id) {
    Hello hello;
    hello.network_id = NetworkId(params);
    hello.node_id = node_id;
    hello.height = 1;
    hello.tip = BlockHash(MakeGenesis(params));
    hello.agent = "evil/1";
    return hello;
}

class PeerManagerTest : public ::testing::Test {
protected:
    // Thousands of "block accepted" lines would bury a failure.
    void SetUp() override { SetLogLevel(LogLevel::Warn); }
    TestNode& AddNode(PeerManagerOptions options = FastOptions(), bool start = true) {
        m_nodes.push_back(std::make_unique<TestNode>(
            m_loop, std::move(options), KeyFor(static_cast<unsigned>(m_nodes.size() + 1))));
        if (start)
            m_nodes.back()->stack.Start(*m_nodes.back()->transport);
        return *m_nodes.back();
    }
    EvilPeer& AddEvil() {
        m_evils.push_back(std::make_unique<EvilPeer>(m_loop));
        return *m_evils.back();
    }
    bool RunUntil(const std::function<bool()>& done, std::uint64_t timeout_ms = DEADLINE_MS) {
        return m_loop.RunUntil(done, timeout_ms);
    }
    /** Runs the loop for `ms` and expects `never` to stay false all along. */
    void RunExpectingNever(const std::function<bool()>& never, std::uint64_t ms) {
        EXPECT_FALSE(RunUntil(never, ms));
    }
    /** `from` dials `to` persistently; waits until both count the link as ready. */
    void Link(TestNode& from, TestNode& to) {
        std::size_t from_ready = from.peers.ReadyPeerCount();
        std::size_t to_ready = to.peers.ReadyPeerCount();
        from.peers.AddAddress(to.Address(), AddressOrigin::Seed);
        ASSERT_TRUE(RunUntil([&] {
            return from.peers.ReadyPeerCount() == from_ready + 1 &&
                   to.peers.ReadyPeerCount() == to_ready + 1;
        }));
    }
    /** Connects `evil` as peer number `n` to `node`, completes the handshake and the Hello
     * exchange, and waits until it is ready. */
    void HandshakeEvil(EvilPeer& evil, TestNode& node, unsigned n) {
        std::size_t ready = node.peers.ReadyPeerCount();
        evil.key = &KeyFor(n);
        evil.Connect(node.port);
        ASSERT_TRUE(RunUntil([&] { return evil.open; }));
        evil.Send(HelloFor(node.chain.Params(), NodeId(n)));
        ASSERT_TRUE(RunUntil([&] { return node.peers.ReadyPeerCount() == ready + 1; }));
    }
    /** Puts `count` valid blocks on `node`'s tip without telling any peer. */
    static void Grow(TestNode& node, std::size_t count, std::uint64_t first_tx) {
        for (Block& block :
             test::MakeBranch(node.chain.Params(), test::TipBlock(node.chain), count, first_tx)) {
            ASSERT_EQ(node.chain.ProcessBlock(std::move(block), WallSeconds()).status,
                      BlockStatus::Connected);
        }
    }

    /** Links two nodes whose networks differ and checks that neither ever counts the other ready.
     */
    void ExpectNetworksRefuseEachOther(TestNode& a, TestNode& b) {
        a.peers.AddAddress(b.Address(), AddressOrigin::Seed);
        ASSERT_TRUE(RunUntil([&] { return a.gossip.closes == 1 && b.gossip.closes == 1; }));
        EXPECT_EQ(a.peers.ReadyPeerCount(), 0u);
        EXPECT_EQ(b.peers.ReadyPeerCount(), 0u);
        // Each side refuses the other's Hello; whichever reads first closes, so at least one Reject
        // is written, and nothing but Hello and Reject ever crosses the link.
        EXPECT_GE(a.peers.Metrics().bytes_out_by_type.count("Reject") +
                      b.peers.Metrics().bytes_out_by_type.count("Reject"),
                  1u);
        for (const TestNode* node : {&a, &b}) {
            for (const auto& [type, count] : node->tap.frames_in) {
                EXPECT_TRUE(type == static_cast<int>(MessageType::Hello) ||
                            type == static_cast<int>(MessageType::Reject))
                    << type;
            }
            EXPECT_EQ(node->chain.Height(), 1u);
        }
    }

    void TearDown() override {
        for (auto& node : m_nodes) {
            node->stack.Stop();
            node->transport->CloseAll("teardown");
        }
        for (auto& evil : m_evils)
            evil->transport.CloseAll("teardown");
        EXPECT_TRUE(RunUntil([&] {
            for (auto& node : m_nodes) {
                if (node->transport->ConnectionCount() != 0)
                    return false;
            }
            for (auto& evil : m_evils) {
                if (evil->transport.ConnectionCount() != 0)
                    return false;
            }
            return true;
        }));
        m_evils.clear();
        m_nodes.clear();
        EXPECT_EQ(m_loop.Close(), 0);
        SetLogLevel(LogLevel::Info);
    }

    net::EventLoop m_loop;
    std::vector<std::unique_ptr<TestNode>> m_nodes;
    std::vector<std::unique_ptr<EvilPeer>> m_evils;
};

// --- Handshake ----------------------------------------------------------------------------------

TEST_F(PeerManagerTest, HandshakeMakesBothNodesReady) {
    TestNode& a = AddNode();
    TestNode& b = AddNode();
    Link(a, b);
    EXPECT_EQ(a.peers.ReadyPeerCount(), 1u);
    EXPECT_EQ(b.peers.ReadyPeerCount(), 1u);
    EXPECT_EQ(a.gossip.opens, 1);
    EXPECT_EQ(b.gossip.opens, 1);
    EXPECT_EQ(a.tap.FramesIn(MessageType::Hello), 1);
    EXPECT_EQ(b.tap.FramesIn(MessageType::Hello), 1);

    std::vector<PeerView> a_view = a.peers.Peers();
    ASSERT_EQ(a_view.size(), 1u);
    EXPECT_EQ(a_view[0].state, "ready");
    EXPECT_FALSE(a_view[0].inbound);
    EXPECT_EQ(a_view[0].node_id, NodeId(2));
    EXPECT_EQ(a_view[0].address, FormatHostPort(b.Address()));
    EXPECT_EQ(a_view[0].height, 1u);

    // B learns A's listening address from the Hello (and RegisterPeer) of the inbound link.
    ASSERT_TRUE(RunUntil([&] { return b.tap.FramesIn(MessageType::RegisterPeer) == 1; }));
    EXPECT_EQ(b.peers.KnownAddresses(), std::vector<std::string>{FormatHostPort(a.Address())});
    std::vector<PeerView> b_view = b.peers.Peers();
    ASSERT_EQ(b_view.size(), 1u);
    EXPECT_TRUE(b_view[0].inbound);
    EXPECT_EQ(b_view[0].node_id, NodeId(1));
}

TEST_F(PeerManagerTest, HandshakeTimesOutWhenPeerNeverSaysHello) {
    PeerManagerOptions options = FastOptions();
    options.handshake_timeout_ms = 150;
    TestNode& node = AddNode(options);
    EvilPeer& evil = AddEvil();
    evil.Connect(node.port);
    ASSERT_TRUE(RunUntil([&] { return evil.closes == 1; }));
    EXPECT_TRUE(evil.GotReject(RejectCode::Timeout));
    EXPECT_EQ(node.peers.ReadyPeerCount(), 0u);
    EXPECT_EQ(node.peers.Metrics().bans, 0u);
}

TEST_F(PeerManagerTest, DifferentDifficultyIsRefused) {
    PeerManagerOptions slow = FastOptions();
    slow.reconnect_min_ms = slow.reconnect_max_ms = 60'000;
    PeerManagerOptions harder = slow;
    harder.params.difficulty = 2;
    TestNode& a = AddNode(slow);
    TestNode& b = AddNode(harder);
    ExpectNetworksRefuseEachOther(a, b);
}

TEST_F(PeerManagerTest, DifferentPowRuleIsRefused) {
    PeerManagerOptions slow = FastOptions();
    slow.reconnect_min_ms = slow.reconnect_max_ms = 60'000;
    PeerManagerOptions seed = slow;
    seed.params = test::EasyParams(PowRule::Seed);
    TestNode& a = AddNode(slow);
    TestNode& b = AddNode(seed);
    ExpectNetworksRefuseEachOther(a, b);
}

TEST_F(PeerManagerTest, WrongNetworkHelloGetsReject) {
    TestNode& node = AddNode();
    EvilPeer& evil = AddEvil();
    evil.Connect(node.port);
    ASSERT_TRUE(RunUntil([&] { return evil.open; }));
    ConsensusParams other = test::EasyParams();
    other.difficulty = 3;
    evil.Send(HelloFor(other, NodeId(99)));
    ASSERT_TRUE(RunUntil([&] { return evil.closes == 1; }));
    EXPECT_TRUE(evil.GotReject(RejectCode::WrongNetwork));
    EXPECT_EQ(node.peers.ReadyPeerCount(), 0u);
    EXPECT_EQ(node.peers.Metrics().bans, 0u);
}

TEST_F(PeerManagerTest, OtherRulesHelloGetsRejectNamingThem) {
    TestNode& node = AddNode();
    EvilPeer& evil = AddEvil();
    evil.Connect(node.port);
    ASSERT_TRUE(RunUntil([&] { return evil.open; }));
    ConsensusParams other = node.chain.Params();
    other.rules = RuleSet::Signed;
    evil.Send(HelloFor(other, NodeId(99)));
    ASSERT_TRUE(RunUntil([&] { return evil.closes == 1; }));
    std::vector<Reject> rejects = evil.Received<Reject>();
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_EQ(rejects[0].code, static_cast<std::uint32_t>(RejectCode::WrongNetwork));
    EXPECT_NE(rejects[0].reason.find("rules signed, ours open"), std::string::npos)
        << rejects[0].reason;
    EXPECT_EQ(node.peers.Metrics().bans, 0u);
}

TEST_F(PeerManagerTest, WrongProtocolVersionGetsReject) {
    TestNode& node = AddNode();
    EvilPeer& evil = AddEvil();
    evil.Connect(node.port);
    ASSERT_TRUE(RunUntil([&] { return evil.open; }));
    Hello hello = HelloFor(node.chain.Params(), NodeId(99));
    hello.protocol_version = PROTOCOL_VERSION + 1;
    evil.Send(hello);
    ASSERT_TRUE(RunUntil([&] { return evil.closes == 1; }));
    EXPECT_TRUE(evil.GotReject(RejectCode::ProtocolVersion));
    EXPECT_EQ(node.peers.ReadyPeerCount(), 0u);
}

TEST_F(PeerManagerTest, DialingOurselvesIsClosedAndNeverRedialled) {
    TestNode& node = AddNode();
    node.peers.AddAddress(node.Address(), AddressOrigin::Seed);
    // One outbound and one inbound end of the same link, both closed once the ids match.
    ASSERT_TRUE(RunUntil([&] { return node.gossip.opens == 2 && node.gossip.closes == 2; }));
    EXPECT_EQ(node.peers.ReadyPeerCount(), 0u);
    EXPECT_TRUE(node.peers.KnownAddresses().empty());
    EXPECT_TRUE(node.peers.Peers().empty());
    // Many reconnect intervals later there was still no second attempt.
    RunExpectingNever([&] { return node.gossip.opens > 2; }, 500);
    EXPECT_EQ(node.transport->ConnectionCount(), 0u);
}

TEST_F(PeerManagerTest, SimultaneousDialsEndWithExactlyOneLink) {
    TestNode& a = AddNode(FastOptions(), false);
    TestNode& b = AddNode(FastOptions(), false);
    a.peers.AddAddress(b.Address(), AddressOrigin::Seed);
    b.peers.AddAddress(a.Address(), AddressOrigin::Seed);
    // Both first ticks run in the same loop turn, so both dials are in flight before either
    // Hello arrives: two links form and one must go.
    a.stack.Start(*a.transport);
    b.stack.Start(*b.transport);
    ASSERT_TRUE(RunUntil([&] {
        return a.gossip.opens == 2 && b.gossip.opens == 2 && a.peers.ReadyPeerCount() == 1 &&
               b.peers.ReadyPeerCount() == 1 && a.transport->ConnectionCount() == 1 &&
               b.transport->ConnectionCount() == 1;
    }));
    // The survivor is the link dialled by the smaller id, on both ends.
    const bool a_smaller = NodeId(1) < NodeId(2);
    std::vector<PeerView> a_view = a.peers.Peers();
    ASSERT_EQ(a_view.size(), 1u);
    EXPECT_EQ(a_view[0].inbound, !a_smaller);
    EXPECT_EQ(a_view[0].state, "ready");
    std::vector<PeerView> b_view = b.peers.Peers();
    ASSERT_EQ(b_view.size(), 1u);
    EXPECT_EQ(b_view[0].inbound, a_smaller);
    // Neither side keeps redialling the peer it already has.
    RunExpectingNever([&] { return a.gossip.opens > 2 || b.gossip.opens > 2; }, 500);
    EXPECT_EQ(a.peers.ReadyPeerCount(), 1u);
    EXPECT_EQ(b.peers.ReadyPeerCount(), 1u);
}

TEST_F(PeerManagerTest, InboundLinksBeyondTheCapTakeAnIdlePlaceOrAreRejected) {
    PeerManagerOptions options = FastOptions();
    options.max_inbound = 1;
    TestNode& node = AddNode(options);
    EvilPeer& first = AddEvil();
    HandshakeEvil(first, node, 98);
    // The one place is held by a link that gave nothing: the newcomer takes it.
    EvilPeer& second = AddEvil();
    second.Connect(node.port);
    ASSERT_TRUE(RunUntil([&] { return second.open; }));
    second.Send(HelloFor(node.chain.Params(), NodeId(99)));
    ASSERT_TRUE(RunUntil([&] { return first.closes == 1 && node.peers.ReadyPeerCount() == 1; }));
    EXPECT_TRUE(first.GotReject(RejectCode::TooManyPeers));
    EXPECT_EQ(second.closes, 0);
    EXPECT_EQ(node.peers.ReadyPeerCount(), 1u);
    // With no inbound place at all, a newcomer is refused before any Hello.
    PeerManagerOptions none = FastOptions();
    none.max_inbound = 0;
    TestNode& closed = AddNode(none);
    EvilPeer& third = AddEvil();
    third.Connect(closed.port);
    ASSERT_TRUE(RunUntil([&] { return third.closes == 1; }));
    EXPECT_TRUE(third.GotReject(RejectCode::TooManyPeers));
    EXPECT_TRUE(third.Received<Hello>().empty());
}

TEST_F(PeerManagerTest, SecondHelloCostsScoreButNotTheLink) {
    TestNode& node = AddNode();
    EvilPeer& evil = AddEvil();
    HandshakeEvil(evil, node, 99);
    evil.Send(HelloFor(node.chain.Params(), NodeId(99)));
    evil.Send(Ping{5});
    ASSERT_TRUE(RunUntil([&] { return !evil.Received<Pong>().empty(); }));
    EXPECT_EQ(evil.Received<Pong>().front().nonce, 5u);
    EXPECT_EQ(evil.closes, 0);
    EXPECT_EQ(node.peers.Metrics().bans, 0u);
    // Four more (20 points each) reach BAN_SCORE.
    for (int i = 0; i < 4; ++i)
        evil.Send(HelloFor(node.chain.Params(), NodeId(99)));
    ASSERT_TRUE(RunUntil([&] { return evil.closes == 1; }));
    EXPECT_TRUE(evil.GotReject(RejectCode::Misbehaving));
    EXPECT_EQ(node.peers.Metrics().bans, 1u);
}

// --- Peer exchange ------------------------------------------------------------------------------

TEST_F(PeerManagerTest, AddressesLearnedFromPeersAreDialled) {
    PeerManagerOptions dialer = FastOptions();
    dialer.target_outbound = 8;
    TestNode& a = AddNode(dialer);
    TestNode& b = AddNode();
    TestNode& c = AddNode();
    Link(b, c);
    // B shares C's address (and never A's own) in its Peers message; A fills its outbound slots.
    Link(a, b);
    ASSERT_TRUE(RunUntil([&] { return a.peers.ReadyPeerCount() == 2; }));
    EXPECT_EQ(c.peers.ReadyPeerCount(), 2u);
    std::vector<std::string> known = a.peers.KnownAddresses();
    EXPECT_EQ(known,
              (std::vector<std::string>{FormatHostPort(b.Address()), FormatHostPort(c.Address())}));
}

TEST_F(PeerManagerTest, OwnAddressLearnedFromAPeerIsMarkedSelf) {
    PeerManagerOptions dialer = FastOptions();
    dialer.target_outbound = 8;
    TestNode& node = AddNode(dialer);
    EvilPeer& evil = AddEvil();
    HandshakeEvil(evil, node, 99);
    evil.Send(gossipchain::Peers{{FormatHostPort(node.Address()), "not an address"}});
    // The node dials itself once (an outbound and an inbound end, plus the evil link).
    ASSERT_TRUE(RunUntil([&] { return node.gossip.opens == 3 && node.gossip.closes == 2; }));
    EXPECT_TRUE(node.peers.KnownAddresses().empty());
    RunExpectingNever([&] { return node.gossip.opens > 3; }, 300);
    EXPECT_EQ(node.peers.ReadyPeerCount(), 1u);
}

// --- Relay --------------------------------------------------------------------------------------

TEST_F(PeerManagerTest, BlockRelaysAlongALine) {
    TestNode& a = AddNode();
    TestNode& b = AddNode();
    TestNode& c = AddNode();
    Link(a, b);
    Link(b, c);

    Block block = test::MakeChild(a.chain.Params(), test::TipBlock(a.chain));
    BlockResult result = a.chain.ProcessBlock(block, WallSeconds());
    ASSERT_EQ(result.status, BlockStatus::Connected);
    a.peers.BroadcastBlock(*result.connected.front(), m_loop.NowMs());
    ASSERT_TRUE(RunUntil([&] { return c.chain.Height() == 2; }));
    EXPECT_EQ(b.chain.Tip().HashHex(), result.hash);
    EXPECT_EQ(c.chain.Tip().HashHex(), result.hash);
    EXPECT_EQ(b.tip_changes, 1);
    EXPECT_EQ(c.tip_changes, 1);
    // Once per link, never back to the sender: pushed compact to so few peers.
    EXPECT_EQ(a.peers.Metrics().blocks_relayed, 1u);
    EXPECT_EQ(b.peers.Metrics().blocks_relayed, 1u);
    EXPECT_EQ(c.peers.Metrics().blocks_relayed, 0u);
    EXPECT_EQ(a.tap.FramesIn(MessageType::CompactBlock), 0);
    EXPECT_EQ(b.tap.FramesIn(MessageType::CompactBlock), 1);
    EXPECT_EQ(c.tap.FramesIn(MessageType::CompactBlock), 1);
    // No sync was needed for a block that extends the tip.
    EXPECT_EQ(b.tap.FramesIn(MessageType::RequestChain), 0);
    EXPECT_EQ(c.tap.FramesIn(MessageType::RequestChain), 0);
}

TEST_F(PeerManagerTest, TransactionRelaysAlongALine) {
    TestNode& a = AddNode();
    TestNode& b = AddNode();
    TestNode& c = AddNode();
    Link(a, b);
    Link(b, c);

    Transaction tx = test::MakeTx(42);
    TxResult submitted = a.chain.SubmitTransaction(tx, TxOrigin::Local);
    ASSERT_EQ(submitted.status, TxStatus::Accepted);
    a.peers.RelayTransactions(m_loop.NowMs());
    ASSERT_TRUE(RunUntil([&] { return c.chain.GetMempool().Contains(submitted.txid); }));
    EXPECT_TRUE(b.chain.GetMempool().Contains(submitted.txid));
    EXPECT_EQ(b.transactions, 1);
    EXPECT_EQ(c.transactions, 1);
    EXPECT_EQ(a.peers.Metrics().txs_relayed, 1u);
    EXPECT_EQ(b.peers.Metrics().txs_relayed, 1u);
    EXPECT_EQ(c.peers.Metrics().txs_relayed, 0u);
    EXPECT_EQ(a.tap.FramesIn(MessageType::NewTransactions), 0);

    // Relaying again sends nothing: it was offered to every peer once.
    a.peers.RelayTransactions(m_loop.NowMs());
    EXPECT_EQ(a.peers.Metrics().txs_relayed, 1u);
}

// --- Sync ---------------------------------------------------------------------------------------

class SyncTest : public PeerManagerTest {
protected:
    /** B holds `count` blocks; A connects late and ends on B's tip after `requests` requests
     * answered in `batches` Chain messages. */
    void ExpectCatchUp(std::size_t count, int requests, int batches) {
        TestNode& a = AddNode();
        TestNode& b = AddNode();
        Grow(b, count, 1);
        ASSERT_EQ(b.chain.Height(), count + 1);
        Link(a, b);
        ASSERT_TRUE(RunUntil([&] { return a.chain.Tip().HashHex() == b.chain.Tip().HashHex(); }));
        EXPECT_EQ(a.chain.Height(), count + 1);
        // One locator request per MAX_CHAIN_REQUEST_BLOCKS, answered in batches of 500; no
        // re-request after every batch.
        RunExpectingNever([&] { return b.tap.FramesIn(MessageType::RequestChain) > requests; },
                          200);
        EXPECT_EQ(b.tap.FramesIn(MessageType::RequestChain), requests);
        EXPECT_EQ(a.tap.FramesIn(MessageType::Chain), batches);
        EXPECT_EQ(a.tap.FramesIn(MessageType::RequestChain), 0);
        // Synced blocks are not announced one by one (the new tip would go to every peer but
        // B, and there is none); the tip moves once per batch.
        EXPECT_EQ(a.peers.Metrics().blocks_relayed, 0u);
        EXPECT_EQ(a.tip_changes, batches);
    }
};

TEST_F(PeerManagerTest, ALongAnswerIsPacedByTheRequestersReading) {
    TestNode& node = AddNode();
    // 2,000 blocks of 60 transactions with the longest addresses: an answer of about 48 MB, more
    // than a gossip link may queue (16 MiB) plus what the kernel's socket buffers take.
    const std::string sender(MAX_ADDRESS_BYTES, 's');
    const std::string recipient(MAX_ADDRESS_BYTES, 'r');
    std::size_t answer_bytes = 0;
    for (std::uint64_t i = 0; i < MAX_CHAIN_REQUEST_BLOCKS; ++i) {
        std::vector<Transaction> txs;
        for (std::uint64_t j = 0; j < 60; ++j) {
            Transaction tx = test::MakeTx(i * 60 + j + 1, 5, sender);
            tx.recipient = recipient;
            txs.push_back(std::move(tx));
        }
        Block block =
            test::MakeChild(node.chain.Params(), test::TipBlock(node.chain), std::move(txs));
        ASSERT_EQ(node.chain.ProcessBlock(std::move(block), WallSeconds()).status,
                  BlockStatus::Connected);
        answer_bytes += node.chain.Tip().json_size;
    }
    ASSERT_GT(answer_bytes, 2 * net::DEFAULT_MAX_GOSSIP_WRITE_QUEUE_BYTES);

    EvilPeer& reader = AddEvil();
    HandshakeEvil(reader, node, 99);
    reader.conn->PauseReading();
    reader.Send(
        RequestChain{{BlockHash(MakeGenesis(node.chain.Params()))}, MAX_CHAIN_REQUEST_BLOCKS});
    const auto& out = node.peers.Metrics().bytes_out_by_type;
    auto chain_bytes = [&] { return out.count("Chain") ? out.at("Chain") : 0; };
    ASSERT_TRUE(RunUntil([&] { return chain_bytes() >= CHAIN_REPLY_LOW_WATER_BYTES; }));
    // While it does not read, the answer waits instead of filling our memory or the link's queue.
    RunExpectingNever([&] { return reader.closes > 0 || node.gossip.closes > 0; }, 500);
    EXPECT_LT(chain_bytes(), answer_bytes / 2);

    reader.conn->ResumeReading();
    std::size_t blocks = 0;
    // Counted in place: copying every batch received so far at each poll (48 MB of blocks) made
    // this wait quadratic, past any deadline under ThreadSanitizer on a busy machine.
    ASSERT_TRUE(RunUntil(
        [&] {
            blocks = 0;
            const Chain* last = nullptr;
            for (const Message& message : reader.received) {
                if (const auto* batch = std::get_if<Chain>(&message)) {
                    blocks += batch->blocks.size();
                    last = batch;
                }
            }
            return last != nullptr && !last->more;
        },
        6 * DEADLINE_MS));
    EXPECT_EQ(blocks, MAX_CHAIN_REQUEST_BLOCKS);
    EXPECT_EQ(reader.closes, 0);
}

TEST_F(SyncTest, LateNodeCatchesUpInOneRequest) {
    ExpectCatchUp(1'500, 1, 3);
}

TEST_F(SyncTest, LateNodeCatchesUpOverSeveralRequests) {
    ExpectCatchUp(2'500, 2, 5);
}

TEST_F(PeerManagerTest, ForkedNodesConvergeOnTheLongerChain) {
    TestNode& a = AddNode();
    TestNode& b = AddNode();
    Grow(a, 5, 1'000'000);
    Grow(b, 2'100, 1);
    Link(a, b);
    ASSERT_TRUE(RunUntil([&] { return a.chain.Tip().HashHex() == b.chain.Tip().HashHex(); }));
    EXPECT_EQ(a.chain.Height(), 2'101u);
    EXPECT_EQ(a.chain.Reorgs(), 1u);
    // B asked for A's branch too, but a shorter branch cannot become its best chain: not kept.
    ASSERT_TRUE(RunUntil([&] { return b.tap.FramesIn(MessageType::Chain) >= 1; }));
    EXPECT_EQ(b.chain.BlockCount(), 2'101u);
    EXPECT_EQ(b.chain.Tip().HashHex(), a.chain.Tip().HashHex());
    // The abandoned branch's transactions are back in A's mempool.
    EXPECT_EQ(a.chain.GetMempool().Size(), 5u);
}

TEST_F(PeerManagerTest, ASplitAtTheTipHealsWhenOneSideMinesTheNextBlock) {
    // Both mined a block at height 2 at once; each announces its own and the other's is not
    // kept (it is no higher than the tip). B's next block is an orphan to A, and the sync it
    // triggers brings B's height-2 block along: A reorganises onto B's chain.
    TestNode& a = AddNode();
    TestNode& b = AddNode();
    Link(a, b);
    Grow(a, 1, 1'000);
    Grow(b, 1, 2'000);
    a.peers.BroadcastBlock(a.chain.Tip(), m_loop.NowMs());
    b.peers.BroadcastBlock(b.chain.Tip(), m_loop.NowMs());
    ASSERT_TRUE(RunUntil([&] {
        return a.tap.FramesIn(MessageType::CompactBlock) == 1 &&
               b.tap.FramesIn(MessageType::CompactBlock) == 1;
    }));
    EXPECT_EQ(a.chain.BlockCount(), 2u);
    EXPECT_EQ(b.chain.BlockCount(), 2u);
    Grow(b, 1, 3'000);
    b.peers.BroadcastBlock(b.chain.Tip(), m_loop.NowMs());
    ASSERT_TRUE(RunUntil([&] { return a.chain.Tip().HashHex() == b.chain.Tip().HashHex(); }));
    EXPECT_EQ(a.chain.Height(), 3u);
    EXPECT_EQ(a.chain.Reorgs(), 1u);
    // A's abandoned transaction is pending again, ready for the winning chain.
    EXPECT_EQ(a.chain.GetMempool().Size(), 1u);
}

TEST_F(PeerManagerTest, FullInboundSlotsEvictTheLeastUsefulLinkForANewcomer) {
    // Eight idle inbound links fill the slots; the newest of them gave us a transaction we
    // lacked. An honest newcomer still gets in: the newest link that gave nothing makes room.
    PeerManagerOptions options = FastOptions();
    options.max_inbound = 8;
    TestNode& node = AddNode(options);
    std::vector<EvilPeer*> idle;
    for (unsigned i = 0; i < 8; ++i) {
        EvilPeer& evil = AddEvil();
        evil.answer_pings = true;
        HandshakeEvil(evil, node, 100 + i);
        idle.push_back(&evil);
    }
    idle[7]->Send(NewTransactions{{test::MakeTx(1)}});
    ASSERT_TRUE(RunUntil([&] { return node.chain.GetMempool().Size() == 1; }));
    TestNode& newcomer = AddNode();
    newcomer.peers.AddAddress(node.Address(), AddressOrigin::Seed);
    ASSERT_TRUE(
        RunUntil([&] { return newcomer.peers.ReadyPeerCount() == 1 && idle[6]->closes == 1; }));
    bool rejected = false;
    for (const Message& message : idle[6]->received) {
        if (const auto* reject = std::get_if<Reject>(&message))
            rejected = reject->code == static_cast<std::uint32_t>(RejectCode::TooManyPeers);
    }
    EXPECT_TRUE(rejected);
    for (unsigned i = 0; i < 8; ++i)
        EXPECT_EQ(idle[i]->closes, i == 6 ? 1 : 0) << "link " << i;
    EXPECT_EQ(node.peers.Metrics().inbound_evictions, 1u);
    EXPECT_EQ(node.peers.ReadyPeerCount(), 8u);
}

TEST_F(PeerManagerTest, OrphanAnnouncementTriggersRequestChain) {
    TestNode& a = AddNode();
    TestNode& b = AddNode();
    Link(a, b);
    Grow(b, 3, 1);
    b.peers.BroadcastBlock(b.chain.Tip(), m_loop.NowMs());
    ASSERT_TRUE(RunUntil([&] { return a.chain.Tip().HashHex() == b.chain.Tip().HashHex(); }));
    EXPECT_EQ(a.chain.Height(), 4u);
    EXPECT_EQ(b.tap.FramesIn(MessageType::RequestChain), 1);
    EXPECT_EQ(a.chain.Orphans().Size(), 0u);
}

// --- Misbehaviour -------------------------------------------------------------------------------

TEST_F(PeerManagerTest, MessageBeforeHelloIsBanned) {
    TestNode& node = AddNode();
    EvilPeer& evil = AddEvil();
    evil.Connect(node.port);
    ASSERT_TRUE(RunUntil([&] { return evil.open; }));
    evil.Send(Ping{7});
    ASSERT_TRUE(RunUntil([&] { return evil.closes == 1; }));
    EXPECT_TRUE(evil.GotReject(RejectCode::Misbehaving));
    EXPECT_TRUE(evil.Received<Pong>().empty());
    EXPECT_EQ(node.peers.Metrics().bans, 1u);
    EXPECT_EQ(node.peers.ReadyPeerCount(), 0u);
}

TEST_F(PeerManagerTest, UndecodablePayloadDisconnects) {
    TestNode& node = AddNode();
    EvilPeer& evil = AddEvil();
    HandshakeEvil(evil, node, 99);
    evil.SendPayload(std::string("\xc1\x00\x01", 3));
    ASSERT_TRUE(RunUntil([&] { return evil.closes == 1; }));
    EXPECT_TRUE(evil.GotReject(RejectCode::Misbehaving));
    ASSERT_TRUE(RunUntil([&] { return node.peers.ReadyPeerCount() == 0; }));
}

TEST_F(PeerManagerTest, InvalidBlockAfterHelloBansTheNode) {
    TestNode& node = AddNode();
    EvilPeer& evil = AddEvil();
    HandshakeEvil(evil, node, 99);

    const ConsensusParams& params = node.chain.Params();
    Block bad = test::MakeChild(params, test::TipBlock(node.chain));
    std::string genesis_hash = node.chain.Tip().HashHex();
    do {
        ++bad.proof;
    } while (CheckProof(params, test::TipBlock(node.chain).proof, bad.proof, genesis_hash));
    evil.Send(AnnounceBlock{bad});
    ASSERT_TRUE(RunUntil([&] { return evil.closes == 1; }));
    EXPECT_TRUE(evil.GotReject(RejectCode::Misbehaving));
    EXPECT_EQ(node.peers.Metrics().invalid_blocks, 1u);
    EXPECT_EQ(node.peers.Metrics().bans, 1u);
    EXPECT_EQ(node.chain.Height(), 1u);

    // The same node id coming back is refused at the handshake.
    EvilPeer& again = AddEvil();
    again.Connect(node.port);
    ASSERT_TRUE(RunUntil([&] { return again.open; }));
    again.Send(HelloFor(params, NodeId(99)));
    ASSERT_TRUE(RunUntil([&] { return again.closes == 1; }));
    EXPECT_TRUE(again.GotReject(RejectCode::Banned));
    EXPECT_EQ(node.peers.ReadyPeerCount(), 0u);
}

TEST_F(PeerManagerTest, BannedOutboundPeerIsNotRedialled) {
    TestNode& node = AddNode();
    EvilPeer& evil = AddEvil();
    ASSERT_EQ(evil.transport.Listen(), 0);
    evil.hello_on_open = HelloFor(node.chain.Params(), NodeId(99));
    node.peers.AddAddress(PeerAddress{"127.0.0.1", evil.transport.Port()}, AddressOrigin::Seed);
    ASSERT_TRUE(RunUntil([&] { return node.peers.ReadyPeerCount() == 1; }));

    const ConsensusParams& params = node.chain.Params();
    Block bad = test::MakeChild(params, test::TipBlock(node.chain));
    bad.index = 5;
    evil.Send(AnnounceBlock{bad});
    ASSERT_TRUE(RunUntil([&] { return evil.closes == 1; }));
    EXPECT_TRUE(evil.GotReject(RejectCode::Misbehaving));
    EXPECT_EQ(node.peers.Metrics().bans, 1u);
    // The address stays persistent, but a banned peer is not dialled again while the ban lasts
    // (reconnect_min_ms is 20, so a redial would come within a few ticks).
    RunExpectingNever([&] { return evil.opens > 1; }, 500);
    EXPECT_EQ(node.peers.ReadyPeerCount(), 0u);
}

TEST_F(PeerManagerTest, RegisterPeerWithPortZeroIsIgnored) {
    TestNode& node = AddNode();
    EvilPeer& evil = AddEvil();
    HandshakeEvil(evil, node, 99);
    evil.Send(RegisterPeer{"", 0});
    evil.Send(RegisterPeer{"", 4242});
    ASSERT_TRUE(RunUntil([&] { return node.tap.FramesIn(MessageType::RegisterPeer) == 2; }));
    EXPECT_EQ(node.peers.KnownAddresses(), std::vector<std::string>{"127.0.0.1:4242"});
}

// --- Keepalive ----------------------------------------------------------------------------------

TEST_F(PeerManagerTest, AnsweredPingsKeepALinkUp) {
    PeerManagerOptions options = FastOptions();
    options.ping_interval_ms = 50;
    options.ping_timeout_ms = 400;
    TestNode& a = AddNode(options);
    TestNode& b = AddNode(options);
    Link(a, b);
    // Pings go out once per PEER_TICK_MS tick, so eight answered rounds take about 800 ms: twice
    // the ping timeout, which only answered pings survive.
    ASSERT_TRUE(RunUntil([&] {
        return a.tap.FramesIn(MessageType::Pong) >= 8 && b.tap.FramesIn(MessageType::Pong) >= 8;
    }));
    EXPECT_EQ(a.peers.ReadyPeerCount(), 1u);
    EXPECT_EQ(b.peers.ReadyPeerCount(), 1u);
    EXPECT_EQ(a.gossip.opens, 1);
    EXPECT_EQ(a.gossip.closes, 0);
    EXPECT_EQ(b.gossip.closes, 0);
}

TEST_F(PeerManagerTest, SilentPeerIsDroppedAfterPingTimeout) {
    PeerManagerOptions options = FastOptions();
    options.ping_interval_ms = 50;
    options.ping_timeout_ms = 250;
    TestNode& node = AddNode(options);
    EvilPeer& evil = AddEvil();
    evil.answer_pings = false;
    HandshakeEvil(evil, node, 99);
    ASSERT_TRUE(RunUntil([&] { return evil.closes == 1; }));
    EXPECT_GE(evil.Received<Ping>().size(), 1u);
    EXPECT_TRUE(evil.GotReject(RejectCode::Timeout));
    EXPECT_EQ(node.peers.ReadyPeerCount(), 0u);
    EXPECT_EQ(node.peers.Metrics().bans, 0u);
}

// --- SyncEveryPeer (the gossip part of /nodes/resolve) ----------------------------------------

TEST_F(PeerManagerTest, SyncEveryPeerWithoutPeersAsksNobody) {
    TestNode& node = AddNode();
    EXPECT_TRUE(node.peers.SyncEveryPeer(m_loop.NowMs()).empty());
    RunExpectingNever([&] { return !node.stack.events.synced.empty(); }, 100);
}

TEST_F(PeerManagerTest, SyncEveryPeerTellsOnceForEachPeerWhenItsAnswerIsIn) {
    TestNode& a = AddNode();
    TestNode& b = AddNode();
    TestNode& c = AddNode();
    Link(a, b);
    Link(a, c);
    Grow(b, 3, 1);
    std::vector<std::uint64_t> heights;
    a.stack.events.on_synced = [&](LinkId) { heights.push_back(a.chain.Height()); };
    std::vector<LinkId> asked = a.peers.SyncEveryPeer(m_loop.NowMs());
    ASSERT_EQ(asked.size(), 2u);
    ASSERT_TRUE(RunUntil([&] { return a.stack.events.synced.size() == 2; }));
    EXPECT_EQ(a.chain.Height(), 4u);
    // b's answer brought the blocks; whichever answer came last, it came after them.
    EXPECT_EQ(heights.back(), 4u);
    std::vector<LinkId> told = a.stack.events.synced;
    std::sort(told.begin(), told.end());
    std::sort(asked.begin(), asked.end());
    EXPECT_EQ(told, asked);
    EXPECT_EQ(b.tap.FramesIn(MessageType::RequestChain), 1);
    EXPECT_EQ(c.tap.FramesIn(MessageType::RequestChain), 1);
    RunExpectingNever([&] { return a.stack.events.synced.size() > 2; }, 200);
}

TEST_F(PeerManagerTest, APeerThatNeverAnswersIsToldWhenItsLinkCloses) {
    TestNode& node = AddNode();
    EvilPeer& evil = AddEvil();
    HandshakeEvil(evil, node, 99);
    ASSERT_EQ(node.peers.SyncEveryPeer(m_loop.NowMs()).size(), 1u);
    ASSERT_TRUE(RunUntil([&] { return !evil.Received<RequestChain>().empty(); }));
    RunExpectingNever([&] { return !node.stack.events.synced.empty(); }, 100);
    evil.conn->Close("bye");
    ASSERT_TRUE(RunUntil([&] { return node.stack.events.synced.size() == 1; }));
    RunExpectingNever([&] { return node.stack.events.synced.size() > 1; }, 100);
}

// --- Reconnect ----------------------------------------------------------------------------------

TEST_F(PeerManagerTest, PersistentAddressIsRedialledAfterPeerRestarts) {
    TestNode& a = AddNode();
    TestNode& b = AddNode();
    Link(a, b);
    std::uint16_t port = b.port;

    b.transport->CloseAll("restart");
    ASSERT_TRUE(RunUntil([&] {
        return b.transport->ConnectionCount() == 0 && a.peers.ReadyPeerCount() == 0 &&
               b.peers.ReadyPeerCount() == 0;
    }));
    b.OpenTransport(m_loop, port);
    ASSERT_EQ(b.port, port);
    b.stack.Start(*b.transport);

    ASSERT_TRUE(
        RunUntil([&] { return a.peers.ReadyPeerCount() == 1 && b.peers.ReadyPeerCount() == 1; }));
    EXPECT_EQ(a.gossip.closes, 1);
    EXPECT_GE(a.gossip.opens, 2);
}

// --- Flooding (SPEC §12) ------------------------------------------------------------------------

/** Messages over a limit before the ban: each costs FLOOD_PENALTY, the ban comes at BAN_SCORE. */
constexpr std::uint64_t FLOOD_DROPS_TO_BAN = BAN_SCORE / FLOOD_PENALTY;

class FloodTest : public PeerManagerTest {
protected:
    /** A node, and an evil peer that finished its handshake with it. */
    std::pair<TestNode&, EvilPeer&> NodeWithOffender() {
        TestNode& node = AddNode();
        EvilPeer& evil = AddEvil();
        HandshakeEvil(evil, node, 99);
        return {node, evil};
    }
    /** Waits until `evil` was disconnected for misbehaving, after exactly the drops a ban takes. */
    void ExpectBannedForFlooding(TestNode& node, EvilPeer& evil) {
        ASSERT_TRUE(RunUntil([&] { return evil.closes == 1; }));
        EXPECT_TRUE(evil.GotReject(RejectCode::Misbehaving));
        EXPECT_EQ(node.peers.Metrics().bans, 1u);
        EXPECT_EQ(node.peers.Metrics().flood_drops, FLOOD_DROPS_TO_BAN);
        EXPECT_EQ(node.peers.ReadyPeerCount(), 0u);
    }
    /** Sends a Ping and waits for its Pong: everything sent before it was handled. */
    void RoundTrip(EvilPeer& evil, std::uint64_t nonce) {
        evil.Send(Ping{nonce});
        ASSERT_TRUE(RunUntil([&] {
            for (const Pong& pong : evil.Received<Pong>()) {
                if (pong.nonce == nonce)
                    return true;
            }
            return false;
        }));
    }
};

TEST_F(FloodTest, TheSameBlockAnnouncedAgainAndAgainEndsInABan) {
    auto [node, evil] = NodeWithOffender();
    AnnounceBlock announce{test::MakeChild(node.chain.Params(), test::TipBlock(node.chain))};
    for (int i = 0; i < 1'000; ++i)
        evil.Send(announce);
    ExpectBannedForFlooding(node, evil);
    EXPECT_EQ(node.chain.Height(), 2u);  // the first copy was taken
}

TEST_F(FloodTest, DuplicatesFromDifferentPeersAreOrdinaryGossip) {
    TestNode& node = AddNode();
    std::vector<EvilPeer*> peers;
    for (unsigned i = 0; i < 3; ++i) {
        peers.push_back(&AddEvil());
        HandshakeEvil(*peers.back(), node, 90 + i);
    }
    std::vector<Block> branch =
        test::MakeBranch(node.chain.Params(), test::TipBlock(node.chain), 30, 1);
    for (const Block& block : branch) {
        for (EvilPeer* peer : peers)
            peer->Send(AnnounceBlock{block});
    }
    // One repeat each is a race an honest peer can lose; it costs but does not trip the limit.
    for (EvilPeer* peer : peers)
        peer->Send(AnnounceBlock{branch.back()});
    for (unsigned i = 0; i < peers.size(); ++i)
        RoundTrip(*peers[i], 100 + i);
    EXPECT_EQ(node.chain.Height(), 31u);
    EXPECT_EQ(node.peers.Metrics().flood_drops, 0u);
    EXPECT_EQ(node.peers.ReadyPeerCount(), 3u);
}

TEST_F(FloodTest, OrphanFloodEndsInABanWithThePoolBelowItsBound) {
    auto [node, evil] = NodeWithOffender();
    Block nowhere = test::MakeChild(node.chain.Params(), test::TipBlock(node.chain));
    nowhere.index = 1'000;
    nowhere.previous_hash = std::string(64, 'b');
    for (const Block& block : test::MakeBranch(node.chain.Params(), nowhere, 700, 1))
        evil.Send(AnnounceBlock{block});
    ExpectBannedForFlooding(node, evil);
    EXPECT_EQ(node.chain.Height(), 1u);
    EXPECT_LT(node.chain.Orphans().Size(), 600u);
}

TEST_F(FloodTest, TransactionFloodEndsInABan) {
    auto [node, evil] = NodeWithOffender();
    for (std::uint64_t batch = 0; batch < 40; ++batch) {
        NewTransactions message;
        for (std::uint64_t i = 0; i < MAX_TXS_PER_MESSAGE; ++i)
            message.transactions.push_back(test::MakeTx(batch * MAX_TXS_PER_MESSAGE + i + 1));
        evil.Send(message);
    }
    ExpectBannedForFlooding(node, evil);
    // The burst and what the refill allowed while it was read; never the whole flood.
    EXPECT_GE(node.chain.GetMempool().Size(), static_cast<std::size_t>(MAX_TXS_RECEIVED_BURST));
    EXPECT_LE(node.chain.GetMempool().Size(), 35u * MAX_TXS_PER_MESSAGE);
}

TEST_F(FloodTest, AddressFloodEndsInABan) {
    auto [node, evil] = NodeWithOffender();
    for (int batch = 0; batch < 10; ++batch) {
        Peers message;
        for (std::size_t i = 0; i < MAX_PEERS_PER_MESSAGE; ++i)
            message.addresses.push_back("127.0." + std::to_string(batch) + "." +
                                        std::to_string(i % 250) + ":" + std::to_string(1 + i));
        evil.Send(message);
    }
    ExpectBannedForFlooding(node, evil);
    EXPECT_LE(node.peers.KnownAddresses().size(), MAX_PEERS_PER_MESSAGE + 1);
}

TEST_F(FloodTest, AskingAgainForBlocksAlreadySentEndsInABan) {
    TestNode& node = AddNode();
    Grow(node, 5, 1);
    EvilPeer& evil = AddEvil();
    HandshakeEvil(evil, node, 99);
    RequestChain request{{BlockHash(MakeGenesis(node.chain.Params()))}, MAX_CHAIN_REQUEST_BLOCKS};
    for (int i = 0; i < 60; ++i)
        evil.Send(request);
    ExpectBannedForFlooding(node, evil);
    // The first answer was new to it, then the burst of repeats; a refill adds at most a couple.
    std::size_t answers = evil.Received<Chain>().size();
    EXPECT_GE(answers, 1 + static_cast<std::size_t>(MAX_REDUNDANT_REQUESTS_BURST));
    EXPECT_LE(answers, 3 + static_cast<std::size_t>(MAX_REDUNDANT_REQUESTS_BURST));
}

TEST_F(FloodTest, PingFloodEndsInABan) {
    auto [node, evil] = NodeWithOffender();
    for (std::uint64_t i = 0; i < 2 * MAX_CONTROL_MESSAGES_BURST; ++i)
        evil.Send(Ping{i});
    ExpectBannedForFlooding(node, evil);
    EXPECT_LT(evil.Received<Pong>().size(),
              2 * static_cast<std::size_t>(MAX_CONTROL_MESSAGES_BURST));
}

TEST_F(FloodTest, RelayPacesABurstOverItsBudgetAndDeliversAllOfIt) {
    TestNode& a = AddNode();
    TestNode& b = AddNode();
    Link(a, b);
    constexpr std::uint64_t BURST = 15'000;
    for (std::uint64_t i = 1; i <= BURST; ++i) {
        ASSERT_EQ(a.chain.SubmitTransaction(test::MakeTx(i), TxOrigin::Local).status,
                  TxStatus::Accepted);
    }
    a.peers.RelayTransactions(m_loop.NowMs());
    // At once only what the budget allows; the rest follows at later ticks, nothing is dropped.
    const P2pMetrics& sent = a.peers.Metrics();
    EXPECT_LE(sent.txs_relayed, static_cast<std::uint64_t>(MAX_TXS_RELAYED_BURST));
    ASSERT_TRUE(RunUntil([&] { return b.transactions == static_cast<int>(BURST); }));
    EXPECT_EQ(sent.txs_relayed, BURST);
    EXPECT_EQ(b.peers.Metrics().flood_drops, 0u);
    EXPECT_EQ(b.peers.ReadyPeerCount(), 1u);
    // Nothing comes back: b knows a has them all.
    RunExpectingNever([&] { return a.tap.FramesIn(MessageType::NewTransactions) > 0; }, 300);
}

}  // namespace
}  // namespace gossipchain
