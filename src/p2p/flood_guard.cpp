#include "p2p/flood_guard.h"

#include <algorithm>

namespace gossipchain {

void TokenBucket::Refill(std::uint64_t now_ms) {
    // The loop clock never goes back; a stale `now_ms` simply adds nothing.
    if (now_ms <= m_last_ms)
        return;
    double earned = static_cast<double>(now_ms - m_last_ms) * m_per_second / 1000.0;
    m_tokens = std::min(m_capacity, m_tokens + earned);
    m_last_ms = now_ms;
}

bool TokenBucket::Take(double cost, std::uint64_t now_ms) {
    Refill(now_ms);
    if (m_tokens < cost)
        return false;
    m_tokens -= cost;
    return true;
}

double TokenBucket::Available(std::uint64_t now_ms) {
    Refill(now_ms);
    return m_tokens;
}

const char* FloodKindName(FloodKind kind) {
    switch (kind) {
        case FloodKind::Control:
            return "control messages";
        case FloodKind::TxsReceived:
            return "transactions received";
        case FloodKind::TxsRelayed:
            return "transactions relayed";
        case FloodKind::Addresses:
            return "addresses";
        case FloodKind::JunkBlocks:
            return "orphan or repeated blocks";
        case FloodKind::RedundantRequests:
            return "redundant chain requests";
        case FloodKind::InventoryReceived:
            return "transaction hashes received";
        case FloodKind::InventoryRelayed:
            return "transaction hashes announced";
        case FloodKind::TxRequests:
            return "transactions requested";
    }
    return "?";
}

FloodGuard::FloodGuard(std::uint64_t now_ms)
    : m_buckets{
          TokenBucket(MAX_CONTROL_MESSAGES_BURST, CONTROL_MESSAGES_PER_SECOND, now_ms),
          TokenBucket(MAX_TXS_RECEIVED_BURST, TXS_RECEIVED_PER_SECOND, now_ms),
          TokenBucket(MAX_TXS_RELAYED_BURST, TXS_RELAYED_PER_SECOND, now_ms),
          TokenBucket(MAX_ADDRESSES_BURST, ADDRESSES_PER_SECOND, now_ms),
          TokenBucket(MAX_JUNK_BLOCKS_BURST, JUNK_BLOCKS_PER_SECOND, now_ms),
          TokenBucket(MAX_REDUNDANT_REQUESTS_BURST, REDUNDANT_REQUESTS_PER_SECOND, now_ms),
          TokenBucket(MAX_INVENTORY_RECEIVED_BURST, INVENTORY_RECEIVED_PER_SECOND, now_ms),
          TokenBucket(MAX_INVENTORY_RELAYED_BURST, INVENTORY_RELAYED_PER_SECOND, now_ms),
          TokenBucket(MAX_TX_REQUESTS_BURST, TX_REQUESTS_PER_SECOND, now_ms),
      } {}

}  // namespace gossipchain
