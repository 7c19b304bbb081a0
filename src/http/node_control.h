// What the HTTP shim may ask of the node. src/node implements this interface; src/http only sees
// it, so the endpoints can be tested against a fake and the layers keep pointing downward.
// Every method is called on the loop thread; callbacks also run on the loop thread.
#pragma once

#include "chain/chain_state.h"
#include "p2p/peer_address.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gossipchain {

/** Outcome of /nodes/resolve. */
struct ResolveOutcome {
    bool replaced = false;
    /** One line per peer that was skipped or failed, e.g. "127.0.0.1:6000: not on our genesis". */
    std::vector<std::string> notes;
};

/** What POST /nodes/register did: every address known (on success), or why none was added. */
struct RegisterOutcome {
    std::vector<std::string> total;
    std::string error;
};

class NodeControl {
public:
    virtual ~NodeControl() = default;

    virtual const ChainState& Chain() const = 0;
    /** This node's id: 32 hex chars, the recipient of its mining rewards. */
    virtual const std::string& NodeId() const = 0;
    virtual double UptimeSeconds() const = 0;

    /** Admits a client's transaction (acknowledged only when Accepted or Duplicate) and relays it.
     */
    virtual TxResult SubmitTransaction(const Transaction& tx) = 0;
    /**
     * Admits a client's transaction and calls `done` once it is durable (POST /transactions/new
     * answers 201 only then). A non-empty `storage_error` means it could not be stored and was
     * not admitted. The default, for nodes without storage, admits synchronously.
     */
    virtual void SubmitTransactionDurably(
        const Transaction& tx,
        std::function<void(TxResult result, std::string storage_error)> done) {
        done(SubmitTransaction(tx), {});
    }
    /**
     * Mines one block on the miner threads: the pending transactions plus the reward. `done` gets
     * the block once it is on the main chain and gossiped, or an error text.
     */
    virtual void MineOne(std::function<void(const BlockEntry* block, std::string error)> done) = 0;
    /**
     * Opens persistent links to the addresses, all of them or (when the peer table has no room
     * for all) none: `error` says why, and `total` is every address the node knows, "host:port".
     */
    virtual RegisterOutcome RegisterNodes(const std::vector<PeerAddress>& addresses) = 0;
    /** Syncs with every known peer now (gossip peers and plain tutorial HTTP nodes). */
    virtual void Resolve(std::function<void(ResolveOutcome)> done) = 0;
    virtual std::vector<PeerView> Peers() const = 0;
    /** Prometheus text exposition of the node's counters (without the HTTP ones). */
    virtual std::string MetricsText() const = 0;
};

}  // namespace gossipchain
