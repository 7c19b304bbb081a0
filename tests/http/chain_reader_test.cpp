// The incremental /chain reader: the tutorial's shape in any split, blocks handed over as their
// exact text, and early refusal of everything else (other first bytes, keys, chain elements,
// nesting, oversized blocks, token floods) without reading on.
#include "http/chain_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gossipchain {
namespace {

struct Read {
    bool fed = false;
    bool finished = false;
    std::vector<std::string> blocks;
    std::string error;
    std::optional<std::uint64_t> length;
};

/** Feeds `body` in pieces of `step` bytes (0: all at once), then finishes. */
Read ReadAll(std::string_view body, std::size_t step = 0) {
    Read read;
    ChainReader reader([&](std::string_view text) {
        read.blocks.emplace_back(text);
        return true;
    });
    read.fed = true;
    if (step == 0)
        step = body.size() + 1;
    for (std::size_t at = 0; at < body.size() && read.fed; at += step)
        read.fed = reader.Feed(body.substr(at, step));
    read.finished = read.fed && reader.Finish();
    read.error = reader.Error();
    read.length = reader.Length();
    return read;
}

const std::string GENESIS =
    R"({"index":1,"previous_hash":1,"proof":100,"timestamp":1700000000.0,"transactions":[]})";
const std::string BLOCK2 =
    R"({"index": 2, "previous_hash": "ab", "proof": 7, "timestamp": 1700000001.5, )"
    R"("transactions": [{"amount": 1, "recipient": "x}]{", "sender": "0\"]"}]})";

TEST(ChainReader, ReadsTheTutorialsShapeInAnyPieces) {
    std::string body = "{\"chain\":[" + GENESIS + "," + BLOCK2 + "],\"length\":2}\n";
    for (std::size_t step : {0, 1, 3, 64}) {
        Read read = ReadAll(body, step);
        EXPECT_TRUE(read.finished) << step << ": " << read.error;
        ASSERT_EQ(read.blocks.size(), 2u) << step;
        EXPECT_EQ(read.blocks[0], GENESIS);
        // Brackets and quotes inside strings do not end the block.
        EXPECT_EQ(read.blocks[1], BLOCK2);
        EXPECT_EQ(read.length, 2u);
    }
}

TEST(ChainReader, TakesLengthFirstAndWhitespaceAnywhere) {
    Read read = ReadAll(" {\n  \"length\" : 1 ,\n  \"chain\" : [ " + GENESIS + " ]\n}\n ");
    EXPECT_TRUE(read.finished) << read.error;
    EXPECT_EQ(read.blocks.size(), 1u);
    EXPECT_EQ(read.length, 1u);

    Read empty = ReadAll(R"({"chain": [], "length": 0})");
    EXPECT_TRUE(empty.finished) << empty.error;
    EXPECT_TRUE(empty.blocks.empty());
}

TEST(ChainReader, RefusesOtherShapesAtTheirFirstByte) {
    struct Case {
        std::string body;
        std::string says;
    };
    const std::string junk(1 << 20, 'x');
    for (const Case& c : std::vector<Case>{
             {"<html>" + junk, "does not start with '{'"},
             {"[[[[" + junk, "does not start with '{'"},
             {"{\"junk\": \"" + junk, "a key other than"},
             {"{\"chained\": 1}", "a key other than"},
             {"{\"ch\\u0061in\": []}", "a key other than"},
             {"{\"chain\": \"" + junk, "\"chain\" is not an array"},
             {"{\"chain\": [1,1,1," + junk, "chain[0] is not a block object"},
             {"{\"chain\": [" + GENESIS + ", [" + junk, "chain[1] is not a block object"},
             {"{\"chain\": [], \"chain\": []}", "key \"chain\" twice"},
             {"{\"length\": -1}", "\"length\" is not a non-negative integer"},
             {"{\"length\": 1.5}", "expected ',' or '}'"},
             {"{\"chain\": []} {}", "more data after the answer"},
         }) {
        Read read = ReadAll(c.body);
        EXPECT_FALSE(read.fed) << c.body.substr(0, 40);
        EXPECT_NE(read.error.find(c.says), std::string::npos) << read.error;
        EXPECT_LT(read.error.size(), 200u) << "the error quotes only a snippet";
    }
}

TEST(ChainReader, RefusesBlocksNestedDeeperThanABlock) {
    Read read = ReadAll(R"({"chain": [{"transactions": [{"amount": [1]}]}]})");
    EXPECT_FALSE(read.fed);
    EXPECT_NE(read.error.find("block 1 is nested deeper"), std::string::npos) << read.error;
    EXPECT_TRUE(read.blocks.empty());
}

TEST(ChainReader, RefusesABlockOfMoreValuesThanABlockCanHave) {
    std::string values;
    for (std::size_t i = 0; i < MAX_CHAIN_BLOCK_TOKENS; ++i)
        values += "1,";
    Read read = ReadAll("{\"chain\": [{\"transactions\": [" + values + "1]}]}");
    EXPECT_FALSE(read.fed);
    EXPECT_NE(read.error.find("values"), std::string::npos) << read.error;
}

TEST(ChainReader, RefusesABlockLongerThanTheCap) {
    std::string text = "{\"chain\": [{\"s\": \"" + std::string(MAX_CHAIN_BLOCK_TEXT_BYTES, 'a');
    for (std::size_t step : {0, 65536}) {
        Read read = ReadAll(text, step);
        EXPECT_FALSE(read.fed);
        EXPECT_NE(read.error.find("block 1 is longer than"), std::string::npos) << read.error;
    }
}

TEST(ChainReader, AnIncompleteAnswerFailsAtFinish) {
    for (const std::string& body :
         {std::string("{\"chain\": [") + GENESIS, std::string("{\"chain\": []"),
          std::string("{\"length\": 3"), std::string("{\"chain\": []}"),
          std::string("{\"length\": 0}"), std::string()}) {
        Read read = ReadAll(body);
        EXPECT_TRUE(read.fed) << body;
        EXPECT_FALSE(read.finished) << body;
        EXPECT_FALSE(read.error.empty()) << body;
    }
}

TEST(ChainReader, TheHandlerCanStopTheReader) {
    int calls = 0;
    ChainReader reader([&](std::string_view) { return ++calls < 1; });
    EXPECT_FALSE(reader.Feed("{\"chain\": [" + GENESIS + "," + GENESIS + "]"));
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(reader.Feed("}"));
}

}  // namespace
}  // namespace gossipchain
