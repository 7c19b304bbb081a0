// A node's identity: an Ed25519 key pair (libsodium crypto_sign), made from a 32-byte seed that
// is all one needs to keep. The node id every peer and /status shows is derived from the public
// key (SPEC §7.1), so a node cannot claim another's id: it would need that node's seed to prove
// it in the handshake (p2p/secure_channel.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gossipchain {

/** Bytes of an Ed25519 public key, of a key seed, and of a signature. */
inline constexpr std::size_t NODE_PUBLIC_KEY_BYTES = 32;
inline constexpr std::size_t NODE_KEY_SEED_BYTES = 32;
inline constexpr std::size_t NODE_SIGNATURE_BYTES = 64;
/** Bytes of a node id (BLAKE2b of the public key); shown as 32 hex characters. */
inline constexpr std::size_t NODE_ID_BYTES = 16;

using NodePublicKey = std::array<std::uint8_t, NODE_PUBLIC_KEY_BYTES>;
using NodeKeySeed = std::array<std::uint8_t, NODE_KEY_SEED_BYTES>;
using NodeSignature = std::array<std::uint8_t, NODE_SIGNATURE_BYTES>;

/** The node id of `key`: BLAKE2b-128 of the 32 key bytes, as 32 lowercase hex characters. */
std::string NodeIdOf(const NodePublicKey& key);
/** `key` as 64 lowercase hex characters (how --trust and the logs spell it). */
std::string KeyHex(const NodePublicKey& key);
/** Parses 64 hex characters (either case); false when `text` is not that. */
bool ParseKeyHex(std::string_view text, NodePublicKey& key);

/** True when `signature` is `key`'s Ed25519 signature of `message`. */
bool VerifySignature(const NodePublicKey& key, std::string_view message,
                     const NodeSignature& signature);

class NodeKey {
public:
    /** A new key from the CSPRNG. */
    static NodeKey Generate();
    /** The key made from `seed` (deterministic: the same seed, the same key). */
    static NodeKey FromSeed(const NodeKeySeed& seed);

    NodeKey(const NodeKey& other) = default;
    NodeKey& operator=(const NodeKey& other) = default;
    /** Wipes the secret. */
    ~NodeKey();

    const NodePublicKey& PublicKey() const { return m_public; }
    const NodeKeySeed& Seed() const { return m_seed; }
    const std::string& NodeId() const { return m_node_id; }
    /** The Ed25519 signature of `message` (deterministic). */
    NodeSignature Sign(std::string_view message) const;

private:
    NodeKey() = default;

    NodeKeySeed m_seed{};
    std::array<std::uint8_t, 64> m_secret{};
    NodePublicKey m_public{};
    std::string m_node_id;
};

}  // namespace gossipchain
