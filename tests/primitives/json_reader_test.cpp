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

// Reads `json` as a block and returns the error (empty when it was accepted).
std::string BlockError(const Json& json) {
    Block block;
    std::string error;
    bool ok = BlockFromJson(json, block, error);
    EXPECT_EQ(ok, error.empty()) << error;
    return ok ? "" : error;
}

std::string TxError(const Json& json) {
    Transaction tx;
    std::string error;
    bool ok = TransactionFromJson(json, tx, error);
    EXPECT_EQ(ok, error.empty()) << error;
    return ok ? "" : error;
}

std::string ParseError(std::string_view text, std::size_t max_depth = MAX_JSON_DEPTH) {
    Json out;
    std::string error;
    bool ok = ParseJson(text, out, error, max_depth);
    EXPECT_EQ(ok, error.empty()) << error;
    return ok ? "" : error;
}

std::string Nested(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonReader, ReadsAValidBlock) {
    Block block;
    std::string error;
    ASSERT_TRUE(BlockFromJson(ValidBlock(), block, error)) << error;
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
    Block block;
    std::string error;
    ASSERT_TRUE(BlockFromJson(genesis, block, error)) << error;
    EXPECT_EQ(block.previous_hash, PreviousHash(std::int64_t{1}));
    EXPECT_EQ(CanonicalJson(BlockToJson(block)), BlockJson(block));
}

TEST(JsonReader, MissingKeysAreNamed) {
    for (const char* key : {"index", "timestamp", "transactions", "proof", "previous_hash"}) {
        Json block = ValidBlock();
        block.erase(key);
        EXPECT_EQ(BlockError(block), std::string("block: missing key \"") + key + "\"");
    }
    for (const char* key : {"sender", "recipient", "amount", "id"}) {
        Json tx = ValidTx();
        tx.erase(key);
        EXPECT_EQ(TxError(tx), std::string("transaction: missing key \"") + key + "\"");
    }
}

TEST(JsonReader, ExtraKeysAreNamed) {
    Json block = ValidBlock();
    block["nonce"] = 7;
    EXPECT_EQ(BlockError(block), "block: unexpected key \"nonce\"");
    Json tx = ValidTx();
    tx["fee\n"] = 1;  // Untrusted key text comes back escaped.
    EXPECT_EQ(TxError(tx), "transaction: unexpected key \"fee\\n\"");
    block = ValidBlock();
    block["transactions"][0]["memo"] = "hi";
    EXPECT_EQ(BlockError(block), "transactions[0]: transaction: unexpected key \"memo\"");
}

TEST(JsonReader, TutorialTransactionWithoutIdIsRejected) {
    Json tx = ValidTx();
    tx.erase("id");
    Json block = ValidBlock();
    block["transactions"] = Json::array({ValidTx(), tx});
    EXPECT_EQ(BlockError(block), "transactions[1]: transaction: missing key \"id\"");
}

TEST(JsonReader, IntegerTimestampIsRejected) {
    Json block = ValidBlock();
    block["timestamp"] = 1700000000;
    std::string error = BlockError(block);
    EXPECT_NE(error.find("\"timestamp\" must be a JSON float"), std::string::npos) << error;
    EXPECT_NE(error.find("1700000000.0"), std::string::npos) << error;
    block["timestamp"] = "1700000000.0";
    EXPECT_NE(BlockError(block).find("timestamp"), std::string::npos);
    block["timestamp"] = std::numeric_limits<double>::infinity();
    EXPECT_EQ(BlockError(block), "\"timestamp\" must be finite");
}

TEST(JsonReader, AmountMustBeAnInteger) {
    Json tx = ValidTx();
    tx["amount"] = 5.0;
    EXPECT_EQ(TxError(tx), "\"amount\" must be an integer, got float 5.0");
    tx["amount"] = "5";
    EXPECT_EQ(TxError(tx), "\"amount\" must be an integer, got string");
    tx["amount"] = std::uint64_t{1} << 63;
    EXPECT_EQ(TxError(tx), "\"amount\" is out of range: 9223372036854775808");
    // Positivity is a consensus rule, not a reading rule.
    tx["amount"] = -3;
    EXPECT_EQ(TxError(tx), "");
}

