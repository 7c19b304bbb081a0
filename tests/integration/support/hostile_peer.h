// Test support for hostile-peer tests: a raw loopback socket that speaks as much of the gossip wire
// as an attacker chooses (magic, frames, handshake) or nothing at all, plus the observations those
// tests make of a node process: resident memory from /proc and counters from /metrics. Header-only
// so the integration test glob does not take it for a test.
//
// Payloads come from src/p2p/codec.h (EncodeMessage) when the attack is in what a message means,
// and are written byte by byte when the attack is in the encoding itself.
#pragma once

#include "integration/support/node_harness.h"
#include "net/constants.h"
#include "net/frame_decoder.h"
#include "p2p/codec.h"
#include "p2p/secure_channel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace gossipchain::test {

/** How long a hostile test waits for the node to drop an offender, in milliseconds. */
inline constexpr milliseconds DEFAULT_DROP_TIMEOUT{15'000};

/** The 4 bytes that open a gossip connection. */
inline std::string MagicBytes() {
    return std::string(reinterpret_cast<const char*>(net::MAGIC.data()), net::MAGIC.size());
}

/** The 4 bytes that opened a plaintext protocol-2 connection (SPEC §1: refused with Reject(2)). */
inline std::string LegacyMagicBytes() {
    return std::string(reinterpret_cast<const char*>(net::LEGACY_MAGIC.data()),
                       net::LEGACY_MAGIC.size());
}

/** A frame header declaring `length` payload bytes, big-endian. */
inline std::string FrameHeader(std::uint32_t length) {
    return {static_cast<char>(length >> 24), static_cast<char>(length >> 16),
            static_cast<char>(length >> 8), static_cast<char>(length)};
}

/** One frame carrying `message`, canonically encoded. */
inline std::string FrameOf(const Message& message) {
    return net::FrameDecoder::Encode(EncodeMessage(message));
}

/** 32 random lowercase hex characters: a fresh node id, so bans of one peer miss the next. */
inline std::string RandomNodeId() {
    static std::mt19937_64 rng(std::random_device{}());
    static constexpr char HEX[] = "0123456789abcdef";
    std::string id;
    for (int i = 0; i < 32; ++i)
        id.push_back(HEX[rng() % 16]);
    return id;
}

/**
 * A loopback TCP connection that plays a peer. Sends fail quietly once the node has closed (the
 * test asserts on Closed(), not on send errors); reads decode frames as they arrive. Handshake()
 * runs the real key exchange (SPEC §7.2) with the peer's own key (a fresh one unless given), and
 * from then on SendFrame and ReadMessage go through the encrypted channel; Send writes raw bytes
 * for attacks on the encoding itself.
 */
class HostilePeer {
public:
    explicit HostilePeer(int port, const NodeKey& key = NodeKey::Generate()) : m_key(key) {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        m_connected =
            m_fd >= 0 && ::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    }
    ~HostilePeer() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    HostilePeer(const HostilePeer&) = delete;
    HostilePeer& operator=(const HostilePeer&) = delete;

    bool Connected() const { return m_connected; }

    /** Writes all of `bytes` (blocking); false once the node has closed or reset the link. */
    bool Send(std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    /** One message: sealed once the channel is open, a plaintext frame before. */
    bool SendFrame(const Message& message) { return SendPayload(EncodeMessage(message)); }
    /** Any payload, sealed once the channel is open. */
    bool SendPayload(std::string_view payload) {
        if (m_channel && m_channel->Open())
            return Send(net::FrameDecoder::Encode(m_channel->Seal(payload)));
        return Send(net::FrameDecoder::Encode(payload));
    }
    /** The sealed frame (length prefix and ciphertext) of `message`, for tampering tests. */
    std::string SealedFrame(const Message& message) {
        return SealedPayload(EncodeMessage(message));
    }
    /**
     * The sealed frame of any payload, for floods sent in one write. Sealing counts the message:
     * frames made here must be sent, in the order they were made, before any other.
     */
    std::string SealedPayload(std::string_view payload) {
        return net::FrameDecoder::Encode(m_channel->Seal(payload));
    }
    const NodeKey& Key() const { return m_key; }

    /**
     * The key exchange and authentication of SPEC §7.2, after the magic. True once the node
     * proved its key (NodeKey()) and the channel is open.
     */
    bool Authenticate() {
        if (!Send(MagicBytes()))
            return false;
        m_channel = std::make_unique<SecureChannel>(m_key, ChannelRole::Initiator);
        if (!Send(net::FrameDecoder::Encode(m_channel->KeyFrame())))
            return false;
        auto deadline = Clock::now() + DEFAULT_DROP_TIMEOUT;
        while (!m_channel->Open()) {
            if (m_frames.empty()) {
                if (!ReadSome(deadline))
                    return false;
                continue;
            }
            std::string frame = std::move(m_frames.front());
            m_frames.erase(m_frames.begin());
            std::string plaintext;
            std::string to_send;
            if (m_channel->Receive(frame, plaintext, to_send) == ChannelEvent::Failed)
                return false;
            if (!to_send.empty() && !Send(net::FrameDecoder::Encode(to_send)))
                return false;
        }
        return true;
    }
    /** The node's proven key, once Authenticate() succeeded. */
    const NodePublicKey& ProvenKey() const { return m_channel->PeerKey(); }

    /**
     * Opens a gossip link properly: the handshake, the node's Hello read, ours sent with its
     * network id (or `network_id` when given) and our key's node id (or `node_id`, to claim
     * another). Returns the node's Hello, or nullopt when it did not send one.
     */
    std::optional<Hello> Handshake(std::optional<std::string> network_id = std::nullopt,
                                   std::string node_id = {}) {
        if (!Authenticate())
            return std::nullopt;
        if (node_id.empty())
            node_id = m_key.NodeId();
        std::optional<Message> theirs = ReadMessage(DEFAULT_DROP_TIMEOUT);
        if (!theirs)
            return std::nullopt;
        if (!std::holds_alternative<Hello>(*theirs)) {
            // A Reject instead (banned, full): kept for the test's next read.
            m_messages.push_back(std::move(*theirs));
            return std::nullopt;
        }
        Hello hello = std::get<Hello>(*theirs);
        Hello ours;
        ours.network_id = network_id.value_or(hello.network_id);
        ours.node_id = std::move(node_id);
        ours.height = 1;
        ours.tip = hello.tip;  // any 64-hex hash; the node does not trust it
        ours.agent = "hostile/1";
        if (!SendFrame(ours))
            return std::nullopt;
        return hello;
    }

    /** The next decodable message the node sends within `timeout`; nullopt on close or timeout. */
    std::optional<Message> ReadMessage(milliseconds timeout) {
        auto deadline = Clock::now() + timeout;
        if (!m_messages.empty()) {
            Message message = std::move(m_messages.front());
            m_messages.erase(m_messages.begin());
            return message;
        }
        while (true) {
            if (!m_frames.empty()) {
                std::string payload = std::move(m_frames.front());
                m_frames.erase(m_frames.begin());
                if (m_channel && m_channel->Open()) {
                    std::string frame = std::move(payload);
                    std::string unused;
                    if (m_channel->Receive(frame, payload, unused) != ChannelEvent::Delivered)
                        return std::nullopt;
                }
                DecodeResult decoded = DecodeMessage(payload);
                if (decoded.Ok())
                    return std::move(decoded.Value());
                continue;
            }
            if (!ReadSome(deadline))
                return std::nullopt;
        }
    }

    /** Waits for a message of type T, skipping others (pings, inventory). */
    template <typename T>
    std::optional<T> Expect(milliseconds timeout = DEFAULT_DROP_TIMEOUT) {
        auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
            std::optional<Message> message = ReadMessage(left);
            if (!message)
                return std::nullopt;
            if (auto* wanted = std::get_if<T>(&*message))
                return *wanted;
        }
        return std::nullopt;
    }

    /**
     * True when the node closes the connection within `timeout` (end of stream or reset),
     * reading and discarding whatever it sends before that.
     */
    bool Closed(milliseconds timeout = DEFAULT_DROP_TIMEOUT) {
        auto deadline = Clock::now() + timeout;
        while (!m_eof) {
            if (!ReadSome(deadline))
                return m_eof;
        }
        return true;
    }

    /** Raw bytes the node sent so far that were not frames (HTTP answers land here). */
    std::string TakeRaw() { return std::exchange(m_raw, {}); }
    /** Reads until `timeout` passes or the connection ends, keeping the bytes raw. */
    void ReadRaw(milliseconds timeout) {
        m_keep_raw = true;
        auto deadline = Clock::now() + timeout;
        while (!m_eof && ReadSome(deadline)) {
        }
    }

    /** Reads raw bytes until they contain `needle`, the connection ends or `timeout` passes. */
    bool ReadRawUntil(std::string_view needle, milliseconds timeout) {
        m_keep_raw = true;
        auto deadline = Clock::now() + timeout;
        while (m_raw.find(needle) == std::string::npos) {
            if (!ReadSome(deadline))
                return false;
        }
        return true;
    }

private:
    /** One read within the deadline; false on timeout or end of stream. */
    bool ReadSome(Clock::time_point deadline) {
        if (m_eof)
            return false;
        auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
        if (left <= 0)
            return false;
        pollfd pfd{m_fd, POLLIN, 0};
        int ready = ::poll(&pfd, 1, static_cast<int>(left));
        if (ready <= 0)
            return false;
        char buf[65536];
        ssize_t n = ::recv(m_fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            return true;
        if (n <= 0) {
            m_eof = true;
            return false;
        }
        std::string_view bytes(buf, static_cast<std::size_t>(n));
        if (m_keep_raw) {
            m_raw.append(bytes);
            return true;
        }
        m_decoder.Feed(bytes, [&](std::string_view payload) {
            m_frames.emplace_back(payload);
            return true;
        });
        return true;
    }

    gossipchain::NodeKey m_key;
    std::unique_ptr<SecureChannel> m_channel;
    int m_fd = -1;
    bool m_connected = false;
    bool m_eof = false;
    bool m_keep_raw = false;
    std::string m_raw;
    net::FrameDecoder m_decoder;
    std::vector<std::string> m_frames;
    /** Messages read and decrypted but not yet handed to the test. */
    std::vector<Message> m_messages;
};

/**
 * PID of the gossipchain process whose --data-dir is `data_dir` (the harness keeps the child
 * private; /proc has it). 0 when none runs.
 */
inline pid_t FindNodePid(const std::string& data_dir) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::ifstream in(entry.path() / "cmdline", std::ios::binary);
        std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (cmdline.find(std::string("--data-dir") + '\0' + data_dir + '\0') != std::string::npos)
            return static_cast<pid_t>(std::atoi(name.c_str()));
    }
    return 0;
}

