// The gossip side of a node as the node wires it: PeerManager over a LinkShaper over NetLinks,
// with a PeerEvents recorder and a tap on the messages NetLinks hands the core (decrypted), for
// tests that run real links on a private loop. `links` is the gossip ConnectionHandler to hand a
// net::Transport.
#pragma once

#include "chain/chain_state.h"
#include "net/event_loop.h"
#include "net/transport.h"
#include "p2p/link_shaper.h"
#include "p2p/net_links.h"
#include "p2p/peer_events.h"
#include "p2p/peer_manager.h"

#include <functional>
#include <map>
#include <string_view>
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

/** The message type of a payload without decoding it: payloads are [type, body] arrays. */
inline int PeekType(std::string_view payload) {
    if (payload.size() < 2 || static_cast<unsigned char>(payload[0]) != 0x92)
        return -1;
    return static_cast<unsigned char>(payload[1]);
}

/** Forwards what NetLinks tells the protocol core and counts the messages, by type, that came
 * out of the links' encryption. */
struct LinkEventsTap : LinkEvents {
    explicit LinkEventsTap(LinkEvents& inner) : m_inner(inner) {}
    void OnLinkOpened(LinkId link, const LinkInfo& info, std::uint64_t now_ms) override {
        ++opened;
        m_inner.OnLinkOpened(link, info, now_ms);
    }
    void OnPayload(LinkId link, std::string_view payload, std::uint64_t now_ms) override {
        ++frames_in[PeekType(payload)];
        if (on_payload)
            on_payload(payload);
        m_inner.OnPayload(link, payload, now_ms);
    }
    void OnWritable(LinkId link, std::uint64_t now_ms) override {
        m_inner.OnWritable(link, now_ms);
    }
    void OnLinkClosed(LinkId link, net::CloseReason reason, std::string_view detail,
                      std::uint64_t now_ms) override {
        m_inner.OnLinkClosed(link, reason, detail, now_ms);
    }
    void OnDialFailed(const std::string& address_key, DialFailure cause, std::string_view detail,
                      std::uint64_t now_ms) override {
        m_inner.OnDialFailed(address_key, cause, detail, now_ms);
    }
    void Tick(std::uint64_t now_ms) override { m_inner.Tick(now_ms); }
    int FramesIn(MessageType type) const {
        auto found = frames_in.find(static_cast<int>(type));
        return found == frames_in.end() ? 0 : found->second;
    }

    int opened = 0;
    std::map<int, int> frames_in;
    /** Called with every message before the core gets it. */
    std::function<void(std::string_view)> on_payload;

private:
    LinkEvents& m_inner;
};

/** `options.node_id` is replaced by the id of the stack's key (`identity`, or a fresh one). */
struct GossipStack {
    GossipStack(net::EventLoop& event_loop, ChainState& chain, PeerManagerOptions options,
                const NodeKey& identity = NodeKey::Generate())
        : loop(event_loop),
          key(identity),
          links(loop, key),
          shaper(links, loop),
          peers(shaper, chain, WithId(std::move(options), key), events),
          tap(peers) {
        links.SetEvents(tap);
    }
    static PeerManagerOptions WithId(PeerManagerOptions options, const NodeKey& key) {
        options.node_id = key.NodeId();
        return options;
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
    NodeKey key;
    NetLinks links;
    LinkShaper shaper;
    PeerManager peers;
    /** Between NetLinks and the core: what arrives, decrypted. */
    LinkEventsTap tap;
};

}  // namespace gossipchain::test
