#include "p2p/compact_blocks.h"

#include "crypto/short_id.h"

#include <unordered_map>

namespace gossipchain {
namespace {

/** The reward is the one transaction no peer holds in its mempool. */
bool IsReward(const Transaction& tx) {
    return tx.sender == "0";
}

}  // namespace

CompactBlock MakeCompactBlock(const BlockEntry& entry, const BlockBody& body) {
    CompactBlock compact;
    compact.hash = entry.HashHex();
    compact.header.index = body.block.index;
    compact.header.timestamp = body.block.timestamp;
    compact.header.proof = body.block.proof;
    compact.header.previous_hash = body.block.previous_hash;
    ShortIdKey key = ShortIdKeyOf(compact.hash);
    compact.short_ids.reserve(body.txids.size());
    for (std::size_t i = 0; i < body.block.transactions.size(); ++i) {
        compact.short_ids.push_back(ShortTxId(key, body.txids[i]));
        if (IsReward(body.block.transactions[i]))
            compact.prefilled.push_back(body.block.transactions[i]);
    }
    return compact;
}

PartialBlock StartRebuild(const CompactBlock& compact, const Mempool* mempool) {
    PartialBlock partial;
    partial.hash = compact.hash;
    partial.block = compact.header;
    ShortIdKey key = ShortIdKeyOf(compact.hash);
    // Candidates by short id; nullptr marks one that two candidates share.
    std::unordered_map<std::uint32_t, const Transaction*> candidates;
    candidates.reserve((mempool ? mempool->Size() : 0) + compact.prefilled.size());
    auto offer = [&](const std::string& txid, const Transaction& tx) {
        auto [it, fresh] = candidates.emplace(ShortTxId(key, txid), &tx);
        if (!fresh && it->second != nullptr && !(*it->second == tx))
            it->second = nullptr;
    };
    for (const Transaction& tx : compact.prefilled)
        offer(TxId(tx), tx);
    if (mempool)
        mempool->ForEach(offer);
    partial.block.transactions.resize(compact.short_ids.size());
    for (std::size_t i = 0; i < compact.short_ids.size(); ++i) {
        auto found = candidates.find(compact.short_ids[i]);
        if (found != candidates.end() && found->second != nullptr)
            partial.block.transactions[i] = *found->second;
        else
            partial.missing.push_back(static_cast<std::uint32_t>(i));
    }
    return partial;
}

bool FillMissing(PartialBlock& partial, std::vector<Transaction> txs) {
    if (txs.size() != partial.missing.size())
        return false;
    for (std::size_t i = 0; i < txs.size(); ++i)
        partial.block.transactions[partial.missing[i]] = std::move(txs[i]);
    partial.missing.clear();
    return true;
}

void MissAll(PartialBlock& partial) {
    partial.missing.clear();
    for (std::size_t i = 0; i < partial.block.transactions.size(); ++i)
        partial.missing.push_back(static_cast<std::uint32_t>(i));
    partial.asked_all = true;
}

}  // namespace gossipchain
