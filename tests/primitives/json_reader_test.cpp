#include "primitives/json_reader.h"

#include "primitives/canonical_json.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace gossipchain {
namespace {

using Json = nlohmann::json;

Json ValidTx() {
    return Json{{"sender", "alice"},
                {"recipient", "bob"},
                {"amount", 5},
                {"id", "0123456789abcdef0123456789abcdef"}};
}

Json ValidBlock() {
    return Json{{"index", 2},
                {"timestamp", 1700000012.5},
                {"transactions", Json::array({ValidTx()})},
                {"proof", 35293},
                {"previous_hash", std::string(64, 'a')}};
}

// What reading `json` as a block, or as a transaction, or parsing `text`, says: Ok or why not.
Status ReadAsBlock(const Json& json) {
    return BlockFromJson(json).GetStatus();
}

Status ReadAsTx(const Json& json) {
    return TransactionFromJson(json).GetStatus();
}

Status Parse(std::string_view text, std::size_t max_depth = MAX_JSON_DEPTH) {
    return ParseJson(text, max_depth).GetStatus();
}

std::string Nested(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonReader, ReadsAValidBlock) {
    Result<Block> read = BlockFromJson(ValidBlock());
    ASSERT_TRUE(read.Ok()) << read.Message();
    const Block& block = read.Value();
    EXPECT_EQ(block.index, 2u);
    EXPECT_EQ(block.timestamp, 1700000012.5);
    EXPECT_EQ(block.proof, 35293u);
    EXPECT_EQ(block.ParentHash(), std::string(64, 'a'));
    ASSERT_EQ(block.transactions.size(), 1u);
    EXPECT_EQ(block.transactions[0].sender, "alice");
    EXPECT_EQ(block.transactions[0].recipient, "bob");
    EXPECT_EQ(block.transactions[0].amount, 5);
    EXPECT_EQ(block.transactions[0].id, "0123456789abcdef0123456789abcdef");
    EXPECT_EQ(BlockToJson(block), ValidBlock());
}

TEST(JsonReader, GenesisLinksToTheIntegerOne) {
    Json genesis = ValidBlock();
    genesis["previous_hash"] = 1;
    genesis["transactions"] = Json::array();
    Result<Block> read = BlockFromJson(genesis);
    ASSERT_TRUE(read.Ok()) << read.Message();
    const Block& block = read.Value();
    EXPECT_EQ(block.previous_hash, PreviousHash(std::int64_t{1}));
    EXPECT_EQ(CanonicalJson(BlockToJson(block)), BlockJson(block));
}

TEST(JsonReader, MissingKeysAreNamed) {
    for (const char* key : {"index", "timestamp", "transactions", "proof", "previous_hash"}) {
        Json block = ValidBlock();
        block.erase(key);
        EXPECT_EQ(ReadAsBlock(block).Message(), std::string("block: missing key \"") + key + "\"");
    }
    for (const char* key : {"sender", "recipient", "amount", "id"}) {
        Json tx = ValidTx();
        tx.erase(key);
        EXPECT_EQ(ReadAsTx(tx).Message(), std::string("transaction: missing key \"") + key + "\"");
    }
}

TEST(JsonReader, ExtraKeysAreNamed) {
    Json block = ValidBlock();
    block["nonce"] = 7;
    EXPECT_EQ(ReadAsBlock(block).Message(), "block: unexpected key \"nonce\"");
    Json tx = ValidTx();
    tx["fee\n"] = 1;  // Untrusted key text comes back escaped.
    EXPECT_EQ(ReadAsTx(tx).Message(), "transaction: unexpected key \"fee\\n\"");
    block = ValidBlock();
    block["transactions"][0]["memo"] = "hi";
    EXPECT_EQ(ReadAsBlock(block).Message(),
              "transactions[0]: transaction: unexpected key \"memo\"");
}

TEST(JsonReader, TutorialTransactionWithoutIdIsRejected) {
    Json tx = ValidTx();
    tx.erase("id");
    Json block = ValidBlock();
    block["transactions"] = Json::array({ValidTx(), tx});
    EXPECT_EQ(ReadAsBlock(block).Message(), "transactions[1]: transaction: missing key \"id\"");
}

TEST(JsonReader, IntegerTimestampIsRejected) {
    Json block = ValidBlock();
    block["timestamp"] = 1700000000;
    std::string error = ReadAsBlock(block).Message();
    EXPECT_NE(error.find("\"timestamp\" must be a JSON float"), std::string::npos) << error;
    EXPECT_NE(error.find("1700000000.0"), std::string::npos) << error;
    block["timestamp"] = "1700000000.0";
    EXPECT_NE(ReadAsBlock(block).Message().find("timestamp"), std::string::npos);
    block["timestamp"] = std::numeric_limits<double>::infinity();
    EXPECT_EQ(ReadAsBlock(block).Message(), "\"timestamp\" must be finite");
}

TEST(JsonReader, AmountMustBeAnInteger) {
    Json tx = ValidTx();
    tx["amount"] = 5.0;
    EXPECT_EQ(ReadAsTx(tx).Message(), "\"amount\" must be an integer, got float 5.0");
    tx["amount"] = "5";
    EXPECT_EQ(ReadAsTx(tx).Message(), "\"amount\" must be an integer, got string");
    tx["amount"] = std::uint64_t{1} << 63;
    EXPECT_EQ(ReadAsTx(tx).Message(), "\"amount\" is out of range: 9223372036854775808");
    // Positivity is a consensus rule, not a reading rule.
    tx["amount"] = -3;
    EXPECT_TRUE(ReadAsTx(tx).Ok());
}

TEST(JsonReader, IndexAndProofAreNonNegativeIntegers) {
    Json block = ValidBlock();
    block["index"] = -1;
    EXPECT_EQ(ReadAsBlock(block).Message(), "\"index\" must be a non-negative integer, got -1");
    block = ValidBlock();
    block["index"] = 2.0;
    EXPECT_EQ(ReadAsBlock(block).Message(), "\"index\" must be an integer, got float 2.0");
    block = ValidBlock();
    block["proof"] = -5;
    EXPECT_EQ(ReadAsBlock(block).Message(), "\"proof\" must be a non-negative integer, got -5");
    block = ValidBlock();
    block["proof"] = true;
    EXPECT_EQ(ReadAsBlock(block).Message(), "\"proof\" must be an integer, got boolean");
}

TEST(JsonReader, PreviousHashIsIntegerOrString) {
    Json block = ValidBlock();
    block["previous_hash"] = 1.0;
    EXPECT_EQ(ReadAsBlock(block).Message(),
              "\"previous_hash\" must be a string or an integer, got float 1.0");
    block["previous_hash"] = nullptr;
    EXPECT_EQ(ReadAsBlock(block).Message(),
              "\"previous_hash\" must be a string or an integer, got null");
    block["previous_hash"] = std::uint64_t{1} << 63;
    EXPECT_EQ(ReadAsBlock(block).Message(),
              "\"previous_hash\" is out of range: 9223372036854775808");
}

TEST(JsonReader, WrongContainerTypes) {
    EXPECT_EQ(ReadAsBlock(Json::array()).Message(), "block must be a JSON object, got array");
    Json block = ValidBlock();
    block["transactions"] = Json::object();
    EXPECT_EQ(ReadAsBlock(block).Message(), "\"transactions\" must be an array, got object");
    block["transactions"] = Json::array({"tx"});
    EXPECT_EQ(ReadAsBlock(block).Message(),
              "transactions[0]: transaction must be a JSON object, got string");
    EXPECT_EQ(ReadAsTx(Json()).Message(), "transaction must be a JSON object, got null");
}

TEST(JsonReader, StringsMustBeValidUtf8) {
    // Values built in memory (not parsed from text) can hold any bytes.
    Json tx = ValidTx();
    tx["sender"] = std::string("al\xff");
    EXPECT_EQ(ReadAsTx(tx).Message(), "\"sender\" is not valid UTF-8");
    tx = ValidTx();
    tx["recipient"] = std::string("\xed\xa0\x80");  // An encoded surrogate.
    EXPECT_EQ(ReadAsTx(tx).Message(), "\"recipient\" is not valid UTF-8");
    Json block = ValidBlock();
    block["previous_hash"] = std::string("\xc0\xaf");  // Overlong '/'.
    EXPECT_EQ(ReadAsBlock(block).Message(), "\"previous_hash\" is not valid UTF-8");
    tx = ValidTx();
    tx["sender"] = "Zo\xc3\xab \xf0\x9f\x9a\x80";
    EXPECT_TRUE(ReadAsTx(tx).Ok());
}

TEST(JsonReader, FailureIsAFailedStatus) {
    Json bad = ValidBlock();
    bad["proof"] = -1;
    Result<Block> read = BlockFromJson(bad);
    EXPECT_FALSE(read.Ok());
    EXPECT_EQ(read.GetStatus().Code(), StatusCode::Failed);
    EXPECT_EQ(read.Message(), "\"proof\" must be a non-negative integer, got -1");
}

TEST(JsonReader, ParseAcceptsJson) {
    Result<Json> out = ParseJson(" {\"a\": [1, -2, 3.5, \"x\", null, true, {}]}\n");
    ASSERT_TRUE(out.Ok()) << out.Message();
    EXPECT_EQ(out.Value(), Json::parse(R"({"a":[1,-2,3.5,"x",null,true,{}]})"));
    out = ParseJson("42");
    ASSERT_TRUE(out.Ok()) << out.Message();
    EXPECT_EQ(out.Value(), 42);
    out = ParseJson(R"("\ud83d\ude00")");
    ASSERT_TRUE(out.Ok()) << out.Message();
    EXPECT_EQ(out.Value(), "\xf0\x9f\x98\x80");
}

TEST(JsonReader, ParseRejectsGarbage) {
    for (std::string_view text :
         {"", " ", "{", "nope", "{} x", "[1,]", "{\"a\" 1}", "'single'", "NaN", "Infinity",
          "[1e400]", "{\"a\": 01}", "\"\\ud800\"", "\"tab\there\"", "\"\xff\"", "/* c */ 1"}) {
        Status parsed = Parse(text);
        EXPECT_FALSE(parsed.Ok()) << "accepted: " << text;
        EXPECT_EQ(parsed.Message().find("[json.exception"), std::string::npos) << parsed.Message();
    }
    EXPECT_NE(Parse("{\"a\": tru}").Message().find("line 1, column"), std::string::npos);
}

TEST(JsonReader, ParseRejectsTextAfterANulByte) {
    // nlohmann alone stops at a NUL as at the end of the input; found by comparing with python3
    // (tools/check_canonical_json.py) over the fuzzer's corpus.
    using namespace std::string_literals;
    EXPECT_EQ(Parse("{}\0"s).Message(), "NUL byte at offset 2 of the JSON text");
    EXPECT_EQ(Parse("3.5\0garbage"s).Message(), "NUL byte at offset 3 of the JSON text");
    EXPECT_EQ(Parse("\"a\0b\""s).Message(), "NUL byte at offset 2 of the JSON text");
    Result<Json> out = ParseJson(R"("a\u0000b")");
    ASSERT_TRUE(out.Ok()) << out.Message();
    EXPECT_EQ(out.Value(), "a\0b"s);
}

TEST(JsonReader, ParseRejectsIntegersBeyondSixtyFourBits) {
    // nlohmann would read these as the nearest double; Python keeps them exact, so the canonical
    // text would differ from json.dumps (found by tools/check_canonical_json.py).
    EXPECT_TRUE(Parse("18446744073709551615").Ok());
    EXPECT_TRUE(Parse("-9223372036854775808").Ok());
    EXPECT_EQ(Parse("18446744073709551616").Message(),
              "integer \"18446744073709551616\" does not fit in 64 bits");
    EXPECT_EQ(Parse("[-9223372036854775809]").Message(),
              "integer \"-9223372036854775809\" does not fit in 64 bits");
    EXPECT_EQ(Parse("{\"amount\": 55755575555555557683}").Message(),
              "integer \"55755575555555557683\" does not fit in 64 bits");
    // Large floats stay floats.
    EXPECT_TRUE(Parse("1.8446744073709552e19").Ok());
    EXPECT_TRUE(Parse("18446744073709551616.0").Ok());
}

TEST(JsonReader, ParseRejectsDuplicateKeys) {
    EXPECT_EQ(Parse(R"({"proof": 1, "proof": 2})").Message(), "duplicate key \"proof\"");
    EXPECT_EQ(Parse(R"({"a": {"b": 1, "b": 1}})").Message(), "duplicate key \"b\"");
    EXPECT_TRUE(Parse(R"([{"b": 1}, {"b": 1}])").Ok());
}

TEST(JsonReader, ParseEnforcesDepthLimit) {
    EXPECT_TRUE(Parse(Nested(MAX_JSON_DEPTH)).Ok());
    EXPECT_EQ(Parse(Nested(MAX_JSON_DEPTH + 1)).Message(),
              "JSON nested deeper than " + std::to_string(MAX_JSON_DEPTH) + " levels");
    EXPECT_TRUE(Parse("{\"a\": [{}]}", 3).Ok());
    EXPECT_EQ(Parse("{\"a\": [{}]}", 2).Message(), "JSON nested deeper than 2 levels");
    EXPECT_TRUE(Parse("7", 0).Ok());
    EXPECT_EQ(Parse("[]", 0).Message(), "JSON nested deeper than 0 levels");
    // A hostile megabyte of brackets stops at the limit instead of building a deep tree.
    EXPECT_FALSE(Parse(std::string(1 << 20, '[')).Ok());
}

TEST(JsonReader, ParseThenReadBlockText) {
    Result<Json> json = ParseJson(CanonicalJson(ValidBlock()));
    ASSERT_TRUE(json.Ok()) << json.Message();
    Result<Block> block = BlockFromJson(json.Value());
    ASSERT_TRUE(block.Ok()) << block.Message();
    EXPECT_EQ(BlockJson(block.Value()), CanonicalJson(ValidBlock()));

    json = ParseJson(R"({"index": 2, "timestamp": 1700000000, "transactions": [],
                         "proof": 1, "previous_hash": "ab"})");
    ASSERT_TRUE(json.Ok()) << json.Message();
    EXPECT_FALSE(BlockFromJson(json.Value()).Ok());
}

}  // namespace
}  // namespace gossipchain
