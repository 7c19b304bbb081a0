// Entry point of gossipchain_bench; the benchmarks register themselves from the other files here.
// `gossipchain_bench make-chain ...` writes a long chain's data directory instead (make_chain.h).
#include "make_chain.h"

#include <benchmark/benchmark.h>

#include <cstring>

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "make-chain") == 0)
        return gossipchain::MakeChainMain(argc - 2, argv + 2);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
