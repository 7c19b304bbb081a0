// /nodes/resolve: sync with every known peer now and answer in the tutorial's two shapes. A round
// first asks the gossip peers (PeerSyncRound), then fetches GET /chain, like the
// tutorial's resolve_conflicts, from every registered address without a gossip link (plain
// tutorial nodes), and adopts a longer chain that passes every check (FetchedChain).
//
// Bounds, node-wide:
//   * One round runs at a time. Callers arriving meanwhile wait for the next round, which starts
//     when the running one ends and answers all of them: each answer reflects a sync that began
//     after its request (register-then-resolve works), and a burst of callers costs two rounds.
//   * Fetches run on `fetch_threads` worker threads, started on the first fetch and reused;
//     at most that many chains are being read or wait for the loop at once, each at most
//     MAX_RESOLVE_CHAIN_BYTES of body, read incrementally (never buffered whole).
//   * The HTTP part of a round ends after http_timeout_ms: addresses not asked by then are noted.
// Shutdown: Stop() cancels running fetches (they end at once, not at their timeout) and drops
// the waiting callers; the destructor also joins the workers. Results posted to the loop after
// the resolver is gone are ignored.
//
// Everything but the fetches runs on the loop thread.
#pragma once

#include "chain/chain_state.h"
#include "http/http_fetch.h"
#include "http/node_control.h"
#include "net/event_loop.h"
#include "node/peer_sync_round.h"
#include "p2p/peer_manager.h"

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gossipchain {

class FetchedChain;

/** Worker threads fetching tutorial nodes' chains, a count: also the most chains being read at
 * once node-wide. */
inline constexpr std::size_t DEFAULT_RESOLVE_FETCH_THREADS = 2;
/**
 * Largest /chain answer read from one tutorial node, in bytes (32 MiB). A tutorial block with its
 * reward is about 250 bytes, so this holds about 130,000 of them, more than a Python node mines
 * in a day of /mine calls; a gossipchain node's longer chain comes by gossip, not by this fetch.
 * Peak memory of a fetch is about twice the bytes read while the chain can be adopted.
 */
inline constexpr std::size_t MAX_RESOLVE_CHAIN_BYTES = 32u << 20;
/**
 * How long the HTTP part of one resolve may take, in milliseconds; fetches get at most what is
 * left of it, and addresses not asked by then are noted. With the gossip part (at most
 * DEFAULT_RESOLVE_SETTLE_MS + DEFAULT_RESOLVE_TIMEOUT_MS) a round takes at most 14 s, so a caller
 * that waits for the round after the running one is answered within 28 s, before the HTTP idle
 * timeout (30 s) closes its connection.
 */
inline constexpr std::uint64_t DEFAULT_RESOLVE_HTTP_TIMEOUT_MS = 8'000;

class Resolver {
public:
    struct Options {
        ConsensusParams params;
        std::size_t fetch_threads = DEFAULT_RESOLVE_FETCH_THREADS;
        /** One fetch, connect to last byte. */
        std::uint64_t fetch_timeout_ms = DEFAULT_FETCH_TIMEOUT_MS;
        std::uint64_t http_timeout_ms = DEFAULT_RESOLVE_HTTP_TIMEOUT_MS;
        std::size_t max_chain_bytes = MAX_RESOLVE_CHAIN_BYTES;
        /** The gossip part of a round. */
        PeerSyncRound::Options gossip;
    };

    /** `on_chain_changed` runs on the loop after a round moved the main chain's tip. */
    Resolver(net::EventLoop& loop, ChainState& chain, PeerManager& peers, Options options,
             std::function<void()> on_chain_changed);
    /** Cancels running fetches and joins the workers. */
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    /** Runs `done` with the outcome of the next round that starts after this call. */
    void Resolve(std::function<void(ResolveOutcome)> done);
    /** Cancels running fetches and drops waiting callers; later calls are ignored. */
    void Stop();
    /** A peer's sync ended (the node forwards PeerEvents::OnPeerSynced). */
    void OnPeerSynced(LinkId link) { m_gossip.OnPeerSynced(link); }

    /** Rounds started so far (for tests and metrics). */
    std::uint64_t Rounds() const { return m_rounds; }
    /** Worker threads started so far. */
    std::size_t Workers() const { return m_workers.size(); }

private:
    using Done = std::function<void(ResolveOutcome)>;
    struct Round {
        std::vector<Done> waiters;
        std::string tip_before;
        ResolveOutcome outcome;
        std::deque<PeerAddress> targets;
        std::size_t in_flight = 0;
        std::uint64_t deadline_ms = 0;
    };

    void StartRound(std::vector<Done> waiters);
    void OnGossipSynced();
    /** Starts fetches while workers are free; ends the round when nothing is left. */
    void Dispatch();
    /** Hands the fetch to a worker; false when no worker thread could be started. */
    bool Fetch(const PeerAddress& target, std::uint64_t timeout_ms);
    void OnFetched(const std::string& label, FetchedChain& fetched);
    void FinishRound();
    bool Submit(std::function<void()> job);
    void WorkerLoop();

    net::EventLoop& m_loop;
    ChainState& m_chain;
    PeerManager& m_peers;
    Options m_options;
    PeerSyncRound m_gossip;
    std::function<void()> m_on_chain_changed;
    /** Cleared in the destructor: results posted to the loop check it before touching this. */
    std::shared_ptr<bool> m_alive;
    bool m_stopped = false;
    std::unique_ptr<Round> m_round;
    std::vector<Done> m_next;
    std::uint64_t m_rounds = 0;

    FetchCanceller m_cancel;
    std::mutex m_mutex;  // guards m_jobs and m_quit
    std::condition_variable m_wake;
    std::deque<std::function<void()>> m_jobs;
    bool m_quit = false;
    std::vector<std::thread> m_workers;
};

}  // namespace gossipchain
