#include "crypto/sha256.h"

#include <sodium.h>

#include "util/hex.h"

namespace gossipchain {

Hash256 Sha256Reference(std::string_view data) {
    Hash256 out;
    crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size());
    return out;
}

Hash256 Sha256(std::string_view data) { return Sha256Reference(data); }

std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

const char* Sha256KernelName() { return "libsodium"; }

}  // namespace gossipchain
