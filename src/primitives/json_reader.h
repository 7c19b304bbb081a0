// Strict JSON reading for everything that arrives as text (HTTP bodies, /chain answers of tutorial
// nodes): a parser that never throws and bounds nesting depth, and typed readers that turn a
// parsed value into a Block or Transaction only when it has exactly the tutorial's keys and
// types. Strictness matters because the block hash is computed from the typed value: a reader
// that quietly accepted `"timestamp": 1700000000` (an int) or `"amount": 5.0` (a float) would
// hash a different text than the Python node that produced it.
#pragma once

#include "primitives/block.h"
#include "primitives/transaction.h"
#include "util/result.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace gossipchain {

/** Deepest nesting ParseJson accepts by default, in levels of arrays/objects (a /chain answer is
 * 5). */
inline constexpr std::size_t MAX_JSON_DEPTH = 64;

/**
 * Parses `text` as one JSON value (nothing but whitespace may follow, not even after a NUL byte).
 * Rejects nesting deeper than `max_depth` levels, duplicate object keys, invalid UTF-8, integers
 * beyond 64 bits and numbers that overflow a double. Never throws: the value, or why `text` is
 * not one.
 */
Result<nlohmann::json> ParseJson(std::string_view text, std::size_t max_depth = MAX_JSON_DEPTH);

/**
 * Reads {"sender", "recipient", "amount", "id"}: exactly these keys, strings of valid UTF-8 and
 * an integer amount. Value rules (positive amount, id format) belong to consensus. Never throws.
 */
Result<Transaction> TransactionFromJson(const nlohmann::json& json);

/**
 * Reads {"index", "timestamp", "transactions", "proof", "previous_hash"}: exactly these keys,
 * index and proof non-negative integers, timestamp a JSON float, previous_hash an integer or a
 * string, and every transaction as TransactionFromJson reads it. Never throws.
 */
Result<Block> BlockFromJson(const nlohmann::json& json);

/** The transaction as a JSON value; CanonicalJson() of it equals its canonical text. */
nlohmann::json TransactionToJson(const Transaction& tx);

/** The block as a JSON value; CanonicalJson() of it equals BlockJson(block). */
nlohmann::json BlockToJson(const Block& block);

}  // namespace gossipchain
