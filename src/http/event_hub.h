// The node's live event stream, GET /events as Server-Sent Events (text/event-stream): one
// `event: block | tx | reorg | peer` per block accepted or mined, transaction accepted, reorg and
// peer link change, its `data:` one line of JSON. The node's EventLog publishes here; the
// dashboard page and `curl -N` read it. Every string in an event came from a peer or a client
// (addresses, reasons), so data is written by nlohmann::json with ensure_ascii: no raw byte,
// newline or invalid UTF-8 reaches the stream, and the page shows it as text, never as markup.
//
// Bounded on both axes an attacker controls: at most MAX_SSE_CLIENTS streams node-wide (more are
// refused with 503 by the endpoint, or closed here if they raced past it), and a client that
// does not read is closed once MAX_SSE_CLIENT_PENDING_BYTES wait for it, so nothing is buffered
// for it beyond that and the kernel's socket buffer. The last MAX_SSE_RECENT_BLOCKS block events
// are kept, so a page that connects sees who sent the recent blocks. Loop thread only.
#pragma once

#include "http/http_stream.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gossipchain {

/** Event streams open at once on one node, a count; more are refused with 503. */
inline constexpr std::size_t MAX_SSE_CLIENTS = 64;
/** Bytes waiting for one event-stream client at which it is closed as too slow (256 KiB). */
inline constexpr std::size_t MAX_SSE_CLIENT_PENDING_BYTES = 256u << 10;
/** Block events kept for new streams and the dashboard's "from" column, a count. */
inline constexpr std::size_t MAX_SSE_RECENT_BLOCKS = 32;

/** One block event as kept for replay. */
struct RecentBlock {
    std::string hash;
    std::uint64_t index = 0;
    /** "self" when mined here, else the address of the peer it came from. */
    std::string source;
    /** Unix seconds when this node accepted it. */
    double time = 0;
    /** Known for blocks mined here. */
    std::optional<std::size_t> transactions;
};

struct SseMetrics {
    std::uint64_t streams_opened = 0;
    std::uint64_t streams_refused = 0;
    std::uint64_t streams_dropped_slow = 0;
    std::uint64_t events = 0;
    std::uint64_t bytes = 0;
};

class EventHub final : public HttpStreamHandler {
public:
    struct Options {
        std::size_t max_clients = MAX_SSE_CLIENTS;
        std::size_t max_client_pending_bytes = MAX_SSE_CLIENT_PENDING_BYTES;
        std::size_t recent_blocks = MAX_SSE_RECENT_BLOCKS;
    };

    EventHub() = default;
    explicit EventHub(Options options) : m_options(options) {}
    EventHub(const EventHub&) = delete;
    EventHub& operator=(const EventHub&) = delete;

    /** True while some stream listens: formatting other events is only worth it then. */
    bool Listening() const { return !m_clients.empty(); }
    bool Full() const { return m_clients.size() >= m_options.max_clients; }
    std::size_t Clients() const { return m_clients.size(); }
    /** Counts a stream the endpoint refused because Full(). */
    void CountRefused() { ++m_metrics.streams_refused; }

    /** Publishes a block event and keeps it among the recent blocks. */
    void PublishBlock(RecentBlock block);
    /** Publishes `event` with `data` (a JSON object) to every stream. */
    void Publish(std::string_view event, const nlohmann::json& data);

    /** The recent block events, oldest first. */
    const std::deque<RecentBlock>& RecentBlocks() const { return m_recent; }
    const SseMetrics& Metrics() const { return m_metrics; }
    /** Prometheus text of Metrics() and the open streams. */
    std::string MetricsText() const;

    void OnStreamOpen(HttpStream& stream) override;
    void OnStreamClosed(HttpStream& stream) override;

    /** `data` of a block event. */
    static nlohmann::json BlockData(const RecentBlock& block);

private:
    /** The wire bytes of one event: id, event and one data line. */
    std::string Frame(std::string_view event, const nlohmann::json& data);
    /** Writes `frame` to every stream, closing those that would hold more than their bound. */
    void Broadcast(const std::string& frame);
    /** Writes to one stream; closes it instead when that would pass its bound. */
    void WriteOrDrop(HttpStream& stream, std::string frame);

    Options m_options;
    std::vector<HttpStream*> m_clients;
    std::deque<RecentBlock> m_recent;
    std::uint64_t m_next_id = 1;
    SseMetrics m_metrics;
};

}  // namespace gossipchain
