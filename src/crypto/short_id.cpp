#include "crypto/short_id.h"

#include "util/hex.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace gossipchain {

ShortIdKey ShortIdKeyOf(std::string_view block_hash) {
    static_assert(sizeof(ShortIdKey::bytes) == crypto_shorthash_KEYBYTES);
    ShortIdKey key;
    for (std::size_t i = 0; i < sizeof(key.bytes) && 2 * i + 1 < block_hash.size(); ++i) {
        // A non-hex character (never in a checked hash) counts as 0.
        int high = std::max(HexDigitValue(block_hash[2 * i]), 0);
        int low = std::max(HexDigitValue(block_hash[2 * i + 1]), 0);
        key.bytes[i] = static_cast<unsigned char>(high * 16 + low);
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
