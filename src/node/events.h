// The node's event log, a test and measurement feature (--events PATH, read by tools/netsim): one
// JSON object per line for each block seen or mined, transaction seen, reorg, peer link up or
// down, and periodic bytes-by-message-type totals. Every line carries "t_ns", CLOCK_REALTIME in
// nanoseconds: all nodes on one machine share that clock, so first-seen times of one block in
// different nodes' logs subtract to exact propagation delays. Each line is one write(2) on an
// O_APPEND descriptor, so a node killed with SIGKILL leaves only whole lines behind.
#pragma once

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

    // Each call is a no-op while the log is closed.
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
};

/** PeerManager observers that report to `log`, which must outlive them. */
PeerManager::Observers ObserversFor(EventLog& log);

}  // namespace gossipchain
