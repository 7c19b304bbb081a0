// The gossip side of a node as the node wires it: PeerManager over a LinkShaper over NetLinks,
// with a PeerEvents recorder, for tests that run real links on a private loop. `links` is the
// gossip ConnectionHandler to hand a net::Transport.
#pragma once

#include "chain/chain_state.h"
#include "net/event_loop.h"
#include "net/transport.h"
#include "p2p/link_shaper.h"
#include "p2p/net_links.h"
#include "p2p/peer_events.h"
#include "p2p/peer_manager.h"

#include <functional>
#include <vector>

namespace gossipchain::test {

/** Counts what the protocol core reports. */
struct RecordingEvents : PeerEvents {
    void OnTipChanged(const BlockResult& /*change*/) override { ++tip_changes; }
    void OnTransaction(const Transaction& /*tx*/, const std::string& /*txid*/,
                       const std::string& /*from*/) override {
        ++transactions;
    }
    void OnBanned() override { ++banned; }
    void OnPeerSynced(LinkId link) override {
        synced.push_back(link);
        if (on_synced)
            on_synced(link);
    }

    int tip_changes = 0;
    int transactions = 0;
    int banned = 0;
    std::vector<LinkId> synced;
    std::function<void(LinkId)> on_synced;
};

struct GossipStack {
    GossipStack(net::EventLoop& event_loop, ChainState& chain, PeerManagerOptions options)
        : loop(event_loop),
          links(loop),
          shaper(links, loop),
          peers(shaper, chain, options, events) {
        links.SetEvents(peers);
    }
    /** Starts dialing through `transport` and the tick. */
    void Start(net::Transport& transport) { links.Start(transport, PEER_TICK_MS); }
    void Stop() {
        peers.Stop();
        links.Stop();
    }
    /** What POST /admin/links does. */
    void SetLinkShaping(const LinkShaping& shaping) {
        shaper.SetDelay(shaping.delay_ms, shaping.jitter_ms);
        peers.SetBlocked(shaping.blocked, loop.NowMs());
    }

    net::EventLoop& loop;
    RecordingEvents events;
    NetLinks links;
    LinkShaper shaper;
    PeerManager peers;
};

}  // namespace gossipchain::test
