// Links over src/net: the one place the gossip protocol meets sockets. NetLinks is the gossip
// ConnectionHandler of a net::Transport; it runs each connection's SecureChannel (the handshake
// that proves the peer's key, then encryption, SPEC §7), opens a link to the protocol core only
// once the peer proved its key, forwards every later transport callback to the core (LinkEvents)
// with the loop's time and the plaintext of each message, carries out the core's sends (sealed),
// closes and dials, and drives its Tick every PEER_TICK_MS.
//
// A connection that opens with the magic of the plaintext protocol 2 gets a plaintext Reject
// saying why and is closed; one whose handshake does not end within the handshake timeout, or
// fails, is closed without the core hearing of it (a dial that ends so is an OnDialFailed).
//
// Loop thread only.
#pragma once

#include "crypto/node_key.h"
#include "net/connection.h"
#include "net/event_loop.h"
#include "net/timer.h"
#include "net/transport.h"
#include "p2p/links.h"
#include "p2p/secure_channel.h"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace gossipchain {

/** Time a connection has to complete the key exchange and authentication (SPEC §7.2), in
 * milliseconds. */
inline constexpr std::uint64_t DEFAULT_AUTH_TIMEOUT_MS = 10'000;

class NetLinks : public Links, public net::ConnectionHandler {
public:
    /** `identity` is the node's key; it must outlive NetLinks. */
    NetLinks(net::EventLoop& loop, const NodeKey& identity) : m_loop(loop), m_identity(&identity) {}
    ~NetLinks() override;
    NetLinks(const NetLinks&) = delete;
    NetLinks& operator=(const NetLinks&) = delete;

    /** Where events go; before the transport opens any link. */
    void SetEvents(LinkEvents& events) { m_events = &events; }
    /** The node's key (a stored one replaces the first); before the transport opens any link. */
    void SetIdentity(const NodeKey& identity) { m_identity = &identity; }
    /** Starts dialing through `transport` and the core's Tick every `tick_ms`. */
    void Start(net::Transport& transport, std::uint64_t tick_ms,
               std::uint64_t auth_timeout_ms = DEFAULT_AUTH_TIMEOUT_MS);
    /** Stops the tick; the transport closes the links. */
    void Stop();

    /** Handshakes that failed, and frames refused on open links (for /metrics). */
    std::uint64_t HandshakeFailures() const { return m_handshake_failures; }
    std::uint64_t AuthenticationFailures() const { return m_auth_failures; }
    /** Peers of the plaintext protocol refused. */
    std::uint64_t LegacyPeersRefused() const { return m_legacy_refused; }

    // Links
    void Send(LinkId link, std::string_view payload) override;
    void Close(LinkId link, DropReason reason, std::string_view detail) override;
    void Dial(const PeerAddress& address) override;
    std::size_t QueuedBytes(LinkId link) const override;

    // net::ConnectionHandler
    void OnOpen(net::Connection& conn) override;
    void OnFrame(net::Connection& conn, std::string_view payload) override;
    void OnWritable(net::Connection& conn) override;
    void OnClose(net::Connection& conn, std::string_view reason) override;

private:
    /** A gossip connection: in its handshake until `opened`, then a link of the core. */
    struct Channel {
        net::Connection* conn = nullptr;
        std::unique_ptr<SecureChannel> secure;
        /** Outbound: the address dialled. */
        std::string dialed;
        std::uint64_t started_ms = 0;
        /** The core heard OnLinkOpened. */
        bool opened = false;
    };

    Channel* Find(LinkId link);
    const Channel* Find(LinkId link) const;
    void HandshakeFrame(Channel& channel, std::string_view payload);
    void RefuseLegacy(net::Connection& conn);
    /** Closes connections whose handshake is over its time. */
    void ExpireHandshakes();

    net::EventLoop& m_loop;
    const NodeKey* m_identity;
    LinkEvents* m_events = nullptr;
    net::Transport* m_transport = nullptr;
    std::unique_ptr<net::Timer> m_tick;
    std::uint64_t m_auth_timeout_ms = DEFAULT_AUTH_TIMEOUT_MS;
    /** Every gossip connection, by id, from OnOpen to OnClose. */
    std::unordered_map<LinkId, Channel> m_channels;
    /** Outbound connections whose OnOpen is still to come, with the address dialled. */
    std::unordered_map<LinkId, std::string> m_dialed;
    /** Reused for each message's plaintext. */
    std::string m_plaintext;
    std::uint64_t m_handshake_failures = 0;
    std::uint64_t m_auth_failures = 0;
    std::uint64_t m_legacy_refused = 0;
};

}  // namespace gossipchain
