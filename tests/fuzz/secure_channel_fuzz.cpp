// Fuzz target: a gossip link's secure channel (p2p/secure_channel.h, SPEC §7.1-7.3) as a dialling
// peer reaches it. A responder with a fixed node key and ephemeral key (those of the "basic" case
// of protocol/vectors/handshake.json, so the vector frames are valid inputs) receives frames.
//
// Input: one mode byte, then frames, each a 2-byte big-endian length and that many bytes (a
// short last frame takes what is left).
//   mode & 3 == 0: every frame goes to the responder as it is (first `e`, then `auth`, then
//                  sealed messages): the handshake and the frame reader see hostile bytes.
//   mode & 3 == 1: a real initiator (the vector's) runs the handshake first, so the responder is
//                  open; each frame is then an operation on the open link (its first byte
//                  picks it, the rest is data): deliver data sealed by the initiator, or sealed
//                  and changed, or raw, or the last frame again, or sealed and dropped, or
//                  sealed by the responder for the initiator.
//   mode & 3 == 2: the real initiator's `e`, then the first frame as its `auth`, then raw frames.
//   mode & 3 == 3: the first frame as the initiator's `e`, then raw frames.
// Invariants after every frame, on both channels: Failed is sticky and delivers nothing (the
// caller's plaintext is left as it was or emptied, nothing is to be sent); an event agrees with
// the state it leaves; a message's plaintext is its frame's size minus the tag; an honest sealed
// frame is delivered unchanged while the channel is open; a changed, replayed or skipped-over
// frame fails it.
#include "crypto/node_key.h"
#include "fuzz/fuzz_check.h"
#include "p2p/secure_channel.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace gossipchain;
using gossipchain::fuzz::Check;

/** Frames taken from one input at most: enough for long sessions, bounded run time. */
constexpr std::size_t MAX_FUZZ_FRAMES = 256;
/** What the caller's plaintext holds before each Receive. */
constexpr std::string_view SENTINEL = "sentinel";

/** libsodium wants sodium_init() before anything else (the node calls it in node.cpp). */
[[maybe_unused]] const bool SODIUM_READY = sodium_init() >= 0;

std::array<std::uint8_t, 32> Filled(std::uint8_t byte) {
    std::array<std::uint8_t, 32> bytes{};
    bytes.fill(byte);
    return bytes;
}

const NodeKey& InitiatorKey() {
    static const NodeKey key = NodeKey::FromSeed(Filled(0x01));
    return key;
}

const NodeKey& ResponderKey() {
    static const NodeKey key = NodeKey::FromSeed(Filled(0x02));
    return key;
}

std::vector<std::string_view> SplitFrames(std::string_view rest) {
    std::vector<std::string_view> frames;
    while (rest.size() >= 2 && frames.size() < MAX_FUZZ_FRAMES) {
        std::size_t length =
            (static_cast<std::uint8_t>(rest[0]) << 8) | static_cast<std::uint8_t>(rest[1]);
        rest.remove_prefix(2);
        length = std::min(length, rest.size());
        frames.push_back(rest.substr(0, length));
        rest.remove_prefix(length);
    }
    return frames;
}

/** Receives `frame` on `channel` and checks the invariants; the event and what it produced. */
struct Outcome {
    ChannelEvent event;
    std::string plaintext;
    std::string to_send;
};

Outcome Receive(SecureChannel& channel, std::string_view frame) {
    ChannelState before = channel.State();
    Outcome out{ChannelEvent::Failed, std::string(SENTINEL), ""};
    out.event = channel.Receive(frame, out.plaintext, out.to_send);
    ChannelState after = channel.State();
    if (before == ChannelState::Failed)
        Check(out.event == ChannelEvent::Failed, "a failed channel stays failed");
    Check((out.event == ChannelEvent::Failed) == (after == ChannelState::Failed),
          "Failed is returned exactly when the channel is failed");
    switch (out.event) {
        case ChannelEvent::Failed:
            Check(out.plaintext.empty() || out.plaintext == SENTINEL,
                  "a failed frame delivers "
                  "nothing");
            Check(out.to_send.empty(), "a failed frame sends nothing");
            Check(!channel.FailureText().empty(), "a failure says why");
            break;
        case ChannelEvent::Progress:
            Check(before == ChannelState::AwaitingKey && after == ChannelState::AwaitingAuth,
                  "progress is the peer's e taken");
            Check(frame.size() == CHANNEL_EPHEMERAL_BYTES, "an e frame is 32 bytes");
            Check(out.to_send.size() == CHANNEL_AUTH_FRAME_BYTES, "our auth frame is 112 bytes");
            break;
        case ChannelEvent::Established:
            Check(before == ChannelState::AwaitingAuth && after == ChannelState::Open,
                  "established is the peer's auth verified");
            Check(frame.size() == CHANNEL_AUTH_FRAME_BYTES, "an auth frame is 112 bytes");
            Check(out.to_send.empty(), "nothing to send after the auth");
            break;
        case ChannelEvent::Delivered:
            Check(before == ChannelState::Open && after == ChannelState::Open,
                  "messages only flow on an open channel");
            Check(frame.size() >= CHANNEL_TAG_BYTES &&
                      out.plaintext.size() == frame.size() - CHANNEL_TAG_BYTES,
                  "a message is its frame less the tag");
            Check(out.to_send.empty(), "a message sends nothing");
            break;
    }
    return out;
}

