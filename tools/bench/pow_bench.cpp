// Proof-of-work benchmarks: the raw SHA-256 compression kernel, and the miner's search under each
// rule (seed, linked, header), single-threaded and on several threads. items_per_second is hashes
// (proof attempts) per second; tools/bench/python_compare.py compares it with the tutorial's Python
// loop.
#include "chain/miner.h"
#include "crypto/sha256_kernel.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <vector>

namespace gossipchain {
namespace {

/** Difficulty of the benchmark searches: about a million attempts per search, in hex zeros. */
constexpr int BENCH_DIFFICULTY = 5;
/** A fixed last block hash for the linked rule (64 hex characters, like a real one). */
constexpr const char* BENCH_LAST_HASH =
    "5c1d3a7e0f2b4c6d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9f00112233aabb";

void BM_Sha256Compress(benchmark::State& state, Sha256Kernel kernel) {
    if (kernel == Sha256Kernel::ShaNi && !CpuHasShaNi()) {
        state.SkipWithError("this CPU has no SHA extensions");
        return;
    }
    const Sha256CompressFn compress = Sha256CompressFunction(kernel);
    const auto block_count = static_cast<std::size_t>(state.range(0));
    std::vector<std::uint8_t> blocks(block_count * SHA256_BLOCK_BYTES, 0x5a);
    Sha256State chaining = SHA256_INITIAL_STATE;
    for (auto _ : state) {
        compress(chaining, blocks.data(), block_count);
        benchmark::DoNotOptimize(chaining);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
    state.SetBytesProcessed(state.iterations() * state.range(0) *
                            static_cast<std::int64_t>(SHA256_BLOCK_BYTES));
}
BENCHMARK_CAPTURE(BM_Sha256Compress, sha_ni, Sha256Kernel::ShaNi)->Arg(1)->Arg(128);
BENCHMARK_CAPTURE(BM_Sha256Compress, libsodium, Sha256Kernel::Libsodium)->Arg(1)->Arg(128);

/** The two-lane kernel on two independent 64-byte blocks, as the miner calls it. */
void BM_Sha256CompressTwo(benchmark::State& state, Sha256Kernel kernel) {
    if (kernel == Sha256Kernel::ShaNi && !CpuHasShaNi()) {
        state.SkipWithError("this CPU has no SHA extensions");
        return;
    }
    const Sha256CompressTwoFn compress_two = Sha256CompressTwoFunction(kernel);
    const std::vector<std::uint8_t> block_a(SHA256_BLOCK_BYTES, 0x5a);
    const std::vector<std::uint8_t> block_b(SHA256_BLOCK_BYTES, 0xa5);
    for (auto _ : state) {
        Sha256State lane_a = SHA256_INITIAL_STATE;
        Sha256State lane_b = SHA256_INITIAL_STATE;
        compress_two(lane_a, block_a.data(), lane_b, block_b.data(), 1);
        benchmark::DoNotOptimize(lane_a);
        benchmark::DoNotOptimize(lane_b);
    }
    state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK_CAPTURE(BM_Sha256CompressTwo, sha_ni, Sha256Kernel::ShaNi);

/**
 * Runs one whole search per iteration, each on a different last_proof so that every iteration
 * does fresh work, and reports the exact number of attempts made.
 */
void RunSearches(benchmark::State& state, PowRule rule, unsigned threads) {
    MiningJob job;
    job.rule = rule;
    job.difficulty = BENCH_DIFFICULTY;
    job.last_hash = BENCH_LAST_HASH;
    job.last_proof = 1000;
    job.content_digest.fill(0x3c);
    std::atomic<std::uint64_t> hashes{0};
    for (auto _ : state) {
        benchmark::DoNotOptimize(FindProof(job, threads, nullptr, &hashes));
        ++job.last_proof;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(hashes.load()));
}

void BM_PowSearch(benchmark::State& state, PowRule rule) {
    RunSearches(state, rule, 1);
}
BENCHMARK_CAPTURE(BM_PowSearch, seed, PowRule::Seed)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PowSearch, linked, PowRule::Linked)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PowSearch, header, PowRule::Header)->Unit(benchmark::kMillisecond);

/** Wall-clock rate of one search spread over range(0) threads; compare /2 with /1. */
void BM_PowSearchThreads(benchmark::State& state, PowRule rule) {
    RunSearches(state, rule, static_cast<unsigned>(state.range(0)));
}
BENCHMARK_CAPTURE(BM_PowSearchThreads, linked, PowRule::Linked)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PowSearchThreads, seed, PowRule::Seed)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PowSearchThreads, header, PowRule::Header)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gossipchain
