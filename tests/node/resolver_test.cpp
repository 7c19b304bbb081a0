// The resolver on a private loop with a real peer manager and scripted tutorial nodes: fetches
// run on a fixed set of reused threads however many resolves run, callers during a round share
// the next one, a longer valid chain is adopted, every reason shows in the notes, the HTTP part
// of a round is bounded in time, and destroying the resolver mid-fetch ends at once.
#include "node/resolver.h"

#include "net/transport.h"
#include "primitives/canonical_json.h"
#include "support/chain_builder.h"
#include "support/free_port.h"
#include "support/gossip_stack.h"
#include "support/scripted_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

using test::ScriptedServer;

/** Upper bound for any single wait in these tests, in ms. */
constexpr std::uint64_t DEADLINE_MS = 20'000;

struct NullHandler : net::ConnectionHandler {};

/** Threads of this process, from /proc/self/status. */
int ThreadCount() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("Threads:", 0) == 0)
            return std::stoi(line.substr(8));
    }
    return -1;
}

/** A loopback port nobody listens on: free a moment ago, and nothing was started on it. */
std::uint16_t DeadPort() {
    return static_cast<std::uint16_t>(test::FindFreePort());
}

std::string ChainAnswer(const std::vector<Block>& blocks) {
    std::string body = "{\"chain\":[";
    for (std::size_t i = 0; i < blocks.size(); ++i)
        body += (i ? "," : "") + BlockJson(blocks[i]);
    return body + "],\"length\":" + std::to_string(blocks.size()) + "}";
}

class ResolverTest : public ::testing::Test {
protected:
    ResolverTest()
        : chain(ChainState::Options{test::EasyParams(), {}, {}}),
          stack(loop, chain, PeerOptions()),
          peers(stack.peers),
          transport(loop, net::TransportOptions{}, stack.links, http) {
        stack.events.on_synced = [this](LinkId link) {
            if (resolver)
                resolver->OnPeerSynced(link);
        };
    }

    ~ResolverTest() override {
        resolver.reset();
        stack.Stop();
        transport.CloseAll("test over");
        loop.RunUntil([&] { return transport.ConnectionCount() == 0; }, DEADLINE_MS);
    }

    static PeerManagerOptions PeerOptions() {
        PeerManagerOptions options;
        options.params = test::EasyParams();
        options.node_id = std::string(32, 'a');
        options.target_outbound = 0;
        return options;
    }

    void SetUp() override {
        ASSERT_EQ(transport.Listen(), 0);
        stack.Start(transport);
    }

    void MakeResolver(Resolver::Options options = {}) {
        options.params = test::EasyParams();
        options.gossip.settle_ms = 200;
        options.gossip.timeout_ms = 1'000;
        resolver =
            std::make_unique<Resolver>(loop, chain, peers, options, [this] { ++chain_changes; });
    }

    void Register(std::uint16_t port) {
        peers.AddAddress(PeerAddress{"127.0.0.1", port}, AddressOrigin::Seed);
    }

    /** Runs one resolve to its answer. */
    std::optional<ResolveOutcome> ResolveOnce() {
        std::optional<ResolveOutcome> outcome;
        resolver->Resolve([&](ResolveOutcome out) { outcome = std::move(out); });
        loop.RunUntil([&] { return outcome.has_value(); }, DEADLINE_MS);
        return outcome;
    }

    net::EventLoop loop;
    ChainState chain;
    test::GossipStack stack;
    PeerManager& peers;
    NullHandler http;
    net::Transport transport;
    int chain_changes = 0;
    std::unique_ptr<Resolver> resolver;
};

TEST_F(ResolverTest, ManyResolvesReuseAFixedSetOfFetchThreads) {
    MakeResolver();
    Register(DeadPort());
    // The first resolve starts the workers; none may follow.
    ASSERT_TRUE(ResolveOnce());
    EXPECT_EQ(resolver->Workers(), DEFAULT_RESOLVE_FETCH_THREADS);
    const int threads_before = ThreadCount();
    for (int i = 1; i < 300; ++i) {
        std::optional<ResolveOutcome> outcome = ResolveOnce();
        ASSERT_TRUE(outcome) << "resolve " << i << " never answered";
        ASSERT_EQ(outcome->notes.size(), 1u);
        EXPECT_NE(outcome->notes[0].find("not fetched"), std::string::npos) << outcome->notes[0];
    }
    EXPECT_EQ(resolver->Rounds(), 300u);
    EXPECT_LE(resolver->Workers(), DEFAULT_RESOLVE_FETCH_THREADS);
    EXPECT_LE(ThreadCount(), threads_before);
}

