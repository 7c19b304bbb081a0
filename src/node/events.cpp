#include "node/events.h"

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace gossipchain {
namespace {

std::uint64_t RealtimeNs() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(
        duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count());
}

double RealtimeSeconds() {
    return static_cast<double>(RealtimeNs()) / 1e9;
}

/** `,"key":value` with the value JSON-escaped; addresses and reasons come from peers. */
std::string Field(std::string_view key, const nlohmann::json& value) {
    std::string out = ",\"";
    out += key;
    out += "\":";
    out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return out;
}

nlohmann::json ByType(const std::map<std::string, std::uint64_t>& counts) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [type, bytes] : counts)
        out[type] = bytes;
    return out;
}

}  // namespace

EventLog::~EventLog() {
    if (m_fd >= 0)
        ::close(m_fd);
}

Status EventLog::Open(const std::string& path, const std::string& node_id, std::uint16_t port) {
    m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (m_fd < 0)
        return Status::Error("cannot open event log " + path + ": " + std::strerror(errno));
    Write("start", Field("node_id", node_id) + Field("port", port) +
                       Field("pid", static_cast<long long>(::getpid())));
    return {};
}

void EventLog::BlockSeen(const std::string& hash, std::uint64_t height, const std::string& from) {
    if (Enabled())
        Write("block_seen", Field("hash", hash) + Field("height", height) + Field("from", from));
    if (from != "self")
        m_hub.PublishBlock(RecentBlock{hash, height, from, RealtimeSeconds(), std::nullopt});
}

void EventLog::BlockMined(const std::string& hash, std::uint64_t height, std::size_t transactions) {
    if (Enabled()) {
        Write("block_mined",
              Field("hash", hash) + Field("height", height) + Field("txs", transactions));
    }
    m_hub.PublishBlock(RecentBlock{hash, height, "self", RealtimeSeconds(), transactions});
}

void EventLog::TxSeen(const std::string& txid, const std::string& from) {
    if (Enabled())
        Write("tx_seen", Field("txid", txid) + Field("from", from));
    if (m_hub.Listening()) {
        m_hub.Publish(
            "tx", nlohmann::json{{"txid", txid}, {"source", from}, {"time", RealtimeSeconds()}});
    }
}

void EventLog::Reorg(std::size_t depth, const std::string& old_tip, const std::string& new_tip) {
    if (Enabled()) {
        Write("reorg",
              Field("depth", depth) + Field("old_tip", old_tip) + Field("new_tip", new_tip));
    }
    if (m_hub.Listening()) {
        m_hub.Publish("reorg", nlohmann::json{{"depth", depth},
                                              {"old_tip", old_tip},
                                              {"new_tip", new_tip},
                                              {"time", RealtimeSeconds()}});
    }
}

void EventLog::PeerLink(const std::string& address, bool up, std::string_view reason) {
    if (Enabled()) {
        std::string fields = Field("peer", address);
        if (!up)
            fields += Field("reason", std::string(reason));
        Write(up ? "peer_up" : "peer_down", fields);
    }
    if (m_hub.Listening()) {
        nlohmann::json data = {{"peer", address}, {"up", up}, {"time", RealtimeSeconds()}};
        if (!up)
            data["reason"] = std::string(reason);
        m_hub.Publish("peer", data);
    }
}

void EventLog::Traffic(const P2pMetrics& metrics) {
    if (!Enabled())
        return;
    Write("traffic", Field("bytes_in", ByType(metrics.bytes_in_by_type)) +
                         Field("bytes_out", ByType(metrics.bytes_out_by_type)) +
                         Field("blocks_received", metrics.blocks_received) +
                         Field("blocks_relayed", metrics.blocks_relayed) +
                         Field("txs_received", metrics.txs_received));
}

void EventLog::Write(std::string_view type, const std::string& fields) {
    std::string line = "{\"t_ns\":" + std::to_string(RealtimeNs()) + ",\"ev\":\"";
    line += type;
    line += "\"";
    line += fields;
    line += "}\n";
    // One write per line keeps lines whole; a short write (disk full) loses the event only.
    ssize_t written;
    do {
        written = ::write(m_fd, line.data(), line.size());
    } while (written < 0 && errno == EINTR);
}

}  // namespace gossipchain
