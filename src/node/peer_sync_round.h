// The gossip part of a /nodes/resolve round: give links still being dialled or in handshake (a
// peer registered a moment ago) up to `settle_ms` to become ready, then ask every ready peer for
// what it has beyond our tip (PeerManager::SyncEveryPeer), and end when each asked peer's sync
// is over (PeerEvents::OnPeerSynced) or `timeout_ms` after the requests went out, whichever is
// first. One round at a time; the Resolver runs them.
//
// Loop thread only.
#pragma once

#include "net/event_loop.h"
#include "net/timer.h"
#include "p2p/peer_manager.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_set>

namespace gossipchain {

/** Period at which a resolve round checks its links, in milliseconds. */
inline constexpr std::uint64_t RESOLVE_STEP_MS = 10;
/** How long /nodes/resolve waits for links still connecting to become ready, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_RESOLVE_SETTLE_MS = 1'000;
/** How long /nodes/resolve waits for every peer's answer, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_RESOLVE_TIMEOUT_MS = 5'000;

class PeerSyncRound {
public:
    struct Options {
        std::uint64_t settle_ms = DEFAULT_RESOLVE_SETTLE_MS;
        std::uint64_t timeout_ms = DEFAULT_RESOLVE_TIMEOUT_MS;
    };

    PeerSyncRound(net::EventLoop& loop, PeerManager& peers, Options options)
        : m_loop(loop), m_peers(peers), m_options(options) {}

    /** Starts a round; `done` runs once, on a later loop turn or from OnPeerSynced. */
    void Start(std::function<void()> done);
    /** A peer's sync ended (forwarded from PeerEvents::OnPeerSynced). */
    void OnPeerSynced(LinkId link);
    /** Ends the running round without calling its `done`. */
    void Cancel();
    bool Running() const { return static_cast<bool>(m_done); }

private:
    void Step();
    void Finish();

    net::EventLoop& m_loop;
    PeerManager& m_peers;
    Options m_options;
    std::function<void()> m_done;
    std::unique_ptr<net::Timer> m_timer;
    /** False while links settle; true once the requests went out. */
    bool m_asked = false;
    std::uint64_t m_deadline_ms = 0;
    std::unordered_set<LinkId> m_pending;
};

}  // namespace gossipchain
