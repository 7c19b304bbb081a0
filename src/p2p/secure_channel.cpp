#include "p2p/secure_channel.h"

#include "util/hex.h"

#include <sodium.h>

#include <cstring>

namespace gossipchain {

namespace {

constexpr std::string_view TRANSCRIPT_LABEL = "gossipchain/3 handshake";
constexpr std::string_view AUTH_LABEL = "gossipchain/3 auth";
constexpr std::string_view REKEY_LABEL = "gossipchain/3 rekey";

static_assert(CHANNEL_EPHEMERAL_BYTES == crypto_kx_PUBLICKEYBYTES);
static_assert(CHANNEL_KEY_BYTES == crypto_kx_SESSIONKEYBYTES);
static_assert(CHANNEL_KEY_BYTES == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(CHANNEL_TAG_BYTES == crypto_aead_chacha20poly1305_ietf_ABYTES);
static_assert(NODE_PUBLIC_KEY_BYTES == crypto_sign_PUBLICKEYBYTES);
static_assert(NODE_SIGNATURE_BYTES == crypto_sign_BYTES);

const unsigned char* Bytes(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

/** The AEAD nonce of message `counter`: four zero bytes, then the counter little-endian. */
std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> NonceOf(
    std::uint64_t counter) {
    std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
    for (int i = 0; i < 8; ++i)
        nonce[4 + i] = static_cast<std::uint8_t>(counter >> (8 * i));
    return nonce;
}

/** Counts a message of `direction`; after every REKEY_INTERVAL_MESSAGES its key becomes
 * BLAKE2b-256(key = the old key, message = REKEY_LABEL). */
void Advance(auto& direction) {
    if (++direction.counter % REKEY_INTERVAL_MESSAGES != 0)
        return;
    std::array<std::uint8_t, CHANNEL_KEY_BYTES> next{};
    crypto_generichash(next.data(), next.size(), Bytes(REKEY_LABEL), REKEY_LABEL.size(),
                       direction.key.data(), direction.key.size());
    direction.key = next;
    sodium_memzero(next.data(), next.size());
}

char RoleByte(ChannelRole role) {
    return role == ChannelRole::Initiator ? 'i' : 'r';
}

}  // namespace

SecureChannel::SecureChannel(const NodeKey& identity, ChannelRole role)
    : m_identity(identity), m_role(role) {
    crypto_kx_keypair(m_ephemeral_public.data(), m_ephemeral_secret.data());
}

SecureChannel::SecureChannel(const NodeKey& identity, ChannelRole role, const EphemeralSeed& seed)
    : m_identity(identity), m_role(role) {
    crypto_kx_seed_keypair(m_ephemeral_public.data(), m_ephemeral_secret.data(), seed.data());
}

SecureChannel::~SecureChannel() {
    sodium_memzero(m_ephemeral_secret.data(), m_ephemeral_secret.size());
    sodium_memzero(m_tx.key.data(), m_tx.key.size());
    sodium_memzero(m_rx.key.data(), m_rx.key.size());
}

std::string SecureChannel::KeyFrame() const {
    return std::string(reinterpret_cast<const char*>(m_ephemeral_public.data()),
                       m_ephemeral_public.size());
}

std::string SecureChannel::SessionId() const {
    return HexEncode(std::span<const std::uint8_t>(m_transcript.data(), SESSION_ID_BYTES));
}

ChannelEvent SecureChannel::Fail(std::string why) {
    m_state = ChannelState::Failed;
    m_failure = std::move(why);
    return ChannelEvent::Failed;
}

ChannelEvent SecureChannel::Receive(std::string_view frame, std::string& plaintext,
                                    std::string& to_send) {
    switch (m_state) {
        case ChannelState::AwaitingKey:
            return TakeKey(frame, to_send);
        case ChannelState::AwaitingAuth:
            return TakeAuth(frame, plaintext);
        case ChannelState::Open:
            if (frame.size() < CHANNEL_TAG_BYTES)
                return Fail("encrypted frame shorter than its tag");
            if (!OpenWith(m_rx, frame, plaintext))
                return Fail("encrypted frame failed authentication");
            return ChannelEvent::Delivered;
        case ChannelState::Failed:
            break;
    }
    return ChannelEvent::Failed;
}

ChannelEvent SecureChannel::TakeKey(std::string_view frame, std::string& to_send) {
    if (frame.size() != CHANNEL_EPHEMERAL_BYTES)
        return Fail("key exchange frame of " + std::to_string(frame.size()) + " bytes, not 32");
    const unsigned char* theirs = Bytes(frame);
    // crypto_kx: the initiator is the client. Its tx key is the responder's rx key.
    int rc = m_role == ChannelRole::Initiator
                 ? crypto_kx_client_session_keys(m_rx.key.data(), m_tx.key.data(),
                                                 m_ephemeral_public.data(),
                                                 m_ephemeral_secret.data(), theirs)
                 : crypto_kx_server_session_keys(m_rx.key.data(), m_tx.key.data(),
                                                 m_ephemeral_public.data(),
                                                 m_ephemeral_secret.data(), theirs);
    sodium_memzero(m_ephemeral_secret.data(), m_ephemeral_secret.size());
    if (rc != 0)
        return Fail("key exchange with an invalid public key");
    const unsigned char* initiator =
        m_role == ChannelRole::Initiator ? m_ephemeral_public.data() : theirs;
    const unsigned char* responder =
        m_role == ChannelRole::Initiator ? theirs : m_ephemeral_public.data();
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, m_transcript.size());
    crypto_generichash_update(&state, Bytes(TRANSCRIPT_LABEL), TRANSCRIPT_LABEL.size());
    crypto_generichash_update(&state, initiator, CHANNEL_EPHEMERAL_BYTES);
    crypto_generichash_update(&state, responder, CHANNEL_EPHEMERAL_BYTES);
    crypto_generichash_final(&state, m_transcript.data(), m_transcript.size());

    NodeSignature signature = m_identity.Sign(AuthMessage(m_role));
    std::string auth;
    auth.reserve(NODE_PUBLIC_KEY_BYTES + NODE_SIGNATURE_BYTES);
    auth.append(reinterpret_cast<const char*>(m_identity.PublicKey().data()),
                NODE_PUBLIC_KEY_BYTES);
    auth.append(reinterpret_cast<const char*>(signature.data()), signature.size());
    to_send = SealWith(m_tx, auth);
    m_state = ChannelState::AwaitingAuth;
    return ChannelEvent::Progress;
}

ChannelEvent SecureChannel::TakeAuth(std::string_view frame, std::string& plaintext) {
    if (frame.size() != CHANNEL_AUTH_FRAME_BYTES)
        return Fail("auth frame of " + std::to_string(frame.size()) + " bytes, not " +
                    std::to_string(CHANNEL_AUTH_FRAME_BYTES));
    std::string auth;
    if (!OpenWith(m_rx, frame, auth))
        return Fail("auth frame failed authentication");
    std::memcpy(m_peer_key.data(), auth.data(), NODE_PUBLIC_KEY_BYTES);
    NodeSignature signature{};
    std::memcpy(signature.data(), auth.data() + NODE_PUBLIC_KEY_BYTES, signature.size());
    ChannelRole theirs =
        m_role == ChannelRole::Initiator ? ChannelRole::Responder : ChannelRole::Initiator;
    if (!VerifySignature(m_peer_key, AuthMessage(theirs), signature)) {
        m_peer_key = {};
        return Fail("the peer's signature does not verify");
    }
    plaintext.clear();
    m_state = ChannelState::Open;
    return ChannelEvent::Established;
}

std::string SecureChannel::AuthMessage(ChannelRole role) const {
    std::string message(AUTH_LABEL);
    message.push_back(RoleByte(role));
    message.append(reinterpret_cast<const char*>(m_transcript.data()), m_transcript.size());
    return message;
}

std::string SecureChannel::Seal(std::string_view plaintext) {
    return SealWith(m_tx, plaintext);
}

std::string SecureChannel::SealWith(Direction& direction, std::string_view plaintext) {
    std::string frame(plaintext.size() + CHANNEL_TAG_BYTES, '\0');
    auto nonce = NonceOf(direction.counter);
    unsigned long long written = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(frame.data()),
                                              &written, Bytes(plaintext), plaintext.size(), nullptr,
                                              0, nullptr, nonce.data(), direction.key.data());
    frame.resize(static_cast<std::size_t>(written));
    Advance(direction);
    return frame;
}

bool SecureChannel::OpenWith(Direction& direction, std::string_view frame, std::string& plaintext) {
    plaintext.resize(frame.size() - CHANNEL_TAG_BYTES);
    auto nonce = NonceOf(direction.counter);
    unsigned long long written = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(
            reinterpret_cast<unsigned char*>(plaintext.data()), &written, nullptr, Bytes(frame),
            frame.size(), nullptr, 0, nonce.data(), direction.key.data()) != 0) {
        plaintext.clear();
        return false;
    }
    Advance(direction);
    return true;
}

}  // namespace gossipchain
