// Network parameters: everything two nodes must agree on to share a chain (genesis, proof-of-work
// rule and difficulty, block limits). Pure data: no I/O, no clock reads, no globals.
#pragma once

#include "primitives/block.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gossipchain {

/**
 * Which string the proof of work hashes. `Seed` is the tutorial text,
 * sha256(f"{last_proof}{proof}"); `Linked` is the tutorial's later fix,
 * sha256(f"{last_proof}{proof}{last_hash}"), so a proof cannot be reused on another chain.
 * `Header` hashes an 80-byte header that holds a digest of the block's content (SPEC §6.1), so
 * a proof is valid for one block only and changing a transaction or the timestamp means redoing
 * the work, at a cost per attempt that does not grow with the block.
 */
enum class PowRule { Seed, Linked, Header };

std::string_view PowRuleName(PowRule rule);
std::optional<PowRule> ParsePowRule(std::string_view name);

/**
 * What a transaction is and what a chain must hold (SPEC §6.7). `Open` is the tutorial's ledger
 * with gossipchain's ids: anyone may write any transaction. `Signed` is a ledger of Ed25519
 * accounts: a transfer is signed by its sender, spends no more than the sender's balance and
 * carries the sender's next nonce.
 */
enum class RuleSet { Open, Signed };

std::string_view RuleSetName(RuleSet rules);
std::optional<RuleSet> ParseRuleSet(std::string_view name);

/** Default proof-of-work difficulty, in leading hex zeros of the digest (the tutorial's "0000"). */
inline constexpr int DEFAULT_DIFFICULTY = 4;
/** Highest difficulty a network may choose, in hex zeros. */
inline constexpr int MAX_DIFFICULTY = 16;
/** Timestamp of the genesis block, in seconds since the epoch (a float, as time.time() gives). */
inline constexpr double DEFAULT_GENESIS_TIMESTAMP = 1700000000.0;
/** Proof the genesis block carries, as in the tutorial's `new_block(previous_hash=1, proof=100)`.
 */
inline constexpr std::uint64_t GENESIS_PROOF = 100;
/** Proofs are non-negative integers below 2^63 so every language reads them as a signed int. */
inline constexpr std::uint64_t MAX_PROOF = (std::uint64_t{1} << 63) - 1;
/** Most transactions one block may carry, reward included. */
inline constexpr std::size_t MAX_BLOCK_TRANSACTIONS = 5000;
/** Largest canonical JSON encoding of a block, in bytes. */
inline constexpr std::size_t MAX_BLOCK_BYTES = 1 << 20;
/** Longest sender or recipient string, in bytes. */
inline constexpr std::size_t MAX_ADDRESS_BYTES = 128;
/** Largest amount a transaction may move (fits every JSON reader's integer). */
inline constexpr std::int64_t MAX_AMOUNT = (std::int64_t{1} << 53) - 1;
/** How far a block's timestamp may be ahead of the receiver's clock, in seconds (2 h). */
inline constexpr double MAX_FUTURE_BLOCK_SECONDS = 2 * 60 * 60;
/** How many ancestors the median-time-past rule looks at. */
inline constexpr std::size_t MEDIAN_TIME_SPAN = 11;
/** Amount of the mining reward, as in the tutorial's /mine. */
inline constexpr std::int64_t REWARD_AMOUNT = 1;

struct ConsensusParams {
    RuleSet rules = RuleSet::Open;
    PowRule pow_rule = PowRule::Linked;
    int difficulty = DEFAULT_DIFFICULTY;
    double genesis_timestamp = DEFAULT_GENESIS_TIMESTAMP;
};

/** The genesis block: index 1, no transactions, proof 100, previous_hash the integer 1. */
Block MakeGenesis(const ConsensusParams& params);

/**
 * Network id: "<genesis hash>/<pow rule>/<difficulty>" under the open rules (as before rule sets
 * existed), with "/<rules>" appended under any other. Two nodes gossip only when theirs match.
 */
std::string NetworkId(const ConsensusParams& params);

/**
 * For people: which parts of two network ids differ ("rules signed, ours open; difficulty 5,
 * ours 4"), or the whole of `theirs` when it is not shaped like a network id.
 */
std::string NetworkIdDifference(std::string_view theirs, std::string_view ours);

}  // namespace gossipchain
