// The peer table: every address the node may dial, where it came from, and how dialling it went.
// Socket-free; PeerManager asks it what to dial and tells it how each dial went.
//
// Addresses come from two kinds of source, kept apart so one cannot crowd out the other (Bitcoin
// Core's addrman is the model, in small):
// - the operator: `--peer` (Seed, redialled for ever) and `POST /nodes/register` (Registered).
//   Registered ones have their own places (`max_operator`); a seed always gets one (the command
//   line bounds them). Gossip never evicts them, and a registration that finds no place says so
//   (AddResult::Full) instead of being dropped in silence.
// - gossip: addresses peers told us (Peers, RegisterPeer, the listen port of a Hello), Learned.
//   Each source (the telling peer's IP) fills at most `max_per_source` places, so one peer, or
//   many links from one host, cannot take the whole table; at that bound, or at `max_learned`,
//   the least promising learned address goes (never one being dialled or linked).
// Dead addresses age out: a learned one that never connected is dropped after
// `learned_max_failures` failed dials in a row (one that did connect once, after ten times that);
// a registered one after `registered_dead_ms` of failed dials since it last connected (so an
// operator's typo does not get redialled for ever); a seed never.
// It also keeps when each address may be dialled again (exponential backoff with jitter) and
// says which to dial now: every operator address that is due, learned ones up to the outbound
// target.
//
// Not thread-safe: the loop thread only.
#pragma once

#include "p2p/peer_address.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gossipchain {

/** Registered addresses (/nodes/register) kept at most; --peer ones come on top. */
inline constexpr std::size_t MAX_OPERATOR_ADDRESSES = 256;
/** Addresses learned from peers kept at most. */
inline constexpr std::size_t MAX_LEARNED_ADDRESSES = 4096;
/** Learned addresses one source (the IP of the peer that told us) may fill. */
inline constexpr std::size_t MAX_LEARNED_PER_SOURCE = 256;
/** Failed dials in a row after which a learned address that never connected is dropped. */
inline constexpr std::uint32_t DEFAULT_LEARNED_MAX_FAILURES = 3;
/** Time a registered address may fail every dial before it is dropped, in milliseconds (1 h). */
inline constexpr std::uint64_t DEFAULT_REGISTERED_DEAD_MS = 60 * 60 * 1000;
/** First reconnect delay after a failure, in milliseconds; doubles per failure. */
inline constexpr std::uint64_t DEFAULT_RECONNECT_MIN_MS = 250;
/** Longest reconnect delay, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_RECONNECT_MAX_MS = 30'000;

enum class AddressOrigin {
    /** --peer: dialled for ever. */
    Seed,
    /** POST /nodes/register: dialled until it is dead for registered_dead_ms. */
    Registered,
    /** Told by a peer. */
    Learned,
};

struct AddressEntry {
    /** "host:port", as AddressBook::Key makes it. */
    std::string key;
    std::string host;
    std::uint16_t port = 0;
    AddressOrigin origin = AddressOrigin::Learned;
    /** For learned ones: the IP of the peer that told us first. */
    std::string source;
    /** An outbound link to it is open or being opened. */
    bool dialing = false;
    /** It turned out to be ourselves: never dialled again. */
    bool self = false;
    /** Its last gossip dial was answered in HTTP (a tutorial node). */
    bool http_only = false;
    /** The node id whose key last answered a dial here (SPEC §10): an inbound link from that
     * node may stand for this address. Empty until a handshake completed. */
    std::string node_id;
    /** --peer, or a gossip handshake with it completed once: never marked http_only. */
    bool gossip_capable = false;
    /** It answered a dial (gossip or HTTP) at least once. */
    bool ever_connected = false;
    std::uint32_t failures = 0;
    std::uint64_t next_try_ms = 0;
    /** Loop time of the first failed dial since it last answered; 0 while it answers. */
    std::uint64_t failing_since_ms = 0;
    /** Wall clock (s) of its last completed gossip handshake, 0 for never: the store keeps the
     * freshest first. */
    std::int64_t last_seen_s = 0;

    bool Operator() const { return origin != AddressOrigin::Learned; }
};

