// Multi-process tests of proven identities (SPEC §7, §10, §12): a peer that claims an honest
// node's id can neither get it banned nor kick its link; a peer that claims an honest node's
// address cannot keep the victim from dialling it; a relay that flips a byte gets the link
// dropped, nobody banned, and the link comes back; a node with a trust list links only with the
// keys on it. Real gossipchain processes; the attackers are HostilePeer sockets and an in-test
// TCP relay on loopback.
#include "integration/support/hostile_peer.h"
#include "integration/support/node_harness.h"
#include "store/data_dir.h"
#include "support/free_port.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>

namespace gossipchain::test {
namespace {

constexpr std::uint32_t REJECT_MISBEHAVING = 10;
constexpr std::uint32_t REJECT_NOT_TRUSTED = 12;

double Bans(const GossipNode& node) {
    return MetricValue(node, "gossipchain_bans_total");
}

/** The node ids of `node`'s ready peers. */
std::vector<std::string> ReadyIds(const GossipNode& node) {
    std::vector<std::string> ids;
    Json body = node.GetJson("/nodes");
    if (!body.is_object())
        return ids;
    for (const Json& peer : body.value("nodes", Json::array())) {
        if (peer.value("state", std::string()) == "ready")
            ids.push_back(peer.value("node_id", std::string()));
    }
    return ids;
}

bool HasReadyPeer(const GossipNode& node, const std::string& id) {
    for (const std::string& ready : ReadyIds(node)) {
        if (ready == id)
            return true;
    }
    return false;
}

/**
 * A loopback TCP relay: accepts on its own port, connects each client to `target`, and copies
 * bytes both ways. Once armed, it flips one bit in the next bytes of the client-to-target stream
 * past offset `flip_at`, then relays honestly again.
 */
class TamperingRelay {
public:
    TamperingRelay(int target, std::size_t flip_at) : m_target(target), m_flip_at(flip_at) {
        m_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int on = 1;
        ::setsockopt(m_listen, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
        socklen_t len = sizeof(addr);
        ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &len);
        m_port = ntohs(addr.sin_port);
        ::listen(m_listen, 16);
        m_thread = std::thread([this] { Run(); });
    }
    ~TamperingRelay() {
        m_stop = true;
        m_thread.join();
        ::close(m_listen);
    }
    int Port() const { return m_port; }
    void Arm() { m_armed = true; }
    /** Bytes flipped so far (0 or 1). */
    int Flipped() const { return m_flipped; }
    int Connections() const { return m_connections; }

private:
    static int Dial(int port) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
            ::close(fd);
            return -1;
        }
        return fd;
    }
    void Run() {
        // One relayed connection at a time: each node dials the other through here once.
        while (!m_stop) {
            pollfd accept_fd{m_listen, POLLIN, 0};
            if (::poll(&accept_fd, 1, 50) <= 0)
                continue;
            int client = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0)
                continue;
            int server = Dial(m_target);
            ++m_connections;
            if (server >= 0)
                Relay(client, server);
            ::close(client);
            if (server >= 0)
                ::close(server);
        }
    }
    void Relay(int client, int server) {
        std::size_t upstream = 0;
        char buf[65536];
        while (!m_stop) {
            pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
            if (::poll(fds, 2, 50) <= 0)
                continue;
            for (int i = 0; i < 2; ++i) {
                if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
                    continue;
                ssize_t n = ::recv(fds[i].fd, buf, sizeof(buf), 0);
                if (n <= 0)
                    return;
                if (i == 0 && m_armed && upstream + static_cast<std::size_t>(n) > m_flip_at) {
                    // The first byte past `flip_at` in this chunk, or the middle of a chunk
                    // that starts past it.
                    std::size_t at = upstream >= m_flip_at ? static_cast<std::size_t>(n) / 2
                                                           : m_flip_at - upstream;
                    buf[at] ^= 0x01;
                    m_armed = false;
                    ++m_flipped;
                }
                if (i == 0)
                    upstream += static_cast<std::size_t>(n);
                int to = i == 0 ? server : client;
                for (ssize_t sent = 0; sent < n;) {
                    ssize_t w =
                        ::send(to, buf + sent, static_cast<std::size_t>(n - sent), MSG_NOSIGNAL);
                    if (w <= 0)
                        return;
                    sent += w;
                }
            }
        }
    }

    int m_target;
    std::size_t m_flip_at;
    int m_listen = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_armed{false};
    std::atomic<int> m_flipped{0};
    std::atomic<int> m_connections{0};
    std::thread m_thread;
};

class Identity : public ::testing::Test {
protected:
    TempDir m_dir{"gossipchain-identity"};
};

