// Short transaction ids for compact blocks (SPEC §8): SipHash-2-4 (libsodium crypto_shorthash)
// of a txid, keyed by the first 16 bytes of the block's hash. Nobody knows a block's hash before
// it is mined, so nobody can make transactions whose short ids collide in a block ahead of time
// (Bitcoin's BIP152 salts its short ids for the same reason). The id is the hash's low 32 bits:
// 5 bytes in msgpack instead of 9. A chance collision between a block of n transactions and a
// mempool of m is about n * m / 2^32 (1 in 20,000 for 200 and 1,000); it costs one round trip,
// never a wrong block (the rebuilt block's hash is checked).
#pragma once

#include <cstdint>
#include <string_view>

namespace gossipchain {

/** Hex characters of the block hash that key the short ids (16 bytes). */
inline constexpr std::size_t SHORT_ID_KEY_HEX_CHARS = 32;

/**
 * The short id of `txid` (64 lowercase hex) in the block whose hash is `block_hash` (64
 * lowercase hex). Both are used as text; only the key is decoded from hex.
 */
std::uint32_t ShortTxId(std::string_view block_hash, std::string_view txid);

/** The same, with the key decoded once (ShortIdKey) for many txids of one block. */
struct ShortIdKey {
    unsigned char bytes[16] = {};
};
ShortIdKey ShortIdKeyOf(std::string_view block_hash);
std::uint32_t ShortTxId(const ShortIdKey& key, std::string_view txid);

}  // namespace gossipchain
