// Fuzz target: block and transaction validation fed exactly as a peer feeds it, frames of
// AnnounceBlock, Chain, NewTransactions and RequestChain, applied to a chain on the parameters of
// protocol/vectors/gossipchain_chain.json (linked rule, difficulty 3), so the seed blocks are
// valid and mutations of their transactions keep a valid proof and reach the deeper rules.
// After every message the chain's invariants must hold: the tip is the highest main-chain block,
// each main-chain block's parent is the block below it, and the pools stay inside their bounds.
#include "chain/chain_state.h"
#include "fuzz/fuzz_check.h"
#include "net/frame_decoder.h"
#include "p2p/codec.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

namespace {

using namespace gossipchain;
using gossipchain::fuzz::Check;

/** Receiver clock for every block, in seconds: a day after the vectors' genesis. */
constexpr double FUZZ_NOW = DEFAULT_GENESIS_TIMESTAMP + 86'400;
/** Orphan pool bound for fuzzing, in blocks: small, so eviction is reached. */
constexpr std::size_t MAX_FUZZ_ORPHANS = 8;
/** Mempool bound for fuzzing, in transactions. */
constexpr std::size_t MAX_FUZZ_MEMPOOL_TXS = 64;

ChainState::Options VectorChainOptions() {
    ChainState::Options options;
    options.params.pow_rule = PowRule::Linked;
    options.params.difficulty = 3;
    options.orphans.max_blocks = MAX_FUZZ_ORPHANS;
    options.mempool.max_txs = MAX_FUZZ_MEMPOOL_TXS;
    return options;
}

void CheckInvariants(const ChainState& chain) {
    Check(chain.Height() >= 1 && chain.Tip().Height() == chain.Height(), "tip is at the height");
    Check(chain.Find(chain.Tip().hash) == &chain.Tip(), "tip is in the index");
    Check(chain.AtHeight(1) == &chain.Genesis(), "genesis stays at height 1");
    const BlockEntry* below = chain.AtHeight(chain.Height() - (chain.Height() > 1 ? 1 : 0));
    Check(chain.Height() == 1 || chain.Tip().parent == below, "the tip's parent is below it");
    Check(!chain.Tip().invalid, "the tip is valid");
    Check(chain.Orphans().Size() <= MAX_FUZZ_ORPHANS, "orphan pool bounded");
    Check(chain.GetMempool().Size() <= MAX_FUZZ_MEMPOOL_TXS, "mempool bounded");
}

void ProcessOne(ChainState& chain, Block block) {
    BlockResult result = chain.ProcessBlock(std::move(block), FUZZ_NOW);
    for (const BlockEntry* entry : result.connected)
        Check(chain.Find(entry->hash) == entry, "a connected block is in the index");
    if (result.status == BlockStatus::Connected)
        Check(chain.Knows(result.hash), "a connected block is known");
}

void Apply(ChainState& chain, Message& message) {
    if (auto* announce = std::get_if<AnnounceBlock>(&message)) {
        ProcessOne(chain, std::move(announce->block));
    } else if (auto* batch = std::get_if<gossipchain::Chain>(&message)) {
        for (Block& block : batch->blocks)
            ProcessOne(chain, std::move(block));
    } else if (auto* txs = std::get_if<NewTransactions>(&message)) {
        for (const Transaction& tx : txs->transactions)
            chain.SubmitTransaction(tx, TxOrigin::Relay);
    } else if (auto* request = std::get_if<RequestChain>(&message)) {
        std::size_t limit = std::min<std::size_t>(request->limit, MAX_CHAIN_REQUEST_BLOCKS);
        auto blocks = chain.BlocksAfterLocator(request->locator, limit);
        Check(blocks.size() <= limit, "a chain answer respects the limit");
        for (std::size_t i = 1; i < blocks.size(); ++i)
            Check(blocks[i]->parent == blocks[i - 1], "a chain answer is consecutive");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    ChainState chain(VectorChainOptions());
    net::FrameDecoder decoder(1 << 20);
    decoder.Feed(bytes, [&](std::string_view payload) {
        DecodeResult decoded = DecodeMessage(payload);
        if (decoded.Ok()) {
            Apply(chain, decoded.Value());
            CheckInvariants(chain);
        }
        return true;
    });
    return 0;
}
