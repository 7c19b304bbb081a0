// /nodes/resolve against real processes: a dead registered address costs no thread per call,
// junk "tutorial nodes" cost little memory, a --peer link in backoff is never demoted to HTTP,
// a plain HTTP node replaced by a gossipchain node on its port is linked again, the notes list
// every reason a tutorial chain was not adopted, a chain a tutorial node took from a gossipchain
// node is adopted back, and a node stopped mid-resolve exits at once.
#include "integration/support/hostile_peer.h"
#include "integration/support/node_harness.h"
#include "support/raw_client.h"
#include "support/scripted_server.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <future>
#include <string>
#include <vector>

namespace gossipchain::test {
namespace {

/** Resolves one test makes against a dead address (the bug: one unjoined thread each). */
constexpr int DEAD_ADDRESS_RESOLVES = 500;
/** Most the node's virtual memory may grow over them, in KiB (the bug: 8 MiB per call). */
constexpr std::uint64_t MAX_VIRTUAL_GROWTH_KIB = 64 * 1024;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/** Most the node's peak resident memory may grow over three resolves of junk, in KiB: ASan's
 * quarantine keeps freed buffers (up to 256 MiB) and its redzones grow every allocation; seen
 * 453 MiB in CI. The bug still shows: 2.2 GB for 50 MB of junk without any sanitizer. */
constexpr std::uint64_t MAX_JUNK_PEAK_GROWTH_KIB = 1024 * 1024;
#else
/** Most the node's peak resident memory may grow over three resolves of junk, in KiB (the bug:
 * 2.2 GB for 50 MB of junk). */
constexpr std::uint64_t MAX_JUNK_PEAK_GROWTH_KIB = 96 * 1024;
#endif
/** Bytes of junk each junk tutorial node answers /chain with. */
constexpr int JUNK_BYTES = 50'000'000;
/** How long a node stopped mid-resolve may take to exit, in milliseconds (the fetch timeout it
 * waited out before is 5 s). */
constexpr int STOP_MID_RESOLVE_MS = 3'000;
/** A redial of a peer in backoff comes within the longest backoff plus its jitter, in ms. */
constexpr milliseconds REDIAL_TIMEOUT{45'000};

std::string DataDir(const TempDir& root, const std::string& name) {
    return root.Path() + "/" + name;
}

/** A loopback port nobody listens on. */
int DeadPort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

/** The note of a resolve answer that is about `address`, or "". */
std::string NoteFor(const Json& answer, const std::string& address) {
    if (!answer.is_object())
        return "";
    for (const Json& note : answer.value("notes", Json::array())) {
        if (note.is_string() && note.get<std::string>().rfind(address + ":", 0) == 0)
            return note.get<std::string>();
    }
    return "";
}

/** The state /nodes shows for `address`, or "". */
std::string StateOf(const GossipNode& node, const std::string& address) {
    Json nodes = node.GetJson("/nodes");
    if (!nodes.is_object())
        return "";
    for (const Json& entry : nodes.value("nodes", Json::array())) {
        if (entry.value("address", "") == address)
            return entry.value("state", "");
    }
    return "";
}

std::size_t Count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

TEST(Resolve, ADeadAddressCostsNoThreadPerCall) {
    TempDir root;
    GossipNode node(root, "node", NodeConfig());
    ASSERT_EQ(node.Start(), "");
    pid_t pid = FindNodePid(DataDir(root, "node"));
    ASSERT_NE(pid, 0);
    std::string dead = "127.0.0.1:" + std::to_string(DeadPort());
    ASSERT_EQ(node.Post("/nodes/register", Json{{"nodes", {dead}}}).status, 201);
    ASSERT_EQ(node.Get("/nodes/resolve").status, 200);
    const std::uint64_t threads = ProcStatusKiB(pid, "Threads");
    const std::uint64_t virtual_kib = ProcStatusKiB(pid, "VmSize");
    for (int i = 0; i < DEAD_ADDRESS_RESOLVES; ++i) {
        HttpClientResponse resolved = node.Get("/nodes/resolve");
        ASSERT_EQ(resolved.status, 200) << "resolve " << i << ": " << resolved.error;
        if (i == 0) {
            EXPECT_NE(NoteFor(JsonOf(resolved), dead).find("not fetched"), std::string::npos)
                << resolved.body;
        }
    }
    EXPECT_LE(ProcStatusKiB(pid, "Threads"), threads) << "a thread per resolve";
    EXPECT_LE(ProcStatusKiB(pid, "VmSize"), virtual_kib + MAX_VIRTUAL_GROWTH_KIB)
        << "unjoined threads keep their stacks mapped";
}

/** How long a resolve of junk may take in a sanitized build. */
constexpr milliseconds SLOW_RESOLVE_TIMEOUT{180'000};

TEST(Resolve, JunkTutorialNodesCostLittleMemory) {
    std::string why = TutorialNode::Unavailable();
    if (!why.empty())
        GTEST_SKIP() << why;
    TempDir root;
    // 50 MB of tiny JSON values with a Content-Length, and 50 MB of plausible blocks sent
    // without one, so the second is read until the cap.
    TutorialNode numbers(root, "linked", 2,
                         {"--junk-chain", "numbers", "--junk-bytes", std::to_string(JUNK_BYTES)},
                         "numbers");
    TutorialNode blocks(
        root, "linked", 2,
        {"--junk-chain", "blocks", "--junk-bytes", std::to_string(JUNK_BYTES), "--junk-stream"},
        "blocks");
    ASSERT_EQ(numbers.Start(), "");
    ASSERT_EQ(blocks.Start(), "");
    GossipNode node(root, "node", NodeConfig());
    ASSERT_EQ(node.Start(), "");
    pid_t pid = FindNodePid(DataDir(root, "node"));
    ASSERT_NE(pid, 0);
    ASSERT_EQ(node.Post("/nodes/register", Json{{"nodes", {numbers.HostPort(), blocks.HostPort()}}})
                  .status,
              201);
    const std::uint64_t rss = ResidentKiB(pid);
    ASSERT_TRUE(ResetPeakResident(pid));
    std::vector<std::future<HttpClientResponse>> resolves;
    // What is measured is memory; under ThreadSanitizer reading 2 x 50 MB of junk three times
    // at once takes longer than an ordinary request is given.
    for (int i = 0; i < 3; ++i)
        resolves.push_back(std::async(std::launch::async, [&] {
            return HttpGet("127.0.0.1", node.Port(), "/nodes/resolve", SLOW_RESOLVE_TIMEOUT);
        }));
    for (auto& resolve : resolves) {
        HttpClientResponse resolved = resolve.get();
        ASSERT_EQ(resolved.status, 200) << resolved.error;
        Json answer = JsonOf(resolved);
        EXPECT_EQ(answer.value("message", ""), "Our chain is authoritative");
        EXPECT_NE(NoteFor(answer, numbers.HostPort()).find("longer than we read"),
                  std::string::npos)
            << resolved.body;
        EXPECT_NE(NoteFor(answer, blocks.HostPort()).find("longer than we read"), std::string::npos)
            << resolved.body;
    }
    const std::uint64_t peak = PeakResidentKiB(pid);
    std::printf("peak RSS over 3 resolves of 2 x %d bytes of junk: %llu KiB (from %llu KiB)\n",
                JUNK_BYTES, static_cast<unsigned long long>(peak),
                static_cast<unsigned long long>(rss));
    EXPECT_LE(peak, rss + MAX_JUNK_PEAK_GROWTH_KIB);
    EXPECT_EQ(node.Height(), 1u);
}

TEST(Resolve, AGossipPeerInBackoffIsNotDemotedToHttp) {
    TempDir root;
    GossipNode a(root, "a", NodeConfig());
    ASSERT_EQ(a.Start(), "");
    GossipNode b(root, "b", NodeConfig().Peer(a.Port()).LogLevel("debug"));
    ASSERT_EQ(b.Start(), "");
    ASSERT_TRUE(WaitUntil([&] { return b.ReadyPeers() == 1; })) << b.Log();
    // A goes away; B redials it with growing delays. After four failed dials the next one is
    // seconds away: a resolve now meets the link in backoff.
    a.Kill();
    const std::string dialing = "dialing " + a.HostPort();
    const std::size_t dials = Count(b.Log(), dialing);
    ASSERT_TRUE(WaitUntil([&] { return Count(b.Log(), dialing) >= dials + 4; }, REDIAL_TIMEOUT))
        << b.Log();
    ASSERT_EQ(a.Restart(), "");
    ASSERT_EQ(a.Mine(), 2u);
    HttpClientResponse resolved = b.Get("/nodes/resolve");
    ASSERT_EQ(resolved.status, 200) << resolved.error;
    EXPECT_NE(StateOf(b, a.HostPort()), "http-only") << b.GetJson("/nodes").dump();
    // It is dialled again and gossips: B gets A's next block without another resolve.
    ASSERT_TRUE(WaitUntil([&] { return b.ReadyPeers() == 1; }, REDIAL_TIMEOUT))
        << "/nodes: " << b.GetJson("/nodes").dump() << "\nb's log:\n"
        << b.Log();
    ASSERT_EQ(a.Mine(), 3u);
    EXPECT_TRUE(WaitUntil([&] { return b.Height() == 3; }));
}

TEST(Resolve, APlainHttpNodeReplacedByAGossipNodeIsLinked) {
    std::string why = TutorialNode::Unavailable();
    if (!why.empty())
        GTEST_SKIP() << why;
    TempDir root;
    // Learn a free port for A, then lend it to a tutorial node first.
    GossipNode a(root, "a", NodeConfig());
    ASSERT_EQ(a.Start(), "");
    a.Kill();
    TutorialNode python(root, "linked", 2);
    ASSERT_EQ(python.Start(a.Port()), "");
    GossipNode b(root, "b", NodeConfig());
    ASSERT_EQ(b.Start(), "");
    ASSERT_EQ(b.Post("/nodes/register", Json{{"nodes", {python.Url()}}}).status, 201);
    ASSERT_EQ(b.Get("/nodes/resolve").status, 200);
    ASSERT_TRUE(WaitUntil([&] { return StateOf(b, python.HostPort()) == "http-only"; }))
        << b.GetJson("/nodes").dump();

    // The classroom replaces the Python node with a gossipchain node on the same port.
    python.Kill();
    ASSERT_EQ(a.Restart(), "");
    ASSERT_EQ(a.Mine(), 2u);
    HttpClientResponse resolved = b.Get("/nodes/resolve");
    ASSERT_EQ(resolved.status, 200);
    EXPECT_EQ(JsonOf(resolved).value("message", ""), "Our chain was replaced") << resolved.body;
    ASSERT_TRUE(WaitUntil([&] { return b.ReadyPeers() == 1; }))
        << "/nodes: " << b.GetJson("/nodes").dump() << "\nb's log:\n"
        << b.Log();
    ASSERT_EQ(a.Mine(), 3u);
    EXPECT_TRUE(WaitUntil([&] { return b.Height() == 3; })) << "not gossiping";
}

TEST(Resolve, NotesListEveryReasonATutorialChainWasNotAdopted) {
    std::string why = TutorialNode::Unavailable();
    if (!why.empty())
        GTEST_SKIP() << why;
    TempDir root;
    // A plain tutorial node of another network: its own genesis and the seed rule.
    TutorialNode python(root, "seed", 2, {"--genesis-timestamp", "1764745200.25"});
    ASSERT_EQ(python.Start(), "");
    for (int index = 2; index <= 4; ++index)
        ASSERT_EQ(JsonOf(python.Get("/mine")).value("index", 0), index);
    GossipNode ours(root, "ours", NodeConfig().Pow("linked"));
    ASSERT_EQ(ours.Start(), "");
    ASSERT_EQ(ours.Post("/nodes/register", Json{{"nodes", {python.Url()}}}).status, 201);
    HttpClientResponse resolved = ours.Get("/nodes/resolve");
    ASSERT_EQ(resolved.status, 200);
    Json answer = JsonOf(resolved);
    // The tutorial's shape, with the notes beside it.
    EXPECT_EQ(answer.value("message", ""), "Our chain is authoritative");
    EXPECT_EQ(answer.value("chain", Json::array()).size(), 1u);
    EXPECT_FALSE(answer.contains("new_chain"));
    std::string note = NoteFor(answer, python.HostPort());
    EXPECT_EQ(note.rfind(python.HostPort() + ": skipped: ", 0), 0u) << resolved.body;
    EXPECT_NE(note.find("block 1: different genesis (timestamp 1764745200.25, ours 1700000000.0)"),
              std::string::npos)
        << note;
    EXPECT_NE(note.find("blocks 2-4: transactions[0]: transaction: missing key \"id\""),
              std::string::npos)
        << note;
    EXPECT_NE(note.find("(valid under the seed rule: that node uses --pow seed)"),
              std::string::npos)
        << note;
    EXPECT_EQ(ours.Height(), 1u);
}

TEST(Resolve, AdoptsAChainATutorialNodeTookFromAGossipchainNode) {
    std::string why = TutorialNode::Unavailable();
    if (!why.empty())
        GTEST_SKIP() << why;
    TempDir root;
    GossipNode a(root, "a", NodeConfig());
    ASSERT_EQ(a.Start(), "");
    for (std::uint64_t index = 2; index <= 4; ++index)
        ASSERT_EQ(a.Mine(), index);
    // The tutorial node takes A's chain with its own resolve (same genesis, rule, difficulty).
    TutorialNode python(root, "linked", 2);
    ASSERT_EQ(python.Start(), "");
    ASSERT_EQ(python.Post("/nodes/register", Json{{"nodes", {a.Url()}}}).status, 201);
    ASSERT_EQ(JsonOf(python.Get("/nodes/resolve")).value("message", ""), "Our chain was replaced");
    // C knows only the tutorial node: its resolve fetches that chain over HTTP and adopts it.
    GossipNode c(root, "c", NodeConfig());
    ASSERT_EQ(c.Start(), "");
    ASSERT_EQ(c.Post("/nodes/register", Json{{"nodes", {python.Url()}}}).status, 201);
    HttpClientResponse resolved = c.Get("/nodes/resolve");
    Json answer = JsonOf(resolved);
    EXPECT_EQ(answer.value("message", ""), "Our chain was replaced") << resolved.body;
    EXPECT_EQ(answer.value("new_chain", Json::array()), a.Chain());
    EXPECT_FALSE(answer.contains("notes")) << resolved.body;
    EXPECT_EQ(c.Tip(), a.Tip());
}

TEST(Resolve, ANodeStoppedMidResolveExitsAtOnce) {
    TempDir root;
    ScriptedServer silent([](ScriptedServer& self, int fd) { self.Hang(fd); });
    GossipNode node(root, "node", NodeConfig());
    ASSERT_EQ(node.Start(), "");
    pid_t pid = FindNodePid(DataDir(root, "node"));
    ASSERT_NE(pid, 0);
    std::string address = "127.0.0.1:" + std::to_string(silent.Port());
    ASSERT_EQ(node.Post("/nodes/register", Json{{"nodes", {address}}}).status, 201);
    RawClient client(static_cast<std::uint16_t>(node.Port()));
    ASSERT_TRUE(client.Connected());
    ASSERT_TRUE(client.Send("GET /nodes/resolve HTTP/1.1\r\nHost: node\r\n\r\n"));
    ASSERT_TRUE(WaitUntil([&] { return silent.Requests() == 1; })) << node.Log();
    auto stopped = Clock::now();
    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    EXPECT_TRUE(WaitUntil([&] { return HasExited(pid); }, milliseconds(STOP_MID_RESOLVE_MS)))
        << "still running " << STOP_MID_RESOLVE_MS << " ms after SIGTERM; log:\n"
        << node.Log();
    std::printf("exited %lld ms after SIGTERM\n",
                static_cast<long long>(
                    std::chrono::duration_cast<milliseconds>(Clock::now() - stopped).count()));
}

}  // namespace
}  // namespace gossipchain::test
