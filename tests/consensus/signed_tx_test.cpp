#include "consensus/signed_tx.h"

#include "primitives/canonical_json.h"
#include "support/signed_builder.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace gossipchain
