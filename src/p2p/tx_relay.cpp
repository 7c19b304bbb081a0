#include "p2p/tx_relay.h"

#include <algorithm>

namespace gossipchain {

void TxRelay::Start(TxRelayState& state) const {
    state.cursor = 0;
    state.announce_until = m_chain.GetMempool().LastSeq();
}

TxOffer TxRelay::NextOffer(TxRelayState& state, RecentSet& known, FloodGuard& flood,
                           std::uint64_t now_ms) const {
    TxOffer offer;
    const Mempool& pool = m_chain.GetMempool();
    while (offer.push.transactions.size() < MAX_TXS_PER_MESSAGE &&
           offer.announce.txids.size() < MAX_INVENTORY_PER_MESSAGE) {
        std::optional<Mempool::Pending> next = pool.After(state.cursor);
        if (!next || next->held)
            break;
        if (!known.Contains(*next->txid)) {
            bool announce = next->seq <= state.announce_until;
            if (!flood.Allow(announce ? FloodKind::InventoryRelayed : FloodKind::TxsRelayed, 1,
                             now_ms))
                break;
            known.Insert(*next->txid);
            if (announce)
                offer.announce.txids.push_back(*next->txid);
            else
                offer.push.transactions.push_back(*next->tx);
        }
        state.cursor = next->seq;
    }
    return offer;
}

bool TxRelay::Have(const std::string& txid) const {
    return m_chain.GetMempool().Contains(txid) || m_chain.ConfirmedHeight(txid).has_value();
}

std::size_t TxRelay::OnInventory(TxRelayState& state, const std::vector<std::string>& txids) {
    std::size_t dropped = 0;
    for (const std::string& txid : txids) {
        if (Have(txid) || state.asked.count(txid) || state.wanted_set.count(txid))
            continue;
        if (state.wanted.size() >= MAX_WANTED_TXS_PER_PEER || m_wanted_total >= MAX_WANTED_TXS) {
            ++dropped;
            continue;
        }
        state.wanted_set.insert(txid);
        state.wanted.push_back(txid);
        ++m_wanted_total;
    }
    return dropped;
}

void TxRelay::Forget(TxRelayState& state) {
    m_wanted_total -= std::min(m_wanted_total, state.wanted.size());
    state.wanted.clear();
    state.wanted_set.clear();
    state.asked.clear();
}

std::optional<GetTransactions> TxRelay::NextRequest(TxRelayState& state, std::uint64_t now_ms) {
    GetTransactions request;
    while (!state.wanted.empty() && request.txids.size() < MAX_TXS_PER_MESSAGE &&
           state.asked.size() < MAX_TXS_IN_FLIGHT_PER_PEER) {
        std::string txid = std::move(state.wanted.front());
        state.wanted.pop_front();
        state.wanted_set.erase(txid);
        --m_wanted_total;
        // Another peer's answer may have brought it meanwhile.
        if (Have(txid))
            continue;
        state.asked.insert(txid);
        request.txids.push_back(std::move(txid));
    }
    if (request.txids.empty())
        return std::nullopt;
    state.asked_ms = now_ms;
    return request;
}

void TxRelay::ExpireRequests(TxRelayState& state, std::uint64_t now_ms, std::uint64_t timeout_ms) {
    if (!state.asked.empty() && now_ms - state.asked_ms > timeout_ms)
        state.asked.clear();
}

std::size_t TxRelay::Unasked(TxRelayState& state, const std::vector<std::string>& txids) {
    std::size_t unasked = 0;
    for (const std::string& txid : txids)
        unasked += state.asked.erase(txid) == 0;
    return unasked;
}

NewTransactions TxRelay::Answer(const GetTransactions& request, RecentSet& known) const {
    NewTransactions answer;
    const Mempool& pool = m_chain.GetMempool();
    for (const std::string& txid : request.txids) {
        std::optional<Mempool::Pending> pending = pool.Find(txid);
        if (!pending || pending->held)
            continue;
        known.Insert(txid);
        answer.transactions.push_back(*pending->tx);
    }
    return answer;
}

}  // namespace gossipchain