TEST(JsonReader, IndexAndProofAreNonNegativeIntegers) {
    Json block = ValidBlock();
    block["index"] = -1;
    EXPECT_EQ(BlockError(block), "\"index\" must be a non-negative integer, got -1");
    block = ValidBlock();
    block["index"] = 2.0;
    EXPECT_EQ(BlockError(block), "\"index\" must be an integer, got float 2.0");
    block = ValidBlock();
    block["proof"] = -5;
    EXPECT_EQ(BlockError(block), "\"proof\" must be a non-negative integer, got -5");
    block = ValidBlock();
    block["proof"] = true;
    EXPECT_EQ(BlockError(block), "\"proof\" must be an integer, got boolean");
}

TEST(JsonReader, PreviousHashIsIntegerOrString) {
    Json block = ValidBlock();
    block["previous_hash"] = 1.0;
    EXPECT_EQ(BlockError(block), "\"previous_hash\" must be a string or an integer, got float 1.0");
    block["previous_hash"] = nullptr;
    EXPECT_EQ(BlockError(block), "\"previous_hash\" must be a string or an integer, got null");
    block["previous_hash"] = std::uint64_t{1} << 63;
    EXPECT_EQ(BlockError(block), "\"previous_hash\" is out of range: 9223372036854775808");
}

TEST(JsonReader, WrongContainerTypes) {
    EXPECT_EQ(BlockError(Json::array()), "block must be a JSON object, got array");
    Json block = ValidBlock();
    block["transactions"] = Json::object();
    EXPECT_EQ(BlockError(block), "\"transactions\" must be an array, got object");
    block["transactions"] = Json::array({"tx"});
    EXPECT_EQ(BlockError(block), "transactions[0]: transaction must be a JSON object, got string");
    EXPECT_EQ(TxError(Json()), "transaction must be a JSON object, got null");
}

TEST(JsonReader, StringsMustBeValidUtf8) {
    // Values built in memory (not parsed from text) can hold any bytes.
    Json tx = ValidTx();
    tx["sender"] = std::string("al\xff");
    EXPECT_EQ(TxError(tx), "\"sender\" is not valid UTF-8");
    tx = ValidTx();
    tx["recipient"] = std::string("\xed\xa0\x80");  // An encoded surrogate.
    EXPECT_EQ(TxError(tx), "\"recipient\" is not valid UTF-8");
    Json block = ValidBlock();
    block["previous_hash"] = std::string("\xc0\xaf");  // Overlong '/'.
    EXPECT_EQ(BlockError(block), "\"previous_hash\" is not valid UTF-8");
    tx = ValidTx();
    tx["sender"] = "Zo\xc3\xab \xf0\x9f\x9a\x80";
    EXPECT_EQ(TxError(tx), "");
}

TEST(JsonReader, FailureLeavesOutputUntouched) {
    Block block;
    block.index = 99;
    Json bad = ValidBlock();
    bad["proof"] = -1;
    std::string error;
    EXPECT_FALSE(BlockFromJson(bad, block, error));
    Block expected;
    expected.index = 99;
    EXPECT_EQ(block, expected);
}

TEST(JsonReader, ParseAcceptsJson) {
    Json out;
    std::string error;
    ASSERT_TRUE(ParseJson(" {\"a\": [1, -2, 3.5, \"x\", null, true, {}]}\n", out, error)) << error;
    EXPECT_EQ(out, Json::parse(R"({"a":[1,-2,3.5,"x",null,true,{}]})"));
    ASSERT_TRUE(ParseJson("42", out, error)) << error;
    EXPECT_EQ(out, 42);
    ASSERT_TRUE(ParseJson(R"("\ud83d\ude00")", out, error)) << error;
    EXPECT_EQ(out, "\xf0\x9f\x98\x80");
}

TEST(JsonReader, ParseRejectsGarbage) {
    for (std::string_view text :
         {"", " ", "{", "nope", "{} x", "[1,]", "{\"a\" 1}", "'single'", "NaN", "Infinity",
          "[1e400]", "{\"a\": 01}", "\"\\ud800\"", "\"tab\there\"", "\"\xff\"", "/* c */ 1"}) {
        std::string error = ParseError(text);
        EXPECT_FALSE(error.empty()) << "accepted: " << text;
        EXPECT_EQ(error.find("[json.exception"), std::string::npos) << error;
    }
    EXPECT_NE(ParseError("{\"a\": tru}").find("line 1, column"), std::string::npos);
}

