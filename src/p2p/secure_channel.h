// One gossip link's authenticated, encrypted channel (SPEC §7): the handshake that proves each
// end's node key, then ChaCha20-Poly1305 per direction with counters and periodic rekeying.
// Pure: frames in, frames out, no sockets or clock, so tests, vectors and the fuzz target drive
// the real code. NetLinks runs one per connection, between the transport's frames and the
// protocol core's payloads.
//
// The exchange (each side sends without waiting for the other, as Hello always did):
//   1. `e`:    our ephemeral X25519 public key (32 bytes, crypto_kx).
//   2. `auth`: once the peer's `e` is in: AEAD(tx key, counter 0) of our node public key and our
//              Ed25519 signature of the transcript (both ephemeral keys) and of our role.
//   3. messages: AEAD(tx key, counter 1, 2, ...); every REKEY_INTERVAL_MESSAGES messages a
//              direction's key is replaced by a hash of itself.
// A signature binds the proven key to these ephemeral keys, so it cannot be replayed on another
// link, and a man in the middle who runs its own key exchange with each end cannot present the
// other end's signature. Any frame that fails (wrong size, bad tag, bad signature) fails the
// channel for good: the caller closes the link. Nothing of a failed frame is delivered.
#pragma once

#include "crypto/node_key.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gossipchain {

/** Bytes of an ephemeral X25519 public key (the `e` frame), and of a session key. */
inline constexpr std::size_t CHANNEL_EPHEMERAL_BYTES = 32;
inline constexpr std::size_t CHANNEL_KEY_BYTES = 32;
/** Bytes the AEAD adds to every message (the Poly1305 tag). */
inline constexpr std::size_t CHANNEL_TAG_BYTES = 16;
/** Bytes of the `auth` frame: node public key, signature, tag. */
inline constexpr std::size_t CHANNEL_AUTH_FRAME_BYTES =
    NODE_PUBLIC_KEY_BYTES + NODE_SIGNATURE_BYTES + CHANNEL_TAG_BYTES;
/** Messages sent in one direction under one key, the auth frame counted; then that direction's
 * key is replaced (forward secrecy within a long-lived link). */
inline constexpr std::uint64_t REKEY_INTERVAL_MESSAGES = 4096;
/** Bytes of the session id shown in /nodes (the transcript hash's first bytes), 16 hex. */
inline constexpr std::size_t SESSION_ID_BYTES = 8;

/** The dialling side is the initiator (crypto_kx's client), the listening side the responder. */
enum class ChannelRole { Initiator, Responder };

enum class ChannelState {
    /** Waiting for the peer's `e`. */
    AwaitingKey,
    /** Waiting for the peer's `auth`. */
    AwaitingAuth,
    /** The peer proved its key: messages flow both ways. */
    Open,
    /** A frame failed; nothing more is accepted. */
    Failed,
};

/** What one received frame did. */
enum class ChannelEvent {
    /** A handshake frame was taken; send what Receive appended, if anything. */
    Progress,
    /** The peer's auth verified: the channel is open now (PeerKey, SessionId are valid). */
    Established,
    /** A message was decrypted into the caller's string. */
    Delivered,
    /** The frame failed (FailureText says why); close the link. */
    Failed,
};

class SecureChannel {
public:
    using EphemeralSeed = std::array<std::uint8_t, 32>;

    /** A channel with a fresh ephemeral key; `identity` must outlive it. */
    SecureChannel(const NodeKey& identity, ChannelRole role);
    /** The same with the ephemeral key made from `seed` (test vectors). */
    SecureChannel(const NodeKey& identity, ChannelRole role, const EphemeralSeed& seed);
    ~SecureChannel();
    SecureChannel(const SecureChannel&) = delete;
    SecureChannel& operator=(const SecureChannel&) = delete;

    /** The first frame to send, at once: our ephemeral public key. */
    std::string KeyFrame() const;

    /**
     * Takes one frame received. In the handshake it may append a frame to send to `to_send`;
     * once open, a message is decrypted into `plaintext` (replacing what it held).
     */
    ChannelEvent Receive(std::string_view frame, std::string& plaintext, std::string& to_send);

    /** Encrypts one message into a frame payload; once the peer's `e` is in (its auth need not
     * be: SPEC §7.2 lets a node send its Hello right after its own auth). */
    std::string Seal(std::string_view plaintext);

    ChannelState State() const { return m_state; }
    bool Open() const { return m_state == ChannelState::Open; }
    /** Why the channel failed, for the log; empty while it has not. */
    const std::string& FailureText() const { return m_failure; }
    /** The key the peer proved; valid once open (all zero before, and after a failure). */
    const NodePublicKey& PeerKey() const { return m_peer_key; }
    /** Both ends show the same: the first SESSION_ID_BYTES of the transcript hash, as hex. */
    std::string SessionId() const;

private:
    /** One direction's key and message counter. */
    struct Direction {
        std::array<std::uint8_t, CHANNEL_KEY_BYTES> key{};
        std::uint64_t counter = 0;
    };

    ChannelEvent Fail(std::string why);
    ChannelEvent TakeKey(std::string_view frame, std::string& to_send);
    ChannelEvent TakeAuth(std::string_view frame, std::string& plaintext);
    /** What a side of `role` signs: a label, the role and the transcript hash. */
    std::string AuthMessage(ChannelRole role) const;
    /** Seals with `direction`'s key and next counter, rekeying after each interval. */
    static std::string SealWith(Direction& direction, std::string_view plaintext);
    /** Opens with `direction`'s key and next counter; false when the tag does not verify. */
    static bool OpenWith(Direction& direction, std::string_view frame, std::string& plaintext);

    const NodeKey& m_identity;
    const ChannelRole m_role;
    ChannelState m_state = ChannelState::AwaitingKey;
    std::array<std::uint8_t, CHANNEL_EPHEMERAL_BYTES> m_ephemeral_public{};
    std::array<std::uint8_t, 32> m_ephemeral_secret{};
    std::array<std::uint8_t, 32> m_transcript{};
    Direction m_tx;
    Direction m_rx;
    NodePublicKey m_peer_key{};
    std::string m_failure;
};

}  // namespace gossipchain
