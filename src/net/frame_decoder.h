// Incremental decoder for gossip frames: a 4-byte big-endian payload length followed by the
// payload. Pure (no I/O, no libuv) so it can be tested and fuzzed without sockets.
//
// Bytes may arrive split anywhere. The declared length is checked against the limit before a
// single payload byte is buffered, and the buffer grows only as payload bytes actually arrive, so a
// peer that declares a large frame and then stalls costs memory proportional to what it sent.
// Zero-length frames are allowed and delivered as an empty payload: whether an empty message means
// anything is the upper layer's decision, not the transport's.
#pragma once

#include "net/constants.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace gossipchain::net {

enum class FrameStatus {
    Ok,             //!< every byte was consumed (or the callback asked to stop)
    FrameTooLarge,  //!< a declared length exceeded the limit; the decoder stays in this state
};

class FrameDecoder {
public:
    /** Called for each complete frame; return false to stop decoding (e.g. the link is closing). */
    using FrameCallback = std::function<bool(std::string_view payload)>;

    explicit FrameDecoder(size_t max_frame_bytes = MAX_FRAME_BYTES);

    /**
     * Consumes `bytes`, calling `on_frame` for every frame completed by them. The payload view is
     * valid only during the call. After FrameTooLarge every later call fails the same way.
     */
    FrameStatus Feed(std::string_view bytes, const FrameCallback& on_frame);

    /** Payload bytes held for the frame in progress (not counting a partial header). */
    size_t BufferedBytes() const { return m_body.size(); }

    /** Encodes one frame: length prefix then payload. Requires payload.size() < 2^32. */
    static std::string Encode(std::string_view payload);

private:
    size_t m_max_frame_bytes;
    std::array<uint8_t, FRAME_HEADER_BYTES> m_header{};
    size_t m_header_have = 0;
    bool m_in_body = false;
    size_t m_body_need = 0;
    std::string m_body;
    bool m_failed = false;
};

}  // namespace gossipchain::net
