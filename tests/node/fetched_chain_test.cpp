// What /nodes/resolve makes of a tutorial node's /chain answer: a chain of ours is adoptable, and
// for anything else every reason is listed, grouped by the blocks it applies to (a chain the
// Python tutorial mined on another genesis and the other proof rule gets all three reasons).
#include "node/fetched_chain.h"

#include "consensus/pow.h"
#include "crypto/sha256.h"
#include "primitives/canonical_json.h"
#include "support/chain_builder.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace gossipchain {
namespace {

using Json = nlohmann::json;

constexpr double NOW = 1800000000.0;

/** Feeds `body` to `chain` in pieces of `step` bytes and finishes as a complete fetch would. */
void Read(FetchedChain& chain, std::string_view body, std::size_t step = 4096) {
    ASSERT_TRUE(chain.OnHead(200, body.size()));
    bool more = true;
    for (std::size_t at = 0; at < body.size() && more; at += step)
        more = chain.OnBody(body.substr(at, step));
    FetchResult fetch;
    if (!more)
        fetch.error = FetchError::Stopped;
    chain.Finish(fetch);
}

std::string Answer(const std::vector<std::string>& blocks, std::size_t length) {
    std::string body = "{\"chain\":[";
    for (std::size_t i = 0; i < blocks.size(); ++i)
        body += (i ? "," : "") + blocks[i];
    return body + "],\"length\":" + std::to_string(length) + "}";
}

std::vector<std::string> OurChainText(const ConsensusParams& params, std::size_t count) {
    Block genesis = MakeGenesis(params);
    std::vector<std::string> texts = {BlockJson(genesis)};
    for (const Block& block : test::MakeBranch(params, genesis, count - 1, 1))
        texts.push_back(BlockJson(block));
    return texts;
}

/**
 * A chain as the Python tutorial mines it: genesis at `genesis_timestamp`, each block a reward
 * {"amount": 1, "recipient": ..., "sender": "0"} without "id", proofs of `rule`.
 */
std::vector<std::string> TutorialChainText(PowRule rule, double genesis_timestamp,
                                           std::size_t count) {
    ConsensusParams mining = test::EasyParams(rule);
    Json last = {{"index", 1},
                 {"previous_hash", 1},
                 {"proof", 100},
                 {"timestamp", genesis_timestamp},
                 {"transactions", Json::array()}};
    std::vector<std::string> texts = {CompactJson(last)};
    for (std::size_t i = 2; i <= count; ++i) {
        std::string last_hash = Sha256Hex(CanonicalJson(last));
        std::uint64_t last_proof = last["proof"].get<std::uint64_t>();
        std::uint64_t proof = 0;
        while (!CheckProof(mining, last_proof, proof, last_hash))
            ++proof;
        Json block = {{"index", i},
                      {"previous_hash", last_hash},
                      {"proof", proof},
                      {"timestamp", genesis_timestamp + static_cast<double>(i) + 0.25},
                      {"transactions",
                       Json::array({{{"amount", 1}, {"recipient", "abc"}, {"sender", "0"}}})}};
        texts.push_back(CompactJson(block));
        last = block;
    }
    return texts;
}

std::string AllReasons(const FetchedChain& chain) {
    std::string out;
    for (const std::string& reason : chain.Reasons())
        out += reason + "\n";
    return out;
}

TEST(FetchedChain, OurOwnChainIsAdoptable) {
    ConsensusParams params = test::EasyParams();
    FetchedChain chain(params, NOW);
    Read(chain, Answer(OurChainText(params, 5), 5), 7);
    EXPECT_TRUE(chain.Complete());
    EXPECT_TRUE(chain.Adoptable()) << AllReasons(chain);
    EXPECT_EQ(chain.Length(), 5u);
    ASSERT_EQ(chain.Blocks().size(), 5u);
    EXPECT_EQ(chain.Blocks()[0], MakeGenesis(params));
    EXPECT_EQ(chain.Blocks()[4].index, 5u);
}

TEST(FetchedChain, ATutorialChainOfAnotherNetworkGetsEveryReason) {
    // Our network: linked rule, genesis at 1700000000.0. Theirs: seed rule, genesis at time().
    ConsensusParams params = test::EasyParams(PowRule::Linked);
    FetchedChain chain(params, NOW);
    Read(chain, Answer(TutorialChainText(PowRule::Seed, 1764745200.5, 6), 6));
    EXPECT_TRUE(chain.Complete());
    EXPECT_FALSE(chain.Adoptable());
    EXPECT_TRUE(chain.Blocks().empty()) << "nothing is kept of a chain that cannot be adopted";
    std::string reasons = AllReasons(chain);
    EXPECT_NE(reasons.find("block 1: different genesis (timestamp 1764745200.5, ours "
                           "1700000000.0): another network"),
              std::string::npos)
        << reasons;
    EXPECT_NE(reasons.find("blocks 2-6: transactions[0]"), std::string::npos) << reasons;
    EXPECT_NE(reasons.find("missing key \"id\""), std::string::npos) << reasons;
    // Difficulty 1 under the other rule: some proofs may pass ours by chance, so at least one
    // block is named, with the hint.
    EXPECT_NE(reasons.find("proof not valid under our linked rule at difficulty 1 (valid under "
                           "the seed rule: that node uses --pow seed)"),
              std::string::npos)
        << reasons;
}

TEST(FetchedChain, ASameGenesisTutorialChainFailsOnlyOnTheMissingIds) {
    ConsensusParams params = test::EasyParams(PowRule::Linked);
    FetchedChain chain(params, NOW);
    Read(chain, Answer(TutorialChainText(PowRule::Linked, params.genesis_timestamp, 4), 4));
    std::vector<std::string> reasons = chain.Reasons();
    ASSERT_EQ(reasons.size(), 1u) << AllReasons(chain);
    EXPECT_EQ(reasons[0].rfind("blocks 2-4: transactions[0]", 0), 0u) << reasons[0];
}

TEST(FetchedChain, LinksAreCheckedOnTheJsonLikeTheTutorial) {
    ConsensusParams params = test::EasyParams();
    std::vector<std::string> texts = OurChainText(params, 4);
    // Block 3 replaced by block 2's text: it does not link to block 2, and its index is wrong.
    texts[2] = texts[1];
    FetchedChain chain(params, NOW);
    Read(chain, Answer(texts, 4));
    std::string reasons = AllReasons(chain);
    EXPECT_NE(reasons.find("blocks 3-4: previous_hash is not the hash of the block before it"),
              std::string::npos)
        << reasons;
    EXPECT_NE(reasons.find("block 3: index does not match"), std::string::npos) << reasons;
}

TEST(FetchedChain, ALengthThatDisagreesIsAReason) {
    ConsensusParams params = test::EasyParams();
    FetchedChain chain(params, NOW);
    Read(chain, Answer(OurChainText(params, 3), 9));
    EXPECT_FALSE(chain.Adoptable());
    EXPECT_EQ(AllReasons(chain), "\"length\" is 9 but \"chain\" has 3 blocks\n");
}

TEST(FetchedChain, FutureTimestampsAreChecked) {
    ConsensusParams params = test::EasyParams();
    Block genesis = MakeGenesis(params);
    Block far = test::MakeChild(params, genesis, {}, 2e8);
    FetchedChain chain(params, NOW);
    Read(chain, Answer({BlockJson(genesis), BlockJson(far)}, 2));
    EXPECT_NE(AllReasons(chain).find("block 2: timestamp-too-far-ahead"), std::string::npos)
        << AllReasons(chain);
}

TEST(FetchedChain, JunkStopsTheReadAtOnce) {
    FetchedChain chain(test::EasyParams(), NOW);
    ASSERT_TRUE(chain.OnHead(200, std::nullopt));
    EXPECT_FALSE(chain.OnBody("{\"chain\":[1,1,1,1,1,1"));
    FetchResult stopped;
    stopped.error = FetchError::Stopped;
    chain.Finish(stopped);
    EXPECT_FALSE(chain.Complete());
    EXPECT_EQ(AllReasons(chain).rfind("not a tutorial /chain answer: chain[0] is not a block", 0),
              0u)
        << AllReasons(chain);
}

TEST(FetchedChain, FailedFetchesAndOtherStatusesAreReasons) {
    FetchedChain status(test::EasyParams(), NOW);
    EXPECT_FALSE(status.OnHead(404, 10));
    FetchResult stopped;
    stopped.error = FetchError::Stopped;
    status.Finish(stopped);
    EXPECT_EQ(AllReasons(status), "GET /chain answered 404\n");

    FetchedChain refused(test::EasyParams(), NOW);
    FetchResult failed;
    failed.error = FetchError::Connect;
    failed.detail = "Connection refused";
    refused.Finish(failed);
    EXPECT_EQ(AllReasons(refused), "not fetched: Connection refused\n");
}

TEST(FetchedChain, AReasonIsShortAndPrintable) {
    // The parser's message quotes the bad token, here a long string with control bytes in it.
    std::string block = "{\"a\": \"" + std::string(100'000, 'x') + "\x01\xff\"}";
    FetchedChain chain(test::EasyParams(), NOW);
    Read(chain, Answer({BlockJson(MakeGenesis(test::EasyParams())), block}, 2));
    std::vector<std::string> reasons = chain.Reasons();
    ASSERT_FALSE(reasons.empty());
    for (const std::string& reason : reasons) {
        EXPECT_LE(reason.size(), MAX_RESOLVE_REASON_BYTES + 32) << reason.substr(0, 300);
        for (char c : reason)
            EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << static_cast<int>(c);
    }
}

TEST(FetchedChain, ReasonsAreCapped) {
    ConsensusParams params = test::EasyParams();
    std::vector<std::string> texts = {BlockJson(MakeGenesis(params))};
    // Each block fails with its own text (a syntax error at another column).
    for (std::size_t i = 0; i < 2 * MAX_RESOLVE_REASONS_PER_PEER; ++i)
        texts.push_back("{\"a\":" + std::string(i, ' ') + "}");
    FetchedChain chain(params, NOW);
    Read(chain, Answer(texts, texts.size()));
    std::vector<std::string> reasons = chain.Reasons();
    ASSERT_EQ(reasons.size(), MAX_RESOLVE_REASONS_PER_PEER + 1) << AllReasons(chain);
    EXPECT_EQ(reasons.back().rfind("and ", 0), 0u) << reasons.back();
}

}  // namespace
}  // namespace gossipchain
