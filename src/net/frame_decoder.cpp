#include "net/frame_decoder.h"

#include <algorithm>
#include <cstring>

namespace gossipchain::net {

namespace {

uint32_t ReadBigEndian32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

FrameDecoder::FrameDecoder(size_t max_frame_bytes) : m_max_frame_bytes(max_frame_bytes) {}

FrameStatus FrameDecoder::Feed(std::string_view bytes, const FrameCallback& on_frame) {
    if (m_failed)
        return FrameStatus::FrameTooLarge;
    while (!bytes.empty()) {
        if (!m_in_body) {
            const size_t take = std::min(FRAME_HEADER_BYTES - m_header_have, bytes.size());
            std::memcpy(m_header.data() + m_header_have, bytes.data(), take);
            m_header_have += take;
            bytes.remove_prefix(take);
            if (m_header_have < FRAME_HEADER_BYTES)
                break;
            m_header_have = 0;
            const uint32_t length = ReadBigEndian32(m_header.data());
            if (length > m_max_frame_bytes) {
                m_failed = true;
                return FrameStatus::FrameTooLarge;
            }
            // Fast path: the whole payload is already here, so hand out a view without copying.
            if (bytes.size() >= length) {
                const std::string_view payload = bytes.substr(0, length);
                bytes.remove_prefix(length);
                if (!on_frame(payload))
                    return FrameStatus::Ok;
                continue;
            }
            m_in_body = true;
            m_body_need = length;
        }
        const size_t take = std::min(m_body_need - m_body.size(), bytes.size());
        m_body.append(bytes.data(), take);
        bytes.remove_prefix(take);
        if (m_body.size() < m_body_need)
            break;
        std::string payload;
        payload.swap(m_body);
        m_in_body = false;
        if (!on_frame(payload))
            return FrameStatus::Ok;
    }
    return FrameStatus::Ok;
}

std::string FrameDecoder::Encode(std::string_view payload) {
    const auto length = static_cast<uint32_t>(payload.size());
    std::string frame;
    frame.reserve(FRAME_HEADER_BYTES + payload.size());
    frame.push_back(static_cast<char>(length >> 24));
    frame.push_back(static_cast<char>(length >> 16));
    frame.push_back(static_cast<char>(length >> 8));
    frame.push_back(static_cast<char>(length));
    frame.append(payload);
    return frame;
}

}  // namespace gossipchain::net
