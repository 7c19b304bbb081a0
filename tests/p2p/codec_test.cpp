// Tests for the gossip message codec: round trips, the independently generated vectors in
// protocol/vectors/frames.json (decode, compare fields, re-encode to the same bytes), and a long
// list of hostile inputs that must come back as errors, never as crashes or exceptions.
#include "p2p/codec.h"

#include "consensus/params.h"
#include "p2p/messages.h"
#include "support/hex_bytes.h"

#include <gtest/gtest.h>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>

#include <bit>
#include <cstdint>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

using Json = nlohmann::ordered_json;

using test::FromHex;
using test::ToHex;

const Json& Vectors() {
    static const Json vectors = [] {
        std::ifstream in(std::string(GOSSIPCHAIN_SOURCE_DIR) + "/protocol/vectors/frames.json");
        std::stringstream text;
        text << in.rdbuf();
        return Json::parse(text.str());
    }();
    return vectors;
}

// A second msgpack writer for test inputs: JSON in, msgpack out, floats always float64, keys in
// the JSON's own order. Used to build hostile payloads field by field.
void PackJson(msgpack::sbuffer& buffer, const Json& j) {
    msgpack::packer<msgpack::sbuffer> pk(buffer);
    switch (j.type()) {
        case Json::value_t::null:
            pk.pack_nil();
            return;
        case Json::value_t::boolean:
            j.get<bool>() ? pk.pack_true() : pk.pack_false();
            return;
        case Json::value_t::number_unsigned:
            pk.pack_uint64(j.get<std::uint64_t>());
            return;
        case Json::value_t::number_integer:
            pk.pack_int64(j.get<std::int64_t>());
            return;
        case Json::value_t::number_float: {
            // Not pack_double: msgpack-c 4 writes integral doubles as ints.
            auto bits = std::bit_cast<std::uint64_t>(j.get<double>());
            char bytes[9] = {static_cast<char>(0xcb)};
            for (int i = 0; i < 8; ++i)
                bytes[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
            buffer.write(bytes, sizeof(bytes));
            return;
        }
        case Json::value_t::string: {
            const auto& s = j.get_ref<const std::string&>();
            pk.pack_str(static_cast<std::uint32_t>(s.size()));
            pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
            return;
        }
        case Json::value_t::array:
            pk.pack_array(static_cast<std::uint32_t>(j.size()));
            for (const auto& item : j)
                PackJson(buffer, item);
            return;
        case Json::value_t::object:
            pk.pack_map(static_cast<std::uint32_t>(j.size()));
            for (const auto& [key, item] : j.items()) {
                PackJson(buffer, key);
                PackJson(buffer, item);
            }
            return;
        default:
            FAIL() << "unsupported JSON value";
    }
}

std::string PackJson(const Json& j) {
    msgpack::sbuffer buffer;
    PackJson(buffer, j);
    return {buffer.data(), buffer.size()};
}

Transaction TxFromJson(const Json& j) {
    Transaction tx{j.at("sender").get<std::string>(), j.at("recipient").get<std::string>(),
                   j.at("amount").get<std::int64_t>(), j.value("id", std::string())};
    if (j.contains("nonce")) {
        tx.nonce = j.at("nonce").get<std::uint64_t>();
        tx.signature = j.at("signature").get<std::string>();
    }
    return tx;
}

std::vector<Transaction> TxsFromJson(const Json& j) {
    std::vector<Transaction> txs;
    for (const auto& item : j)
        txs.push_back(TxFromJson(item));
    return txs;
}

Block BlockFromJson(const Json& j) {
    Block block;
    block.index = j.at("index").get<std::uint64_t>();
    block.timestamp = j.at("timestamp").get<double>();
    block.transactions = TxsFromJson(j.at("transactions"));
    block.proof = j.at("proof").get<std::uint64_t>();
    const Json& previous = j.at("previous_hash");
    if (previous.is_string()) {
        block.previous_hash = previous.get<std::string>();
    } else {
        block.previous_hash = previous.get<std::int64_t>();
    }
    return block;
}

Message MessageFromJson(const Json& description) {
    const std::string type = description.at("type").get<std::string>();
    const Json& b = description.at("body");
    if (type == "Hello") {
        return Hello{b.at("protocol_version").get<std::uint32_t>(),
                     b.at("network_id").get<std::string>(),
                     b.at("node_id").get<std::string>(),
                     b.at("listen_port").get<std::uint16_t>(),
                     b.at("height").get<std::uint64_t>(),
                     b.at("tip").get<std::string>(),
                     b.at("agent").get<std::string>()};
    }
    if (type == "Ping")
        return Ping{b.at("nonce").get<std::uint64_t>()};
    if (type == "Pong")
        return Pong{b.at("nonce").get<std::uint64_t>()};
    if (type == "AnnounceBlock")
        return AnnounceBlock{BlockFromJson(b.at("block"))};
    if (type == "RequestChain") {
        return RequestChain{b.at("locator").get<std::vector<std::string>>(),
                            b.at("limit").get<std::uint32_t>()};
    }
    if (type == "Chain") {
        Chain chain;
        for (const auto& item : b.at("blocks"))
            chain.blocks.push_back(BlockFromJson(item));
        chain.more = b.at("more").get<bool>();
        return chain;
    }
    if (type == "RegisterPeer") {
        return RegisterPeer{b.at("host").get<std::string>(), b.at("port").get<std::uint16_t>()};
    }
    if (type == "Peers")
        return Peers{b.at("addresses").get<std::vector<std::string>>()};
    if (type == "NewTransactions")
        return NewTransactions{TxsFromJson(b.at("transactions"))};
    if (type == "Reject") {
        return Reject{b.at("code").get<std::uint32_t>(), b.at("reason").get<std::string>()};
    }
    if (type == "TxInventory")
        return TxInventory{b.at("txids").get<std::vector<std::string>>()};
    if (type == "GetTransactions")
        return GetTransactions{b.at("txids").get<std::vector<std::string>>()};
    if (type == "BlockInventory")
        return BlockInventory{b.at("hash").get<std::string>(), b.at("height").get<std::uint64_t>()};
    if (type == "GetBlock")
        return GetBlock{b.at("hash").get<std::string>()};
    if (type == "CompactBlock") {
        return CompactBlock{b.at("hash").get<std::string>(), BlockFromJson(b.at("header")),
                            b.at("short_ids").get<std::vector<std::uint32_t>>(),
                            TxsFromJson(b.at("prefilled"))};
    }
    if (type == "GetBlockTxs") {
        return GetBlockTxs{b.at("hash").get<std::string>(),
                           b.at("indexes").get<std::vector<std::uint32_t>>()};
    }
    if (type == "BlockTxs")
        return BlockTxs{b.at("hash").get<std::string>(), TxsFromJson(b.at("transactions"))};
    ADD_FAILURE() << "unknown type in vector: " << type;
    return Ping{};
}

std::string HashOf(char c) {
    return std::string(HASH_HEX_CHARS, c);
}

Transaction SampleTx(int n) {
    std::string id(TX_ID_HEX_CHARS, '0');
    id.back() = static_cast<char>('a' + n % 6);
    id[0] = static_cast<char>('0' + n % 10);
    return Transaction{"alice", "bob", 5 + n, id};
}

Block SampleBlock(std::uint64_t index, std::size_t tx_count) {
    Block block;
    block.index = index;
    block.timestamp = 1700000000.25 + static_cast<double>(index);
    for (std::size_t i = 0; i < tx_count; ++i) {
        block.transactions.push_back(SampleTx(static_cast<int>(i)));
    }
    block.proof = 12345 + index;
    block.previous_hash = HashOf('b');
    return block;
}

std::vector<Message> OneOfEach() {
    return {
        Hello{PROTOCOL_VERSION, HashOf('a') + "/linked/4", std::string(32, 'c'), 5001, 42,
              HashOf('d'), "gossipchain/test"},
        Ping{7},
        Pong{std::numeric_limits<std::uint64_t>::max()},
        AnnounceBlock{SampleBlock(3, 2)},
        AnnounceBlock{MakeGenesis(ConsensusParams{})},
        RequestChain{{HashOf('1'), HashOf('2')}, 500},
        Chain{{SampleBlock(2, 0), SampleBlock(3, 3)}, true},
        RegisterPeer{"", 5002},
        Peers{{"127.0.0.1:5001", "example.org:80"}},
        NewTransactions{{SampleTx(1), SampleTx(2)}},
        Reject{static_cast<std::uint32_t>(RejectCode::WrongNetwork), "wrong network"},
        TxInventory{{HashOf('a'), HashOf('b')}},
        GetTransactions{{HashOf('c')}},
        BlockInventory{HashOf('d'), 7},
        GetBlock{HashOf('e')},
        CompactBlock{HashOf('f'), SampleBlock(2, 0), {1, 2, 3}, {SampleTx(1)}},
        GetBlockTxs{HashOf('1'), {0, 4}},
        BlockTxs{HashOf('2'), {SampleTx(3)}},
    };
}

// Decodes a payload expected to be refused, with the given error class.
void ExpectError(std::string_view payload, DecodeErrorCode code, const std::string& what) {
    DecodeResult result = DecodeMessage(payload);
    ASSERT_FALSE(result.Ok()) << what << ": decoded as type "
                              << MessageTypeName(TypeOf(result.Value()));
    EXPECT_EQ(DecodeErrorCodeName(result.Error().code), DecodeErrorCodeName(code))
        << what << ": " << result.Error().text;
    EXPECT_FALSE(result.Error().text.empty()) << what;
}

Json Envelope(MessageType type, Json body) {
    return Json::array({static_cast<int>(type), std::move(body)});
}

Json HelloBody() {
    return Json{{"protocol_version", 1}, {"network_id", "n"}, {"node_id", std::string(32, 'a')},
                {"listen_port", 1},      {"height", 1},       {"tip", HashOf('f')},
                {"agent", "a"}};
}

Json TxJson() {
    return Json{
        {"sender", "alice"}, {"recipient", "bob"}, {"amount", 5}, {"id", std::string(32, 'e')}};
}

Json BlockJson() {
    return Json{{"index", 2},
                {"timestamp", 1700000001.5},
                {"transactions", Json::array({TxJson()})},
                {"proof", 9},
                {"previous_hash", HashOf('b')}};
}

TEST(Codec, RoundTripsEveryMessageType) {
    for (const Message& message : OneOfEach()) {
        std::string payload = EncodeMessage(message);
        DecodeResult result = DecodeMessage(payload);
        ASSERT_TRUE(result.Ok()) << MessageTypeName(TypeOf(message)) << ": " << result.Error().text;
        EXPECT_EQ(result.Value(), message) << MessageTypeName(TypeOf(message));
        EXPECT_EQ(EncodeMessage(result.Value()), payload);
    }
}

TEST(Codec, AppendMessageKeepsWhatIsAlreadyInTheBuffer) {
    std::string out = "HDR!";
    AppendMessage(out, Ping{1});
    EXPECT_EQ(out, "HDR!" + EncodeMessage(Ping{1}));
}

TEST(Codec, EncodesCanonicalBytes) {
    // [2, {"nonce": 0}] with a positive fixint type and a fixstr key.
    EXPECT_EQ(ToHex(EncodeMessage(Ping{0})), "920281a56e6f6e636500");
    // 300 needs uint16; 2^32 needs uint64.
    EXPECT_EQ(ToHex(EncodeMessage(Pong{300})), "920381a56e6f6e6365cd012c");
    EXPECT_EQ(ToHex(EncodeMessage(Pong{std::uint64_t{1} << 32})),
              "920381a56e6f6e6365cf0000000100000000");
}

TEST(Codec, TypeOfMatchesWireNumbers) {
    EXPECT_EQ(TypeOf(Message{Hello{}}), MessageType::Hello);
    EXPECT_EQ(TypeOf(Message{Reject{}}), MessageType::Reject);
    EXPECT_EQ(MessageTypeName(MessageType::RequestChain), "RequestChain");
    EXPECT_EQ(MessageTypeName(static_cast<MessageType>(99)), "Unknown");
}

TEST(CodecVectors, DecodeToTheDescribedFieldsAndReencodeToTheSameBytes) {
    const Json& valid = Vectors().at("valid");
    ASSERT_GE(valid.size(), 10u);
    std::set<std::string> types_seen;
    for (const auto& vector : valid) {
        const std::string name = vector.at("name").get<std::string>();
        const std::string payload = FromHex(vector.at("payload_hex").get<std::string>());
        const Message expected = MessageFromJson(vector.at("message"));
        types_seen.insert(vector.at("message").at("type").get<std::string>());

        DecodeResult result = DecodeMessage(payload);
        ASSERT_TRUE(result.Ok()) << name << ": " << result.Error().text;
        EXPECT_EQ(result.Value(), expected) << name;
        EXPECT_EQ(ToHex(EncodeMessage(result.Value())), ToHex(payload)) << name;
        // msgpack-c's own packer agrees with the Python encoder on the same description.
        Json envelope = Envelope(TypeOf(expected), vector.at("message").at("body"));
        EXPECT_EQ(ToHex(PackJson(envelope)), ToHex(payload)) << name;
    }
    EXPECT_EQ(types_seen.size(), std::variant_size_v<Message>);
}

TEST(CodecVectors, InvalidVectorsAreRefusedWithTheListedError) {
    const Json& invalid = Vectors().at("invalid");
    ASSERT_GE(invalid.size(), 10u);
    for (const auto& vector : invalid) {
        const std::string name = vector.at("name").get<std::string>();
        DecodeResult result = DecodeMessage(FromHex(vector.at("payload_hex").get<std::string>()));
        ASSERT_FALSE(result.Ok()) << name;
        EXPECT_EQ(DecodeErrorCodeName(result.Error().code), vector.at("error").get<std::string>())
            << name << ": " << result.Error().text;
    }
}

TEST(CodecMalformed, EveryTruncationIsAnError) {
    for (const Message& message : OneOfEach()) {
        std::string payload = EncodeMessage(message);
        for (std::size_t length = 0; length < payload.size(); ++length) {
            DecodeResult result = DecodeMessage(std::string_view(payload).substr(0, length));
            ASSERT_FALSE(result.Ok()) << MessageTypeName(TypeOf(message)) << " cut at " << length;
        }
    }
}

TEST(CodecMalformed, TrailingBytesAreAnError) {
    ExpectError(EncodeMessage(Ping{1}) + EncodeMessage(Ping{2}), DecodeErrorCode::Malformed,
                "two messages in one payload");
}

// Replaces every value of every valid vector, one at a time, by a value of the wrong type and
// expects an InvalidField error that names exactly that field.
void CheckWrongTypes(const std::string& type_name, const Json& envelope, Json& node,
                     const std::string& path, int& checked) {
    if (node.is_object() || node.is_array()) {
        std::size_t index = 0;
        for (auto it = node.begin(); it != node.end(); ++it, ++index) {
            std::string child =
                node.is_object() ? path + "." + it.key() : path + "[" + std::to_string(index) + "]";
            Json original = *it;
            // Floats become ints (a timestamp encoded as an int), bools become ints, and
            // everything else becomes a bool, which no string, number or container field takes.
            if (original.is_number_float()) {
                *it = static_cast<std::int64_t>(original.get<double>());
            } else if (original.is_boolean()) {
                *it = 1;
            } else {
                *it = true;
            }
            ExpectError(PackJson(envelope), DecodeErrorCode::InvalidField, type_name + child);
            DecodeResult result = DecodeMessage(PackJson(envelope));
            if (!result.Ok()) {
                EXPECT_EQ(result.Error().text.rfind(type_name + child + ": ", 0), 0u)
                    << result.Error().text;
            }
            *it = std::move(original);
            ++checked;
            CheckWrongTypes(type_name, envelope, *it, child, checked);
        }
    }
}

TEST(CodecMalformed, WrongTypeForEachFieldIsAnErrorNamingTheField) {
    int checked = 0;
    for (const auto& vector : Vectors().at("valid")) {
        const Json& description = vector.at("message");
        const std::string type_name = description.at("type").get<std::string>();
        Json envelope = Envelope(TypeOf(MessageFromJson(description)), description.at("body"));
        ASSERT_TRUE(DecodeMessage(PackJson(envelope)).Ok()) << vector.at("name");
        CheckWrongTypes(type_name, envelope, envelope[1], "", checked);
    }
    EXPECT_GT(checked, 100);
}

TEST(CodecMalformed, MissingKeysAreErrors) {
    const Json hello = HelloBody();
    for (const auto& [key, value] : hello.items()) {
        Json copy = hello;
        copy.erase(key);
        ExpectError(PackJson(Envelope(MessageType::Hello, copy)), DecodeErrorCode::InvalidField,
                    "Hello without " + key);
    }
    const Json full_block = BlockJson();
    for (const auto& [key, value] : full_block.items()) {
        Json block = full_block;
        block.erase(key);
        ExpectError(PackJson(Envelope(MessageType::AnnounceBlock, {{"block", block}})),
                    DecodeErrorCode::InvalidField, "block without " + key);
    }
    const Json full_tx = TxJson();
    for (const auto& [key, value] : full_tx.items()) {
        Json tx = full_tx;
        tx.erase(key);
        ExpectError(
            PackJson(Envelope(MessageType::NewTransactions, {{"transactions", Json::array({tx})}})),
            DecodeErrorCode::InvalidField, "tx without " + key);
    }
}

TEST(CodecForwardCompatibility, UnknownBodyKeysAreIgnored) {
    Json body = HelloBody();
    body["future_field"] = Json::array({1, "two", {{"three", 3.0}}});
    DecodeResult result = DecodeMessage(PackJson(Envelope(MessageType::Hello, body)));
    ASSERT_TRUE(result.Ok()) << result.Error().text;
    EXPECT_EQ(std::get<Hello>(result.Value()).agent, "a");
}

TEST(CodecForwardCompatibility, UnknownBlockAndTransactionKeysAreErrors) {
    Json block = BlockJson();
    block["nonce"] = 1;
    ExpectError(PackJson(Envelope(MessageType::AnnounceBlock, {{"block", block}})),
                DecodeErrorCode::InvalidField, "block with an extra key");
    Json tx = TxJson();
    tx["memo"] = "hi";
    ExpectError(
        PackJson(Envelope(MessageType::NewTransactions, {{"transactions", Json::array({tx})}})),
        DecodeErrorCode::InvalidField, "tx with an extra key");
}

TEST(CodecMalformed, UnknownTypesAreReportedAsSuch) {
    for (std::uint64_t type : {std::uint64_t{0}, std::uint64_t{18}, std::uint64_t{255},
                               std::numeric_limits<std::uint64_t>::max()}) {
        ExpectError(PackJson(Json::array({type, Json::object()})), DecodeErrorCode::UnknownType,
                    "type " + std::to_string(type));
    }
    ExpectError(PackJson(Json::array({-1, Json::object()})), DecodeErrorCode::Malformed,
                "negative type");
}

TEST(CodecMalformed, DeepNestingIsRefused) {
    std::string deep(10000, '\x91');
    deep.push_back('\x00');
    ExpectError(deep, DecodeErrorCode::LimitExceeded, "10,000 nested arrays at the root");
    // The same inside an unknown key of a body the decoder would otherwise accept.
    std::string ping = "\x92\x02\x82\xa5nonce\x01\xa1x" + deep;
    ExpectError(ping, DecodeErrorCode::LimitExceeded, "10,000 nested arrays in a body");
    std::string maps;
    for (int i = 0; i < 10000; ++i)
        maps += "\x81\xa1k";
    maps.push_back('\x00');
    ExpectError(maps, DecodeErrorCode::LimitExceeded, "10,000 nested maps");
}

TEST(CodecMalformed, DeclaredSizesWithoutTheBytesAreRefused) {
    // An array of 2^32-1 elements and a map of 2^32-1 entries, declared but not sent, at the
    // root and inside a body: refused by the parser limits before anything is allocated, even
    // when plenty of bytes follow.
    const std::string HUGE_ARRAY = "\xdd\xff\xff\xff\xff";
    const std::string HUGE_MAP = "\xdf\xff\xff\xff\xff";
    for (const std::string& huge : {HUGE_ARRAY, HUGE_MAP}) {
        ExpectError(huge, DecodeErrorCode::LimitExceeded, "root " + ToHex(huge));
        ExpectError(
            "\x92\x08\x81\xa9"
            "addresses" +
                huge,
            DecodeErrorCode::LimitExceeded, "addresses " + ToHex(huge));
        ExpectError(huge + std::string(70000, '\0'), DecodeErrorCode::LimitExceeded,
                    "padded " + ToHex(huge));
    }
    // A str or bin of 2^32-1 bytes: the parser waits for the bytes (it never allocates for
    // them, strings are referenced in place) and reports the payload as truncated.
    const std::string HUGE_STR = "\xdb\xff\xff\xff\xff";
    const std::string HUGE_BIN = "\xc6\xff\xff\xff\xff";
    for (const std::string& huge : {HUGE_STR, HUGE_BIN}) {
        ExpectError(huge, DecodeErrorCode::Malformed, "root " + ToHex(huge));
        ExpectError(
            "\x92\x0a\x82\xa4"
            "code\x01\xa6reason" +
                huge,
            DecodeErrorCode::Malformed, "reason " + ToHex(huge));
        ExpectError(huge + std::string(70000, '\0'), DecodeErrorCode::Malformed,
                    "padded " + ToHex(huge));
    }
    // Present but over the parser's str limit, and any bin at all: refused as over the limits.
    ExpectError("\xda\x10\x01" + std::string(4097, 'x'), DecodeErrorCode::LimitExceeded,
                "str of MAX_MSGPACK_STR_BYTES + 1");
    ExpectError(std::string("\x92\x02\x82\xa5nonce\x01\xa1x\xc4\x01\x00", 15),
                DecodeErrorCode::LimitExceeded, "bin under an unknown key");
}

TEST(CodecMalformed, PayloadAboveTheMessageLimitIsRefused) {
    std::string payload(MAX_MESSAGE_BYTES + 1, '\0');
    ExpectError(payload, DecodeErrorCode::LimitExceeded, "oversize payload");
}

TEST(CodecMalformed, InvalidUtf8IsRefusedInEveryTextField) {
    const std::vector<std::string> bad = {"\xc3\x28", "\xc0\xaf",         "\xed\xa0\x80",
                                          "\xe2\x82", "\xf4\x90\x80\x80", "ok\xff"};
    for (const std::string& text : bad) {
        // nlohmann refuses to hold invalid UTF-8 only when dumping, so it can carry these bytes.
        Json hello = HelloBody();
        hello["network_id"] = text;
        ExpectError(PackJson(Envelope(MessageType::Hello, hello)), DecodeErrorCode::InvalidField,
                    "network_id " + ToHex(text));
        hello = HelloBody();
        hello["agent"] = text;
        ExpectError(PackJson(Envelope(MessageType::Hello, hello)), DecodeErrorCode::InvalidField,
                    "agent " + ToHex(text));
        for (const char* field : {"sender", "recipient"}) {
            Json tx = TxJson();
            tx[field] = text;
            ExpectError(PackJson(Envelope(MessageType::NewTransactions,
                                          {{"transactions", Json::array({tx})}})),
                        DecodeErrorCode::InvalidField, std::string(field) + " " + ToHex(text));
        }
        ExpectError(PackJson(Envelope(MessageType::RegisterPeer, {{"host", text}, {"port", 1}})),
                    DecodeErrorCode::InvalidField, "host " + ToHex(text));
        ExpectError(PackJson(Envelope(MessageType::Peers, {{"addresses", Json::array({text})}})),
                    DecodeErrorCode::InvalidField, "address " + ToHex(text));
        ExpectError(PackJson(Envelope(MessageType::Reject, {{"code", 1}, {"reason", text}})),
                    DecodeErrorCode::InvalidField, "reason " + ToHex(text));
    }
}

TEST(CodecMalformed, TimestampMustBeAFiniteFloat64) {
    Json block = BlockJson();
    block["timestamp"] = 1700000001;
    ExpectError(PackJson(Envelope(MessageType::AnnounceBlock, {{"block", block}})),
                DecodeErrorCode::InvalidField, "int timestamp");
    Block infinite = SampleBlock(2, 0);
    infinite.timestamp = std::numeric_limits<double>::infinity();
    ExpectError(EncodeMessage(AnnounceBlock{infinite}), DecodeErrorCode::InvalidField,
                "infinite timestamp");
    infinite.timestamp = std::numeric_limits<double>::quiet_NaN();
    ExpectError(EncodeMessage(AnnounceBlock{infinite}), DecodeErrorCode::InvalidField,
                "NaN timestamp");
}

TEST(CodecMalformed, ProofMustBeBelowTwoToThe63) {
    Block block = SampleBlock(2, 0);
    block.proof = MAX_PROOF;
    EXPECT_TRUE(DecodeMessage(EncodeMessage(AnnounceBlock{block})).Ok());
    block.proof = MAX_PROOF + 1;
    ExpectError(EncodeMessage(AnnounceBlock{block}), DecodeErrorCode::InvalidField, "2^63");
    block.proof = std::numeric_limits<std::uint64_t>::max();
    ExpectError(EncodeMessage(AnnounceBlock{block}), DecodeErrorCode::InvalidField, "2^64-1");
}

TEST(CodecMalformed, IntegersOutOfRangeAreRefused) {
    Json tx = TxJson();
    tx["amount"] = std::uint64_t{1} << 63;
    ExpectError(
        PackJson(Envelope(MessageType::NewTransactions, {{"transactions", Json::array({tx})}})),
        DecodeErrorCode::InvalidField, "amount 2^63");
    ExpectError(PackJson(Envelope(MessageType::RegisterPeer, {{"host", ""}, {"port", 65536}})),
                DecodeErrorCode::InvalidField, "port 65536");
    Json hello = HelloBody();
    hello["protocol_version"] = std::uint64_t{1} << 32;
    ExpectError(PackJson(Envelope(MessageType::Hello, hello)), DecodeErrorCode::InvalidField,
                "protocol_version 2^32");
    ExpectError(
        PackJson(Envelope(MessageType::RequestChain, {{"locator", Json::array()}, {"limit", -1}})),
        DecodeErrorCode::InvalidField, "negative limit");
}

TEST(CodecMalformed, DuplicateKeysAreRefused) {
    ExpectError(std::string("\x92\x02\x82\xa5nonce\x01\xa5nonce\x01", 17),
                DecodeErrorCode::InvalidField, "duplicate nonce");
}

TEST(CodecLimits, ListsAreAcceptedUpToTheirLimitAndRefusedAbove) {
    RequestChain request{std::vector<std::string>(MAX_LOCATOR_HASHES, HashOf('a')), 1};
    EXPECT_TRUE(DecodeMessage(EncodeMessage(request)).Ok());
    request.locator.push_back(HashOf('a'));
    ExpectError(EncodeMessage(request), DecodeErrorCode::InvalidField, "locator +1");

    Peers peers{std::vector<std::string>(MAX_PEERS_PER_MESSAGE, "10.0.0.1:5000")};
    EXPECT_TRUE(DecodeMessage(EncodeMessage(peers)).Ok());
    peers.addresses.push_back("10.0.0.1:5000");
    ExpectError(EncodeMessage(peers), DecodeErrorCode::InvalidField, "peers +1");

    NewTransactions txs{std::vector<Transaction>(MAX_TXS_PER_MESSAGE, SampleTx(1))};
    EXPECT_TRUE(DecodeMessage(EncodeMessage(txs)).Ok());
    txs.transactions.push_back(SampleTx(1));
    ExpectError(EncodeMessage(txs), DecodeErrorCode::InvalidField, "txs +1");

    Chain chain{std::vector<Block>(MAX_CHAIN_BATCH_BLOCKS, SampleBlock(2, 1)), false};
    EXPECT_TRUE(DecodeMessage(EncodeMessage(chain)).Ok());
    chain.blocks.push_back(SampleBlock(2, 1));
    ExpectError(EncodeMessage(chain), DecodeErrorCode::InvalidField, "blocks +1");

    AnnounceBlock full{SampleBlock(2, MAX_BLOCK_TRANSACTIONS)};
    EXPECT_TRUE(DecodeMessage(EncodeMessage(full)).Ok());
    full.block.transactions.push_back(SampleTx(1));
    ExpectError(EncodeMessage(full), DecodeErrorCode::LimitExceeded, "block txs +1");
}

TEST(CodecLimits, StringsAreAcceptedUpToTheirLimitAndRefusedAbove) {
    Hello hello{
        PROTOCOL_VERSION, std::string(MAX_NETWORK_ID_BYTES, 'n'), std::string(32, 'c'), 0, 0,
        HashOf('d'),      std::string(MAX_AGENT_BYTES, 'a')};
    EXPECT_TRUE(DecodeMessage(EncodeMessage(hello)).Ok());
    hello.agent.push_back('a');
    ExpectError(EncodeMessage(hello), DecodeErrorCode::InvalidField, "agent +1");

    Reject reject{1, std::string(MAX_REJECT_REASON_BYTES, 'r')};
    EXPECT_TRUE(DecodeMessage(EncodeMessage(reject)).Ok());
    reject.reason.push_back('r');
    ExpectError(EncodeMessage(reject), DecodeErrorCode::InvalidField, "reason +1");

    Transaction tx = SampleTx(1);
    tx.sender = std::string(MAX_ADDRESS_BYTES, 's');
    EXPECT_TRUE(DecodeMessage(EncodeMessage(NewTransactions{{tx}})).Ok());
    tx.sender.push_back('s');
    ExpectError(EncodeMessage(NewTransactions{{tx}}), DecodeErrorCode::InvalidField, "sender +1");

    ExpectError(EncodeMessage(RegisterPeer{std::string(MAX_HOST_BYTES + 1, 'h'), 1}),
                DecodeErrorCode::InvalidField, "host +1");
    ExpectError(EncodeMessage(Peers{{std::string(MAX_PEER_ADDRESS_BYTES + 1, 'p')}}),
                DecodeErrorCode::InvalidField, "address +1");
}

TEST(CodecMalformed, IdentifiersMustBeLowercaseHexOfTheirLength) {
    Hello hello = std::get<Hello>(OneOfEach()[0]);
    hello.node_id = std::string(31, 'c');
    ExpectError(EncodeMessage(hello), DecodeErrorCode::InvalidField, "short node id");
    hello = std::get<Hello>(OneOfEach()[0]);
    hello.tip = HashOf('D');
    ExpectError(EncodeMessage(hello), DecodeErrorCode::InvalidField, "uppercase tip");
    ExpectError(EncodeMessage(RequestChain{{"genesis"}, 1}), DecodeErrorCode::InvalidField,
                "locator entry not a hash");
    Transaction tx = SampleTx(1);
    tx.id += "0";
    ExpectError(EncodeMessage(NewTransactions{{tx}}), DecodeErrorCode::InvalidField, "long id");
}

// Every single-byte corruption of every valid vector must decode to either an error or a message
// that re-encodes and decodes to itself; never a crash, hang or exception.
TEST(CodecMalformed, SingleByteCorruptionsNeverCrash) {
    int decoded = 0;
    for (const auto& vector : Vectors().at("valid")) {
        const std::string payload = FromHex(vector.at("payload_hex").get<std::string>());
        for (std::size_t i = 0; i < payload.size(); ++i) {
            for (unsigned char value : {0x00, 0x7f, 0x80, 0xc1, 0xcb, 0xdd, 0xff}) {
                std::string corrupt = payload;
                corrupt[i] = static_cast<char>(value);
                DecodeResult result = DecodeMessage(corrupt);
                if (!result.Ok())
                    continue;
                ++decoded;
                DecodeResult again = DecodeMessage(EncodeMessage(result.Value()));
                ASSERT_TRUE(again.Ok()) << again.Error().text;
                EXPECT_EQ(again.Value(), result.Value());
            }
        }
    }
    EXPECT_GT(decoded, 0);
}

}  // namespace
}  // namespace gossipchain
