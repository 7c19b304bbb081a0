#include "consensus/signed_tx.h"

#include "consensus/pow.h"
#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"
#include "support/signed_builder.h"
#include "util/hex.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace gossipchain {
namespace {

using test::AddressOfKey;
using test::RewardTo;
using test::SignedParams;
using test::Transfer;
using test::WalletKey;
using R = ValidationReason;

TEST(SignedTx, SignedBytesAreDomainNetworkAndCanonicalJsonWithoutSignature) {
    ConsensusParams params = SignedParams();
    Transaction tx = Transfer(params, WalletKey(1), WalletKey(2), 5, 7);
    std::string json;
    AppendUnsignedTransactionJson(json, tx);
    EXPECT_EQ(json, "{\"amount\": 5, \"nonce\": 7, \"recipient\": \"" + tx.recipient +
                        "\", \"sender\": \"" + tx.sender + "\"}");
    EXPECT_EQ(SignedTxMessage(tx, NetworkId(params)),
              "gossipchain/tx\n" + NetworkId(params) + "\n" + json);
    std::string full;
    AppendTransactionJson(full, tx);
    EXPECT_EQ(full, json.substr(0, json.size() - 1) + ", \"signature\": \"" + tx.signature + "\"}");
}

TEST(SignedTx, SignatureHoldsOnlyForThatTransferOnThatNetwork) {
    ConsensusParams params = SignedParams();
    Transaction tx = Transfer(params, WalletKey(1), WalletKey(2), 5, 0);
    EXPECT_TRUE(VerifyTransferSignature(tx, NetworkId(params)));
    ConsensusParams other = params;
    other.difficulty = 2;
    EXPECT_FALSE(VerifyTransferSignature(tx, NetworkId(other)));
    Transaction more = tx;
    more.amount = 6;
    EXPECT_FALSE(VerifyTransferSignature(more, NetworkId(params)));
    Transaction later = tx;
    later.nonce = 1;
    EXPECT_FALSE(VerifyTransferSignature(later, NetworkId(params)));
    Transaction stolen = tx;
    stolen.sender = AddressOfKey(WalletKey(3));
    EXPECT_FALSE(VerifyTransferSignature(stolen, NetworkId(params)));
}

TEST(SignedTx, FormChecksNameWhatIsWrong) {
    ConsensusParams params = SignedParams();
    Transaction tx = Transfer(params, WalletKey(1), WalletKey(2), 5, 0);
    EXPECT_TRUE(CheckTransaction(tx, RuleSet::Signed).Ok());
    EXPECT_EQ(CheckTransaction(tx, RuleSet::Open).reason, R::WrongShape);
    Transaction plain{"alice", "bob", 5, std::string(32, 'a')};
    ValidationResult unsigned_tx = CheckTransaction(plain, RuleSet::Signed);
    EXPECT_EQ(unsigned_tx.reason, R::WrongShape);
    EXPECT_NE(unsigned_tx.detail.find("\"signature\""), std::string::npos);
    Transaction bad_recipient = tx;
    bad_recipient.recipient = "bob";
    EXPECT_EQ(CheckTransaction(bad_recipient, RuleSet::Signed).reason, R::BadRecipient);
    Transaction short_signature = tx;
    short_signature.signature.pop_back();
    EXPECT_EQ(CheckTransaction(short_signature, RuleSet::Signed).reason, R::BadSignature);
    Transaction huge_nonce = tx;
    huge_nonce.nonce = MAX_NONCE + 1;
    EXPECT_EQ(CheckTransaction(huge_nonce, RuleSet::Signed).reason, R::BadNonce);
    EXPECT_TRUE(CheckTransaction(RewardTo(tx.recipient, 1), RuleSet::Signed).Ok());
    EXPECT_EQ(CheckTransaction(RewardTo("bob", 1), RuleSet::Signed).reason, R::BadRecipient);
}

TEST(SignedTx, CheckSignaturesFindsTheFirstBadOneWithAnyThreadCount) {
    ConsensusParams params = SignedParams();
    std::vector<Transaction> txs;
    for (std::uint64_t i = 0; i < 200; ++i)
        txs.push_back(Transfer(params, WalletKey(1), WalletKey(2), 1, i));
    for (unsigned threads : {1u, 2u, 3u})
        EXPECT_TRUE(CheckSignatures(txs, {}, NetworkId(params), threads).Ok());
    txs[150].amount = 2;
    txs[77].amount = 2;
    for (unsigned threads : {1u, 2u, 3u}) {
        ValidationResult result = CheckSignatures(txs, {}, NetworkId(params), threads);
        EXPECT_EQ(result.reason, R::BadSignature);
        EXPECT_NE(result.detail.find("transaction 77:"), std::string::npos) << result.detail;
    }
    auto skip = std::make_unique<bool[]>(txs.size());
    skip[77] = true;
    ValidationResult skipped = CheckSignatures(txs, {skip.get(), txs.size()}, NetworkId(params), 2);
    EXPECT_NE(skipped.detail.find("transaction 150:"), std::string::npos) << skipped.detail;
}

nlohmann::json SignedVectors() {
    std::ifstream in(std::string(GOSSIPCHAIN_SOURCE_DIR) + "/protocol/vectors/signed_tx.json");
    return nlohmann::json::parse(in);
}

TEST(SignedTxVectors, BytesSignaturesAndTxidsMatchPython) {
    nlohmann::json vectors = SignedVectors();
    ASSERT_GE(vectors["valid"].size(), 3u);
    for (const auto& vector : vectors["valid"]) {
        Result<Transaction> tx = TransactionFromJson(vector["transaction"]);
        ASSERT_TRUE(tx.Ok()) << tx.Message();
        const std::string network_id = vector["network_id"];
        std::string unsigned_json;
        AppendUnsignedTransactionJson(unsigned_json, tx.Value());
        EXPECT_EQ(unsigned_json, vector["unsigned_json"]);
        EXPECT_EQ(SignedTxMessage(tx.Value(), network_id), vector["signed_message"]);
        std::string json;
        AppendTransactionJson(json, tx.Value());
        EXPECT_EQ(json, vector["canonical_json"]);
        EXPECT_EQ(TxId(tx.Value()), vector["txid"]);
        EXPECT_TRUE(VerifyTransferSignature(tx.Value(), network_id));
        NodeKeySeed seed{};
        ASSERT_TRUE(HexDecodeTo(vector["seed_hex"].get<std::string>(), seed));
        Transaction ours = SignTransfer(NodeKey::FromSeed(seed), tx->recipient, tx->amount,
                                        *tx->nonce, network_id);
        EXPECT_EQ(ours, tx.Value()) << "libsodium's deterministic signature differs from OpenSSL's";
        EXPECT_TRUE(CheckTransaction(tx.Value(), RuleSet::Signed).Ok());
    }
    for (const auto& vector : vectors["invalid"]) {
        Result<Transaction> tx = TransactionFromJson(vector["transaction"]);
        ASSERT_TRUE(tx.Ok()) << tx.Message();
        EXPECT_FALSE(VerifyTransferSignature(tx.Value(), vector["network_id"].get<std::string>()))
            << vector["name"];
    }
}

TEST(SignedTxVectors, HeaderRulePreimageMatchesPython) {
    const nlohmann::json vectors = SignedVectors();
    const nlohmann::json& vector = vectors["header_rule"];
    Result<Block> block = BlockFromJson(vector["block"]);
    ASSERT_TRUE(block.Ok()) << block.Message();
    Hash256 content = BlockContentDigest(block.Value());
    EXPECT_EQ(HexEncode(content), vector["content_digest_hex"]);
    HeaderPreimage preimage = MakeHeaderPreimage(vector["parent_hash"].get<std::string>(), content,
                                                 vector["parent_proof"], block->proof);
    EXPECT_EQ(HexEncode(preimage), vector["preimage_hex"]);
    EXPECT_EQ(HexEncode(Sha256(std::string_view(reinterpret_cast<const char*>(preimage.data()),
                                                preimage.size()))),
              vector["digest_hex"]);
}

}  // namespace
}  // namespace gossipchain
