// Benchmarks of the canonical JSON writer and reader. Writing a block is on the chain-validation
// hot path (every block hash, every proof-of-work check under the linked rule), so the one-
// transaction case should stay near 100 ns.
#include "primitives/block.h"
#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

namespace gossipchain {
namespace {

std::string Hex32(unsigned seed) {
    char buf[33];
    std::snprintf(buf, sizeof(buf), "%08x%08x%08x%08x", seed, seed * 2654435761u, ~seed,
                  seed ^ 0x5bd1e995u);
    return buf;
}

// A block as a busy gossipchain network mines it: user payments, then the mining reward.
Block RealisticBlock(std::size_t transaction_count) {
    Block block;
    block.index = 123456;
    block.timestamp = 1700001234.5678911;
    block.proof = 4863217;
    block.previous_hash = Hex32(1) + Hex32(2);
    for (std::size_t i = 0; i + 1 < transaction_count; ++i) {
        auto n = static_cast<unsigned>(i);
        block.transactions.push_back(
            {Hex32(n + 10), Hex32(n + 20), static_cast<std::int64_t>(1 + n * 37), Hex32(n + 30)});
    }
    block.transactions.push_back({REWARD_SENDER, Hex32(7), 1, Hex32(8)});
    return block;
}

void BM_CanonicalJson(benchmark::State& state) {
    Block block = RealisticBlock(static_cast<std::size_t>(state.range(0)));
    std::string out;
    std::size_t bytes = 0;
    for (auto _ : state) {
        out.clear();  // Keeps the capacity, so this measures writing, not allocating.
        AppendBlockJson(out, block);
        benchmark::DoNotOptimize(out.data());
        bytes += out.size();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_CanonicalJson)->Arg(1)->Arg(100);

void BM_BlockHash(benchmark::State& state) {
    Block block = RealisticBlock(static_cast<std::size_t>(state.range(0)));
    std::size_t bytes = BlockJson(block).size();
    for (auto _ : state)
        benchmark::DoNotOptimize(BlockHash(block));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
}
BENCHMARK(BM_BlockHash)->Arg(1)->Arg(100);

void BM_ReadBlockJson(benchmark::State& state) {
    std::string text = BlockJson(RealisticBlock(static_cast<std::size_t>(state.range(0))));
    for (auto _ : state) {
        Result<nlohmann::json> json = ParseJson(text);
        bool ok = json.Ok() && BlockFromJson(json.Value()).Ok();
        benchmark::DoNotOptimize(ok);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(text.size() * state.iterations()));
}
BENCHMARK(BM_ReadBlockJson)->Arg(1)->Arg(100);

}  // namespace
}  // namespace gossipchain
