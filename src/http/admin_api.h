// The admin endpoint, a test-only feature for tools/netsim: POST /admin/links sets this node's
// link shaping (outgoing gossip frame delay and jitter, peers it refuses to link with), because the
// kernel netsim runs on has no netem. It is registered only with --admin, and the node refuses
// --admin unless it listens on a loopback address, so only local processes can reach it.
#pragma once

#include "http/router.h"
#include "p2p/link_shaper.h"

#include <cstdint>
#include <functional>

namespace gossipchain {

/** Largest delay or jitter the admin endpoint accepts, in milliseconds. */
inline constexpr std::uint64_t MAX_ADMIN_DELAY_MS = 60'000;

/**
 * Adds POST /admin/links to `router`. The body {"delay_ms": D, "jitter_ms": J, "blocked":
 * ["127.0.0.1:PORT", ...]} replaces the fields it names and keeps the others, so {"blocked": []}
 * heals a partition without touching latency. Answers the shaping now in force. `apply` puts
 * a validated shaping in force (the node: delays on its LinkShaper, blocks on its PeerManager).
 */
void RegisterAdminRoutes(Router& router, std::function<void(const LinkShaping&)> apply);

}  // namespace gossipchain
