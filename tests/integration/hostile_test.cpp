// Hostile peers and clients against a real gossipchain process (issue 9's catalogue). Every test
// starts a target node and an honest node linked to it, attacks the target over its one port,
// and then checks the same four things: the target still answers /status, its resident memory
// grew by less than a generous bound, the offender was disconnected (and banned where the
// protocol says so), and the honest node's next block still reaches the target.
#include "chain/mempool.h"
#include "integration/support/hostile_peer.h"
#include "integration/support/node_harness.h"
#include "support/chain_builder.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace gossipchain::test {
namespace {

using std::chrono::milliseconds;

#if defined(__SANITIZE_THREAD__)
/**
 * RSS growth one attack may cause, in KiB: TSan shadows every application byte several times over,
 * so a full 64 MiB mempool alone shows as about 430 MiB of RSS.
 */
constexpr std::uint64_t MAX_RSS_GROWTH_KIB = 1024 * 1024;
#elif defined(__SANITIZE_ADDRESS__)
/** RSS growth one attack may cause, in KiB: ASan's quarantine holds freed memory for a while. */
constexpr std::uint64_t MAX_RSS_GROWTH_KIB = 512 * 1024;
#else
/** RSS growth one attack may cause, in KiB: far below what an unbounded buffer would need. */
constexpr std::uint64_t MAX_RSS_GROWTH_KIB = 64 * 1024;
#endif
/** How long the node may take to hang up on an offender, in milliseconds. */
constexpr milliseconds DEFAULT_OFFENDER_CLOSE_TIMEOUT{5'000};
/** Longest a node's own timeouts (sniff, handshake, HTTP request: 10 s) may take to fire. */
constexpr milliseconds DEFAULT_NODE_TIMEOUT_SLACK{20'000};

/** Reject codes of protocol/SPEC.md §7 and §12. */
constexpr std::uint32_t REJECT_PROTOCOL_VERSION = 2;
constexpr std::uint32_t REJECT_WRONG_NETWORK = 3;
constexpr std::uint32_t REJECT_BANNED = 6;
constexpr std::uint32_t REJECT_MISBEHAVING = 10;

/** msgpack helpers for payloads the codec would never produce. */
std::string MsgpackArray32(std::uint32_t count) {
    return std::string("\xdd") + static_cast<char>(count >> 24) +
           static_cast<char>((count >> 16) & 0xff) + static_cast<char>((count >> 8) & 0xff) +
           static_cast<char>(count & 0xff);
}

std::string RawFrame(const std::string& payload) {
    return FrameHeader(static_cast<std::uint32_t>(payload.size())) + payload;
}

/** A Hello that `params`' network accepts, from `node_id`, claiming only the genesis block. */
Hello HonestHello(const ConsensusParams& params, std::string node_id) {
    Hello hello;
    hello.network_id = NetworkId(params);
    hello.node_id = std::move(node_id);
    hello.height = 1;
    hello.tip = BlockHash(MakeGenesis(params));
    hello.agent = "hostile-test/1";
    return hello;
}

/** Sends magic and `hello` without waiting for the node's Hello. */
bool Open(HostilePeer& peer, const Hello& hello) {
    return peer.Send(MagicBytes() + FrameOf(hello));
}

/** True once the node has closed `peer`, without waiting. */
bool IsClosed(HostilePeer& peer) {
    return peer.Closed(milliseconds(10));
}

class Hostile : public ::testing::Test {
protected:
    void SetUp() override {
        m_params.pow_rule = PowRule::Linked;
        m_params.difficulty = 2;
        m_target = std::make_unique<GossipNode>(m_dir, "target", NodeConfig());
        ASSERT_EQ(m_target->Start(), "");
        m_honest =
            std::make_unique<GossipNode>(m_dir, "honest", NodeConfig().Peer(m_target->Port()));
        ASSERT_EQ(m_honest->Start(), "");
        ASSERT_TRUE(WaitUntil([&] { return m_target->ReadyPeers() == 1; }));
        m_pid = FindNodePid(m_dir.Path() + "/target");
        ASSERT_NE(m_pid, 0);
        m_rss_before = ResidentKiB(m_pid);
        ASSERT_GT(m_rss_before, 0u);
    }

    /**
     * The checks every attack ends with. `budget_kib` is memory the node is allowed to keep by
     * policy (a full mempool), on top of the slack every attack gets.
     */
    void ExpectHealthy(std::uint64_t budget_kib = 0) {
        ASSERT_TRUE(m_target->Status().is_object()) << "target died; log:\n" << m_target->Log();
        std::uint64_t rss = ResidentKiB(m_pid);
        RecordProperty("rss_before_kib", std::to_string(m_rss_before));
        RecordProperty("rss_after_kib", std::to_string(rss));
        EXPECT_LT(rss, m_rss_before + budget_kib + MAX_RSS_GROWTH_KIB)
            << "RSS " << m_rss_before << " -> " << rss;
        ASSERT_TRUE(m_honest->Mine().has_value());
        EXPECT_TRUE(WaitUntil([&] {
            return m_target->Tip() == m_honest->Tip() && m_target->Height() == m_honest->Height();
        })) << "honest block did not reach the target; target log:\n"
            << m_target->Log();
    }

    /** A gossip link from a fresh identity that finished the handshake. */
    std::unique_ptr<HostilePeer> Handshake(std::string node_id = RandomNodeId()) {
        auto peer = std::make_unique<HostilePeer>(m_target->Port());
        EXPECT_TRUE(peer->Connected());
        EXPECT_TRUE(peer->Handshake(std::nullopt, std::move(node_id)).has_value());
        return peer;
    }

    /** The node closes on `peer`, having sent Reject(Misbehaving). */
    void ExpectKicked(HostilePeer& peer) {
        std::optional<Reject> reject = peer.Expect<Reject>(DEFAULT_OFFENDER_CLOSE_TIMEOUT);
        EXPECT_TRUE(reject.has_value() && reject->code == REJECT_MISBEHAVING);
        EXPECT_TRUE(peer.Closed(DEFAULT_OFFENDER_CLOSE_TIMEOUT));
    }

    /** `node_id` is refused when it comes back. */
    void ExpectBanned(const std::string& node_id) {
        HostilePeer again(m_target->Port());
        ASSERT_TRUE(again.Connected());
        again.Handshake(std::nullopt, node_id);
        std::optional<Reject> reject = again.Expect<Reject>(DEFAULT_OFFENDER_CLOSE_TIMEOUT);
        EXPECT_TRUE(reject.has_value() && reject->code == REJECT_BANNED);
        EXPECT_TRUE(again.Closed(DEFAULT_OFFENDER_CLOSE_TIMEOUT));
    }

    /** A valid child of genesis on the test network. */
    Block ValidChild() const { return MakeChild(m_params, MakeGenesis(m_params), {}, 60.0); }

    /** Sends `block` from a fresh identity and expects the node to ban it. */
    void ExpectBlockBans(const Block& block) {
        std::string id = RandomNodeId();
        auto peer = Handshake(id);
        peer->SendFrame(AnnounceBlock{block});
        ExpectKicked(*peer);
        ExpectBanned(id);
    }

    /** Raw HTTP: sends `request` and returns the status the node answered (0 for none). */
    int RawHttpStatus(const std::string& request) {
        HostilePeer client(m_target->Port());
        client.Send(request);
        client.ReadRaw(DEFAULT_NODE_TIMEOUT_SLACK);
        std::string answer = client.TakeRaw();
        if (answer.rfind("HTTP/1.1 ", 0) != 0)
            return 0;
        return std::atoi(answer.c_str() + 9);
    }

    TempDir m_dir{"gossipchain-hostile"};
    ConsensusParams m_params;
    std::unique_ptr<GossipNode> m_target;
    std::unique_ptr<GossipNode> m_honest;
    pid_t m_pid = 0;
    std::uint64_t m_rss_before = 0;
};

TEST_F(Hostile, RandomBytesAreRefusedOnBothProtocols) {
    std::mt19937 rng(9);
    std::string noise(64 * 1024, '\0');
    for (char& c : noise)
        c = static_cast<char>(rng());
    HostilePeer gossip(m_target->Port());
    gossip.Send(MagicBytes() + noise);
    EXPECT_TRUE(gossip.Closed(DEFAULT_OFFENDER_CLOSE_TIMEOUT));
    HostilePeer http(m_target->Port());
    http.Send("\x01" + noise);
    http.ReadRaw(DEFAULT_OFFENDER_CLOSE_TIMEOUT);
    EXPECT_TRUE(http.Closed(milliseconds(1)));
    std::string answer = http.TakeRaw();
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer.substr(0, 80);
    ExpectHealthy();
}

TEST_F(Hostile, FourGibFrameLengthIsRefusedBeforeAllocating) {
    std::string id = RandomNodeId();
    auto peer = Handshake(id);
    peer->Send(std::string("\xff\xff\xff\xff") + std::string(1024, 'x'));
    // The transport drops the link before a payload byte is buffered; SPEC §12 scores it 100,
    // so the sender is banned as well.
    EXPECT_TRUE(peer->Closed(DEFAULT_OFFENDER_CLOSE_TIMEOUT));
    ExpectBanned(id);
    ExpectHealthy();
}

TEST_F(Hostile, TruncatedFramesCostNothing) {
    // A frame cut short by a hang-up, and a frame whose msgpack stops half-way.
    {
        auto peer = Handshake();
        std::string frame = FrameOf(AnnounceBlock{ValidChild()});
        peer->Send(frame.substr(0, frame.size() / 2));
    }
    auto peer = Handshake();
    std::string payload = EncodeMessage(AnnounceBlock{ValidChild()});
    peer->Send(RawFrame(payload.substr(0, payload.size() - 7)));
    ExpectKicked(*peer);
    EXPECT_EQ(m_target->Height(), 1u);
    ExpectHealthy();
}

TEST_F(Hostile, MsgpackNestedTenThousandDeepIsRefused) {
    auto peer = Handshake();
    peer->Send(RawFrame(std::string(10'000, '\x91') + "\xc0"));
    ExpectKicked(*peer);
    ExpectHealthy();
}

TEST_F(Hostile, HugeArraysAndStringsDeclaredButNotSent) {
    // [NewTransactions, {"transactions": <2^32-1 items>}] and a 4 GiB str, in small frames.
    auto array = Handshake();
    array->Send(RawFrame("\x92\x09\x81\xactransactions" + MsgpackArray32(0xffffffff)));
    ExpectKicked(*array);
    auto str = Handshake();
    str->Send(RawFrame("\x92\x07\x82\xa4host\xdb\xff\xff\xff\xff"));
    ExpectKicked(*str);
    // A frame declared at the 8 MiB limit of which 1 KiB arrives: the node buffers what came.
    std::vector<std::unique_ptr<HostilePeer>> stalled;
    for (int i = 0; i < 20; ++i) {
        stalled.push_back(Handshake());
        stalled.back()->Send(std::string("\x00\x80\x00\x00", 4) + std::string(1024, '\x90'));
    }
    ExpectHealthy();
}

TEST_F(Hostile, MessagesBeforeHelloAreMisbehaviour) {
    HostilePeer peer(m_target->Port());
    peer.Send(MagicBytes() + FrameOf(Ping{7}));
    ExpectKicked(peer);
    HostilePeer block(m_target->Port());
    block.Send(MagicBytes() + FrameOf(AnnounceBlock{ValidChild()}));
    ExpectKicked(block);
    EXPECT_EQ(m_target->Height(), 1u);
    ExpectHealthy();
}

TEST_F(Hostile, HelloForAnotherNetworkOrVersionIsRejected) {
    Hello other_network = HonestHello(m_params, RandomNodeId());
    ConsensusParams other = m_params;
    other.difficulty = 3;
    other_network.network_id = NetworkId(other);
    HostilePeer network(m_target->Port());
    Open(network, other_network);
    std::optional<Reject> network_reject = network.Expect<Reject>(DEFAULT_OFFENDER_CLOSE_TIMEOUT);
    EXPECT_TRUE(network_reject.has_value() && network_reject->code == REJECT_WRONG_NETWORK);
    EXPECT_TRUE(network.Closed(DEFAULT_OFFENDER_CLOSE_TIMEOUT));

    Hello other_version = HonestHello(m_params, RandomNodeId());
    other_version.protocol_version = PROTOCOL_VERSION + 1;
    HostilePeer version(m_target->Port());
    Open(version, other_version);
    std::optional<Reject> version_reject = version.Expect<Reject>(DEFAULT_OFFENDER_CLOSE_TIMEOUT);
    EXPECT_TRUE(version_reject.has_value() && version_reject->code == REJECT_PROTOCOL_VERSION);
    EXPECT_TRUE(version.Closed(DEFAULT_OFFENDER_CLOSE_TIMEOUT));
    ExpectHealthy();
}

TEST_F(Hostile, RepeatedHellosEndInABan) {
    std::string id = RandomNodeId();
    auto peer = Handshake(id);
    for (int i = 0; i < 10 && !IsClosed(*peer); ++i)
        peer->SendFrame(HonestHello(m_params, id));
    ExpectKicked(*peer);
    ExpectBanned(id);
    ExpectHealthy();
}

TEST_F(Hostile, InvalidBlocksBanTheirSender) {
    Block genesis = MakeGenesis(m_params);

    Block bad_proof = ValidChild();
    do {
        ++bad_proof.proof;
    } while (CheckProof(m_params, genesis.proof, bad_proof.proof, BlockHash(genesis)));
    ExpectBlockBans(bad_proof);

    Block wrong_index = ValidChild();
    wrong_index.index = 7;
    ExpectBlockBans(wrong_index);

    Block big_reward = MakeChild(
        m_params, genesis,
        {Transaction{"0", RandomNodeId(), 1'000'000, "00000000000000000000000000000001"}});
    ExpectBlockBans(big_reward);

    Block malformed_tx = MakeChild(m_params, genesis, {MakeTx(1, -5)});
    ExpectBlockBans(malformed_tx);

    std::vector<Transaction> too_many;
    for (std::uint64_t i = 0; i < MAX_BLOCK_TRANSACTIONS + 1; ++i)
        too_many.push_back(MakeTx(100 + i));
    ExpectBlockBans(MakeChild(m_params, genesis, too_many));

    // A clock a few hours off is not an attack (10 points), but the block is not taken.
    Block future = MakeChild(m_params, genesis, {}, 0);
    future.timestamp = static_cast<double>(std::time(nullptr)) + 3 * 3600;
    auto peer = Handshake();
    peer->SendFrame(AnnounceBlock{future});
    // A wrong previous hash makes an orphan whose parent never comes; it is not taken either.
    Block wrong_parent = ValidChild();
    wrong_parent.previous_hash = std::string(64, 'a');
    peer->SendFrame(AnnounceBlock{wrong_parent});
    peer->SendFrame(Ping{1});
    EXPECT_TRUE(peer->Expect<Pong>(milliseconds(5'000)).has_value());
    EXPECT_EQ(m_target->Height(), 1u);
    ExpectHealthy();
}

TEST_F(Hostile, OrphanFloodStaysBounded) {
    auto peer = Handshake();
    Block orphan = ValidChild();
    orphan.previous_hash = std::string(64, 'b');
    orphan.transactions = {MakeTx(1)};
    std::string flood;
    for (int i = 0; i < 3'000; ++i) {
        orphan.index = 10 + static_cast<std::uint64_t>(i);
        flood += FrameOf(AnnounceBlock{orphan});
        orphan.previous_hash = BlockHash(orphan);
    }
    peer->Send(flood);
    peer->SendFrame(Ping{2});
    peer->Expect<Pong>(milliseconds(10'000));
    EXPECT_EQ(m_target->Height(), 1u);
    ExpectHealthy();
}

TEST_F(Hostile, SameBlockTenThousandTimes) {
    auto peer = Handshake();
    std::string frame = FrameOf(AnnounceBlock{ValidChild()});
    std::string flood;
    for (int i = 0; i < 10'000; ++i)
        flood += frame;
    peer->Send(flood);
    EXPECT_TRUE(WaitUntil([&] { return m_target->Height() == 2; }));
    ExpectHealthy();
}

TEST_F(Hostile, TransactionAndPeerFloods) {
    auto peer = Handshake();
    // 100,000 transactions in 100 full messages; the mempool keeps what its bound allows.
    for (std::uint64_t batch = 0; batch < 100; ++batch) {
        NewTransactions txs;
        for (std::uint64_t i = 0; i < MAX_TXS_PER_MESSAGE; ++i)
            txs.transactions.push_back(MakeTx(batch * MAX_TXS_PER_MESSAGE + i + 1));
        ASSERT_TRUE(peer->SendFrame(txs));
    }
    // 100,000 addresses as 100 full Peers messages.
    for (int batch = 0; batch < 100; ++batch) {
        Peers peers;
        for (int i = 0; i < static_cast<int>(MAX_PEERS_PER_MESSAGE); ++i)
            peers.addresses.push_back("10." + std::to_string(batch) + "." +
                                      std::to_string(i / 250) + "." + std::to_string(i % 250) +
                                      ":5001");
        ASSERT_TRUE(peer->SendFrame(peers));
    }
    peer->SendFrame(Ping{3});
    EXPECT_TRUE(peer->Expect<Pong>(milliseconds(20'000)).has_value());
    EXPECT_LE(m_target->Status().value("mempool", DEFAULT_MEMPOOL_MAX_TXS + 1),
              DEFAULT_MEMPOOL_MAX_TXS);
    ExpectHealthy(DEFAULT_MEMPOOL_MAX_BYTES / 1024);
}

TEST_F(Hostile, RequestChainLoopAndOversizedLocator) {
    auto peer = Handshake();
    RequestChain request;
    for (std::size_t i = 0; i + 1 < MAX_LOCATOR_HASHES; ++i)
        request.locator.push_back(std::string(64, 'c'));
    request.locator.push_back(BlockHash(MakeGenesis(m_params)));
    std::string frame = FrameOf(request);
    for (int i = 0; i < 2'000; ++i)
        ASSERT_TRUE(peer->Send(frame));
    peer->SendFrame(Ping{4});
    EXPECT_TRUE(peer->Expect<Pong>(milliseconds(10'000)).has_value());
    // 10,000 hashes: over the locator and msgpack array limits.
    std::string big = "\x92\x05\x82\xa7locator" + MsgpackArray32(10'000);
    std::string hash = "\xd9\x40" + std::string(64, 'd');
    for (int i = 0; i < 10'000; ++i)
        big += hash;
    big += "\xa5limit\x01";
    peer->Send(RawFrame(big));
    ExpectKicked(*peer);
    ExpectHealthy();
}

TEST_F(Hostile, ThousandSimultaneousConnections) {
    std::vector<std::unique_ptr<HostilePeer>> crowd;
    for (int i = 0; i < 1'000; ++i) {
        crowd.push_back(std::make_unique<HostilePeer>(m_target->Port()));
        // Half open gossip links, half start an HTTP request; none finishes.
        crowd.back()->Send(i % 2 == 0 ? MagicBytes() : std::string("GET /status HTTP/1.1\r\n"));
    }
    EXPECT_TRUE(m_target->Status().is_object());
    crowd.clear();
    ExpectHealthy();
}

TEST_F(Hostile, SlowDripAndIdleSocketsAreTimedOut) {
    HostilePeer gossip(m_target->Port());
    HostilePeer http(m_target->Port());
    HostilePeer idle(m_target->Port());
    std::string hello = MagicBytes() + FrameOf(HonestHello(m_params, RandomNodeId()));
    http.ReadRaw(milliseconds(1));  // keep the HTTP answer as raw bytes
    std::string request = "GET /status HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(200, 'p');
    const auto deadline = Clock::now() + DEFAULT_NODE_TIMEOUT_SLACK;
    std::size_t at = 0;
    while (Clock::now() < deadline && !(IsClosed(gossip) && IsClosed(http) && IsClosed(idle))) {
        // One byte each, twice a second: far slower than any honest peer or client.
        if (at < hello.size())
            gossip.Send(hello.substr(at, 1));
        if (at < request.size())
            http.Send(request.substr(at, 1));
        ++at;
        std::this_thread::sleep_for(milliseconds(500));
    }
    EXPECT_TRUE(IsClosed(gossip));
    EXPECT_TRUE(IsClosed(http));
    EXPECT_TRUE(IsClosed(idle));
    std::string answer = http.TakeRaw();
    EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer.substr(0, 80);
    ExpectHealthy();
}

TEST_F(Hostile, HostileHttpRequests) {
    int status =
        RawHttpStatus("GET /status HTTP/1.1\r\nX-Big: " + std::string(2 << 20, 'h') + "\r\n\r\n");
    EXPECT_TRUE(status == 431 || status == 400) << status;
    EXPECT_EQ(RawHttpStatus("POST /transactions/new HTTP/1.1\r\nContent-Type: application/json\r\n"
                            "Content-Length: 100000000000\r\n\r\n{}"),
              413);
    std::string chunked =
        "POST /transactions/new HTTP/1.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 2048; ++i)
        chunked += "400\r\n" + std::string(1024, ' ') + "\r\n";
    EXPECT_EQ(RawHttpStatus(chunked), 413);
    for (const char* path : {"/../../etc/passwd", "/blocks/..%2f..%2fetc%2fpasswd",
                             "/blocks/%zz%00%ff", "/%2e%2e/chain",
                             "/blocks/"
                             "\xc0\xaf"}) {
        HttpClientResponse response = m_target->Get(path);
        EXPECT_TRUE(response.status == 404 || response.status == 400)
            << path << " -> " << response.status;
        EXPECT_EQ(response.body.find("root:"), std::string::npos);
    }
    HttpClientResponse bad_utf8 =
        HttpPost("127.0.0.1", m_target->Port(), "/transactions/new",
                 "{\"sender\": \"\xff\xfe\", \"recipient\": \"b\", \"amount\": 1}");
    EXPECT_EQ(bad_utf8.status, 400);
    EXPECT_TRUE(m_target->Pending().empty());
    ExpectHealthy();
}

}  // namespace
}  // namespace gossipchain::test
