// `gossipchain_bench make-chain`: writes a data directory holding a long chain, so the scale
// benchmarks (tools/bench/scale_bench.py) need not mine a million blocks through GET /mine
// (about 1,300 per second, 13 minutes for 1,000,000).
//
// What it writes is what a node that mined those blocks itself would have stored, and nothing is
// trusted that a node would check: every block is built from ChainState::BlockTemplate (one
// reward transaction with a fresh random id, as GET /mine makes it), gets the lowest valid proof
// under the network's rule, and goes through ChainState::ProcessBlock, the full validation a
// block from a peer gets (link, proof, index, timestamp rules, sizes, txid uniqueness), before the
// store's hooks queue it; one SQLite commit per DEFAULT_MAKE_CHAIN_COMMIT_BLOCKS. A block that
// fails validation stops the run. Timestamps are the genesis timestamp plus one second per
// block, far in the past, so a node loading the directory accepts them at any time.
#include "make_chain.h"

#include "chain/chain_state.h"
#include "consensus/params.h"
#include "consensus/pow.h"
#include "crypto/random.h"
#include "primitives/block.h"
#include "store/store.h"
#include "util/clock.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace gossipchain {
namespace {

/** Blocks per SQLite commit while generating. */
constexpr std::uint64_t DEFAULT_MAKE_CHAIN_COMMIT_BLOCKS = 10'000;
/** Seconds between two generated blocks. */
constexpr double MAKE_CHAIN_BLOCK_INTERVAL_SECONDS = 1.0;

int Usage() {
    std::fprintf(stderr,
                 "usage: gossipchain_bench make-chain --dir DIR --blocks N [--difficulty D]\n"
                 "  writes a data directory of N blocks after genesis for `gossipchain --data-dir "
                 "DIR --difficulty D` (linked rule; D defaults to 1)\n");
    return 2;
}

}  // namespace

int MakeChainMain(int argc, char** argv) {
    std::string dir;
    std::uint64_t blocks = 0;
    ConsensusParams params;
    params.difficulty = 1;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
        else if (std::strcmp(argv[i], "--blocks") == 0)
            blocks = std::strtoull(argv[i + 1], nullptr, 10);
        else if (std::strcmp(argv[i], "--difficulty") == 0)
            params.difficulty = std::atoi(argv[i + 1]);
        else
            return Usage();
    }
    if (argc % 2 != 0 || dir.empty() || blocks == 0 || params.difficulty < 1 ||
        params.difficulty > MAX_DIFFICULTY)
        return Usage();

    Store store;
    StoreOptions store_options;
    store_options.dir = dir;
    store_options.network_id = NetworkId(params);
    store_options.new_node_id = RandomHex(16);
    if (Status opened = store.Open(store_options); !opened.Ok()) {
        std::fprintf(stderr, "make-chain: %s\n", opened.Message().c_str());
        return 1;
    }
    ChainState::Options chain_options;
    chain_options.params = params;
    ChainState chain(chain_options);
    std::vector<StoredPeer> peers;
    StoreLoadStats loaded;
    if (Status read = store.LoadInto(chain, peers, loaded); !read.Ok()) {
        std::fprintf(stderr, "make-chain: %s\n", read.Message().c_str());
        return 1;
    }
    chain.SetHooks(ChainHooks{[&store](const BlockEntry& entry, std::string_view canonical) {
                                  store.PutBlock(entry, canonical);
                              },
                              [&store](const BlockEntry& entry, const BlockBody& body,
                                       bool connected) { store.MoveTip(entry, body, connected); }});
    const std::uint64_t started = MonotonicNs();
    const std::uint64_t first = chain.Height();
    for (std::uint64_t n = 1; n <= blocks; ++n) {
        const BlockEntry& tip = chain.Tip();
        const double timestamp = tip.timestamp + MAKE_CHAIN_BLOCK_INTERVAL_SECONDS;
        Block block = chain.BlockTemplate(store.NodeId(), RandomHex(16), timestamp);
        block.timestamp = timestamp;
        const std::string tip_hash = tip.HashHex();
        while (!CheckProof(params, tip.proof, block.proof, tip_hash))
            ++block.proof;
        BlockResult result = chain.ProcessBlock(std::move(block), timestamp);
        if (result.status != BlockStatus::Connected) {
            std::fprintf(stderr, "make-chain: block %llu was not accepted: %s\n",
                         static_cast<unsigned long long>(first + n),
                         result.validation.ToString().c_str());
            return 1;
        }
        if (n % DEFAULT_MAKE_CHAIN_COMMIT_BLOCKS == 0 || n == blocks) {
            if (Status committed = store.Commit(); !committed.Ok()) {
                std::fprintf(stderr, "make-chain: %s\n", committed.Message().c_str());
                return 1;
            }
        }
    }
    const double seconds = static_cast<double>(MonotonicNs() - started) / 1e9;
    std::printf(
        "make-chain: %s holds height %llu (%llu blocks generated, validated and stored in "
        "%.1f s), network %s\n",
        dir.c_str(), static_cast<unsigned long long>(chain.Height()),
        static_cast<unsigned long long>(blocks), seconds, NetworkId(params).c_str());
    return 0;
}

}  // namespace gossipchain
