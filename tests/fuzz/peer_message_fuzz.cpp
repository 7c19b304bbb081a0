// Fuzz target: the real gossip message handler. The input is a stream of frames (4-byte length,
// msgpack payload) that one peer sends after a valid Hello; each payload goes to
// PeerManager::OnPayload over fake links, on a chain with the parameters of
// protocol/vectors/gossipchain_chain.json (linked rule, difficulty 3), so the seed blocks are
// valid and mutations of their transactions keep a valid proof and reach the deeper rules. A
// second ready peer watches what is relayed. So decoding, penalties, flood accounting, sync
// answers and relay are fuzzed exactly as a hostile peer reaches them.
// When the core closes the peer's link (a ban, a refusal) the link closes and the peer comes
// back from a fresh address with a fresh identity, so later frames keep reaching the handler.
// After every message: the chain's invariants hold (tip at the height, its parent below it,
// genesis fixed, pools in their bounds), everything the core sent is one decodable message that
// fits a frame, and the quiet watching peer is never closed.
#include "chain/chain_state.h"
#include "fuzz/fuzz_check.h"
#include "net/frame_decoder.h"
#include "p2p/codec.h"
#include "p2p/peer_manager.h"
#include "support/fake_links.h"
#include "util/log.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

using namespace gossipchain;
using gossipchain::fuzz::Check;

/** Receiver clock for every block, in seconds: a day after the vectors' genesis. */
constexpr double FUZZ_NOW = DEFAULT_GENESIS_TIMESTAMP + 86'400;
/** Orphan pool bound for fuzzing, in blocks: small, so eviction is reached. */
constexpr std::size_t MAX_FUZZ_ORPHANS = 8;
/** Mempool bound for fuzzing, in transactions. */
constexpr std::size_t MAX_FUZZ_MEMPOOL_TXS = 64;
/** Loop time between two frames, in ms: enough for flood buckets to refill a little. */
constexpr std::uint64_t FUZZ_STEP_MS = 7;
/** The watching peer's link. */
constexpr LinkId WATCHER = 1;

ChainState::Options VectorChainOptions() {
    ChainState::Options options;
    options.params.pow_rule = PowRule::Linked;
    options.params.difficulty = 3;
    options.orphans.max_blocks = MAX_FUZZ_ORPHANS;
    options.mempool.max_txs = MAX_FUZZ_MEMPOOL_TXS;
    return options;
}

PeerManagerOptions FuzzPeerOptions(const ConsensusParams& params) {
    PeerManagerOptions options;
    options.params = params;
    options.node_id = std::string(32, 'f');
    options.listen_port = 7000;
    options.target_outbound = 0;
    options.wall_clock = [] { return FUZZ_NOW; };
    options.seed = 1;
    return options;
}

void CheckInvariants(const ChainState& chain) {
    Check(chain.Height() >= 1 && chain.Tip().Height() == chain.Height(), "tip is at the height");
    Check(chain.Find(chain.Tip().HashHex()) == &chain.Tip(), "tip is in the index");
    Check(chain.AtHeight(1) == &chain.Genesis(), "genesis stays at height 1");
    const BlockEntry* below = chain.AtHeight(chain.Height() - (chain.Height() > 1 ? 1 : 0));
    Check(chain.Height() == 1 || chain.Tip().parent == below, "the tip's parent is below it");
    Check(!chain.Tip().invalid, "the tip is valid");
    Check(chain.Orphans().Size() <= MAX_FUZZ_ORPHANS, "orphan pool bounded");
    Check(chain.GetMempool().Size() <= MAX_FUZZ_MEMPOOL_TXS, "mempool bounded");
}

/** Every payload the core sent is one decodable message; Chain answers fit a frame. */
void CheckSent(test::FakeLinks& links) {
    for (auto& [link, payloads] : links.sent) {
        for (const std::string& payload : payloads) {
            Check(payload.size() <= net::MAX_FRAME_BYTES, "a sent frame fits MAX_FRAME_BYTES");
            Check(DecodeMessage(payload).Ok(), "what the core sends decodes");
        }
        payloads.clear();
    }
}

class Session {
public:
    Session() : m_chain(VectorChainOptions()), m_peers(m_links, m_chain, Options(), m_events) {
        Open(WATCHER);
        OpenFuzzed();
    }

    void Feed(std::string_view payload) {
        m_now += FUZZ_STEP_MS;
        m_peers.OnPayload(m_fuzzed, payload, m_now);
        m_peers.Tick(m_now);
        CheckInvariants(m_chain);
        CheckSent(m_links);
        Check(!m_links.IsClosed(WATCHER), "the quiet peer is never closed");
        if (m_links.IsClosed(m_fuzzed)) {
            m_peers.OnLinkClosed(m_fuzzed, net::CloseReason::ByHandler, "closed", m_now);
            OpenFuzzed();
        }
    }

private:
    PeerManagerOptions Options() const { return FuzzPeerOptions(m_chain.Params()); }

    void Open(LinkId link) {
        // A new host each time, so a ban of the last one does not refuse this one.
        std::string host = "10.0." + std::to_string(link / 250) + "." + std::to_string(link % 250);
        // A new key each time too: bans are by key.
        NodeKeySeed seed{};
        for (std::size_t i = 0; i < 8; ++i)
            seed[i] = static_cast<std::uint8_t>(link >> (8 * i));
        NodeKey key = NodeKey::FromSeed(seed);
        LinkInfo info;
        info.remote = host + ":4000";
        info.peer_key = key.PublicKey();
        m_peers.OnLinkOpened(link, info, m_now);
        Hello hello;
        hello.network_id = NetworkId(m_chain.Params());
        hello.node_id = key.NodeId();
        hello.height = 1;
        hello.tip = m_chain.Genesis().HashHex();
        hello.agent = "fuzz/1";
        m_peers.OnPayload(link, EncodeMessage(hello), m_now);
    }
    void OpenFuzzed() {
        m_fuzzed = ++m_next_link;
        Open(m_fuzzed);
    }

    std::uint64_t m_now = 1'000;
    test::FakeLinks m_links;
    PeerEvents m_events;
    ChainState m_chain;
    PeerManager m_peers;
    LinkId m_next_link = WATCHER;
    LinkId m_fuzzed = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    SetLogLevel(LogLevel::Error);
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    Session session;
    net::FrameDecoder decoder(1 << 20);
    decoder.Feed(bytes, [&](std::string_view payload) {
        session.Feed(payload);
        return true;
    });
    return 0;
}
