// Random identifiers (node ids, transaction ids) from libsodium's CSPRNG.
#pragma once

#include <cstddef>
#include <string>

namespace gossipchain {

/** `bytes` random bytes as lowercase hex (2 * bytes characters). */
std::string RandomHex(std::size_t bytes);

}  // namespace gossipchain