/** A memory field of /proc/PID/status (VmRSS, VmHWM) in KiB; 0 when unreadable. */
inline std::uint64_t ProcStatusKiB(pid_t pid, std::string_view field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 &&
            line[field.size()] == ':')
            return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10);
    }
    return 0;
}

/** Resident memory of `pid` now, in KiB. */
inline std::uint64_t ResidentKiB(pid_t pid) {
    return ProcStatusKiB(pid, "VmRSS");
}

/**
 * The most resident memory `pid` ever had, in KiB (the kernel's high-water mark): an attack whose
 * buffers are freed once the offender is gone still shows here.
 */
inline std::uint64_t PeakResidentKiB(pid_t pid) {
    return ProcStatusKiB(pid, "VmHWM");
}

/**
 * Starts a new high-water mark for PeakResidentKiB at the current RSS (Linux's clear_refs "5"),
 * so a test measures the peak of its attack rather than of the node's start-up. False when the
 * kernel refused.
 */
inline bool ResetPeakResident(pid_t pid) {
    std::ofstream out("/proc/" + std::to_string(pid) + "/clear_refs");
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

/** True once `pid` has exited: gone, or a zombie its parent has not reaped yet. */
inline bool HasExited(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // "PID (comm) STATE ...": comm may hold spaces and parentheses, so look after the last ')'.
    std::size_t paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z';
}

/** A counter or gauge from the node's /metrics, or -1 when absent. */
inline double MetricValue(const HttpEndpoint& node, const std::string& name) {
    HttpClientResponse response = node.Get("/metrics");
    std::istringstream lines(response.body);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(name + " ", 0) == 0)
            return std::strtod(line.c_str() + name.size() + 1, nullptr);
    }
    return -1;
}

}  // namespace gossipchain::test
