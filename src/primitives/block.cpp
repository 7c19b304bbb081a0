#include "primitives/block.h"

#include "crypto/sha256.h"
#include "primitives/canonical_json.h"

namespace gossipchain {

const std::string& Block::ParentHash() const {
    static const std::string NONE;
    const auto* hash = std::get_if<std::string>(&previous_hash);
    return hash ? *hash : NONE;
}

std::string BlockHash(const Block& block) {
    std::string json;
    json.reserve(256 + block.transactions.size() * 160);
    AppendBlockJson(json, block);
    return Sha256Hex(json);
}

std::string TxId(const Transaction& tx) {
    std::string json;
    AppendTransactionJson(json, tx);
    return Sha256Hex(json);
}

std::vector<std::string> TxIds(const Block& block) {
    std::vector<std::string> txids;
    txids.reserve(block.transactions.size());
    for (const Transaction& tx : block.transactions)
        txids.push_back(TxId(tx));
    return txids;
}

}  // namespace gossipchain
