#include "chain/mempool.h"

#include "primitives/canonical_json.h"

namespace gossipchain {

bool Mempool::Fits(std::size_t bytes) const {
    return m_entries.size() + 1 <= m_options.max_txs && m_bytes + bytes <= m_options.max_bytes;
}

bool Mempool::EvictOneRelayed() {
    for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
        if (it->origin == TxOrigin::Relay) {
            m_bytes -= it->bytes;
            m_by_id.erase(it->txid);
            m_entries.erase(it);
            ++m_evicted;
            return true;
        }
    }
    return false;
}

Mempool::AddResult Mempool::Add(const Transaction& tx, const std::string& txid, TxOrigin origin) {
    if (Contains(txid))
        return AddResult::Duplicate;
    std::string json;
    AppendTransactionJson(json, tx);
    std::size_t bytes = json.size();
    if (origin != TxOrigin::Reorg) {
        while (!Fits(bytes)) {
            if (!EvictOneRelayed())
                return AddResult::Full;
        }
    }
    m_entries.push_back(Entry{tx, txid, bytes, origin});
    m_by_id.emplace(txid, std::prev(m_entries.end()));
    m_bytes += bytes;
    return AddResult::Added;
}

std::optional<TxOrigin> Mempool::Remove(const std::string& txid) {
    auto found = m_by_id.find(txid);
    if (found == m_by_id.end())
        return std::nullopt;
    TxOrigin origin = found->second->origin;
    m_bytes -= found->second->bytes;
    m_entries.erase(found->second);
    m_by_id.erase(found);
    return origin;
}

std::vector<Transaction> Mempool::Oldest(std::size_t max) const {
    std::vector<Transaction> out;
    out.reserve(std::min(max, m_entries.size()));
    for (const Entry& entry : m_entries) {
        if (out.size() >= max)
            break;
        out.push_back(entry.tx);
    }
    return out;
}

}  // namespace gossipchain
