// The canonical JSON writer: the exact bytes Python's `json.dumps(obj, sort_keys=True)` produces,
// because block hashes must match the tutorial's `hashlib.sha256(json.dumps(block,
// sort_keys=True).encode())`. That means ", " and ": " separators, keys in code-point order,
// ensure_ascii escaping (\uXXXX, surrogate pairs above U+FFFF), ints as ints, and floats in
// Python's repr (shortest round-trip digits, ".0" on integral values, exponent form below 1e-4
// and from 1e16 up). Strings must be valid UTF-8; callers validate before writing.
#pragma once

#include "primitives/block.h"
#include "primitives/transaction.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace gossipchain {

/**
 * Appends `utf8` quoted and escaped as ensure_ascii does: \" \\ \b \f \n \r \t, \u00XX for the
 * other controls and DEL, \uXXXX (pairs above U+FFFF) for non-ASCII. Invalid UTF-8 yields
 * unspecified (but memory-safe) output; nothing Python could hash looks like it.
 */
void AppendJsonString(std::string& out, std::string_view utf8);
void AppendJsonInt(std::string& out, std::int64_t value);
void AppendJsonUint(std::string& out, std::uint64_t value);
/** Python's float repr; NaN and infinities are written as Python writes them (NaN, Infinity). */
void AppendJsonDouble(std::string& out, double value);

/**
 * The transaction's canonical JSON: {"amount": .., "id": .., "recipient": .., "sender": ..}, or
 * for the signed shape {"amount": .., "nonce": .., "recipient": .., "sender": .., "signature": ..}.
 */
void AppendTransactionJson(std::string& out, const Transaction& tx);
/** A signed-shape transaction's canonical JSON without "signature": the bytes its signature
 * covers after the domain prefix (SPEC §6.7). */
void AppendUnsignedTransactionJson(std::string& out, const Transaction& tx);
/** The block's canonical JSON, the exact bytes its hash is taken over. */
void AppendBlockJson(std::string& out, const Block& block);
std::string BlockJson(const Block& block);

/**
 * Any JSON value, written as json.dumps(value, sort_keys=True) would. Integers beyond 64 bits
 * cannot occur: ParseJson refuses them (nlohmann would read them as floats; Python keeps them
 * exact). tools/check_canonical_json.py compares this with python3 over the JSON corpora.
 */
std::string CanonicalJson(const nlohmann::json& value);

/** The same with separators (",", ":"), as Flask's jsonify writes (sort_keys, ensure_ascii). */
std::string CompactJson(const nlohmann::json& value);

}  // namespace gossipchain
