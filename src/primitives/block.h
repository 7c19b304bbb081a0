// A block exactly as the tutorial's ledger holds it:
// {"index", "timestamp", "transactions", "proof", "previous_hash"}.
// Only genesis links to the integer 1 (the tutorial's `new_block(previous_hash=1, proof=100)`);
// every other block links to its parent's hex hash.
#pragma once

#include "primitives/transaction.h"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace gossipchain {

/** previous_hash: the integer 1 for genesis, a 64-char lowercase hex hash otherwise. */
using PreviousHash = std::variant<std::int64_t, std::string>;

struct Block {
    std::uint64_t index = 0;
    /** Seconds since the epoch as a float, like Python's time.time(). */
    double timestamp = 0.0;
    std::vector<Transaction> transactions;
    std::uint64_t proof = 0;
    PreviousHash previous_hash = std::int64_t{1};

    /** The parent hash, or an empty string when previous_hash is an integer. */
    const std::string& ParentHash() const;
    bool operator==(const Block&) const = default;
};

/** Block hash: lowercase hex SHA-256 of the block's canonical JSON (the tutorial's hash()). */
std::string BlockHash(const Block& block);

/** TxId of every transaction of `block`, in order. */
std::vector<std::string> TxIds(const Block& block);

}  // namespace gossipchain
