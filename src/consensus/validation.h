// Block and transaction validity rules. Consensus is pure: these functions take the data, the
// network parameters and `now` from the caller; they read no clock, do no I/O and use no globals.
// Context-free checks (one block or transaction alone) are kept apart from contextual ones (a block
// against its parent and its chain). Results carry a reason instead of throwing, so the p2p layer
// can tell a peer that sent garbage from a failure of our own.
#pragma once

#include "consensus/params.h"
#include "primitives/block.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace gossipchain {

enum class ValidationReason {
    Ok,
    // Transaction form.
    BadSender,
    BadRecipient,
    BadAmount,
    BadTxId,
    BadReward,
    // Transaction under the signed rules (SPEC §6.7).
    WrongShape,
    BadNonce,
    BadSignature,
    StaleNonce,
    GappedNonce,
    Overspend,
    // Block, context-free.
    BadPreviousHashForm,
    BadTimestamp,
    TooManyTransactions,
    BlockTooLarge,
    MultipleRewards,
    DuplicateTransaction,
    // Block against its parent and chain.
    BadIndex,
    BadPreviousHash,
    BadProof,
    TimestampBeforeMedian,
    TimestampTooFarAhead,
    TransactionAlreadyInChain,
    BadGenesis,
    // Known parents are descendants of an invalid block.
    InvalidAncestor,
};

std::string_view ValidationReasonName(ValidationReason reason);

/**
 * True for a transaction's refusals that depend on the receiver's chain and mempool (stale or
 * gapped nonce, overspend): an honest peer that saw another transfer first, or is on another
 * branch, sends such a transaction in good faith, so it is not misbehaviour.
 */
bool DependsOnAccounts(ValidationReason reason);

struct [[nodiscard]] ValidationResult {
    ValidationReason reason = ValidationReason::Ok;
    std::string detail;

    bool Ok() const { return reason == ValidationReason::Ok; }
    static ValidationResult Fail(ValidationReason reason, std::string detail) {
        return {reason, std::move(detail)};
    }
    /** "bad-proof: ..." for logs and Reject messages. */
    std::string ToString() const;
};

/**
 * Form of one transaction under `rules`: sender, recipient, amount, id (or, for a signed
 * transfer, addresses, nonce and signature form; the signature itself is CheckSignatures'); a
 * reward must be exactly the reward.
 */
ValidationResult CheckTransaction(const Transaction& tx, RuleSet rules = RuleSet::Open);

/**
 * Everything that can be checked on a non-genesis block alone: previous_hash form, finite
 * timestamp, transaction count and form, at most one reward, no txid twice, encoded size.
 * `encoded_bytes` is the length of the block's canonical JSON and `txids` the TxId of each
 * transaction in order (the caller computes both once and keeps them).
 */
ValidationResult CheckBlockContextFree(const Block& block, std::size_t encoded_bytes,
                                       std::span<const std::string> txids,
                                       RuleSet rules = RuleSet::Open);

/** What a block is checked against: its parent and the chain below it. */
struct BlockContext {
    std::uint64_t parent_index = 0;
    std::uint64_t parent_proof = 0;
    std::string_view parent_hash;
    /** Median timestamp of the parent and up to 10 of its ancestors. */
    double median_time_past = 0.0;
    /** The receiver's wall clock, in seconds since the epoch. */
    double now = 0.0;
};

/** Index, link, proof and timestamp rules of a block against its parent. */
ValidationResult CheckBlockContextual(const Block& block, const BlockContext& context,
                                      const ConsensusParams& params);

/**
 * The tutorial's valid_chain: every block links to the hash of the one before it and carries a
 * valid proof. Blocks are hashed on `threads` threads. The first block must be our genesis.
 */
ValidationResult CheckChainLinks(std::span<const Block> chain, const ConsensusParams& params,
                                 unsigned threads = 1);

}  // namespace gossipchain