TEST_F(Identity, APeerClaimingAnHonestNodesIdGetsNeitherItBannedNorItsLinkClosed) {
    GossipNode victim(m_dir, "victim", NodeConfig());
    ASSERT_EQ(victim.Start(), "");
    GossipNode honest(m_dir, "honest", NodeConfig().Peer(victim.Port()));
    ASSERT_EQ(honest.Start(), "");
    const std::string honest_id = honest.Status().value("node_id", std::string());
    ASSERT_TRUE(WaitUntil([&] { return HasReadyPeer(victim, honest_id); }));

    // The attacker names the honest node's id (public in /status) in its Hello, then sends an
    // undecodable message: under protocol 2 this banned the honest node.
    HostilePeer spoofer(victim.Port());
    ASSERT_TRUE(spoofer.Connected());
    spoofer.Handshake(std::nullopt, honest_id);
    std::optional<Reject> reject = spoofer.Expect<Reject>();
    ASSERT_TRUE(reject.has_value());
    EXPECT_EQ(reject->code, REJECT_MISBEHAVING);
    EXPECT_NE(reject->reason.find("not the id of the key you proved"), std::string::npos)
        << reject->reason;
    spoofer.SendPayload(std::string("\xc1\x00\x01", 3));
    EXPECT_TRUE(spoofer.Closed());

    // The honest link was never closed for it, and nobody was banned.
    EXPECT_TRUE(HasReadyPeer(victim, honest_id));
    EXPECT_EQ(Bans(victim), 0);
    // The attacker under its own key misbehaves: that key is banned, the honest node stays.
    HostilePeer rude(victim.Port());
    ASSERT_TRUE(rude.Handshake().has_value());
    rude.SendPayload(std::string("\xc1\x00\x01", 3));
    EXPECT_TRUE(rude.Closed());
    EXPECT_TRUE(WaitUntil([&] { return Bans(victim) == 1; }));
    HostilePeer rude_again(victim.Port(), rude.Key());
    rude_again.Handshake();
    std::optional<Reject> banned = rude_again.Expect<Reject>();
    EXPECT_TRUE(banned.has_value() && banned->code == 6);
    // Same IP, another key: honest neighbours on one host are not banned together.
    EXPECT_TRUE(HasReadyPeer(victim, honest_id));
    HostilePeer neighbour(victim.Port());
    std::optional<Hello> greeted = neighbour.Handshake();
    ASSERT_TRUE(greeted.has_value());
    neighbour.SendFrame(Ping{42});
    std::optional<Pong> pong = neighbour.Expect<Pong>();
    EXPECT_TRUE(pong.has_value() && pong->nonce == 42);
}

