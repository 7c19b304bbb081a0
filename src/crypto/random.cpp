#include "crypto/random.h"

#include "util/hex.h"

#include <sodium.h>

#include <cstdint>
#include <vector>

namespace gossipchain {

std::string RandomHex(std::size_t bytes) {
    std::vector<std::uint8_t> raw(bytes);
    randombytes_buf(raw.data(), raw.size());
    return HexEncode(raw);
}

}  // namespace gossipchain