/** Runs the operations of mode 1 on an open pair. */
void PlayOpenLink(SecureChannel& initiator, SecureChannel& responder,
                  const std::vector<std::string_view>& frames) {
    std::optional<std::string> last;
    for (std::string_view frame : frames) {
        std::uint8_t op = frame.empty() ? 0 : static_cast<std::uint8_t>(frame[0]);
        std::string_view data = frame.empty() ? frame : frame.substr(1);
        bool was_open = responder.Open();
        switch (op % 6) {
            case 0: {  // an honest message
                std::string sealed = initiator.Seal(data);
                Check(sealed.size() == data.size() + CHANNEL_TAG_BYTES, "a frame is data + tag");
                Outcome out = Receive(responder, sealed);
                if (was_open)
                    Check(out.event == ChannelEvent::Delivered && out.plaintext == data,
                          "an honest frame is delivered unchanged");
                last = sealed;
                break;
            }
            case 1: {  // a changed message
                std::string sealed = initiator.Seal(data);
                std::size_t at = (op / 6u) % sealed.size();
                sealed[at] = static_cast<char>(sealed[at] ^ (1u << (op % 8)));
                Check(Receive(responder, sealed).event == ChannelEvent::Failed,
                      "a changed frame fails the channel");
                last = sealed;
                break;
            }
            case 2:  // whatever bytes
                Receive(responder, data);
                break;
            case 3:  // the last frame again
                if (last) {
                    Check(Receive(responder, *last).event == ChannelEvent::Failed,
                          "a replayed frame fails the channel");
                }
                break;
            case 4:  // sealed and lost: the next frame cannot open
                last = initiator.Seal(data);
                if (was_open) {
                    Check(Receive(responder, initiator.Seal(data)).event == ChannelEvent::Failed,
                          "a frame after a dropped one fails the channel");
                }
                break;
            case 5: {  // the other direction (Seal is only for an open channel)
                if (!responder.Open() || !initiator.Open())
                    break;
                std::string sealed = responder.Seal(data);
                Outcome out = Receive(initiator, sealed);
                Check(out.event == ChannelEvent::Delivered && out.plaintext == data,
                      "the responder's frames reach the initiator");
                break;
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Check(SODIUM_READY, "libsodium initialises");
    if (size == 0)
        return 0;
    std::uint8_t mode = data[0];
    std::vector<std::string_view> frames =
        SplitFrames(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));

    SecureChannel responder(ResponderKey(), ChannelRole::Responder, Filled(0x04));
    SecureChannel initiator(InitiatorKey(), ChannelRole::Initiator, Filled(0x03));
    std::size_t next = 0;
    switch (mode & 3) {
        case 0:
            break;
        case 1: {
            Outcome ri = Receive(initiator, responder.KeyFrame());
            Outcome rr = Receive(responder, initiator.KeyFrame());
            Check(ri.event == ChannelEvent::Progress && rr.event == ChannelEvent::Progress,
                  "honest e frames are taken");
            Check(Receive(initiator, rr.to_send).event == ChannelEvent::Established &&
                      Receive(responder, ri.to_send).event == ChannelEvent::Established,
                  "an honest handshake opens both ends");
            Check(responder.PeerKey() == InitiatorKey().PublicKey() &&
                      initiator.PeerKey() == ResponderKey().PublicKey(),
                  "each end proves its own key");
            Check(responder.SessionId() == initiator.SessionId(), "both ends see one session");
            PlayOpenLink(initiator, responder, frames);
            return 0;
        }
        case 2:
            if (next < frames.size()) {
                Check(Receive(responder, initiator.KeyFrame()).event == ChannelEvent::Progress,
                      "an honest e is taken");
                Outcome out = Receive(responder, frames[next++]);
                if (out.event == ChannelEvent::Established)
                    Check(responder.PeerKey() == InitiatorKey().PublicKey(),
                          "only the initiator's own auth can open the channel");
            }
            break;
        case 3:
            if (next < frames.size())
                Receive(responder, frames[next++]);
            break;
    }
    for (; next < frames.size(); ++next) {
        Outcome out = Receive(responder, frames[next]);
        if (out.event == ChannelEvent::Established)
            Check(responder.PeerKey() == InitiatorKey().PublicKey(),
                  "a raw peer can only prove the vector initiator's key (its auth replayed)");
    }
    return 0;
}