TEST_F(Identity, AnAddressClaimDoesNotKeepTheVictimFromDiallingTheRealPeer) {
    const int honest_port = FindFreePort();
    GossipNode victim(m_dir, "victim", NodeConfig().Peer(honest_port));
    ASSERT_EQ(victim.Start(), "");
    // While the real peer is down, an attacker links in and claims to listen at its address.
    HostilePeer claimer(victim.Port());
    ASSERT_TRUE(claimer.Authenticate());
    std::optional<Message> theirs = claimer.ReadMessage(DEFAULT_DROP_TIMEOUT);
    ASSERT_TRUE(theirs && std::holds_alternative<Hello>(*theirs));
    Hello hello = std::get<Hello>(*theirs);
    hello.node_id = claimer.Key().NodeId();
    hello.listen_port = static_cast<std::uint16_t>(honest_port);
    hello.agent = "claimer/1";
    ASSERT_TRUE(claimer.SendFrame(hello));
    ASSERT_TRUE(
        claimer.SendFrame(RegisterPeer{"127.0.0.1", static_cast<std::uint16_t>(honest_port)}));
    ASSERT_TRUE(WaitUntil([&] { return HasReadyPeer(victim, claimer.Key().NodeId()); }));

    // The real peer comes up on its port: the victim dials it and links, the claim
    // notwithstanding, and /nodes shows the real node at that address.
    GossipNode honest(m_dir, "honest", NodeConfig());
    ASSERT_EQ(honest.StartOn(honest_port), "");
    const std::string honest_id = honest.Status().value("node_id", std::string());
    EXPECT_TRUE(WaitUntil([&] { return HasReadyPeer(victim, honest_id); }, milliseconds(30'000)))
        << victim.Log();
    bool listed = false;
    for (const Json& peer : victim.GetJson("/nodes").value("nodes", Json::array())) {
        listed = listed || (peer.value("address", std::string()) ==
                                "127.0.0.1:" + std::to_string(honest_port) &&
                            peer.value("node_id", std::string()) == honest_id);
    }
    EXPECT_TRUE(listed);
    EXPECT_TRUE(HasReadyPeer(victim, claimer.Key().NodeId()));
}

TEST_F(Identity, AFlippedByteOnTheWireDropsTheLinkBlamesNobodyAndTheLinkComesBack) {
    // Neither dials what it learns, so the one link between them is the relayed one.
    GossipNode b(m_dir, "b", NodeConfig().Arg("--target-outbound", "0"));
    ASSERT_EQ(b.Start(), "");
    // Past the magic and both handshake frames (SPEC §7.2: 4 + 36 + 116 bytes), so the flip lands
    // in a sealed frame or in its clear length.
    TamperingRelay relay(b.Port(), 160);
    GossipNode a(m_dir, "a", NodeConfig().Peer(relay.Port()).Arg("--target-outbound", "0"));
    ASSERT_EQ(a.Start(), "");
    ASSERT_TRUE(WaitUntil([&] { return a.ReadyPeers() == 1 && b.ReadyPeers() == 1; }));
    relay.Arm();
    // Traffic past the flip offset: blocks mined at A go to B through the relay.
    for (int i = 0; i < 3 && relay.Flipped() == 0; ++i)
        ASSERT_TRUE(a.Mine().has_value());
    ASSERT_TRUE(WaitUntil([&] { return relay.Flipped() == 1; }));
    // B refuses the changed frame and closes; A redials through the relay and the link is back.
    ASSERT_TRUE(WaitUntil([&] { return relay.Connections() >= 2; }, milliseconds(30'000)));
    EXPECT_TRUE(WaitUntil([&] { return a.ReadyPeers() == 1 && b.ReadyPeers() == 1; },
                          milliseconds(30'000)));
    EXPECT_EQ(Bans(a), 0);
    EXPECT_EQ(Bans(b), 0);
    EXPECT_GE(MetricValue(b, "gossipchain_link_authentication_failures_total") +
                  MetricValue(b, "gossipchain_handshake_failures_total"),
              1);
    // And the chain still flows: A's next block reaches B.
    std::optional<std::uint64_t> mined = a.Mine();
    ASSERT_TRUE(mined.has_value());
    EXPECT_TRUE(WaitUntil([&] { return b.Height() == a.Height(); }));
}

TEST_F(Identity, ATrustListLetsOnlyTheKeysOnItLink) {
    // The friendly node's key is made first, as an operator restoring a backed-up node_key would.
    NodeKeySeed seed{};
    seed.fill(0x42);
    const std::string friendly_dir = m_dir.Path() + "/friendly";
    std::filesystem::create_directories(friendly_dir);
    ASSERT_TRUE(WriteKeyFile(friendly_dir, seed).Ok());
    const std::string friendly_key = KeyHex(NodeKey::FromSeed(seed).PublicKey());

    GossipNode guarded(m_dir, "guarded", NodeConfig().Arg("--trust", friendly_key));
    ASSERT_EQ(guarded.Start(), "");
    EXPECT_NE(guarded.Log().find("trust list: only 1 keys may link"), std::string::npos);
    // The key it printed is the one /status shows.
    EXPECT_NE(guarded.Log().find(guarded.Status().value("node_key", std::string())),
              std::string::npos);

    HostilePeer stranger(guarded.Port());
    ASSERT_TRUE(stranger.Authenticate());
    std::optional<Reject> refused = stranger.Expect<Reject>();
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->code, REJECT_NOT_TRUSTED);
    EXPECT_TRUE(stranger.Closed());

    GossipNode friendly(m_dir, "friendly", NodeConfig().Peer(guarded.Port()));
    ASSERT_EQ(friendly.Start(), "");
    EXPECT_EQ(friendly.Status().value("node_key", std::string()), friendly_key);
    EXPECT_TRUE(WaitUntil([&] { return guarded.ReadyPeers() == 1 && friendly.ReadyPeers() == 1; }));
}

TEST_F(Identity, APlaintextProtocolTwoPeerIsToldWhyItIsRefused) {
    GossipNode node(m_dir, "node", NodeConfig());
    ASSERT_EQ(node.Start(), "");
    HostilePeer old(node.Port());
    Hello hello;
    hello.protocol_version = 2;
    hello.network_id = node.Status().value("network", std::string());
    hello.node_id = std::string(32, 'a');
    hello.tip = std::string(64, '0');
    hello.agent = "gossipchain/0.0.2";
    old.Send(std::string(reinterpret_cast<const char*>(net::LEGACY_MAGIC.data()), 4) +
             FrameOf(hello));
    std::optional<Reject> reject = old.Expect<Reject>();
    ASSERT_TRUE(reject.has_value());
    EXPECT_EQ(reject->code, 2u);
    EXPECT_NE(reject->reason.find("version 4"), std::string::npos) << reject->reason;
    EXPECT_TRUE(old.Closed());
    EXPECT_EQ(Bans(node), 0);
}

}  // namespace
}  // namespace gossipchain::test