class AddressBook {
public:
    struct Options {
        std::size_t max_operator = MAX_OPERATOR_ADDRESSES;
        std::size_t max_learned = MAX_LEARNED_ADDRESSES;
        std::size_t max_per_source = MAX_LEARNED_PER_SOURCE;
        std::uint32_t learned_max_failures = DEFAULT_LEARNED_MAX_FAILURES;
        std::uint64_t registered_dead_ms = DEFAULT_REGISTERED_DEAD_MS;
        std::uint64_t reconnect_min_ms = DEFAULT_RECONNECT_MIN_MS;
        std::uint64_t reconnect_max_ms = DEFAULT_RECONNECT_MAX_MS;
    };
    enum class AddResult {
        Added,
        /** Already there (an operator add of a learned one makes it the operator's). */
        Known,
        /** No place: the operator's places are all taken, or every learned one is in use. */
        Full,
    };

    explicit AddressBook(Options options) : m_options(options) {}

    static std::string Key(const std::string& host, std::uint16_t port);

    /** Adds `address`; `source` names the peer that told us (learned ones only). */
    AddResult Add(const PeerAddress& address, AddressOrigin origin, const std::string& source = {});
    /** Places left for operator addresses. */
    std::size_t OperatorRoom() const;

    AddressEntry* Find(const std::string& key);
    const AddressEntry* Find(const std::string& key) const;
    /** Calls `visit(entry)` for every address, in the order they were added. `visit` must not
     * add or remove addresses. */
    template <typename Visit>
    void ForEach(Visit&& visit) {
        for (AddressEntry* entry : m_order)
            visit(*entry);
    }
    template <typename Visit>
    void ForEach(Visit&& visit) const {
        for (const AddressEntry* entry : m_order)
            visit(*entry);
    }
    std::size_t Size() const { return m_entries.size(); }
    std::size_t LearnedCount() const { return m_learned; }

    /** The dial answered (gossip or HTTP): it lives. */
    void OnAnswered(const std::string& key);
    /**
     * A dial failed (refused, timed out, unreachable) at loop time `now_ms`. True when the
     * address was dead by the rules above and is gone now (the key is no longer valid).
     */
    bool OnDialFailed(const std::string& key, std::uint64_t now_ms);

    /**
     * Sets when `entry` may be dialled next: reconnect_min_ms after a link that was ready (the
     * failure count starts again), else doubling per failure up to reconnect_max_ms; plus up to
     * half of that from `random`, so nodes restarted together do not redial in lockstep.
     */
    void ScheduleRetry(AddressEntry& entry, bool was_ready, std::uint64_t now_ms,
                       std::uint64_t random) const;
    /**
     * The addresses to dial at `now_ms`, in table order: every operator address that is due, and
     * learned ones while fewer than `target_outbound` links are open or being dialled. Never one
     * being dialled, ourselves, or one `skip` names (linked, banned, blocked).
     */
    template <typename Skip>
    std::vector<AddressEntry*> DueForDial(std::uint64_t now_ms, std::size_t target_outbound,
                                          Skip&& skip) {
        std::size_t outbound = 0;
        for (const AddressEntry* entry : m_order)
            outbound += entry->dialing;
        std::vector<AddressEntry*> due;
        for (AddressEntry* entry : m_order) {
            if (entry->dialing || entry->self || entry->next_try_ms > now_ms || skip(*entry))
                continue;
            if (!entry->Operator() && outbound >= target_outbound)
                continue;
            due.push_back(entry);
            ++outbound;
        }
        return due;
    }

private:
    /** Drops a learned address to make room, preferring `source`'s own when given; never one
     * being dialled or linked (`dialing`). False when none can go. */
    bool EvictLearned(const std::string* source);
    void Erase(const std::string& key);
    /** Adds (+1) or removes (-1) `entry` from the counts of its origin. */
    void Count(const AddressEntry& entry, int delta);

    Options m_options;
    std::map<std::string, AddressEntry> m_entries;
    /** The entries of m_entries (whose nodes never move) in the order they were added. */
    std::vector<AddressEntry*> m_order;
    std::map<std::string, std::size_t> m_per_source;
    /** Registered addresses (seeds are not counted: the command line bounds them). */
    std::size_t m_registered = 0;
    std::size_t m_learned = 0;
};

}  // namespace gossipchain
