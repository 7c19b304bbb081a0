// The HTTP endpoints: the tutorial's five, with its field names, messages and status codes, and
// the extras (/status, /nodes, /blocks/{index or hash}, /transactions/pending, /metrics). Each
// handler validates its whole input before it changes anything, so nothing is half-applied.
#pragma once

#include "http/node_control.h"
#include "http/router.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace gossipchain {

/** Addresses one POST /nodes/register may name (the tutorial's classroom registers a few). */
inline constexpr std::size_t MAX_REGISTER_NODES = 64;

/** HTTP responses sent, by status code (errors from the parser and router included). */
struct HttpMetrics {
    std::map<int, std::uint64_t> responses_by_status;
};

/** Adds every endpoint to `router`; `node` and `metrics` (shown by /metrics) must outlive it. */
void RegisterTutorialRoutes(Router& router, NodeControl& node, HttpMetrics& metrics);

/** `{"chain": [...], "length": N}` with every block as the exact bytes that were hashed;
 * `prefix` (members with their trailing comma) comes before the chain. Empty when a block
 * cannot be read back from storage (logged). */
std::string ChainResponseBody(const ChainState& chain, std::string_view chain_key = "chain",
                              std::string_view prefix = "");

}  // namespace gossipchain
