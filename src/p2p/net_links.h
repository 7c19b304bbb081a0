// Links over src/net: the one place the gossip protocol meets sockets. NetLinks is the gossip
// ConnectionHandler of a net::Transport; it turns connections into link ids, forwards every
// transport callback to the protocol core (LinkEvents) with the loop's time, carries out the
// core's sends, closes and dials, and drives its Tick every PEER_TICK_MS.
//
// Loop thread only.
#pragma once

#include "net/connection.h"
#include "net/event_loop.h"
#include "net/timer.h"
#include "net/transport.h"
#include "p2p/links.h"

#include <memory>
#include <string>
#include <unordered_map>

namespace gossipchain {

class NetLinks : public Links, public net::ConnectionHandler {
public:
    explicit NetLinks(net::EventLoop& loop) : m_loop(loop) {}
    ~NetLinks() override;
    NetLinks(const NetLinks&) = delete;
    NetLinks& operator=(const NetLinks&) = delete;

    /** Where events go; before the transport opens any link. */
    void SetEvents(LinkEvents& events) { m_events = &events; }
    /** Starts dialing through `transport` and the core's Tick every `tick_ms`. */
    void Start(net::Transport& transport, std::uint64_t tick_ms);
    /** Stops the tick; the transport closes the links. */
    void Stop();

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
    net::Connection* Find(LinkId link) const;

    net::EventLoop& m_loop;
    LinkEvents* m_events = nullptr;
    net::Transport* m_transport = nullptr;
    std::unique_ptr<net::Timer> m_tick;
    /** Open links (those the core heard OnLinkOpened for). */
    std::unordered_map<LinkId, net::Connection*> m_links;
    /** Outbound connections whose OnOpen is still to come, with the address dialled. */
    std::unordered_map<LinkId, std::string> m_dialed;
};

}  // namespace gossipchain
