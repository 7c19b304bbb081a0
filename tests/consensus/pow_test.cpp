#include "consensus/pow.h"

#include <gtest/gtest.h>

namespace gossipchain {
namespace {

TEST(Pow, SeedRuleKnownAnswerIs35293) {
    ConsensusParams params;
    params.pow_rule = PowRule::Seed;
    params.difficulty = 4;
    std::uint64_t proof = 0;
    while (!CheckProof(params, 100, proof, ""))
        ++proof;
    EXPECT_EQ(proof, 35293u);
    EXPECT_EQ(Sha256Hex(PowPreimage(PowRule::Seed, 100, 35293, "")).substr(0, 4), "0000");
}

TEST(Pow, PreimageIsTheTutorialFString) {
    EXPECT_EQ(PowPreimage(PowRule::Seed, 100, 35293, "ab"), "10035293");
    EXPECT_EQ(PowPreimage(PowRule::Linked, 100, 35293, "ab"), "10035293ab");
}

TEST(Pow, LinkedRuleDependsOnLastHash) {
    ConsensusParams params;
    params.pow_rule = PowRule::Linked;
    params.difficulty = 3;
    std::string hash_a(64, 'a');
    std::string hash_b(64, 'b');
    std::uint64_t proof = 0;
    while (!CheckProof(params, 7, proof, hash_a))
        ++proof;
    std::uint64_t other = 0;
    while (!CheckProof(params, 7, other, hash_b))
        ++other;
    EXPECT_NE(proof, other);
}

TEST(Pow, LeadingHexZerosCountsNibbles) {
    Hash256 digest{};
    digest[0] = 0x00;
    digest[1] = 0x0f;
    EXPECT_TRUE(HasLeadingHexZeros(digest, 3));
    EXPECT_FALSE(HasLeadingHexZeros(digest, 4));
    digest[1] = 0x10;
    EXPECT_TRUE(HasLeadingHexZeros(digest, 2));
    EXPECT_FALSE(HasLeadingHexZeros(digest, 3));
    EXPECT_TRUE(HasLeadingHexZeros(digest, 0));
}

TEST(Pow, ProofAboveMaxIsRejected) {
    ConsensusParams params;
    params.difficulty = 0;
    EXPECT_TRUE(CheckProof(params, 1, MAX_PROOF, ""));
    EXPECT_FALSE(CheckProof(params, 1, MAX_PROOF + 1, ""));
}

TEST(Params, GenesisIsTheTutorialGenesis) {
    ConsensusParams params;
    Block genesis = MakeGenesis(params);
    EXPECT_EQ(genesis.index, 1u);
    EXPECT_EQ(genesis.proof, 100u);
    EXPECT_TRUE(genesis.transactions.empty());
    EXPECT_EQ(std::get<std::int64_t>(genesis.previous_hash), 1);
    EXPECT_EQ(genesis.timestamp, 1700000000.0);
}

TEST(Params, NetworkIdSeparatesRulesAndDifficulty) {
    ConsensusParams a;
    ConsensusParams b = a;
    b.difficulty = 5;
    ConsensusParams c = a;
    c.pow_rule = PowRule::Seed;
    EXPECT_NE(NetworkId(a), NetworkId(b));
    EXPECT_NE(NetworkId(a), NetworkId(c));
    EXPECT_EQ(NetworkId(a).substr(0, 64), BlockHash(MakeGenesis(a)));
    EXPECT_EQ(ParsePowRule("seed"), PowRule::Seed);
    EXPECT_EQ(ParsePowRule("linked"), PowRule::Linked);
    EXPECT_FALSE(ParsePowRule("sha3").has_value());
}

TEST(Pow, HeaderRuleCommitsToTheBlockContent) {
    ConsensusParams params;
    params.pow_rule = PowRule::Header;
    params.difficulty = 2;
    Block block;
    block.index = 2;
    block.timestamp = 1700000001.0;
    block.previous_hash = std::string(64, 'a');
    block.transactions.push_back(Transaction{"alice", "bob", 5, std::string(32, 'b')});
    const std::string parent_hash = block.ParentHash();
    while (!CheckBlockProof(params, block, 9, parent_hash))
        ++block.proof;
    EXPECT_FALSE(CheckProof(params, 9, block.proof, parent_hash));
    // The digest ignores the proof, and the preimage is 80 bytes whatever the block holds.
    Block other_proof = block;
    other_proof.proof += 1;
    EXPECT_EQ(BlockContentDigest(other_proof), BlockContentDigest(block));
    HeaderPreimage preimage = MakeHeaderPreimage(parent_hash, BlockContentDigest(block), 9, 258);
    EXPECT_EQ(preimage[0], 0xaa);
    EXPECT_EQ(preimage[71], 9);
    EXPECT_EQ(preimage[78], 1);
    EXPECT_EQ(preimage[79], 2);
    // Change the content and the same proof fails for at least one of several variants (each
    // passes by chance with probability 1/256).
    int still_valid = 0;
    for (std::int64_t amount = 6; amount < 14; ++amount) {
        Block changed = block;
        changed.transactions[0].amount = amount;
        still_valid += CheckBlockProof(params, changed, 9, parent_hash);
    }
    EXPECT_LT(still_valid, 8);
    EXPECT_EQ(ParsePowRule("header"), PowRule::Header);
}

TEST(Params, OpenNetworkIdIsUnchangedAndOtherRulesAreNamed) {
    ConsensusParams open;
    EXPECT_EQ(NetworkId(open),
              "e9e15af60d7465a1d85491783968224a0d97754ffb0df70b8237aec809d9076d/linked/4");
    ConsensusParams signed_rules = open;
    signed_rules.rules = RuleSet::Signed;
    EXPECT_EQ(NetworkId(signed_rules), NetworkId(open) + "/signed");
    EXPECT_EQ(ParseRuleSet("signed"), RuleSet::Signed);
    EXPECT_EQ(ParseRuleSet("open"), RuleSet::Open);
    EXPECT_FALSE(ParseRuleSet("closed").has_value());
}

TEST(Params, NetworkIdDifferenceNamesEachPart) {
    ConsensusParams ours;
    ConsensusParams theirs = ours;
    theirs.rules = RuleSet::Signed;
    theirs.difficulty = 5;
    EXPECT_EQ(NetworkIdDifference(NetworkId(theirs), NetworkId(ours)),
              "difficulty 5, ours 4; rules signed, ours open");
    EXPECT_EQ(NetworkIdDifference("garbage", NetworkId(ours)).substr(0, 16), "network garbage,");
}

}  // namespace
}  // namespace gossipchain
