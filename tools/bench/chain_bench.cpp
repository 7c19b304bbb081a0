// Chain validation benchmark: CheckChainLinks (the tutorial's valid_chain) on a chain of mined
// one-transaction blocks, on 1 and 2 threads. Every iteration serializes each block to canonical
// JSON, hashes it, compares it with the next block's previous_hash and checks the next proof;
// nothing is cached between iterations. items_per_second is blocks checked per second;
// tools/bench/python_compare.py builds the same chain in Python and compares.
#include "consensus/params.h"
#include "consensus/pow.h"
#include "consensus/validation.h"
#include "primitives/block.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

/** Blocks after genesis in the benchmark chain; python_compare.py uses the same number. */
constexpr std::size_t BENCH_CHAIN_BLOCKS = 10000;
/** Seconds between two blocks. Not a round number, so timestamps print with all their digits as
 * time.time() values do; python_compare.py computes the same doubles. */
constexpr double BENCH_BLOCK_INTERVAL_SECONDS = 0.7310009;
/** Recipient of every block's reward, shaped like the tutorial's uuid4().hex node identifier. */
constexpr const char* BENCH_NODE_ID = "5f0c6e2a9b3d4e1f8a7b6c5d4e3f2a1b";

/**
 * Genesis plus BENCH_CHAIN_BLOCKS blocks, each carrying one reward transaction as the tutorial's
 * /mine makes them, with the lowest valid proof at difficulty 1 (the rule's cost per check does
 * not depend on the difficulty, and low difficulty keeps generation quick).
 */
std::vector<Block> MakeBenchChain(const ConsensusParams& params) {
    std::vector<Block> chain{MakeGenesis(params)};
    chain.reserve(BENCH_CHAIN_BLOCKS + 1);
    for (std::size_t i = 1; i <= BENCH_CHAIN_BLOCKS; ++i) {
        const Block& parent = chain.back();
        const std::string parent_hash = BlockHash(parent);
        char id[33];
        std::snprintf(id, sizeof(id), "%032zx", i);
        Block block;
        block.index = parent.index + 1;
        block.timestamp =
            params.genesis_timestamp + static_cast<double>(i) * BENCH_BLOCK_INTERVAL_SECONDS;
        block.transactions.push_back({REWARD_SENDER, BENCH_NODE_ID, REWARD_AMOUNT, id});
        block.previous_hash = parent_hash;
        while (!CheckProof(params, parent.proof, block.proof, parent_hash))
            ++block.proof;
        chain.push_back(std::move(block));
    }
    return chain;
}

/** One chain per rule, built on first use so that filtering out a rule skips its generation. */
const std::vector<Block>& BenchChain(const ConsensusParams& params) {
    static std::map<PowRule, std::vector<Block>> chains;
    auto it = chains.find(params.pow_rule);
    if (it == chains.end())
        it = chains.emplace(params.pow_rule, MakeBenchChain(params)).first;
    return it->second;
}

void BM_ValidateChain(benchmark::State& state, PowRule rule) {
    ConsensusParams params;
    params.pow_rule = rule;
    params.difficulty = 1;
    const std::vector<Block>& chain = BenchChain(params);
    const auto threads = static_cast<unsigned>(state.range(0));
    // A benchmark of a check that fails early would measure nothing; make sure it passes.
    ValidationResult first = CheckChainLinks(chain, params, threads);
    if (!first.Ok()) {
        state.SkipWithError(first.ToString().c_str());
        return;
    }
    for (auto _ : state) {
        ValidationResult result = CheckChainLinks(chain, params, threads);
        benchmark::DoNotOptimize(result);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(chain.size() - 1));
    // The tip's hash lets python_compare.py confirm that its chain is byte-for-byte the same.
    state.SetLabel("tip " + BlockHash(chain.back()).substr(0, 16));
}
BENCHMARK_CAPTURE(BM_ValidateChain, seed, PowRule::Seed)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ValidateChain, linked, PowRule::Linked)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gossipchain
