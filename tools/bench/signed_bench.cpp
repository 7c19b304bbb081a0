// Signed-rules benchmarks (SPEC §6.7): libsodium's own Ed25519 verification (the bound), the
// node's verification of one transfer (message built from the canonical JSON, hex decoded), a
// block's signatures on 1 and 2 threads, and ChainState accepting a block of 1,000 signed
// transfers none of which it saw before (every signature verified, accounts applied).
#include "chain/chain_state.h"
#include "consensus/pow.h"
#include "consensus/signed_tx.h"
#include "primitives/canonical_json.h"

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <memory>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

/** Transfers in the benchmark block (the 1,000). */
constexpr std::size_t BENCH_TRANSFERS = 1000;
constexpr double BENCH_NOW = DEFAULT_GENESIS_TIMESTAMP + 1e6;

ConsensusParams BenchParams() {
    ConsensusParams params;
    params.rules = RuleSet::Signed;
    params.pow_rule = PowRule::Header;
    params.difficulty = 1;
    return params;
}

NodeKey KeyOf(std::uint8_t n) {
    NodeKeySeed seed{};
    seed.fill(n);
    return NodeKey::FromSeed(seed);
}

/** Mines `block` on `parent` by brute force (difficulty 1: about 16 attempts). */
void Mine(const ConsensusParams& params, const Block& parent, const std::string& parent_hash,
          Block& block) {
    for (block.proof = 0; !CheckBlockProof(params, block, parent.proof, parent_hash);)
        ++block.proof;
}

/**
 * BENCH_TRANSFERS reward blocks to one account, and a block on top of them spending all of it in
 * BENCH_TRANSFERS transfers to another.
 */
struct SignedFixture {
    ConsensusParams params = BenchParams();
    std::vector<Block> funding;
    std::vector<Hash256> hashes;
    Block spend;

    SignedFixture() {
        NodeKey alice = KeyOf(1);
        const std::string a = AddressOf(alice.PublicKey());
        const std::string b = AddressOf(KeyOf(2).PublicKey());
        Block parent = MakeGenesis(params);
        std::string parent_hash = BlockHash(parent);
        for (std::size_t i = 0; i <= BENCH_TRANSFERS; ++i) {
            Block block;
            block.index = parent.index + 1;
            block.timestamp = parent.timestamp + 1;
            block.previous_hash = parent_hash;
            char id[33];
            std::snprintf(id, sizeof(id), "%032zx", i);
            if (i == BENCH_TRANSFERS) {
                for (std::uint64_t n = 0; n < BENCH_TRANSFERS; ++n)
                    block.transactions.push_back(SignTransfer(alice, b, 1, n, NetworkId(params)));
            }
            block.transactions.push_back(Transaction{REWARD_SENDER, a, REWARD_AMOUNT, id});
            Mine(params, parent, parent_hash, block);
            if (i == BENCH_TRANSFERS) {
                spend = block;
                break;
            }
            funding.push_back(block);
            parent = block;
            parent_hash = BlockHash(block);
            hashes.push_back(Sha256(BlockJson(block)));
        }
    }
};

const SignedFixture& Fixture() {
    static const SignedFixture fixture;
    return fixture;
}

void BM_Ed25519VerifyLibsodium(benchmark::State& state) {
    const Transaction& tx = Fixture().spend.transactions[0];
    const std::string message = SignedTxMessage(tx, NetworkId(Fixture().params));
    NodeKey key = KeyOf(1);
    NodeSignature signature = key.Sign(message);
    for (auto _ : state) {
        int rc = crypto_sign_verify_detached(signature.data(),
                                             reinterpret_cast<const unsigned char*>(message.data()),
                                             message.size(), key.PublicKey().data());
        benchmark::DoNotOptimize(rc);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519VerifyLibsodium);

void BM_VerifyTransfer(benchmark::State& state) {
    const Transaction& tx = Fixture().spend.transactions[0];
    const std::string network_id = NetworkId(Fixture().params);
    for (auto _ : state)
        benchmark::DoNotOptimize(VerifyTransferSignature(tx, network_id));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyTransfer);

/** The signatures of the 1,000-transfer block on range(0) threads; items = signatures. */
void BM_CheckBlockSignatures(benchmark::State& state) {
    const Block& block = Fixture().spend;
    const std::string network_id = NetworkId(Fixture().params);
    for (auto _ : state) {
        ValidationResult result = CheckSignatures(block.transactions, {}, network_id,
                                                  static_cast<unsigned>(state.range(0)));
        if (!result.Ok())
            state.SkipWithError(result.ToString().c_str());
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(BENCH_TRANSFERS));
}
BENCHMARK(BM_CheckBlockSignatures)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

/**
 * ChainState::ProcessBlock of the 1,000-transfer block on a chain that holds its funding blocks
 * and an empty mempool, with range(0) verifying threads; items = transfers. The chain is rebuilt
 * outside the timing for each iteration.
 */
void BM_ValidateSignedBlock(benchmark::State& state) {
    const SignedFixture& fixture = Fixture();
    for (auto _ : state) {
        state.PauseTiming();
        ChainState::Options options;
        options.params = fixture.params;
        options.verify_threads = static_cast<unsigned>(state.range(0));
        auto chain = std::make_unique<ChainState>(options);
        for (std::size_t i = 0; i < fixture.funding.size(); ++i)
            chain->LoadTrusted(TrustedBlock{fixture.funding[i], fixture.hashes[i], i + 1, 0});
        state.ResumeTiming();
        BlockResult result = chain->ProcessBlock(fixture.spend, BENCH_NOW);
        if (result.status != BlockStatus::Connected)
            state.SkipWithError(result.validation.ToString().c_str());
        state.PauseTiming();
        chain.reset();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(BENCH_TRANSFERS));
}
BENCHMARK(BM_ValidateSignedBlock)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gossipchain
