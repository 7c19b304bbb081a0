// The canonical JSON writer: the exact bytes Python's `json.dumps(obj, sort_keys=True)` produces,
// because block hashes must match the tutorial's `hashlib.sha256(json.dumps(block,
// sort_keys=True).encode())`. That means ", " and ": " separators, keys in code-point order,
// ensure_ascii escaping (\uXXXX, surrogate pairs above U+FFFF), ints as ints, and floats in
// Python's repr (shortest round-trip digits, ".0" on integral values, exponent form below 1e-4
// and from 1e16 up). Strings must be valid UTF-8; callers validate before writing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "primitives/block.h"
#include "primitives/transaction.h"

namespace gossipchain {

void AppendJsonString(std::string& out, std::string_view utf8);
void AppendJsonInt(std::string& out, std::int64_t value);
void AppendJsonUint(std::string& out, std::uint64_t value);
/** Python's float repr; NaN and infinities are written as Python writes them (NaN, Infinity). */
void AppendJsonDouble(std::string& out, double value);

void AppendTransactionJson(std::string& out, const Transaction& tx);
void AppendBlockJson(std::string& out, const Block& block);
std::string BlockJson(const Block& block);

/** Any JSON value, written as json.dumps(value, sort_keys=True) would. */
std::string CanonicalJson(const nlohmann::json& value);

}  // namespace gossipchain
