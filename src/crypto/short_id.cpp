#include "crypto/short_id.h"

#include <sodium.h>

#include <cstring>

namespace gossipchain {
namespace {

int HexValue(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 0;
}

}  // namespace

ShortIdKey ShortIdKeyOf(std::string_view block_hash) {
    static_assert(sizeof(ShortIdKey::bytes) == crypto_shorthash_KEYBYTES);
    ShortIdKey key;
    for (std::size_t i = 0; i < sizeof(key.bytes) && 2 * i + 1 < block_hash.size(); ++i) {
        key.bytes[i] = static_cast<unsigned char>(HexValue(block_hash[2 * i]) * 16 +
                                                  HexValue(block_hash[2 * i + 1]));
    }
    return key;
}

std::uint32_t ShortTxId(const ShortIdKey& key, std::string_view txid) {
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, reinterpret_cast<const unsigned char*>(txid.data()), txid.size(),
                     key.bytes);
    std::uint64_t id = 0;
    std::memcpy(&id, out, sizeof(id));
    return static_cast<std::uint32_t>(id);
}

std::uint32_t ShortTxId(std::string_view block_hash, std::string_view txid) {
    return ShortTxId(ShortIdKeyOf(block_hash), txid);
}

}  // namespace gossipchain
