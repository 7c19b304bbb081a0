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
    Transaction tx;
    std::string error;
    if (!TransactionFromJson(json, tx, error))
        return;
    std::string text;
    AppendTransactionJson(text, tx);
    Check(CanonicalJson(TransactionToJson(tx)) == text, "TransactionToJson matches the writer");
    nlohmann::json again;
    Check(ParseJson(text, again, error), "a written transaction parses");
    Transaction reread;
    Check(TransactionFromJson(again, reread, error), "a written transaction reads back");
    Check(reread == tx, "a transaction survives write and read");
}

void CheckBlock(const nlohmann::json& json) {
    Block block;
    std::string error;
    if (!BlockFromJson(json, block, error))
        return;
    std::string text = BlockJson(block);
    Check(CanonicalJson(BlockToJson(block)) == text, "BlockToJson matches the writer");
    nlohmann::json again;
    Check(ParseJson(text, again, error), "a written block parses");
    Block reread;
    Check(BlockFromJson(again, reread, error), "a written block reads back");
    Check(BlockJson(reread) == text, "a block survives write and read");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    nlohmann::json json;
    std::string error;
    bool object = ParseJsonObjectBody(text, json, error);
    if (!ParseJson(text, json, error)) {
        Check(!object, "the object reader accepts nothing ParseJson refuses");
        return 0;
    }
    CheckTransaction(json);
    CheckBlock(json);
    // A /chain answer: the blocks of its "chain" array.
    if (json.is_object() && json.contains("chain") && json["chain"].is_array()) {
        for (const nlohmann::json& block : json["chain"])
            CheckBlock(block);
    }
    return 0;
}
