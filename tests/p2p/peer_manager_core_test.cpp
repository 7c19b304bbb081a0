// Unit tests of the protocol core without sockets or a loop: PeerManager over FakeLinks, time
// passed in by hand. They pin what a link's life looks like from the core's side: the handshake
// and its refusals, pings and round trips, dial order and backoff, paced chain answers, relay
// (and holding it until stored), and what ends in a ban. The same core runs over real TCP in
// peer_manager_test.cpp.
#include "chain/chain_state.h"
#include "consensus/pow.h"
#include "p2p/codec.h"
#include "p2p/compact_blocks.h"
#include "p2p/messages.h"
#include "p2p/peer_manager.h"
#include "primitives/canonical_json.h"
#include "support/chain_builder.h"
#include "support/fake_links.h"
#include "util/log.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

constexpr double WALL_NOW = DEFAULT_GENESIS_TIMESTAMP + 86'400;

/** The node id of the peer named `c` (test::TestKey). */
std::string Id(char c) {
    return test::TestKey(c).NodeId();
}

/** `block` as MakeCompactBlock makes it from the chain's entry for it. */
CompactBlock CompactOf(const Block& block) {
    BlockEntry entry;
    entry.hash = Sha256(BlockJson(block));
    entry.height = block.index;
    return MakeCompactBlock(entry, BlockBody{block, TxIds(block)});
}

struct Recorder : PeerEvents {
    void OnTipChanged(const BlockResult& /*change*/) override { ++tip_changes; }
    void OnBanned() override { ++banned; }
    bool HoldRelayUntilStored(const BlockEntry& entry) override {
        if (!hold)
            return false;
        held.push_back(entry.HashHex());
        return true;
    }
    void OnPeerLink(const std::string& address, bool up, std::string_view /*reason*/) override {
        links.push_back((up ? "up " : "down ") + address);
    }
    void OnPeerSynced(LinkId link) override { synced.push_back(link); }

    bool HoldSync() override { return hold_sync; }

    int tip_changes = 0;
    int banned = 0;
    bool hold = false;
    bool hold_sync = false;
    std::vector<std::string> held;
    std::vector<std::string> links;
    std::vector<LinkId> synced;
};

class PeerCoreTest : public ::testing::Test {
protected:
    PeerCoreTest() : m_chain(ChainOptions()), m_peers(m_links, m_chain, Options(), m_events) {}
    void SetUp() override { SetLogLevel(LogLevel::Error); }
    void TearDown() override { SetLogLevel(LogLevel::Info); }

    static ChainState::Options ChainOptions() {
        ChainState::Options options;
        options.params = test::EasyParams();
        return options;
    }
    static PeerManagerOptions Options() {
        PeerManagerOptions options;
        options.params = test::EasyParams();
        options.node_id = Id('5');
        options.listen_port = 7000;
        options.target_outbound = 2;
        options.handshake_timeout_ms = 1'000;
        options.ping_interval_ms = 2'000;
        options.ping_timeout_ms = 3'000;
        options.reconnect_min_ms = 100;
        options.reconnect_max_ms = 1'000;
        options.wall_clock = [] { return WALL_NOW; };
        options.seed = 1;
        return options;
    }
    Hello HelloFrom(const std::string& node_id, std::uint16_t listen_port = 0) const {
        Hello hello;
        hello.network_id = NetworkId(m_chain.Params());
        hello.node_id = node_id;
        hello.listen_port = listen_port;
        hello.height = m_chain.Height();
        hello.tip = m_chain.Tip().HashHex();
        hello.agent = "test/1";
        return hello;
    }
    void Deliver(LinkId link, const Message& message) {
        m_peers.OnPayload(link, EncodeMessage(message), m_now);
    }
    /** Opens inbound link `link` from 10.0.0.<link> and completes its handshake. */
    void OpenReady(LinkId link, char key) {
        m_peers.OnLinkOpened(
            link, test::TestLinkInfo("10.0.0." + std::to_string(link) + ":4000", key), m_now);
        Deliver(link, HelloFrom(Id(key)));
    }
    /** Puts `count` valid blocks on our tip without telling any peer. */
    void Grow(std::size_t count) {
        for (Block& block : test::MakeBranch(m_chain.Params(), test::TipBlock(m_chain), count, 1))
            ASSERT_EQ(m_chain.ProcessBlock(std::move(block), WALL_NOW).status,
                      BlockStatus::Connected);
    }

    std::uint64_t m_now = 1'000;
    test::FakeLinks m_links;
    Recorder m_events;
    ChainState m_chain;
    PeerManager m_peers;
};

