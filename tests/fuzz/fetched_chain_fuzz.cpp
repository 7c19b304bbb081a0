// Fuzz target: a tutorial node's /chain answer as /nodes/resolve reads it (ChainReader and
// FetchedChain). Nothing may crash or throw; the verdict and every reason must be the same
// whether the body arrives at once or split anywhere; an adoptable chain holds every block it
// read; the reasons stay bounded in count and size whatever the input.
#include "fuzz/fuzz_check.h"
#include "node/fetched_chain.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace {

using namespace gossipchain;
using gossipchain::fuzz::Check;

/** Our clock for the timestamp rules: after every seed's blocks. */
constexpr double NOW = 2'000'000'000.0;
/** Longest reason line: the reason texts quote at most a short snippet of the input. */
constexpr std::size_t MAX_REASON_BYTES = 1024;

/** The network of protocol/vectors/gossipchain_chain.json, so that seed is adoptable. */
ConsensusParams Params() {
    ConsensusParams params;
    params.pow_rule = PowRule::Linked;
    params.difficulty = 3;
    return params;
}

template <typename Feed>
std::unique_ptr<FetchedChain> Read(Feed&& feed) {
    auto chain = std::make_unique<FetchedChain>(Params(), NOW);
    Check(chain->OnHead(200, std::nullopt), "a 200 head is taken");
    FetchResult fetch;
    if (!feed(*chain))
        fetch.error = FetchError::Stopped;
    chain->Finish(fetch);
    return chain;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    gossipchain::fuzz::ChunkedInput input(data, size);
    auto whole = Read([&](FetchedChain& chain) { return chain.OnBody(input.Whole()); });
    auto split = Read([&](FetchedChain& chain) {
        bool more = true;
        input.ForEachChunk([&](std::string_view piece) { return more = chain.OnBody(piece); });
        return more;
    });
    Check(whole->Adoptable() == split->Adoptable(), "the verdict does not depend on the split");
    Check(whole->Reasons() == split->Reasons(), "the reasons do not depend on the split");
    Check(whole->Length() == split->Length(), "the block count does not depend on the split");
    Check(whole->Adoptable() == whole->Reasons().empty() || !whole->Complete(),
          "a complete answer is adoptable exactly when nothing speaks against it");
    if (whole->Adoptable()) {
        Check(whole->Blocks().size() == whole->Length(), "an adoptable chain keeps every block");
        Check(whole->Blocks().front() == MakeGenesis(Params()), "it starts with our genesis");
    } else {
        Check(whole->Blocks().empty(), "nothing is kept of a chain that cannot be adopted");
    }
    std::vector<std::string> reasons = whole->Reasons();
    Check(reasons.size() <= MAX_RESOLVE_REASONS_PER_PEER + 1, "the reasons are capped");
    for (const std::string& reason : reasons)
        Check(reason.size() <= MAX_REASON_BYTES, "a reason is short");
    return 0;
}