TEST_F(ResolverTest, CallersDuringARoundShareTheNextRound) {
    std::vector<Block> longer = {MakeGenesis(chain.Params())};
    for (Block& block : test::MakeBranch(chain.Params(), longer[0], 3, 1))
        longer.push_back(std::move(block));
    ScriptedServer server([&](ScriptedServer&, int fd) {
        ScriptedServer::SendAll(fd, ScriptedServer::Answer(ChainAnswer(longer)));
    });
    Register(server.Port());
    MakeResolver();
    std::vector<ResolveOutcome> outcomes;
    for (int i = 0; i < 5; ++i)
        resolver->Resolve([&](ResolveOutcome out) { outcomes.push_back(std::move(out)); });
    ASSERT_TRUE(loop.RunUntil([&] { return outcomes.size() == 5; }, DEADLINE_MS));
    EXPECT_EQ(resolver->Rounds(), 2u);
    EXPECT_EQ(server.Requests(), 2);
    // The first round adopted the chain; the four callers that came during it got the second.
    EXPECT_TRUE(outcomes[0].replaced);
    for (std::size_t i = 1; i < outcomes.size(); ++i) {
        EXPECT_FALSE(outcomes[i].replaced);
        ASSERT_EQ(outcomes[i].notes.size(), 1u);
        EXPECT_NE(outcomes[i].notes[0].find("its chain is not longer than ours (4 blocks, ours 4)"),
                  std::string::npos)
            << outcomes[i].notes[0];
    }
    EXPECT_EQ(chain.Height(), 4u);
    EXPECT_EQ(chain.Tip().HashHex(), BlockHash(longer.back()));
    EXPECT_EQ(chain_changes, 1);
}

TEST_F(ResolverTest, NotesListEveryReasonOfAPeer) {
    // Another network's genesis and a block of junk after it.
    ConsensusParams other = chain.Params();
    other.genesis_timestamp = 1764745200.5;
    Block their_genesis = MakeGenesis(other);
    std::string body = "{\"chain\":[" + BlockJson(their_genesis) +
                       ",{\"index\": 2, \"timestamp\": 1}],\"length\":2}";
    ScriptedServer server([&](ScriptedServer&, int fd) {
        ScriptedServer::SendAll(fd, ScriptedServer::Answer(body));
    });
    Register(server.Port());
    MakeResolver();
    std::optional<ResolveOutcome> outcome = ResolveOnce();
    ASSERT_TRUE(outcome);
    EXPECT_FALSE(outcome->replaced);
    ASSERT_EQ(outcome->notes.size(), 1u);
    const std::string& note = outcome->notes[0];
    EXPECT_EQ(note.rfind("127.0.0.1:" + std::to_string(server.Port()) + ": skipped: ", 0), 0u)
        << note;
    EXPECT_NE(note.find("block 1: different genesis"), std::string::npos) << note;
    EXPECT_NE(note.find("block 2: "), std::string::npos) << note;
    EXPECT_NE(note.find("missing key \"transactions\""), std::string::npos) << note;
}

TEST_F(ResolverTest, TheHttpPartOfARoundEndsAtItsTimeout) {
    ScriptedServer first([](ScriptedServer& self, int fd) { self.Hang(fd); });
    ScriptedServer second([](ScriptedServer& self, int fd) { self.Hang(fd); });
    Register(first.Port());
    Register(second.Port());
    Resolver::Options options;
    options.fetch_threads = 1;
    options.fetch_timeout_ms = 3'600'000;
    options.http_timeout_ms = 300;
    MakeResolver(options);
    std::optional<ResolveOutcome> outcome = ResolveOnce();
    ASSERT_TRUE(outcome);
    ASSERT_EQ(outcome->notes.size(), 2u);
    EXPECT_NE(outcome->notes[0].find("timed out"), std::string::npos) << outcome->notes[0];
    EXPECT_NE(outcome->notes[1].find("not asked"), std::string::npos) << outcome->notes[1];
    EXPECT_EQ(second.Requests(), 0);
}

TEST_F(ResolverTest, DestroyingItMidFetchEndsTheFetchAtOnce) {
    ScriptedServer server([](ScriptedServer& self, int fd) { self.Hang(fd); });
    Register(server.Port());
    Resolver::Options options;
    options.fetch_timeout_ms = 3'600'000;  // only the canceller can end this fetch
    options.http_timeout_ms = 3'600'000;
    MakeResolver(options);
    int answered = 0;
    resolver->Resolve([&](ResolveOutcome) { ++answered; });
    ASSERT_TRUE(loop.RunUntil([&] { return server.Requests() == 1; }, DEADLINE_MS));
    auto started = std::chrono::steady_clock::now();
    resolver.reset();  // joins the worker, which is inside the fetch
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(DEADLINE_MS));
    // The worker's result, posted before the join, finds the resolver gone.
    loop.RunUntil([] { return false; }, 50);
    EXPECT_EQ(answered, 0);
}

TEST_F(ResolverTest, StopDropsWaitingCallers) {
    ScriptedServer server([](ScriptedServer& self, int fd) { self.Hang(fd); });
    Register(server.Port());
    MakeResolver();
    int answered = 0;
    resolver->Resolve([&](ResolveOutcome) { ++answered; });
    resolver->Resolve([&](ResolveOutcome) { ++answered; });
    ASSERT_TRUE(loop.RunUntil([&] { return server.Requests() == 1; }, DEADLINE_MS));
    resolver->Stop();
    resolver->Resolve([&](ResolveOutcome) { ++answered; });
    loop.RunUntil([] { return false; }, 100);
    EXPECT_EQ(answered, 0);
    EXPECT_EQ(resolver->Rounds(), 1u);
}

}  // namespace
}  // namespace gossipchain
