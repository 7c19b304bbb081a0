#include "crypto/node_key.h"

#include "util/hex.h"

#include <sodium.h>

#include <cstdlib>

namespace gossipchain {

std::string NodeIdOf(const NodePublicKey& key) {
    std::array<std::uint8_t, NODE_ID_BYTES> id{};
    crypto_generichash(id.data(), id.size(), key.data(), key.size(), nullptr, 0);
    return HexEncode(id);
}

std::string KeyHex(const NodePublicKey& key) {
    return HexEncode(key);
}

bool ParseKeyHex(std::string_view text, NodePublicKey& key) {
    return HexDecodeTo(text, key);
}

bool VerifySignature(const NodePublicKey& key, std::string_view message,
                     const NodeSignature& signature) {
    return crypto_sign_verify_detached(signature.data(),
                                       reinterpret_cast<const unsigned char*>(message.data()),
                                       message.size(), key.data()) == 0;
}

NodeKey NodeKey::Generate() {
    // Idempotent and thread-safe; keys may be made before anyone else initialised libsodium.
    if (sodium_init() < 0)
        std::abort();
    NodeKeySeed seed{};
    randombytes_buf(seed.data(), seed.size());
    NodeKey key = FromSeed(seed);
    sodium_memzero(seed.data(), seed.size());
    return key;
}

NodeKey NodeKey::FromSeed(const NodeKeySeed& seed) {
    NodeKey key;
    key.m_seed = seed;
    crypto_sign_seed_keypair(key.m_public.data(), key.m_secret.data(), seed.data());
    key.m_node_id = NodeIdOf(key.m_public);
    return key;
}

NodeKey::~NodeKey() {
    sodium_memzero(m_seed.data(), m_seed.size());
    sodium_memzero(m_secret.data(), m_secret.size());
}

NodeSignature NodeKey::Sign(std::string_view message) const {
    NodeSignature signature{};
    crypto_sign_detached(signature.data(), nullptr,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                         m_secret.data());
    return signature;
}

}  // namespace gossipchain
