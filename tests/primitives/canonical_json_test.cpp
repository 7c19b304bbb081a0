#include "primitives/canonical_json.h"

#include "crypto/sha256.h"
#include "primitives/json_reader.h"
#include "primitives/vector_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace gossipchain {
namespace {

std::string Double(double v) {
    std::string out;
    AppendJsonDouble(out, v);
    return out;
}

std::string Quoted(std::string_view s) {
    std::string out;
    AppendJsonString(out, s);
    return out;
}

TEST(CanonicalJson, FloatsFollowPythonRepr) {
    EXPECT_EQ(Double(1700000000.0), "1700000000.0");
    EXPECT_EQ(Double(1e16), "1e+16");
    EXPECT_EQ(Double(1e-05), "1e-05");
    EXPECT_EQ(Double(-0.0), "-0.0");
    EXPECT_EQ(Double(0.1), "0.1");
    EXPECT_EQ(Double(1506057125.900785), "1506057125.900785");
    EXPECT_EQ(Double(0.0001), "0.0001");
    EXPECT_EQ(Double(123456789012345678.0), "1.2345678901234568e+17");
    EXPECT_EQ(Double(9999999999999998.0), "9999999999999998.0");
    EXPECT_EQ(Double(5e-324), "5e-324");
    EXPECT_EQ(Double(1.7976931348623157e308), "1.7976931348623157e+308");
    EXPECT_EQ(Double(1.5e-100), "1.5e-100");
}

TEST(CanonicalJson, NonFiniteFloatsAsPythonWritesThem) {
    EXPECT_EQ(Double(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(Double(std::numeric_limits<double>::infinity()), "Infinity");
    EXPECT_EQ(Double(-std::numeric_limits<double>::infinity()), "-Infinity");
}

TEST(CanonicalJson, StringsEscapeLikeEnsureAscii) {
    EXPECT_EQ(Quoted("plain / text"), "\"plain / text\"");
    EXPECT_EQ(Quoted("\"\\"), "\"\\\"\\\\\"");
    EXPECT_EQ(Quoted("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
    EXPECT_EQ(Quoted(std::string_view("\x00\x1f", 2)), "\"\\u0000\\u001f\"");
    EXPECT_EQ(Quoted("a\x7f"), "\"a\\u007f\"");  // DEL is outside ' '..'~', so Python escapes it.
    EXPECT_EQ(Quoted("caf\xc3\xa9"), "\"caf\\u00e9\"");
    EXPECT_EQ(Quoted("\xe4\xb8\xad"), "\"\\u4e2d\"");
    EXPECT_EQ(Quoted("\xf0\x9f\x98\x80"), "\"\\ud83d\\ude00\"");
    EXPECT_EQ(Quoted("\xf4\x8f\xbf\xbf"), "\"\\udbff\\udfff\"");
}

TEST(CanonicalJson, EscapingDoesNotDependOnPosition) {
    // The writer scans eight bytes at a time; every ASCII byte must be caught in every lane and
    // in the byte-wise tail.
    for (int byte = 0; byte < 0x80; ++byte) {
        std::string alone = Quoted(std::string(1, static_cast<char>(byte)));
        std::string inner = alone.substr(1, alone.size() - 2);
        for (std::size_t pos = 0; pos < 19; ++pos) {
            std::string text(19, 'a');
            text[pos] = static_cast<char>(byte);
            EXPECT_EQ(Quoted(text),
                      "\"" + std::string(pos, 'a') + inner + std::string(18 - pos, 'a') + "\"")
                << "byte " << byte << " at " << pos;
        }
    }
}

TEST(CanonicalJson, TruncatedUtf8StaysInBounds) {
    // Callers validate UTF-8 first; this only shows a bad string cannot read past its end.
    EXPECT_EQ(Quoted("\xf0\x9f"), "\"\\u00f0\\u009f\"");
    EXPECT_EQ(Quoted("\xc3"), "\"\\u00c3\"");
}

TEST(CanonicalJson, IntegersAtTheEdges) {
    EXPECT_EQ(CanonicalJson(nlohmann::json(std::numeric_limits<std::int64_t>::min())),
              "-9223372036854775808");
    EXPECT_EQ(CanonicalJson(nlohmann::json(std::numeric_limits<std::uint64_t>::max())),
              "18446744073709551615");
    EXPECT_EQ(CanonicalJson(nlohmann::json(0)), "0");
}

TEST(CanonicalJson, EveryPythonVectorMatches) {
    nlohmann::json doc = test::LoadVectorFile("canonical_json.json");
    const auto& cases = doc["cases"];
    ASSERT_GE(cases.size(), 700u);
    std::size_t checked = 0;
    for (const auto& c : cases) {
        const auto& name = c["name"].get_ref<const std::string&>();
        const auto& input = c["input"].get_ref<const std::string&>();
        const auto& expected = c["canonical"].get_ref<const std::string&>();
        Result<nlohmann::json> value = ParseJson(input);
        ASSERT_TRUE(value.Ok()) << name << ": " << value.Message();
        EXPECT_EQ(value.Value(), nlohmann::json::parse(input)) << name;
        std::string written = CanonicalJson(value.Value());
        EXPECT_EQ(written, expected) << name << " input " << input;
        EXPECT_EQ(Sha256Hex(written), c["sha256"].get<std::string>()) << name;
        ++checked;
    }
    EXPECT_EQ(checked, cases.size());
}

TEST(CanonicalJson, VectorsCoverTheHardCases) {
    // Guards against a regenerated vector file that silently lost its difficult inputs.
    nlohmann::json doc = test::LoadVectorFile("canonical_json.json");
    std::size_t random_doubles = 0, random_strings = 0, surrogate_pairs = 0, exponents = 0;
    for (const auto& c : doc["cases"]) {
        const auto& name = c["name"].get_ref<const std::string&>();
        const auto& out = c["canonical"].get_ref<const std::string&>();
        random_doubles += name.starts_with("double_");
        random_strings += name.starts_with("string_random_");
        surrogate_pairs += out.find("\\ud8") != std::string::npos;
        exponents += out.find("e-") != std::string::npos || out.find("e+") != std::string::npos;
    }
    EXPECT_GE(random_doubles, 300u);
    EXPECT_GE(random_strings, 200u);
    EXPECT_GE(surrogate_pairs, 50u);
    EXPECT_GE(exponents, 100u);
}

// The tutorial's valid_proof, both rules, for checking the recorded proofs.
bool TutorialProofValid(const std::string& rule, int difficulty, const nlohmann::json& last_block,
                        const nlohmann::json& block) {
    std::string guess = last_block["proof"].dump() + block["proof"].dump();
    if (rule == "linked")
        guess += Sha256Hex(CanonicalJson(last_block));
    return Sha256Hex(guess).compare(0, static_cast<std::size_t>(difficulty),
                                    std::string(static_cast<std::size_t>(difficulty), '0')) == 0;
}

TEST(CanonicalJson, TutorialChainHashesMatchPython) {
    nlohmann::json doc = test::LoadVectorFile("tutorial_chain.json");
    ASSERT_EQ(doc["chains"].size(), 2u);
    for (const auto& vector : doc["chains"]) {
        const auto& rule = vector["pow_rule"].get_ref<const std::string&>();
        int difficulty = vector["difficulty"].get<int>();
        const auto& chain = vector["chain"];
        const auto& hashes = vector["hashes"];
        ASSERT_GE(chain.size(), 5u);
        ASSERT_EQ(chain.size(), hashes.size());
        EXPECT_EQ(chain[0]["previous_hash"], 1);
        for (std::size_t i = 0; i < chain.size(); ++i) {
            EXPECT_EQ(Sha256Hex(CanonicalJson(chain[i])), hashes[i].get<std::string>())
                << rule << " block " << i;
            if (i == 0)
                continue;
            EXPECT_EQ(chain[i]["previous_hash"], hashes[i - 1]) << rule << " block " << i;
            EXPECT_TRUE(TutorialProofValid(rule, difficulty, chain[i - 1], chain[i]))
                << rule << " block " << i;
        }
    }
}

TEST(CanonicalJson, TutorialProofCheckCanFail) {
    nlohmann::json doc = test::LoadVectorFile("tutorial_chain.json");
    const auto& chain = doc["chains"][0]["chain"];
    nlohmann::json forged = chain[1];
    forged["proof"] = forged["proof"].get<std::uint64_t>() + 1;
    EXPECT_FALSE(TutorialProofValid("seed", 4, chain[0], forged));
}

}  // namespace
}  // namespace gossipchain
