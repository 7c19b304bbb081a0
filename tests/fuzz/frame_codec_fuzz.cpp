// Fuzz target: gossip bytes after the magic, as a peer sends them. The frame decoder must split
// them the same way whatever the read sizes, and every payload the codec accepts must re-encode
// canonically: decode(encode(m)) succeeds and encodes to the same bytes again.
#include "fuzz/fuzz_check.h"
#include "net/frame_decoder.h"
#include "p2p/codec.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using gossipchain::fuzz::Check;

/** Frame limit for fuzzing, in bytes: small, so memory use stays in libFuzzer's default budget. */
constexpr std::size_t MAX_FUZZ_FRAME_BYTES = 1 << 16;

void CheckPayload(std::string_view payload) {
    gossipchain::DecodeResult decoded = gossipchain::DecodeMessage(payload);
    if (!decoded.Ok())
        return;
    std::string encoded = gossipchain::EncodeMessage(decoded.Value());
    gossipchain::DecodeResult again = gossipchain::DecodeMessage(encoded);
    Check(again.Ok(), "a re-encoded message decodes");
    Check(gossipchain::TypeOf(again.Value()) == gossipchain::TypeOf(decoded.Value()),
          "re-encoding keeps the message type");
    Check(gossipchain::EncodeMessage(again.Value()) == encoded, "encoding is a fixed point");
    // A frame built around the canonical payload carries it back unchanged.
    std::vector<std::string> frames;
    gossipchain::net::FrameDecoder decoder;
    decoder.Feed(gossipchain::net::FrameDecoder::Encode(encoded), [&](std::string_view frame) {
        frames.emplace_back(frame);
        return true;
    });
    Check(frames.size() == 1 && frames[0] == encoded, "Encode then Feed returns the payload");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    gossipchain::fuzz::ChunkedInput input(data, size);

    std::vector<std::string> whole_frames;
    gossipchain::net::FrameDecoder whole(MAX_FUZZ_FRAME_BYTES);
    gossipchain::net::FrameStatus whole_status =
        whole.Feed(input.Whole(), [&](std::string_view payload) {
            whole_frames.emplace_back(payload);
            return true;
        });

    std::vector<std::string> chunked_frames;
    gossipchain::net::FrameDecoder chunked(MAX_FUZZ_FRAME_BYTES);
    gossipchain::net::FrameStatus chunked_status = gossipchain::net::FrameStatus::Ok;
    input.ForEachChunk([&](std::string_view chunk) {
        chunked_status = chunked.Feed(chunk, [&](std::string_view payload) {
            chunked_frames.emplace_back(payload);
            return true;
        });
        Check(chunked.BufferedBytes() <= MAX_FUZZ_FRAME_BYTES, "buffer stays under the limit");
        return chunked_status == gossipchain::net::FrameStatus::Ok;
    });
    Check(whole_status == chunked_status, "read sizes do not change the outcome");
    Check(whole_frames == chunked_frames, "read sizes do not change the frames");

    for (const std::string& payload : whole_frames)
        CheckPayload(payload);
    // The bytes as one payload too: most mutations of a seed never form a valid frame header.
    CheckPayload(input.Whole());
    return 0;
}
