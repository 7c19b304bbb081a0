// Wire-level constants of the gossip transport and the defaults of TransportOptions. They live
// apart from the classes so p2p and http can name them without pulling in the transport.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gossipchain::net {

/**
 * Bytes waiting for the kernel on all of a transport's connections. Shared with each write
 * request, because a request can call back after its transport is gone.
 */
struct WriteBudget {
    size_t queued = 0;
};

/** Why a connection closed, for code to act on; the text that goes with it is for people. */
enum class CloseReason {
    /** The upper layer closed it (its text says why: a Reject, a ban, a protocol error). */
    ByHandler,
    PeerClosed,
    ReadError,
    WriteError,
    /** Its own write queue bound, or the node-wide one, was reached. */
    WriteQueueFull,
    FrameTooLarge,
    /** An outbound gossip link was answered in HTTP (a plain tutorial node). */
    PeerSpeaksHttp,
    IdleTimeout,
    SniffTimeout,
    ConnectTimeout,
    ConnectFailed,
    ResolveFailed,
    /** A handler threw (a bug); the connection is dropped rather than left half-handled. */
    HandlerError,
    /** Made room for a newcomer at a connection cap. */
    Evicted,
    /** Transport::CloseAll: the node is stopping. */
    Shutdown,
    /** The link's encryption refused a frame (changed, dropped or replayed on the way), or the
     * handshake failed: nobody is to blame that we can prove (SPEC §7.3). */
    AuthenticationFailed,
};

/** First bytes a gossip connection sends (protocol 3: authenticated, encrypted links): UTF-8 of
 * U+1F510 and a newline, so a plain HTTP server that reads a request line (the tutorial's Flask)
 * answers at once, in HTTP, instead of waiting for a line end. Anything else on the port is HTTP,
 * but for LEGACY_MAGIC. */
inline constexpr std::array<uint8_t, 5> MAGIC = {0xF0, 0x9F, 0x94, 0x90, 0x0A};
/** The magic of the plaintext protocols 1 and 2: recognised so that such a peer is told why it
 * is refused (SPEC §1) instead of being answered in HTTP. */
inline constexpr std::array<uint8_t, 4> LEGACY_MAGIC = {0xF0, 0x9F, 0x94, 0x97};

/** Size of the big-endian length prefix in front of every frame, in bytes. */
inline constexpr size_t FRAME_HEADER_BYTES = 4;

/** Largest frame payload a peer may declare, in bytes (8 MiB); checked before allocating. */
inline constexpr size_t MAX_FRAME_BYTES = 8 * 1024 * 1024;

/** Bytes an HTTP connection may have waiting for the kernel before the slow client is dropped
 * (32 MiB; a node raises it for /chain of a long chain, which is one write). */
inline constexpr size_t DEFAULT_MAX_WRITE_QUEUE_BYTES = 32 * 1024 * 1024;

/** Bytes a gossip link may have waiting for the kernel before the slow peer is dropped (16 MiB):
 * two largest frames. p2p paces long answers (SPEC §9), so an honest peer stays far below. */
inline constexpr size_t DEFAULT_MAX_GOSSIP_WRITE_QUEUE_BYTES = 2 * MAX_FRAME_BYTES;

/** How long an inbound connection may stay silent before its first bytes are sniffed, in ms. */
inline constexpr uint64_t DEFAULT_SNIFF_TIMEOUT_MS = 10'000;

/** How long an outbound connect may take before it fails with UV_ETIMEDOUT, in ms. */
inline constexpr uint64_t DEFAULT_CONNECT_TIMEOUT_MS = 10'000;

/** Gossip links close when nothing was read for this long, in ms; p2p pings keep live links busy.
 */
inline constexpr uint64_t DEFAULT_IDLE_TIMEOUT_MS = 90'000;

/** HTTP connections close when nothing was read for this long, in ms (http may override it). */
inline constexpr uint64_t DEFAULT_HTTP_IDLE_TIMEOUT_MS = 30'000;

/** Inbound connections (gossip and HTTP together) accepted at once. At the cap a newcomer takes
 * the place of an idle one (an HTTP keep-alive connection with nothing in flight, or one that has
 * not said what it is); only when none is idle is it closed at once. */
inline constexpr size_t DEFAULT_MAX_CONNECTIONS = 1024;

/** Inbound connections from one IP address at once (a quarter of DEFAULT_MAX_CONNECTIONS), so
 * one host cannot take every place; at the cap its own idle connection makes room, if it has one.
 * 127.0.0.1 and ::1 are exempt: every local tool and node shares them. */
inline constexpr size_t DEFAULT_MAX_CONNECTIONS_PER_IP = 256;

/** Bytes waiting for the kernel on all connections together (512 MiB). A write that would go
 * over it first closes the connections with the most queued (clients and peers that do not read
 * what they asked for), largest first; when the writer itself has the most, it is closed. */
inline constexpr size_t DEFAULT_MAX_TOTAL_WRITE_QUEUE_BYTES = 512u * 1024 * 1024;

/** Size of the one read buffer a transport shares between its connections, in bytes (64 KiB). */
inline constexpr size_t DEFAULT_READ_BUFFER_BYTES = 64 * 1024;

/** Pending-connection queue length passed to listen(2), in connections. */
inline constexpr int DEFAULT_LISTEN_BACKLOG = 128;

/** Address the listener binds by default: loopback, so a classroom node is not exposed by accident.
 */
inline constexpr std::string_view DEFAULT_BIND = "127.0.0.1";

}  // namespace gossipchain::net
