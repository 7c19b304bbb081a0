// Per-peer rate limits (SPEC §12, "Flooding"). Validity rules catch a peer that sends bad data;
// these catch one that sends too much good-looking data: the same block again and again, chains
// of orphans, transactions or addresses by the hundred thousand, requests for what it already
// has. Each kind of traffic drains its own token bucket; a message its bucket cannot pay for is
// dropped unprocessed and costs the peer FLOOD_PENALTY misbehaviour points, so a sustained flood
// ends in a ban while an honest burst passes. Blocks that extend some chain are never limited:
// they carry proof of work, and the node needs them.
//
// Time is the event loop's monotonic milliseconds, passed in, so tests can pin it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace gossipchain {

/** Misbehaviour points for one message over a rate limit (BAN_SCORE / 5). */
inline constexpr int FLOOD_PENALTY = 20;

/** Control messages (Ping, Pong, RegisterPeer, Hello, Reject, a Chain nobody asked for,
 * RequestChain answered with no blocks): burst and refill per second. */
inline constexpr double MAX_CONTROL_MESSAGES_BURST = 1'000;
inline constexpr double CONTROL_MESSAGES_PER_SECOND = 100;
/** Transactions received (an empty NewTransactions counts as one): burst and refill per second. */
inline constexpr double MAX_TXS_RECEIVED_BURST = 20'000;
inline constexpr double TXS_RECEIVED_PER_SECOND = 10'000;
/** Transactions relayed to one peer: half what a receiver accepts, so honest relay never trips
 * a peer's limit; over it, a transaction is not relayed to that peer (it stays in our mempool). */
inline constexpr double MAX_TXS_RELAYED_BURST = 10'000;
inline constexpr double TXS_RELAYED_PER_SECOND = 5'000;
/** Addresses received in Peers messages (an empty one counts as one). An honest peer sends one
 * Peers message of at most PEERS_TO_SHARE (100) after the handshake. */
inline constexpr double MAX_ADDRESSES_BURST = 1'000;
inline constexpr double ADDRESSES_PER_SECOND = 10;
/** Junk blocks: an orphan costs 1, a block the same peer already announced costs
 * REPEATED_BLOCK_COST. Duplicates relayed by different peers are normal gossip and free. */
inline constexpr double MAX_JUNK_BLOCKS_BURST = 500;
inline constexpr double JUNK_BLOCKS_PER_SECOND = 20;
inline constexpr double REPEATED_BLOCK_COST = 10;
/** RequestChain whose answer starts with a block the peer already has (we sent it, or it sent
 * it to us): an honest peer asks for blocks it lacks. Burst and refill per second. */
inline constexpr double MAX_REDUNDANT_REQUESTS_BURST = 20;
inline constexpr double REDUNDANT_REQUESTS_PER_SECOND = 1;
/** Transaction hashes received in TxInventory messages (an empty one counts as one): burst and
 * refill per second. A link-up announces the whole mempool (at most 100,000). */
inline constexpr double MAX_INVENTORY_RECEIVED_BURST = 50'000;
inline constexpr double INVENTORY_RECEIVED_PER_SECOND = 10'000;
/** Transaction hashes announced to one peer: half what a receiver accepts. Over it, the rest
 * wait for the next tick (SPEC §8: relay is paced, never dropped). */
inline constexpr double MAX_INVENTORY_RELAYED_BURST = 25'000;
inline constexpr double INVENTORY_RELAYED_PER_SECOND = 5'000;
/** Transactions asked for in GetTransactions (an empty one counts as one): burst and refill per
 * second. An honest requester keeps at most MAX_TXS_IN_FLIGHT_PER_PEER asked at a time. */
inline constexpr double MAX_TX_REQUESTS_BURST = 20'000;
inline constexpr double TX_REQUESTS_PER_SECOND = 10'000;
/** Block hashes remembered per peer as announced by it, to recognise repeats. */
inline constexpr std::size_t MAX_ANNOUNCED_REMEMBERED = 1'024;

/** A bucket of `capacity` tokens refilled at `per_second`, full at creation. */
class TokenBucket {
public:
    TokenBucket(double capacity, double per_second, std::uint64_t now_ms)
        : m_capacity(capacity), m_per_second(per_second), m_tokens(capacity), m_last_ms(now_ms) {}

    /** Takes `cost` tokens when the bucket holds that many; otherwise takes nothing. */
    bool Take(double cost, std::uint64_t now_ms);
    /** Tokens held at `now_ms`. */
    double Available(std::uint64_t now_ms);

private:
    void Refill(std::uint64_t now_ms);

    double m_capacity;
    double m_per_second;
    double m_tokens;
    std::uint64_t m_last_ms;
};

enum class FloodKind : std::size_t {
    Control,
    TxsReceived,
    TxsRelayed,
    Addresses,
    JunkBlocks,
    RedundantRequests,
    InventoryReceived,
    InventoryRelayed,
    TxRequests,
};
inline constexpr std::size_t FLOOD_KINDS = 9;

/** Name of a kind for logs and /metrics, e.g. "transactions received". */
const char* FloodKindName(FloodKind kind);

/** One peer's buckets, one per FloodKind, with the limits above. */
class FloodGuard {
public:
    explicit FloodGuard(std::uint64_t now_ms);

    /** Pays `cost` from the kind's bucket; false when it cannot (the message is over the limit). */
    bool Allow(FloodKind kind, double cost, std::uint64_t now_ms) {
        return m_buckets[static_cast<std::size_t>(kind)].Take(cost, now_ms);
    }

private:
    std::array<TokenBucket, FLOOD_KINDS> m_buckets;
};

}  // namespace gossipchain
