#include "primitives/block.h"

#include "crypto/sha256.h"
#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"
#include "primitives/vector_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace gossipchain {
namespace {

Block ReadBlock(const nlohmann::json& json) {
    Result<Block> block = BlockFromJson(json);
    EXPECT_TRUE(block.Ok()) << block.Message();
    return block.Ok() ? std::move(block).Value() : Block();
}

TEST(Block, GossipchainChainMatchesPython) {
    nlohmann::json doc = test::LoadVectorFile("gossipchain_chain.json");
    const auto& blocks = doc["blocks"];
    ASSERT_GE(blocks.size(), 5u);
    std::size_t transactions = 0;
    std::string parent_hash;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        SCOPED_TRACE("block " + std::to_string(i));
        const auto& vector = blocks[i];
        Block block = ReadBlock(vector["block"]);
        const auto& canonical = vector["canonical"].get_ref<const std::string&>();
        EXPECT_EQ(BlockJson(block), canonical);
        EXPECT_EQ(CanonicalJson(BlockToJson(block)), canonical);
        EXPECT_EQ(BlockHash(block), vector["hash"].get<std::string>());
        ASSERT_EQ(block.transactions.size(), vector["txids"].size());
        for (std::size_t t = 0; t < block.transactions.size(); ++t) {
            EXPECT_EQ(TxId(block.transactions[t]), vector["txids"][t].get<std::string>());
            ++transactions;
        }
        if (i > 0) {
            EXPECT_EQ(block.ParentHash(), parent_hash);
        }
        parent_hash = BlockHash(block);
    }
    EXPECT_GE(transactions, 8u);
}

TEST(Block, GossipchainChainCarriesValidLinkedProofs) {
    nlohmann::json doc = test::LoadVectorFile("gossipchain_chain.json");
    ASSERT_EQ(doc["pow_rule"], "linked");
    auto difficulty = doc["difficulty"].get<std::size_t>();
    const auto& blocks = doc["blocks"];
    for (std::size_t i = 1; i < blocks.size(); ++i) {
        Block last = ReadBlock(blocks[i - 1]["block"]);
        Block block = ReadBlock(blocks[i]["block"]);
        std::string guess =
            std::to_string(last.proof) + std::to_string(block.proof) + BlockHash(last);
        EXPECT_EQ(Sha256Hex(guess).substr(0, difficulty), std::string(difficulty, '0'))
            << "block " << i;
    }
}

TEST(Block, GenesisHashDependsOnlyOnTheBlock) {
    nlohmann::json doc = test::LoadVectorFile("gossipchain_chain.json");
    Block genesis;
    genesis.index = 1;
    genesis.timestamp = 1700000000.0;
    genesis.proof = 100;
    genesis.previous_hash = std::int64_t{1};
    EXPECT_EQ(BlockJson(genesis),
              "{\"index\": 1, \"previous_hash\": 1, \"proof\": 100, \"timestamp\": 1700000000.0, "
              "\"transactions\": []}");
    EXPECT_EQ(BlockHash(genesis), doc["genesis_hash"].get<std::string>());
    EXPECT_EQ(BlockHash(genesis), doc["blocks"][0]["hash"].get<std::string>());
    EXPECT_EQ(genesis.ParentHash(), "");
}

TEST(Block, EveryFieldChangesTheHash) {
    nlohmann::json doc = test::LoadVectorFile("gossipchain_chain.json");
    const Block original = ReadBlock(doc["blocks"][2]["block"]);
    ASSERT_FALSE(original.transactions.empty());
    const std::string hash = BlockHash(original);
    Block changed = original;
    changed.index += 1;
    EXPECT_NE(BlockHash(changed), hash);
    changed = original;
    changed.timestamp = std::nextafter(changed.timestamp, 0.0);
    EXPECT_NE(BlockHash(changed), hash);
    changed = original;
    changed.proof += 1;
    EXPECT_NE(BlockHash(changed), hash);
    changed = original;
    changed.transactions[0].amount += 1;
    EXPECT_NE(BlockHash(changed), hash);
    changed = original;
    changed.transactions[0].id[0] = changed.transactions[0].id[0] == 'a' ? 'b' : 'a';
    EXPECT_NE(BlockHash(changed), hash);
    changed = original;
    changed.previous_hash = std::int64_t{1};
    EXPECT_NE(BlockHash(changed), hash);
}

TEST(Block, JsonRoundTripThroughText) {
    nlohmann::json doc = test::LoadVectorFile("gossipchain_chain.json");
    for (const auto& vector : doc["blocks"]) {
        Block block = ReadBlock(vector["block"]);
        Result<nlohmann::json> reparsed = ParseJson(BlockJson(block));
        ASSERT_TRUE(reparsed.Ok()) << reparsed.Message();
        EXPECT_EQ(ReadBlock(reparsed.Value()), block);
    }
}

}  // namespace
}  // namespace gossipchain