TEST(JsonReader, ParseRejectsTextAfterANulByte) {
    // nlohmann alone stops at a NUL as at the end of the input; found by comparing with python3
    // (tools/check_canonical_json.py) over the fuzzer's corpus.
    using namespace std::string_literals;
    EXPECT_EQ(ParseError("{}\0"s), "NUL byte at offset 2 of the JSON text");
    EXPECT_EQ(ParseError("3.5\0garbage"s), "NUL byte at offset 3 of the JSON text");
    EXPECT_EQ(ParseError("\"a\0b\""s), "NUL byte at offset 2 of the JSON text");
    Json out;
    std::string error;
    ASSERT_TRUE(ParseJson(R"("a\u0000b")", out, error)) << error;
    EXPECT_EQ(out, "a\0b"s);
}

TEST(JsonReader, ParseRejectsIntegersBeyondSixtyFourBits) {
    // nlohmann would read these as the nearest double; Python keeps them exact, so the canonical
    // text would differ from json.dumps (found by tools/check_canonical_json.py).
    EXPECT_EQ(ParseError("18446744073709551615"), "");
    EXPECT_EQ(ParseError("-9223372036854775808"), "");
    EXPECT_EQ(ParseError("18446744073709551616"),
              "integer \"18446744073709551616\" does not fit in 64 bits");
    EXPECT_EQ(ParseError("[-9223372036854775809]"),
              "integer \"-9223372036854775809\" does not fit in 64 bits");
    EXPECT_EQ(ParseError("{\"amount\": 55755575555555557683}"),
              "integer \"55755575555555557683\" does not fit in 64 bits");
    // Large floats stay floats.
    EXPECT_EQ(ParseError("1.8446744073709552e19"), "");
    EXPECT_EQ(ParseError("18446744073709551616.0"), "");
}

TEST(JsonReader, ParseRejectsDuplicateKeys) {
    EXPECT_EQ(ParseError(R"({"proof": 1, "proof": 2})"), "duplicate key \"proof\"");
    EXPECT_EQ(ParseError(R"({"a": {"b": 1, "b": 1}})"), "duplicate key \"b\"");
    EXPECT_EQ(ParseError(R"([{"b": 1}, {"b": 1}])"), "");
}

TEST(JsonReader, ParseEnforcesDepthLimit) {
    EXPECT_EQ(ParseError(Nested(MAX_JSON_DEPTH)), "");
    EXPECT_EQ(ParseError(Nested(MAX_JSON_DEPTH + 1)),
              "JSON nested deeper than " + std::to_string(MAX_JSON_DEPTH) + " levels");
    EXPECT_EQ(ParseError("{\"a\": [{}]}", 3), "");
    EXPECT_EQ(ParseError("{\"a\": [{}]}", 2), "JSON nested deeper than 2 levels");
    EXPECT_EQ(ParseError("7", 0), "");
    EXPECT_EQ(ParseError("[]", 0), "JSON nested deeper than 0 levels");
    // A hostile megabyte of brackets stops at the limit instead of building a deep tree.
    EXPECT_FALSE(ParseError(std::string(1 << 20, '[')).empty());
}

TEST(JsonReader, ParseThenReadBlockText) {
    Json json;
    std::string error;
    ASSERT_TRUE(ParseJson(CanonicalJson(ValidBlock()), json, error)) << error;
    Block block;
    ASSERT_TRUE(BlockFromJson(json, block, error)) << error;
    EXPECT_EQ(BlockJson(block), CanonicalJson(ValidBlock()));

    ASSERT_TRUE(ParseJson(R"({"index": 2, "timestamp": 1700000000, "transactions": [],
                              "proof": 1, "previous_hash": "ab"})",
                          json, error));
    EXPECT_FALSE(BlockFromJson(json, block, error));
}

}  // namespace
}  // namespace gossipchain
