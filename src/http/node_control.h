// What the HTTP shim may ask of the node. src/node implements this interface; src/http only sees
// it, so the endpoints can be tested against a fake and the layers keep pointing downward.
// Every method is called on the loop thread; callbacks also run on the loop thread.
#pragma once

#include "chain/chain_state.h"
#include "http/chain_stream.h"
#include "p2p/peer_address.h"
#include "util/result.h"

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

class NodeControl {
public:
    virtual ~NodeControl() = default;

    virtual const ChainState& Chain() const = 0;
    /** This node's id: 32 hex chars, the recipient of its mining rewards. */
    virtual const std::string& NodeId() const = 0;
    /** This node's public key (64 hex, SPEC §7.1), what other nodes' --trust lists name. */
    virtual std::string NodeKeyHex() const { return {}; }
    /** Who this node's block rewards go to (the node id, or an account under the signed rules).
     */
    virtual const std::string& RewardRecipient() const { return NodeId(); }
    virtual double UptimeSeconds() const = 0;

    /** Admits a client's transaction (acknowledged only when Accepted or Duplicate) and relays it.
     */
    virtual TxResult SubmitTransaction(const Transaction& tx) = 0;
    /**
     * Admits a client's transaction and calls `done` once it is durable (POST /transactions/new
     * answers 201 only then) with the mempool's verdict, or with why it could not be stored (it
     * was then not admitted). The default, for nodes without storage, admits synchronously.
     */
    virtual void SubmitTransactionDurably(const Transaction& tx,
                                          std::function<void(Result<TxResult> admitted)> done) {
        done(SubmitTransaction(tx));
    }
    /**
     * Mines one block on the miner threads: the pending transactions plus the reward. `done` gets
     * the block (never null) once it is on the main chain and gossiped, or why there is none.
     */
    virtual void MineOne(std::function<void(Result<const BlockEntry*> mined)> done) = 0;
    /**
     * Opens persistent links to the addresses, all of them or (when the peer table has no room
     * for all) none: every address the node knows then, "host:port", or why none was added.
     */
    virtual Result<std::vector<std::string>> RegisterNodes(
        const std::vector<PeerAddress>& addresses) = 0;
    /** Syncs with every known peer now (gossip peers and plain tutorial HTTP nodes). */
    virtual void Resolve(std::function<void(ResolveOutcome)> done) = 0;
    virtual std::vector<PeerView> Peers() const = 0;
    /** Prometheus text exposition of the node's counters (without the HTTP ones). */
    virtual std::string MetricsText() const = 0;
    /** What streams GET /chain of a long chain; none (the default): always answered whole. */
    virtual ChainStreamer* ChainStream() { return nullptr; }
};

}  // namespace gossipchain
