#include "chain/mempool.h"

#include "primitives/canonical_json.h"

namespace gossipchain {

bool Mempool::Fits(std::size_t bytes) const {
    return m_entries.size() + 1 <= m_options.max_txs && m_bytes + bytes <= m_options.max_bytes;
}

void Mempool::Erase(EntryList::iterator it) {
    if (it->origin == TxOrigin::Relay)
        m_relayed.erase(it->relayed);
    if (it->tx.IsSigned()) {
        auto sender = m_by_sender.find(it->tx.sender);
        if (sender != m_by_sender.end()) {
            SenderPending& pending = sender->second;
            auto at = pending.by_nonce.find(*it->tx.nonce);
            if (at != pending.by_nonce.end() && at->second == it) {
                pending.amount -= it->tx.amount;
                pending.by_nonce.erase(at);
            }
            if (pending.by_nonce.empty())
                m_by_sender.erase(sender);
        }
    }
    m_bytes -= it->bytes;
    m_by_id.erase(it->txid);
    m_by_seq.erase(it->seq);
    m_entries.erase(it);
}

bool Mempool::HasLaterNonce(const Entry& entry) const {
    if (!entry.tx.IsSigned())
        return false;
    auto sender = m_by_sender.find(entry.tx.sender);
    return sender != m_by_sender.end() && sender->second.by_nonce.rbegin()->first > *entry.tx.nonce;
}

std::optional<Mempool::EntryList::iterator> Mempool::RelayedVictim() {
    for (EntryList::iterator candidate : m_relayed) {
        if (!HasLaterNonce(*candidate))
            return candidate;
        // The oldest relayed transfer has later nonces: its sender's last pending one goes
        // instead, when it too came by relay (one step, not a scan of that sender's chain).
        EntryList::iterator last =
            m_by_sender.find(candidate->tx.sender)->second.by_nonce.rbegin()->second;
        if (last->origin == TxOrigin::Relay)
            return last;
    }
    return std::nullopt;
}

bool Mempool::EvictOneRelayed() {
    std::optional<EntryList::iterator> chosen = RelayedVictim();
    if (!chosen)
        return false;
    EntryList::iterator victim = *chosen;
    std::string txid = victim->txid;
    Erase(victim);
    ++m_evicted;
    if (m_on_evicted)
        m_on_evicted(txid);
    return true;
}

std::optional<TxOrigin> Mempool::OriginOf(const std::string& txid) const {
    auto found = m_by_id.find(txid);
    if (found == m_by_id.end())
        return std::nullopt;
    return found->second->origin;
}

Mempool::AddResult Mempool::Add(const Transaction& tx, const std::string& txid, TxOrigin origin) {
    if (auto found = m_by_id.find(txid); found != m_by_id.end()) {
        // Acknowledged here now: never evicted from here on, whatever it arrived as.
        Entry& entry = *found->second;
        if (origin == TxOrigin::Local && entry.origin != TxOrigin::Local) {
            if (entry.origin == TxOrigin::Relay)
                m_relayed.erase(entry.relayed);
            entry.origin = TxOrigin::Local;
        }
        return AddResult::Duplicate;
    }
    std::string json;
    AppendTransactionJson(json, tx);
    std::size_t bytes = json.size();
    if (origin != TxOrigin::Reorg) {
        while (!Fits(bytes)) {
            if (!EvictOneRelayed())
                return AddResult::Full;
        }
    }
    m_entries.push_back(Entry{tx, txid, bytes, origin, {}, m_next_seq++, false});
    auto it = std::prev(m_entries.end());
    m_by_seq.emplace(it->seq, it);
    if (origin == TxOrigin::Relay)
        it->relayed = m_relayed.insert(m_relayed.end(), it);
    m_by_id.emplace(txid, it);
    if (tx.IsSigned()) {
        SenderPending& pending = m_by_sender[tx.sender];
        auto [at, inserted] = pending.by_nonce.try_emplace(*tx.nonce, it);
        if (!inserted) {
            // The chain never admits two transfers of one nonce; should it, the index follows
            // the later one and the sum stays that of the indexed entries.
            pending.amount -= at->second->tx.amount;
            at->second = it;
        }
        pending.amount += tx.amount;
    }
    m_bytes += bytes;
    return AddResult::Added;
}

std::optional<TxOrigin> Mempool::Remove(const std::string& txid) {
    auto found = m_by_id.find(txid);
    if (found == m_by_id.end())
        return std::nullopt;
    TxOrigin origin = found->second->origin;
    Erase(found->second);
    return origin;
}

std::optional<Mempool::Pending> Mempool::After(std::uint64_t seq) const {
    auto found = m_by_seq.upper_bound(seq);
    if (found == m_by_seq.end())
        return std::nullopt;
    return ViewOf(*found->second);
}

std::optional<Mempool::Pending> Mempool::Find(const std::string& txid) const {
    auto found = m_by_id.find(txid);
    if (found == m_by_id.end())
        return std::nullopt;
    return ViewOf(*found->second);
}

void Mempool::SetRelayHeld(const std::string& txid, bool held) {
    if (auto found = m_by_id.find(txid); found != m_by_id.end())
        found->second->relay_held = held;
}

PendingSpend Mempool::PendingOf(const std::string& sender) const {
    auto found = m_by_sender.find(sender);
    if (found == m_by_sender.end())
        return {};
    return PendingSpend{found->second.by_nonce.rbegin()->first, found->second.amount};
}

std::vector<std::pair<std::uint64_t, std::string>> Mempool::PendingNonces(
    const std::string& sender) const {
    std::vector<std::pair<std::uint64_t, std::string>> out;
    if (auto found = m_by_sender.find(sender); found != m_by_sender.end()) {
        for (const auto& [nonce, entry] : found->second.by_nonce)
            out.emplace_back(nonce, entry->txid);
    }
    return out;
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