TEST_F(PeerCoreTest, AnInboundLinkIsGreetedAndBecomesReadyOnItsHello) {
    m_peers.OnLinkOpened(1, test::TestLinkInfo("10.0.0.1:4000", 'a'), m_now);
    std::vector<Hello> ours = m_links.Sent<Hello>(1);
    ASSERT_EQ(ours.size(), 1u);
    EXPECT_EQ(ours[0].node_id, Id('5'));
    EXPECT_EQ(ours[0].listen_port, 7000);
    EXPECT_EQ(ours[0].tip, m_chain.Tip().HashHex());
    EXPECT_EQ(m_peers.ReadyPeerCount(), 0u);

    Deliver(1, HelloFrom(Id('a'), 4001));
    EXPECT_EQ(m_peers.ReadyPeerCount(), 1u);
    EXPECT_EQ(m_links.Sent<RegisterPeer>(1).size(), 1u);
    EXPECT_EQ(m_events.links, (std::vector<std::string>{"up 10.0.0.1:4001"}));
    // Its advertised address entered the table.
    EXPECT_EQ(m_peers.KnownAddresses(), (std::vector<std::string>{"10.0.0.1:4001"}));
}

TEST_F(PeerCoreTest, AnyMessageBeforeHelloIsABan) {
    m_peers.OnLinkOpened(1, test::TestLinkInfo("10.0.0.1:4000", 'a'), m_now);
    Deliver(1, Ping{7});
    EXPECT_EQ(m_events.banned, 1);
    ASSERT_TRUE(m_links.IsClosed(1));
    EXPECT_EQ(m_links.closed[1], DropReason::Rejected);
    std::vector<Reject> rejects = m_links.Sent<Reject>(1);
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_EQ(rejects[0].code, static_cast<std::uint32_t>(RejectCode::Misbehaving));
    // The same key is refused at once when it comes back, from any address, until the ban
    // ends; another key from the same host is not (it may be an honest neighbour).
    m_peers.OnLinkClosed(1, net::CloseReason::ByHandler, "banned", m_now);
    m_peers.OnLinkOpened(2, test::TestLinkInfo("10.0.0.2:4002", 'a'), m_now + 1);
    EXPECT_TRUE(m_links.IsClosed(2));
    EXPECT_EQ(m_links.Sent<Reject>(2).at(0).code, static_cast<std::uint32_t>(RejectCode::Banned));
    m_peers.OnLinkOpened(4, test::TestLinkInfo("10.0.0.1:4004", 'b'), m_now + 1);
    EXPECT_FALSE(m_links.IsClosed(4));
    m_peers.OnLinkOpened(3, test::TestLinkInfo("10.0.0.1:4003", 'a'), m_now + DEFAULT_BAN_MS + 1);
    EXPECT_FALSE(m_links.IsClosed(3));
}

TEST_F(PeerCoreTest, AnOldProtocolVersionIsRefusedWithAReasonAndNotBanned) {
    m_peers.OnLinkOpened(1, test::TestLinkInfo("10.0.0.1:4000", 'a'), m_now);
    Hello old = HelloFrom(Id('a'));
    old.protocol_version = PROTOCOL_VERSION - 1;
    Deliver(1, old);
    std::vector<Reject> rejects = m_links.Sent<Reject>(1);
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_EQ(rejects[0].code, static_cast<std::uint32_t>(RejectCode::ProtocolVersion));
    EXPECT_NE(rejects[0].reason.find("we speak " + std::to_string(PROTOCOL_VERSION)),
              std::string::npos)
        << rejects[0].reason;
    EXPECT_TRUE(m_links.IsClosed(1));
    EXPECT_EQ(m_events.banned, 0);
}

