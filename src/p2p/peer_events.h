// What the gossip protocol core tells the node: one listener interface with no-op defaults (in
// the manner of Bitcoin Core's CValidationInterface), in place of a bag of callbacks. Every call
// comes from the loop thread, from inside a PeerManager event; a listener must not call back
// into PeerManager methods that change links (Tick, On*) from here.
#pragma once

#include "chain/chain_state.h"
#include "p2p/links.h"
#include "primitives/transaction.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gossipchain {

class PeerEvents {
public:
    virtual ~PeerEvents() = default;

    /** A block from a peer moved the main chain's tip (`change` is the last such result). */
    virtual void OnTipChanged(const BlockResult& /*change*/) {}
    /** A transaction from `from` (its advertised address) entered the mempool. */
    virtual void OnTransaction(const Transaction& /*tx*/, const std::string& /*txid*/,
                               const std::string& /*from*/) {}
    /** A peer was banned: PeerManager::Bans() changed (the node stores them). */
    virtual void OnBanned() {}
    /**
     * A block from a peer would be relayed now. A listener that cannot store blocks at the
     * moment returns true and relays it itself with PeerManager::BroadcastBlock once it is
     * stored; false (the default) relays it at once.
     */
    virtual bool HoldRelayUntilStored(const BlockEntry& /*entry*/) { return false; }
    /**
     * True while the node cannot keep up storing what sync brings: the next stretch of a sync
     * waits (the answer in flight still arrives) until PeerManager::ResumeSync. So a node
     * syncing a long chain holds a bounded backlog of unstored blocks, not the whole chain.
     */
    virtual bool HoldSync() { return false; }
    /** A block arrived from `from` and was kept (main chain or side branch). */
    virtual void OnBlockSeen(const std::string& /*hash*/, std::uint64_t /*height*/,
                             const std::string& /*from*/) {}
    /** The main chain switched branches, abandoning `depth` blocks. */
    virtual void OnReorg(std::size_t /*depth*/, const std::string& /*old_tip*/,
                         const std::string& /*new_tip*/) {}
    /** A link finished its handshake (`up`) or a ready link closed. */
    virtual void OnPeerLink(const std::string& /*address*/, bool /*up*/,
                            std::string_view /*reason*/) {}
    /** The sync PeerManager::SyncEveryPeer asked of `link` ended: answered, refused or gone. */
    virtual void OnPeerSynced(LinkId /*link*/) {}
};

}  // namespace gossipchain
