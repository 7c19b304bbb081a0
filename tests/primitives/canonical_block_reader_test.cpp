#include "primitives/canonical_block_reader.h"

#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

/** What the general reader makes of `text`: the block, or its refusal. */
Result<Block> GeneralRead(std::string_view text) {
    Result<nlohmann::json> json = ParseJson(text);
    if (!json.Ok())
        return json.GetStatus();
    return BlockFromJson(json.Value());
}

/** Random blocks as the store holds them, with every number shape BlockJson writes. */
class RandomBlocks {
public:
    explicit RandomBlocks(std::uint32_t seed) : m_rng(seed) {}

    Block Next(bool escapes) {
        Block block;
        block.index =
            Pick<std::uint64_t>({0, 1, 2, 100'000, std::numeric_limits<std::uint64_t>::max()});
        block.proof = Pick<std::uint64_t>({0, 7, (std::uint64_t{1} << 63) - 1});
        block.timestamp = Timestamp();
        block.previous_hash = Text(64, false);
        std::size_t count = m_rng() % 6;
        for (std::size_t i = 0; i < count; ++i) {
            block.transactions.push_back(
                {Text(m_rng() % 20, escapes), Text(m_rng() % 40, escapes),
                 Pick<std::int64_t>({1, 5, -3, 0, std::numeric_limits<std::int64_t>::max(),
                                     std::numeric_limits<std::int64_t>::min()}),
                 Text(32, false)});
        }
        return block;
    }

private:
    template <typename T>
    T Pick(std::initializer_list<T> edges) {
        // Half the time an edge value, else any value of the type.
        if (m_rng() % 2)
            return *(edges.begin() + m_rng() % edges.size());
        return static_cast<T>((static_cast<std::uint64_t>(m_rng()) << 32) | m_rng());
    }
    double Timestamp() {
        switch (m_rng() % 4) {
            case 0:
                return 1.7e9 + static_cast<double>(m_rng()) / 977.0;
            case 1:
                // Exponent forms: Python writes 1e-05 and 1e+16 style.
                return std::ldexp(static_cast<double>(m_rng()),
                                  static_cast<int>(m_rng() % 200) - 100);
            case 2:
                return static_cast<double>(m_rng() % 1000);
            default:
                return -std::ldexp(static_cast<double>(m_rng()), static_cast<int>(m_rng() % 60));
        }
    }
    /** `length` printable characters; with `escapes`, also quotes, backslashes, controls and
     * non-ASCII UTF-8, which BlockJson escapes. */
    std::string Text(std::size_t length, bool escapes) {
        static const std::string plain = "abcdef0123456789 XYZ:/.-_";
        static const std::vector<std::string> special = {"\"",   "\\",       "\n",
                                                         "\x01", "\xc3\xa9", "\xf0\x9f\x98\x80"};
        std::string out;
        for (std::size_t i = 0; i < length; ++i) {
            if (escapes && m_rng() % 4 == 0)
                out += special[m_rng() % special.size()];
            else
                out += plain[m_rng() % plain.size()];
        }
        return out;
    }

    std::mt19937 m_rng;
};

TEST(CanonicalBlockReader, RandomBlocksRoundTripThroughTheFastPath) {
    RandomBlocks blocks(15);
    for (int i = 0; i < 5000; ++i) {
        Block block = blocks.Next(false);
        const std::string text = BlockJson(block);
        Block read;
        ASSERT_TRUE(CanonicalBlockReader(text).Read(read)) << text;
        EXPECT_EQ(read, block) << text;
        EXPECT_EQ(BlockJson(read), text);
        Result<Block> parsed = ParseCanonicalBlock(text);
        ASSERT_TRUE(parsed.Ok()) << parsed.Message();
        EXPECT_EQ(parsed.Value(), block);
    }
}

TEST(CanonicalBlockReader, BlocksThatNeedEscapesFallBackToTheSameBlock) {
    RandomBlocks blocks(16);
    std::size_t refused = 0;
    for (int i = 0; i < 2000; ++i) {
        Block block = blocks.Next(true);
        const std::string text = BlockJson(block);
        Block read;
        if (!CanonicalBlockReader(text).Read(read))
            ++refused;
        Result<Block> parsed = ParseCanonicalBlock(text);
        Result<Block> general = GeneralRead(text);
        ASSERT_EQ(parsed.Ok(), general.Ok()) << text;
        if (general.Ok()) {
            EXPECT_EQ(parsed.Value(), general.Value()) << text;
        }
    }
    // Most of these blocks hold an escape, which the fast reader leaves to the general one.
    EXPECT_GT(refused, 1000u);
}

TEST(CanonicalBlockReader, GenesisLinkFallsBack) {
    Block genesis;
    genesis.index = 1;
    genesis.timestamp = 1700000000.0;
    genesis.proof = 100;
    genesis.previous_hash = std::int64_t{1};
    const std::string text = BlockJson(genesis);
    Block read;
    EXPECT_FALSE(CanonicalBlockReader(text).Read(read));
    Result<Block> parsed = ParseCanonicalBlock(text);
    ASSERT_TRUE(parsed.Ok()) << parsed.Message();
    EXPECT_EQ(parsed.Value(), genesis);
}

/** A canonical block text and near misses of it, each as ParseCanonicalBlock must read it. */
class CanonicalBlockReaderNearMisses : public ::testing::Test {
protected:
    CanonicalBlockReaderNearMisses() {
        RandomBlocks blocks(17);
        m_block = blocks.Next(false);
        m_block.timestamp = 1700000001.5;
        m_block.transactions = {{"alice", "bob", 5, std::string(32, 'a')}};
        m_text = BlockJson(m_block);
    }
    std::string Replace(std::string_view what, std::string_view with) const {
        std::string text = m_text;
        std::size_t at = text.find(what);
        EXPECT_NE(at, std::string::npos) << what;
        return text.replace(at, what.size(), with);
    }
    /** The fast path must agree with the general reader on `text`. */
    static void ExpectSameAsGeneral(const std::string& text) {
        Result<Block> parsed = ParseCanonicalBlock(text);
        Result<Block> general = GeneralRead(text);
        ASSERT_EQ(parsed.Ok(), general.Ok()) << text;
        if (general.Ok()) {
            EXPECT_EQ(parsed.Value(), general.Value()) << text;
        } else {
            EXPECT_EQ(parsed.Message(), general.Message()) << text;
        }
    }

    Block m_block;
    std::string m_text;
};

TEST_F(CanonicalBlockReaderNearMisses, NonFiniteTimestampsAreRefusedAsJsonRefusesThem) {
    // BlockJson writes NaN and Infinity as Python does, and from_chars reads them back, but they
    // are not JSON: the general reader refuses such a block, so the fast one must too.
    for (const char* literal : {"NaN", "Infinity", "-Infinity"}) {
        std::string text = Replace("1700000001.5", literal);
        Block read;
        EXPECT_FALSE(CanonicalBlockReader(text).Read(read)) << text;
        EXPECT_FALSE(ParseCanonicalBlock(text).Ok()) << text;
        ExpectSameAsGeneral(text);
    }
}

TEST_F(CanonicalBlockReaderNearMisses, OtherSpellingsOfTheSameNumbersFallBack) {
    // from_chars takes these, BlockJson would not write them: the byte comparison sends them to
    // the general reader, which reads them (or not) as always.
    for (const std::string& text :
         {Replace("1700000001.5", "1700000001.50"), Replace("1700000001.5", "17000000015e-1"),
          Replace("1700000001.5", "1700000001"), Replace("\"amount\": 5", "\"amount\": 05"),
          Replace("\"amount\": 5", "\"amount\": -0"), Replace("{\"index\": ", "{\"index\": 0")}) {
        ExpectSameAsGeneral(text);
        Result<Block> parsed = ParseCanonicalBlock(text);
        if (parsed.Ok()) {
            EXPECT_NE(BlockJson(parsed.Value()), text) << text;
        }
    }
}

TEST_F(CanonicalBlockReaderNearMisses, OtherLayoutsAreReadByTheGeneralReader) {
    Result<nlohmann::json> json = ParseJson(m_text);
    ASSERT_TRUE(json.Ok());
    for (const std::string& text :
         {CompactJson(json.Value()), m_text + " ", " " + m_text, m_text + "\n",
          Replace(", \"proof\"", ",\"proof\""), Replace("\"transactions\"", "\"transactionz\""),
          Replace("\"alice\"", "\"al\\u0069ce\""), m_text + "{}"}) {
        Block read;
        EXPECT_FALSE(CanonicalBlockReader(text).Read(read) && BlockJson(read) == text) << text;
        ExpectSameAsGeneral(text);
    }
}

TEST_F(CanonicalBlockReaderNearMisses, EveryTruncationIsRefused) {
    for (std::size_t length = 0; length < m_text.size(); ++length) {
        std::string text = m_text.substr(0, length);
        Block read;
        EXPECT_FALSE(CanonicalBlockReader(text).Read(read)) << text;
        EXPECT_FALSE(ParseCanonicalBlock(text).Ok()) << text;
    }
}

}  // namespace
}  // namespace gossipchain
