// What the node tells about itself as it happens, to two readers: the live stream GET /events
// (EventHub: blocks, transactions, reorgs and peer changes, always on, costing nothing while no
// stream is open except the last few block events it keeps), and the event log, a test and
// measurement feature (--events PATH, read by tools/netsim): one JSON object per line for each
// block seen or mined, transaction seen, reorg, peer link up or down, and periodic
// bytes-by-message-type totals. Every line carries "t_ns", CLOCK_REALTIME in nanoseconds: all nodes
// on one machine share that clock, so first-seen times of one block in different nodes' logs
// subtract to exact propagation delays. Each line is one write(2) on an O_APPEND descriptor, so a
// node killed with SIGKILL leaves only whole lines behind.
#pragma once

#include "http/event_hub.h"
#include "p2p/peer_manager.h"
#include "util/result.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace gossipchain {

/** Period of the "traffic" event (cumulative bytes by message type), in milliseconds. */
inline constexpr std::uint64_t DEFAULT_TRAFFIC_EVENT_MS = 1'000;

class EventLog {
public:
    EventLog() = default;
    ~EventLog();
    EventLog(const EventLog&) = delete;
    EventLog& operator=(const EventLog&) = delete;

    /** Opens `path` for appending and writes a "start" event; Ok, or why it cannot. */
    Status Open(const std::string& path, const std::string& node_id, std::uint16_t port);
    bool Enabled() const { return m_fd >= 0; }

    /** The live stream; the node serves it at GET /events. */
    EventHub& Hub() { return m_hub; }
    const EventHub& Hub() const { return m_hub; }

    // Each call writes to the log while it is open and publishes to the hub. A block mined here
    // is published by BlockMined (with its transaction count), not by its BlockSeen("self").
    void BlockSeen(const std::string& hash, std::uint64_t height, const std::string& from);
    void BlockMined(const std::string& hash, std::uint64_t height, std::size_t transactions);
    void TxSeen(const std::string& txid, const std::string& from);
    void Reorg(std::size_t depth, const std::string& old_tip, const std::string& new_tip);
    void PeerLink(const std::string& address, bool up, std::string_view reason);
    void Traffic(const P2pMetrics& metrics);

private:
    /** Writes `{"t_ns": now, "ev": type` + `fields` (JSON members with a leading comma) + `}`. */
    void Write(std::string_view type, const std::string& fields);

    int m_fd = -1;
    EventHub m_hub;
};

}  // namespace gossipchain
