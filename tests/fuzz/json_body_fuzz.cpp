// Fuzz target: JSON request bodies (POST /transactions/new, /nodes/register, tutorial /chain
// answers). ParseJson must never throw; a body read as a Transaction or a Block must write back to
// canonical JSON that reads as the same value, so a hash computed from it is stable.
#include "fuzz/fuzz_check.h"
#include "http/json_body.h"
#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace gossipchain;
using gossipchain::fuzz::Check;

void CheckTransaction(const nlohmann::json& json) {
    Result<Transaction> tx = TransactionFromJson(json);
    if (!tx.Ok())
        return;
    std::string text;
    AppendTransactionJson(text, tx.Value());
    Check(CanonicalJson(TransactionToJson(tx.Value())) == text,
          "TransactionToJson matches the writer");
    Result<nlohmann::json> again = ParseJson(text);
    Check(again.Ok(), "a written transaction parses");
    Result<Transaction> reread = TransactionFromJson(again.Value());
    Check(reread.Ok(), "a written transaction reads back");
    Check(reread.Value() == tx.Value(), "a transaction survives write and read");
}

void CheckBlock(const nlohmann::json& json) {
    Result<Block> block = BlockFromJson(json);
    if (!block.Ok())
        return;
    std::string text = BlockJson(block.Value());
    Check(CanonicalJson(BlockToJson(block.Value())) == text, "BlockToJson matches the writer");
    Result<nlohmann::json> again = ParseJson(text);
    Check(again.Ok(), "a written block parses");
    Result<Block> reread = BlockFromJson(again.Value());
    Check(reread.Ok(), "a written block reads back");
    Check(BlockJson(reread.Value()) == text, "a block survives write and read");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    bool object = ParseJsonObjectBody(text).Ok();
    Result<nlohmann::json> parsed = ParseJson(text);
    if (!parsed.Ok()) {
        Check(!object, "the object reader accepts nothing ParseJson refuses");
        return 0;
    }
    const nlohmann::json& json = parsed.Value();
    CheckTransaction(json);
    CheckBlock(json);
    // A /chain answer: the blocks of its "chain" array.
    if (json.is_object() && json.contains("chain") && json["chain"].is_array()) {
        for (const nlohmann::json& block : json["chain"])
            CheckBlock(block);
    }
    return 0;
}
