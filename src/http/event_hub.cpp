#include "http/event_hub.h"

#include <algorithm>
#include <utility>

namespace gossipchain {

nlohmann::json EventHub::BlockData(const RecentBlock& block) {
    nlohmann::json data = {{"hash", block.hash},
                           {"index", block.index},
                           {"source", block.source},
                           {"time", block.time}};
    if (block.transactions)
        data["transactions"] = *block.transactions;
    return data;
}

std::string EventHub::Frame(std::string_view event, const nlohmann::json& data) {
    std::string frame = "id: " + std::to_string(m_next_id++) + "\nevent: ";
    frame += event;
    frame += "\ndata: ";
    // ensure_ascii: a hostile string cannot end the line (\n is escaped) or carry raw bytes.
    frame += data.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    frame += "\n\n";
    return frame;
}

void EventHub::PublishBlock(RecentBlock block) {
    if (Listening())
        Broadcast(Frame("block", BlockData(block)));
    m_recent.push_back(std::move(block));
    while (m_recent.size() > m_options.recent_blocks)
        m_recent.pop_front();
}

void EventHub::Publish(std::string_view event, const nlohmann::json& data) {
    if (Listening())
        Broadcast(Frame(event, data));
}

void EventHub::Broadcast(const std::string& frame) {
    ++m_metrics.events;
    // A copy: closing a stream may (in a fake, synchronously) call OnStreamClosed.
    std::vector<HttpStream*> clients = m_clients;
    for (HttpStream* stream : clients)
        WriteOrDrop(*stream, frame);
}

void EventHub::WriteOrDrop(HttpStream& stream, std::string frame) {
    if (stream.PendingBytes() + frame.size() > m_options.max_client_pending_bytes) {
        ++m_metrics.streams_dropped_slow;
        // Forgotten at once, so no further event is written to it while it closes.
        OnStreamClosed(stream);
        stream.Close("event stream: client too slow");
        return;
    }
    m_metrics.bytes += frame.size();
    stream.Write(std::move(frame));
}

void EventHub::OnStreamOpen(HttpStream& stream) {
    // The endpoint refuses with 503 when full; a request pipelined behind a slow answer can
    // still get here after others took the last places.
    if (Full()) {
        ++m_metrics.streams_refused;
        stream.Close("event stream: too many clients");
        return;
    }
    ++m_metrics.streams_opened;
    m_clients.push_back(&stream);
    // EventSource reconnects after `retry` ms when the connection drops.
    std::string hello = ": gossipchain events\nretry: 2000\n\n";
    for (const RecentBlock& block : m_recent)
        hello += Frame("block", BlockData(block));
    WriteOrDrop(stream, std::move(hello));
}

void EventHub::OnStreamClosed(HttpStream& stream) {
    m_clients.erase(std::remove(m_clients.begin(), m_clients.end(), &stream), m_clients.end());
}

std::string EventHub::MetricsText() const {
    std::string out;
    auto metric = [&out](const char* name, const char* type, const char* help,
                         std::uint64_t value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
               name + " " + std::to_string(value) + "\n";
    };
    metric("gossipchain_sse_clients", "gauge", "Open /events streams.", m_clients.size());
    metric("gossipchain_sse_streams_total", "counter", "/events streams opened.",
           m_metrics.streams_opened);
    metric("gossipchain_sse_refused_total", "counter",
           "/events streams refused because MAX_SSE_CLIENTS were open.", m_metrics.streams_refused);
    metric("gossipchain_sse_dropped_slow_total", "counter",
           "/events streams closed because the client did not read.",
           m_metrics.streams_dropped_slow);
    metric("gossipchain_sse_events_total", "counter", "Events published to /events streams.",
           m_metrics.events);
    metric("gossipchain_sse_bytes_total", "counter", "Bytes written to /events streams.",
           m_metrics.bytes);
    return out;
}

}  // namespace gossipchain
