// Fuzz target: signed transfers as they arrive, in JSON (POST /transactions/new) and in msgpack
// (a NewTransactions message). Whatever the bytes, decoding either refuses or gives a transaction
// whose canonical JSON reads back to the same value in both encodings; the signed-rules checks
// (form, signature, the ledger's admission against a funded account) never crash, and a
// transaction whose signature verifies still verifies after an encode-decode round trip, while
// one whose amount is changed does not.
#include "consensus/ledger.h"
#include "consensus/signed_tx.h"
#include "fuzz/fuzz_check.h"
#include "p2p/codec.h"
#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace gossipchain;
using gossipchain::fuzz::Check;

const std::string& Network() {
    static const std::string id = [] {
        ConsensusParams params;
        params.rules = RuleSet::Signed;
        params.pow_rule = PowRule::Header;
        return NetworkId(params);
    }();
    return id;
}

void CheckTransfer(const Transaction& tx) {
    std::string json;
    AppendTransactionJson(json, tx);
    Result<nlohmann::json> parsed = ParseJson(json);
    Check(parsed.Ok(), "a written transaction parses");
    Result<Transaction> reread = TransactionFromJson(parsed.Value());
    Check(reread.Ok() && reread.Value() == tx, "a transaction survives write and read");
    DecodeResult decoded = DecodeMessage(EncodeMessage(NewTransactions{{tx}}));
    if (decoded.Ok()) {
        const auto* back = std::get_if<NewTransactions>(&decoded.Value());
        Check(back != nullptr && back->transactions.size() == 1 && back->transactions[0] == tx,
              "a transaction survives msgpack");
    }
    if (!CheckTransaction(tx, RuleSet::Signed).Ok())
        return;
    Ledger ledger;
    Block funding;
    funding.transactions.push_back(
        Transaction{REWARD_SENDER, tx.sender.size() == 64 ? tx.sender : std::string(64, '0'),
                    REWARD_AMOUNT, std::string(32, 'a')});
    (void)ledger.Connect(funding);
    (void)ledger.CheckPending(tx, PendingSpend{});
    if (VerifyTransferSignature(tx, Network())) {
        Transaction changed = tx;
        changed.amount = tx.amount == 1 ? 2 : 1;
        Check(!VerifyTransferSignature(changed, Network()), "the signature covers the amount");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (Result<nlohmann::json> parsed = ParseJson(bytes); parsed.Ok()) {
        if (Result<Transaction> tx = TransactionFromJson(parsed.Value()); tx.Ok())
            CheckTransfer(tx.Value());
    }
    if (DecodeResult message = DecodeMessage(bytes); message.Ok()) {
        if (const auto* txs = std::get_if<NewTransactions>(&message.Value())) {
            for (const Transaction& tx : txs->transactions)
                CheckTransfer(tx);
        }
    }
    return 0;
}
