// Test-only link shaping (tools/netsim): the kernel here has no netem, so a node delays its own
// outgoing gossip frames. LinkShaper is a decorator over Links: every Send goes through it, and
// while a delay is set frames wait (per link, in order) until they are due. Blocking peers is
// meaning (which advertised address a link stands for), so it lives in PeerManager::SetBlocked.
// With no delay set a Send goes straight through: nothing is added to the send path.
//
// Loop thread only.
#pragma once

#include "net/event_loop.h"
#include "net/timer.h"
#include "p2p/links.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gossipchain {

/** What POST /admin/links sets. */
struct LinkShaping {
    /** Added to every outgoing gossip frame, in milliseconds; 0 sends at once. */
    std::uint64_t delay_ms = 0;
    /** Uniform spread around delay_ms, in milliseconds; per-link frame order is kept. */
    std::uint64_t jitter_ms = 0;
    /** Advertised listen addresses ("host:port") no link is kept with, in either direction. */
    std::vector<std::string> blocked;
};

class LinkShaper : public Links {
public:
    /** `inner` and `loop` must outlive it. */
    LinkShaper(Links& inner, net::EventLoop& loop);

    /** Sets the delay for frames sent from now on; jitter is capped at the delay. */
    void SetDelay(std::uint64_t delay_ms, std::uint64_t jitter_ms);

    void Send(LinkId link, std::string_view payload) override;
    /** Frames still held for the link are dropped: the link is going. */
    void Close(LinkId link, DropReason reason, std::string_view detail) override;
    void Dial(const PeerAddress& address) override { m_inner.Dial(address); }
    /** The inner queue plus the frames held here. */
    std::size_t QueuedBytes(LinkId link) const override;

private:
    struct Held {
        std::deque<std::pair<std::uint64_t, std::string>> frames;
        std::size_t bytes = 0;
    };
    void Flush();

    Links& m_inner;
    net::EventLoop& m_loop;
    std::uint64_t m_delay_ms = 0;
    std::uint64_t m_jitter_ms = 0;
    std::mt19937_64 m_rng{std::random_device{}()};
    std::unordered_map<LinkId, Held> m_held;
    /** Fires when the earliest held frame is due; created on first use. */
    std::unique_ptr<net::Timer> m_timer;
};

}  // namespace gossipchain