TEST_F(PeerCoreTest, TheHandshakeTimesOutOnTheClockPassedIn) {
    m_peers.OnLinkOpened(1, test::TestLinkInfo("10.0.0.1:4000", 'a'), m_now);
    m_peers.Tick(m_now + 1'000);
    EXPECT_FALSE(m_links.IsClosed(1));
    m_peers.Tick(m_now + 1'001);
    ASSERT_TRUE(m_links.IsClosed(1));
    EXPECT_EQ(m_links.Sent<Reject>(1).at(0).code, static_cast<std::uint32_t>(RejectCode::Timeout));
}

TEST_F(PeerCoreTest, PingsGoOutOnTheIntervalAndTheirRoundTripIsShown) {
    OpenReady(1, 'a');
    m_peers.Tick(m_now + 1'999);
    EXPECT_TRUE(m_links.Sent<Ping>(1).empty());
    m_peers.Tick(m_now + 2'000);
    std::vector<Ping> pings = m_links.Sent<Ping>(1);
    ASSERT_EQ(pings.size(), 1u);
    m_now += 2'037;
    Deliver(1, Pong{pings[0].nonce});
    std::vector<PeerView> views = m_peers.Peers();
    ASSERT_EQ(views.size(), 1u);
    EXPECT_EQ(views[0].rtt_ms, 37u);
    // A pong with the wrong nonce does not count; an unanswered ping ends the link.
    m_peers.Tick(m_now + 2'000);
    ASSERT_EQ(m_links.Sent<Ping>(1).size(), 2u);
    Deliver(1, Pong{m_links.Sent<Ping>(1)[1].nonce + 1});
    m_peers.Tick(m_now + 2'000 + 3'001);
    EXPECT_TRUE(m_links.IsClosed(1));
}

TEST_F(PeerCoreTest, OperatorAddressesAreDialledAndAFailedDialBacksOff) {
    ASSERT_EQ(m_peers.AddAddress(PeerAddress{"10.0.0.9", 5000}, AddressOrigin::Seed),
              AddressBook::AddResult::Added);
    m_peers.Tick(m_now);
    ASSERT_EQ(m_links.dials.size(), 1u);
    EXPECT_EQ(m_links.dials[0].port, 5000);
    // Nothing more while that dial runs.
    m_peers.Tick(m_now + 10);
    EXPECT_EQ(m_links.dials.size(), 1u);
    m_peers.OnDialFailed("10.0.0.9:5000", DialFailure::Unreachable, "connection refused",
                         m_now + 10);
    // The first retry waits reconnect_min_ms (100) plus up to half of it.
    m_peers.Tick(m_now + 10 + 99);
    EXPECT_EQ(m_links.dials.size(), 1u);
    m_peers.Tick(m_now + 10 + 151);
    EXPECT_EQ(m_links.dials.size(), 2u);
    // A dial that connects becomes an outbound link that greets first.
    m_peers.OnLinkOpened(7, test::TestLinkInfo("10.0.0.9:5000", 'c', true, "10.0.0.9:5000"),
                         m_now + 200);
    EXPECT_EQ(m_links.Sent<Hello>(7).size(), 1u);
}

TEST_F(PeerCoreTest, LearnedAddressesAreDialledOnlyUpToTheOutboundTarget) {
    OpenReady(1, 'a');
    Deliver(1, gossipchain::Peers{{"10.1.0.1:1", "10.1.0.2:1", "10.1.0.3:1", "10.1.0.4:1"}});
    m_peers.Tick(m_now);
    // target_outbound is 2; the inbound peer's own advertised address is not one (port 0).
    EXPECT_EQ(m_links.dials.size(), 2u);
}

TEST_F(PeerCoreTest, AChainAnswerIsPacedByWhatThePeerHasNotRead) {
    Grow(MAX_CHAIN_BATCH_BLOCKS + 10);
    OpenReady(1, 'a');
    m_links.ClearSent(1);
    // Nothing is queued for a peer that has a low-water mark's worth still unread ...
    m_links.queued[1] = CHAIN_REPLY_LOW_WATER_BYTES;
    Deliver(1, RequestChain{{m_chain.Genesis().HashHex()}, MAX_CHAIN_REQUEST_BLOCKS});
    EXPECT_TRUE(m_links.Sent<gossipchain::Chain>(1).empty());
    // ... and once it has read, the answer goes on, batch by batch, from where it was.
    m_links.queued[1] = 0;
    m_peers.OnWritable(1, m_now);
    std::vector<gossipchain::Chain> batches = m_links.Sent<gossipchain::Chain>(1);
    ASSERT_EQ(batches.size(), 2u);
    EXPECT_EQ(batches[0].blocks.size(), MAX_CHAIN_BATCH_BLOCKS);
    EXPECT_TRUE(batches[0].more);
    EXPECT_EQ(batches[1].blocks.size(), 10u);
    EXPECT_FALSE(batches[1].more);
    EXPECT_EQ(batches[1].blocks.back().index, m_chain.Height());
}

TEST_F(PeerCoreTest, ABlockIsRelayedToThePeersThatLackItButNotToItsSender) {
    OpenReady(1, 'a');
    OpenReady(2, 'b');
    m_links.ClearSent(1);
    m_links.ClearSent(2);
    Block next = test::MakeChild(m_chain.Params(), test::TipBlock(m_chain), {test::MakeTx(1)});
    Deliver(1, AnnounceBlock{next});
    EXPECT_EQ(m_chain.Height(), 2u);
    EXPECT_EQ(m_events.tip_changes, 1);
    EXPECT_TRUE(m_links.Sent<CompactBlock>(1).empty());
    ASSERT_EQ(m_links.Sent<CompactBlock>(2).size(), 1u);
    // Broadcasting it again sends nothing: both are known to have it.
    m_peers.BroadcastBlock(m_chain.Tip(), m_now);
    EXPECT_TRUE(m_links.Sent<CompactBlock>(1).empty());
    EXPECT_EQ(m_links.Sent<CompactBlock>(2).size(), 1u);
}

TEST_F(PeerCoreTest, ANodeThatStoresBlocksHoldsTheRelayUntilItIsStored) {
    m_events.hold = true;
    OpenReady(1, 'a');
    OpenReady(2, 'b');
    m_links.ClearSent(2);
    Block next = test::MakeChild(m_chain.Params(), test::TipBlock(m_chain), {test::MakeTx(1)});
    Deliver(1, AnnounceBlock{next});
    EXPECT_EQ(m_events.held, (std::vector<std::string>{m_chain.Tip().HashHex()}));
    EXPECT_TRUE(m_links.Sent<CompactBlock>(2).empty());
    m_peers.BroadcastBlock(m_chain.Tip(), m_now);
    EXPECT_EQ(m_links.Sent<CompactBlock>(2).size(), 1u);
    // The sender is known to have it.
    EXPECT_TRUE(m_links.Sent<CompactBlock>(1).empty());
}

TEST_F(PeerCoreTest, AFrameTheLinkRefusesBlamesNobodyAndTheSeedIsDialledAgain) {
    // The length travels in the clear and a changed frame fails its tag: a man in the middle
    // can cause either, so neither may get the peer banned (SPEC §2, §7.3).
    OpenReady(1, 'a');
    m_peers.OnLinkClosed(1, net::CloseReason::FrameTooLarge, "frame too large", m_now);
    ASSERT_EQ(m_peers.AddAddress(PeerAddress{"10.0.0.9", 5000}, AddressOrigin::Seed),
              AddressBook::AddResult::Added);
    m_peers.Tick(m_now);
    ASSERT_EQ(m_links.dials.size(), 1u);
    m_peers.OnLinkOpened(2, test::TestLinkInfo("10.0.0.9:5000", 'b', true, "10.0.0.9:5000"), m_now);
    Deliver(2, HelloFrom(Id('b')));
    ASSERT_EQ(m_peers.ReadyPeerCount(), 1u);
    m_peers.OnLinkClosed(2, net::CloseReason::AuthenticationFailed, "bad tag", m_now);
    EXPECT_EQ(m_events.banned, 0);
    EXPECT_TRUE(m_peers.Bans(m_now).empty());
    m_peers.Tick(m_now + 1'000);
    EXPECT_EQ(m_links.dials.size(), 2u);
}

TEST_F(PeerCoreTest, APeerWhoseHelloNamesAnotherNodeIdIsRefusedWithoutAScore) {
    m_peers.OnLinkOpened(1, test::TestLinkInfo("10.0.0.1:4000", 'a'), m_now);
    Deliver(1, HelloFrom(Id('b')));
    EXPECT_EQ(m_peers.ReadyPeerCount(), 0u);
    ASSERT_TRUE(m_links.IsClosed(1));
    EXPECT_EQ(m_links.Sent<Reject>(1).at(0).code,
              static_cast<std::uint32_t>(RejectCode::Misbehaving));
    EXPECT_EQ(m_events.banned, 0);
    // B itself is not banned either, of course: it never spoke.
    OpenReady(2, 'b');
    EXPECT_EQ(m_peers.ReadyPeerCount(), 1u);
}

TEST_F(PeerCoreTest, OnlyTrustedKeysMayLinkWhenATrustListIsSet) {
    PeerManagerOptions options = Options();
    options.trusted.insert(KeyHex(test::TestKey('a').PublicKey()));
    PeerManager guarded(m_links, m_chain, options, m_events);
    guarded.OnLinkOpened(11, test::TestLinkInfo("10.0.0.1:4000", 'a'), m_now);
    EXPECT_FALSE(m_links.IsClosed(11));
    guarded.OnLinkOpened(12, test::TestLinkInfo("10.0.0.1:4001", 'b'), m_now);
    ASSERT_TRUE(m_links.IsClosed(12));
    EXPECT_EQ(m_links.Sent<Reject>(12).at(0).code,
              static_cast<std::uint32_t>(RejectCode::NotTrusted));
    EXPECT_TRUE(m_links.Sent<Hello>(12).empty());
}

TEST_F(PeerCoreTest, AClaimedAddressHidesNothingUntilADialThereProvesTheSameKey) {
    // An inbound peer claims to listen at the operator's --peer address (eclipse attempt).
    ASSERT_EQ(m_peers.AddAddress(PeerAddress{"10.0.0.9", 5000}, AddressOrigin::Seed),
              AddressBook::AddResult::Added);
    m_peers.OnLinkOpened(1, test::TestLinkInfo("10.0.0.9:4000", 'e'), m_now);
    Deliver(1, HelloFrom(Id('e'), 5000));
    Deliver(1, RegisterPeer{"10.0.0.9", 5000});
    ASSERT_EQ(m_peers.ReadyPeerCount(), 1u);
    // The seed is still dialled, and still listed as an address of its own.
    m_peers.Tick(m_now);
    ASSERT_EQ(m_links.dials.size(), 1u);
    EXPECT_EQ(m_links.dials[0].port, 5000);
    bool listed = false;
    for (const PeerView& view : m_peers.Peers())
        listed = listed || (view.address == "10.0.0.9:5000" && view.state == "connecting");
    EXPECT_TRUE(listed);
    // The real peer answers there with its own key: both links live.
    m_peers.OnLinkOpened(2, test::TestLinkInfo("10.0.0.9:5000", 'r', true, "10.0.0.9:5000"), m_now);
    Deliver(2, HelloFrom(Id('r')));
    EXPECT_EQ(m_peers.ReadyPeerCount(), 2u);
    EXPECT_FALSE(m_links.IsClosed(1));
    EXPECT_FALSE(m_links.IsClosed(2));
    EXPECT_EQ(m_peers.UnlinkedAddresses().size(), 0u);
}

TEST_F(PeerCoreTest, AClaimThatADialVerifiesStandsForTheAddress) {
    // An honest inbound peer claims its listen address; our dial there meets the same key.
    m_peers.OnLinkOpened(1, test::TestLinkInfo("10.0.0.7:4000", 'h'), m_now);
    Deliver(1, HelloFrom(Id('h'), 5000));
    m_peers.Tick(m_now);
    ASSERT_EQ(m_links.dials.size(), 1u);  // the claim is checked (target_outbound is 2)
    m_peers.OnLinkOpened(2, test::TestLinkInfo("10.0.0.7:5000", 'h', true, "10.0.0.7:5000"), m_now);
    // The dial only verified the address: it is closed before any Hello (SPEC §7.4), and the
    // link the peer made stays, so the peer has no duplicate to settle.
    ASSERT_TRUE(m_links.IsClosed(2));
    EXPECT_EQ(m_links.closed[2], DropReason::Duplicate);
    EXPECT_TRUE(m_links.Sent<Hello>(2).empty());
    EXPECT_FALSE(m_links.IsClosed(1));
    m_peers.OnLinkClosed(2, net::CloseReason::ByHandler, "duplicate", m_now);
    EXPECT_EQ(m_peers.ReadyPeerCount(), 1u);
    // The address now stands for the inbound link: not dialled again, not listed twice.
    m_peers.Tick(m_now + 60'000);
    EXPECT_EQ(m_links.dials.size(), 1u);
    std::vector<PeerView> views = m_peers.Peers();
    ASSERT_EQ(views.size(), 1u);
    EXPECT_TRUE(views[0].inbound);
}

TEST_F(PeerCoreTest, AnOutboundLinkAnsweredInHttpMarksATutorialNode) {
    m_peers.AddAddress(PeerAddress{"10.0.0.9", 5000}, AddressOrigin::Registered);
    m_peers.Tick(m_now);
    m_peers.OnDialFailed("10.0.0.9:5000", DialFailure::AnsweredHttp, "peer speaks HTTP", m_now);
    std::vector<PeerView> views = m_peers.Peers();
    ASSERT_EQ(views.size(), 1u);
    EXPECT_EQ(views[0].state, "http-only");
    EXPECT_EQ(m_events.banned, 0);
    EXPECT_EQ(m_peers.UnlinkedAddresses().size(), 1u);
}

TEST_F(PeerCoreTest, SyncEveryPeerAsksEachReadyPeerAndTellsWhenItsAnswerEnds) {
    OpenReady(1, 'a');
    OpenReady(2, 'b');
    std::vector<LinkId> asked = m_peers.SyncEveryPeer(m_now);
    EXPECT_EQ(asked.size(), 2u);
    EXPECT_EQ(m_links.Sent<RequestChain>(1).size(), 1u);
    Deliver(1, gossipchain::Chain{{}, false});
    EXPECT_EQ(m_events.synced, (std::vector<LinkId>{1}));
    m_peers.OnLinkClosed(2, net::CloseReason::PeerClosed, "gone", m_now);
    EXPECT_EQ(m_events.synced, (std::vector<LinkId>{1, 2}));
}

TEST_F(PeerCoreTest, ASyncHeldForStorageAsksForItsNextStretchOnlyOnceResumed) {
    OpenReady(1, 'a');
    m_peers.SyncEveryPeer(m_now);
    ASSERT_EQ(m_links.Sent<RequestChain>(1).size(), 1u);
    std::vector<Block> blocks =
        test::MakeBranch(m_chain.Params(), test::TipBlock(m_chain), MAX_CHAIN_REQUEST_BLOCKS, 1);
    m_events.hold_sync = true;
    // The whole answer to the request in flight still arrives and is taken.
    for (std::size_t i = 0; i < blocks.size(); i += MAX_CHAIN_BATCH_BLOCKS) {
        auto first = blocks.begin() + static_cast<std::ptrdiff_t>(i);
        Deliver(1, gossipchain::Chain{{first, first + MAX_CHAIN_BATCH_BLOCKS}, true});
    }
    EXPECT_EQ(m_chain.Height(), 1u + MAX_CHAIN_REQUEST_BLOCKS);
    EXPECT_EQ(m_links.Sent<RequestChain>(1).size(), 1u);
    m_peers.ResumeSync(m_now);
    EXPECT_EQ(m_links.Sent<RequestChain>(1).size(), 1u) << "still held";
    m_events.hold_sync = false;
    m_peers.ResumeSync(m_now);
    std::vector<RequestChain> asked = m_links.Sent<RequestChain>(1);
    ASSERT_EQ(asked.size(), 2u);
    EXPECT_EQ(asked[1].locator.front(), m_chain.Tip().HashHex());
    m_peers.ResumeSync(m_now);
    EXPECT_EQ(m_links.Sent<RequestChain>(1).size(), 2u) << "asked once";
}

// --- Transaction relay (TxRelay over the core) -------------------------------------------------

TEST_F(PeerCoreTest, WhatIsPendingAtLinkUpIsAnnouncedByTxidAndFetchedOnRequest) {
    std::vector<std::string> txids;
    for (std::uint64_t n = 1; n <= 3; ++n)
        txids.push_back(m_chain.SubmitTransaction(test::MakeTx(n), TxOrigin::Local).txid);
    OpenReady(1, 'a');
    std::vector<TxInventory> inventories = m_links.Sent<TxInventory>(1);
    ASSERT_EQ(inventories.size(), 1u);
    EXPECT_EQ(inventories[0].txids, txids);
    EXPECT_TRUE(m_links.Sent<NewTransactions>(1).empty());
    Deliver(1, GetTransactions{{txids[2], std::string(64, 'f')}});
    std::vector<NewTransactions> answers = m_links.Sent<NewTransactions>(1);
    ASSERT_EQ(answers.size(), 1u);
    ASSERT_EQ(answers[0].transactions.size(), 1u);
    EXPECT_EQ(TxId(answers[0].transactions[0]), txids[2]);
    // Added after the link came up: pushed whole, no round trip.
    m_chain.SubmitTransaction(test::MakeTx(9), TxOrigin::Local);
    m_peers.RelayTransactions(m_now);
    EXPECT_EQ(m_links.Sent<NewTransactions>(1).size(), 2u);
}

TEST_F(PeerCoreTest, AnnouncedTransactionsWeLackAreAskedForAndTheirAnswerIsFree) {
    OpenReady(1, 'a');
    std::vector<Transaction> txs;
    std::vector<std::string> txids;
    for (std::uint64_t n = 1; n <= 2'500; ++n) {
        txs.push_back(test::MakeTx(n));
        txids.push_back(TxId(txs.back()));
    }
    Deliver(1, TxInventory{txids});
    // Asked in messages of at most MAX_TXS_PER_MESSAGE, no more in flight than allowed.
    std::vector<GetTransactions> asked = m_links.Sent<GetTransactions>(1);
    std::size_t in_flight = 0;
    for (const GetTransactions& request : asked) {
        EXPECT_LE(request.txids.size(), MAX_TXS_PER_MESSAGE);
        in_flight += request.txids.size();
    }
    EXPECT_EQ(in_flight, MAX_TXS_IN_FLIGHT_PER_PEER);
    // Each request answered: the rest is asked for as the answers come in, and the answers are
    // free of the receive limit (2,500 received at once is fine; so would 25,000 be).
    std::map<std::string, Transaction> by_id;
    for (const Transaction& tx : txs)
        by_id.emplace(TxId(tx), tx);
    std::size_t answered = 0;
    for (int round = 0; round < 10; ++round) {
        std::vector<GetTransactions> requests = m_links.Sent<GetTransactions>(1);
        m_links.ClearSent(1);
        for (const GetTransactions& request : requests) {
            NewTransactions answer;
            for (const std::string& txid : request.txids)
                answer.transactions.push_back(by_id.at(txid));
            answered += answer.transactions.size();
            Deliver(1, answer);
        }
    }
    EXPECT_EQ(answered, 2500u);
    EXPECT_EQ(m_peers.Metrics().flood_drops, 0u);
    EXPECT_EQ(m_chain.GetMempool().Size(), 2500u);
    EXPECT_EQ(m_events.banned, 0);
}

TEST_F(PeerCoreTest, ABurstOverTheRelayBudgetIsPacedAcrossTicksAndNothingIsDropped) {
    OpenReady(1, 'a');
    const std::size_t burst = static_cast<std::size_t>(MAX_TXS_RELAYED_BURST) + 4'000;
    for (std::uint64_t n = 1; n <= burst; ++n)
        m_chain.SubmitTransaction(test::MakeTx(n), TxOrigin::Local);
    m_peers.RelayTransactions(m_now);
    auto pushed = [&] {
        std::size_t count = 0;
        for (const NewTransactions& message : m_links.Sent<NewTransactions>(1))
            count += message.transactions.size();
        return count;
    };
    EXPECT_EQ(pushed(), static_cast<std::size_t>(MAX_TXS_RELAYED_BURST));
    // 5,000 a second refill: a second of ticks later, all of it went.
    for (std::uint64_t t = 100; t <= 1'000; t += 100)
        m_peers.Tick(m_now + t);
    EXPECT_EQ(pushed(), burst);
}

TEST_F(PeerCoreTest, AHeldTransactionIsNotOfferedUntilItIsReleased) {
    OpenReady(1, 'a');
    TxResult held = m_chain.SubmitTransaction(test::MakeTx(1), TxOrigin::Local);
    m_chain.HoldRelay(held.txid, true);
    m_chain.SubmitTransaction(test::MakeTx(2), TxOrigin::Local);
    m_peers.RelayTransactions(m_now);
    m_peers.Tick(m_now + 100);
    // Order is kept: the one behind it waits too.
    EXPECT_TRUE(m_links.Sent<NewTransactions>(1).empty());
    m_chain.HoldRelay(held.txid, false);
    m_peers.RelayTransactions(m_now + 200);
    ASSERT_EQ(m_links.Sent<NewTransactions>(1).size(), 1u);
    EXPECT_EQ(m_links.Sent<NewTransactions>(1)[0].transactions.size(), 2u);
}

TEST_F(PeerCoreTest, TransactionsAReorgReturnsAreOfferedAgain) {
    OpenReady(1, 'a');
    // Ours: block 2 holding tx 7; a peer's branch of two blocks without it wins.
    Block ours = test::MakeChild(m_chain.Params(), test::TipBlock(m_chain), {test::MakeTx(7)});
    std::string txid = TxId(ours.transactions.back());
    std::vector<Block> theirs =
        test::MakeBranch(m_chain.Params(), test::BlockOf(m_chain, m_chain.Genesis()), 2, 100);
    ASSERT_EQ(m_chain.ProcessBlock(std::move(ours), WALL_NOW).status, BlockStatus::Connected);
    OpenReady(2, 'b');
    m_links.ClearSent(1);
    // The child first: it waits as an orphan, so its parent (no higher than our tip) is kept.
    Deliver(2, AnnounceBlock{theirs[1]});
    Deliver(2, AnnounceBlock{theirs[0]});
    ASSERT_EQ(m_chain.Tip().HashHex(), BlockHash(theirs[1]));
    ASSERT_TRUE(m_chain.GetMempool().Contains(txid));
    bool offered = false;
    for (const NewTransactions& message : m_links.Sent<NewTransactions>(1)) {
        for (const Transaction& tx : message.transactions)
            offered = offered || TxId(tx) == txid;
    }
    EXPECT_TRUE(offered);
}

TEST_F(PeerCoreTest, APeerAnnouncingMoreThanItsQueueHoldsFillsOnlyItsBound) {
    OpenReady(1, 'a');
    // 25,000 txids nobody has, 5,000 per message: 2,000 are asked for at once, the queue holds
    // MAX_WANTED_TXS_PER_PEER more, the rest is dropped and counted.
    for (int message = 0; message < 5; ++message) {
        TxInventory inventory;
        for (int i = 0; i < 5'000; ++i) {
            char txid[65];
            std::snprintf(txid, sizeof(txid), "%064x", message * 5'000 + i + 1);
            inventory.txids.push_back(txid);
        }
        Deliver(1, inventory);
    }
    EXPECT_EQ(m_events.banned, 0);
    EXPECT_EQ(m_peers.Metrics().txs_requested, MAX_TXS_IN_FLIGHT_PER_PEER);
    EXPECT_EQ(m_peers.Metrics().txs_wanted_dropped,
              25'000 - MAX_TXS_IN_FLIGHT_PER_PEER - MAX_WANTED_TXS_PER_PEER);
    // Its link closing gives the node-wide room back.
    m_peers.OnLinkClosed(1, net::CloseReason::PeerClosed, "gone", m_now);
    OpenReady(2, 'b');
    TxInventory one{{std::string(64, 'e')}};
    Deliver(2, one);
    EXPECT_EQ(m_links.Sent<GetTransactions>(2).size(), 1u);
}

TEST_F(PeerCoreTest, ABlockGoesCompactToAFewPeersAndAsAnAnnouncementToTheRest) {
    for (LinkId link = 1; link <= 6; ++link)
        OpenReady(link, static_cast<char>('a' + link - 1));  // a..f: hex node ids
    Grow(1);
    m_peers.BroadcastBlock(m_chain.Tip(), m_now);
    std::size_t compact = 0;
    std::size_t announced = 0;
    for (LinkId link = 1; link <= 6; ++link) {
        compact += m_links.Sent<CompactBlock>(link).size();
        announced += m_links.Sent<BlockInventory>(link).size();
    }
    EXPECT_EQ(compact, BLOCK_PUSH_PEERS);
    EXPECT_EQ(announced, 6 - BLOCK_PUSH_PEERS);
    // A peer that heard of it by announcement asks, and gets it compact.
    for (LinkId link = 1; link <= 6; ++link) {
        if (m_links.Sent<BlockInventory>(link).empty())
            continue;
        m_links.ClearSent(link);
        Deliver(link, GetBlock{m_chain.Tip().HashHex()});
        ASSERT_EQ(m_links.Sent<CompactBlock>(link).size(), 1u);
        EXPECT_EQ(m_links.Sent<CompactBlock>(link)[0].hash, m_chain.Tip().HashHex());
        break;
    }
}

TEST_F(PeerCoreTest, ACompactBlockIsRebuiltFromTheMempoolAskingOnlyForWhatIsMissing) {
    OpenReady(1, 'a');
    Transaction held = test::MakeTx(1);
    Transaction lacking = test::MakeTx(2);
    ASSERT_EQ(m_chain.SubmitTransaction(held, TxOrigin::Relay).status, TxStatus::Accepted);
    Block block = test::MakeChild(m_chain.Params(), test::TipBlock(m_chain), {held, lacking});
    std::string hash = BlockHash(block);
    m_links.ClearSent(1);
    // The compact form a peer holding the block sends.
    Deliver(1, CompactOf(block));
    std::vector<GetBlockTxs> asked = m_links.Sent<GetBlockTxs>(1);
    ASSERT_EQ(asked.size(), 1u);
    // Index 0 came from the mempool: only 1 is asked for.
    EXPECT_EQ(asked[0].indexes, (std::vector<std::uint32_t>{1}));
    EXPECT_EQ(m_chain.Height(), 1u);
    Deliver(1, BlockTxs{hash, {lacking}});
    EXPECT_EQ(m_chain.Height(), 2u);
    EXPECT_EQ(m_chain.Tip().HashHex(), hash);
    EXPECT_EQ(m_events.banned, 0);
}

TEST_F(PeerCoreTest, ACompactBlockWhoseTransactionsDoNotHashToItIsAskedWholeThenABan) {
    OpenReady(1, 'a');
    Block block = test::MakeChild(m_chain.Params(), test::TipBlock(m_chain), {test::MakeTx(1)});
    const std::string hash = BlockHash(block);
    CompactBlock compact = CompactOf(block);
    Deliver(1, compact);
    ASSERT_EQ(m_links.Sent<GetBlockTxs>(1).size(), 1u);
    // It answers with other transactions: they do not hash to the block; every position is
    // asked for; a second wrong answer is a lie.
    Deliver(1, BlockTxs{hash, {test::MakeTx(9)}});
    ASSERT_EQ(m_links.Sent<GetBlockTxs>(1).size(), 2u);
    EXPECT_EQ(m_links.Sent<GetBlockTxs>(1)[1].indexes, (std::vector<std::uint32_t>{0}));
    Deliver(1, BlockTxs{hash, {test::MakeTx(8)}});
    EXPECT_EQ(m_chain.Height(), 1u);
    EXPECT_EQ(m_events.banned, 1);
}

TEST_F(PeerCoreTest, ACompactBlockWithABadProofIsABanBeforeAnyRebuilding) {
    OpenReady(1, 'a');
    Block block = test::MakeChild(m_chain.Params(), test::TipBlock(m_chain), {});
    // The next proof that is not valid on the parent.
    block.proof += 1;
    while (CheckProof(m_chain.Params(), test::TipBlock(m_chain).proof, block.proof,
                      m_chain.Tip().HashHex()))
        ++block.proof;
    Deliver(1, CompactOf(block));
    EXPECT_EQ(m_events.banned, 1);
    EXPECT_TRUE(m_links.Sent<GetBlockTxs>(1).empty());
}

TEST_F(PeerCoreTest, ACompactBlockNoHigherThanOurTipIsNotRebuilt) {
    OpenReady(1, 'a');
    Block sibling = test::MakeChild(m_chain.Params(), test::TipBlock(m_chain), {test::MakeTx(5)});
    Grow(1);  // our own block 2
    Deliver(1, CompactOf(sibling));
    EXPECT_TRUE(m_links.Sent<GetBlockTxs>(1).empty());
    EXPECT_FALSE(m_chain.Knows(BlockHash(sibling)));
    EXPECT_EQ(m_peers.Metrics().compact_blocks_rebuilt, 0u);
    EXPECT_EQ(m_events.banned, 0);
}

TEST_F(PeerCoreTest, RebuildsReadTheMempoolOnlyWithinTheirNodeWideRate) {
    OpenReady(1, 'a');
    // A full mempool of relayed transactions: each rebuild reads all of it, so the burst allows
    // MAX_REBUILD_SCAN_BURST / 100,000 = 20 rebuilds.
    const std::size_t pool = DEFAULT_MEMPOOL_MAX_TXS;
    for (std::size_t i = 0; i < pool; ++i)
        ASSERT_EQ(m_chain.SubmitTransaction(test::MakeTx(i + 1), TxOrigin::Relay).status,
                  TxStatus::Accepted);
    const std::size_t scans = static_cast<std::size_t>(MAX_REBUILD_SCAN_BURST) / pool;
    // Compact blocks on our tip, each holding one pooled transaction: rebuilt from the mempool
    // and connected at once while the budget lasts.
    auto send_next = [&](std::uint64_t pooled) {
        m_links.ClearSent(1);
        Block block =
            test::MakeChild(m_chain.Params(), test::TipBlock(m_chain), {test::MakeTx(pooled)});
        Deliver(1, CompactOf(block));
        return BlockHash(block);
    };
    for (std::size_t i = 0; i < scans; ++i) {
        const std::string sent = send_next(i + 1);
        ASSERT_EQ(sent, m_chain.Tip().HashHex());
        EXPECT_TRUE(m_links.Sent<GetBlockTxs>(1).empty());
    }
    EXPECT_EQ(m_peers.Metrics().compact_blocks_unscanned, 0u);
    // Over it, a block is rebuilt without the mempool: its transaction is asked of its sender.
    const std::uint64_t height = m_chain.Height();
    send_next(scans + 1);
    EXPECT_EQ(m_chain.Height(), height);
    ASSERT_EQ(m_links.Sent<GetBlockTxs>(1).size(), 1u);
    EXPECT_EQ(m_links.Sent<GetBlockTxs>(1)[0].indexes, (std::vector<std::uint32_t>{0}));
    EXPECT_EQ(m_peers.Metrics().compact_blocks_unscanned, 1u);
    // The rate refills it: a second later the mempool is read again.
    m_now += 1'000;
    const std::string sent = send_next(scans + 2);
    EXPECT_EQ(sent, m_chain.Tip().HashHex());
    EXPECT_TRUE(m_links.Sent<GetBlockTxs>(1).empty());
    EXPECT_EQ(m_peers.Metrics().compact_blocks_unscanned, 1u);
    EXPECT_EQ(m_events.banned, 0);
}

}  // namespace
}  // namespace gossipchain
