// Entry point of gossipchain_bench; the benchmarks register themselves from the other files here.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
