// Wire-level constants of the gossip transport and the defaults of TransportOptions. They live
// apart from the classes so p2p and http can name them without pulling in the transport.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gossipchain::net {

/** First 4 bytes a gossip connection sends; anything else on the port is HTTP. */
inline constexpr std::array<uint8_t, 4> MAGIC = {0xF0, 0x9F, 0x94, 0x97};

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

/** Inbound connections (gossip and HTTP together) accepted at once; more are closed at once. */
inline constexpr size_t DEFAULT_MAX_CONNECTIONS = 1024;

/** Size of the one read buffer a transport shares between its connections, in bytes (64 KiB). */
inline constexpr size_t DEFAULT_READ_BUFFER_BYTES = 64 * 1024;

/** Pending-connection queue length passed to listen(2), in connections. */
inline constexpr int DEFAULT_LISTEN_BACKLOG = 128;

/** Address the listener binds by default: loopback, so a classroom node is not exposed by accident.
 */
inline constexpr std::string_view DEFAULT_BIND = "127.0.0.1";

}  // namespace gossipchain::net
