#include "consensus/validation.h"

#include "consensus/pow.h"
#include "consensus/signed_tx.h"
#include "primitives/canonical_json.h"
#include "util/hex.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <unordered_set>
#include <vector>

namespace gossipchain {

std::string_view ValidationReasonName(ValidationReason reason) {
    switch (reason) {
        case ValidationReason::Ok:
            return "ok";
        case ValidationReason::BadSender:
            return "bad-sender";
        case ValidationReason::BadRecipient:
            return "bad-recipient";
        case ValidationReason::BadAmount:
            return "bad-amount";
        case ValidationReason::BadTxId:
            return "bad-id";
        case ValidationReason::BadReward:
            return "bad-reward";
        case ValidationReason::WrongShape:
            return "wrong-shape";
        case ValidationReason::BadNonce:
            return "bad-nonce";
        case ValidationReason::BadSignature:
            return "bad-signature";
        case ValidationReason::StaleNonce:
            return "stale-nonce";
        case ValidationReason::GappedNonce:
            return "gapped-nonce";
        case ValidationReason::Overspend:
            return "overspend";
        case ValidationReason::BadPreviousHashForm:
            return "bad-previous-hash-form";
        case ValidationReason::BadTimestamp:
            return "bad-timestamp";
        case ValidationReason::TooManyTransactions:
            return "too-many-transactions";
        case ValidationReason::BlockTooLarge:
            return "block-too-large";
        case ValidationReason::MultipleRewards:
            return "multiple-rewards";
        case ValidationReason::DuplicateTransaction:
            return "duplicate-transaction";
        case ValidationReason::BadIndex:
            return "bad-index";
        case ValidationReason::BadPreviousHash:
            return "bad-previous-hash";
        case ValidationReason::BadProof:
            return "bad-proof";
        case ValidationReason::TimestampBeforeMedian:
            return "timestamp-before-median";
        case ValidationReason::TimestampTooFarAhead:
            return "timestamp-too-far-ahead";
        case ValidationReason::TransactionAlreadyInChain:
            return "transaction-already-in-chain";
        case ValidationReason::BadGenesis:
            return "bad-genesis";
        case ValidationReason::InvalidAncestor:
            return "invalid-ancestor";
    }
    return "unknown";
}

bool DependsOnAccounts(ValidationReason reason) {
    return reason == ValidationReason::StaleNonce || reason == ValidationReason::GappedNonce ||
           reason == ValidationReason::Overspend;
}

std::string ValidationResult::ToString() const {
    std::string text(ValidationReasonName(reason));
    if (!detail.empty())
        text += ": " + detail;
    return text;
}

namespace {
bool GoodAddress(std::string_view s) {
    return !s.empty() && s.size() <= MAX_ADDRESS_BYTES && IsValidUtf8(s);
}

/** The signed rules' form checks: account addresses, nonce and signature shape (SPEC §6.7). */
ValidationResult CheckSignedForm(const Transaction& tx) {
    using R = ValidationReason;
    if (!tx.IsReward() && !tx.IsSigned()) {
        return ValidationResult::Fail(
            R::WrongShape,
            "this network runs the signed rules: a transfer is {\"sender\", \"recipient\", "
            "\"amount\", \"nonce\", \"signature\"} (sign it with `gossipchain wallet sign`)");
    }
    if (tx.IsReward() && tx.IsSigned()) {
        return ValidationResult::Fail(R::BadReward,
                                      "a reward is {\"sender\": \"0\", \"recipient\", "
                                      "\"amount\": 1, \"id\"}, never signed");
    }
    if (!tx.IsReward() && !IsAccountAddress(tx.sender)) {
        return ValidationResult::Fail(R::BadSender,
                                      "sender must be an account address: 64 lowercase hex "
                                      "characters (an Ed25519 public key)");
    }
    if (!IsAccountAddress(tx.recipient)) {
        return ValidationResult::Fail(R::BadRecipient,
                                      "recipient must be an account address: 64 lowercase hex "
                                      "characters (an Ed25519 public key)");
    }
    if (tx.IsSigned() && *tx.nonce > MAX_NONCE) {
        return ValidationResult::Fail(R::BadNonce, "nonce must be at most 2^53-1");
    }
    if (tx.IsSigned() && !IsLowerHex(tx.signature, SIGNATURE_HEX_CHARS)) {
        return ValidationResult::Fail(R::BadSignature,
                                      "signature must be 128 lowercase hex characters");
    }
    return {};
}
}  // namespace

ValidationResult CheckTransaction(const Transaction& tx, RuleSet rules) {
    using R = ValidationReason;
    if (rules == RuleSet::Signed) {
        if (ValidationResult form = CheckSignedForm(tx); !form.Ok())
            return form;
    } else if (tx.IsSigned()) {
        return ValidationResult::Fail(R::WrongShape,
                                      "a signed transfer (with nonce and signature) is valid only "
                                      "on a network with --rules signed");
    }
    if (!GoodAddress(tx.sender)) {
        return ValidationResult::Fail(
            R::BadSender,
            "sender must be 1.." + std::to_string(MAX_ADDRESS_BYTES) + " bytes of UTF-8");
    }
    if (!GoodAddress(tx.recipient)) {
        return ValidationResult::Fail(
            R::BadRecipient,
            "recipient must be 1.." + std::to_string(MAX_ADDRESS_BYTES) + " bytes of UTF-8");
    }
    if (tx.amount <= 0 || tx.amount > MAX_AMOUNT) {
        return ValidationResult::Fail(
            R::BadAmount,
            "amount must be a positive integer up to 2^53-1, got " + std::to_string(tx.amount));
    }
    if (!tx.IsSigned() && !IsLowerHex(tx.id, 32)) {
        return ValidationResult::Fail(R::BadTxId, "id must be 32 lowercase hex characters");
    }
    if (tx.IsReward() && tx.amount != REWARD_AMOUNT) {
        return ValidationResult::Fail(R::BadReward,
                                      "a reward must have amount " + std::to_string(REWARD_AMOUNT));
    }
    return {};
}

ValidationResult CheckBlockContextFree(const Block& block, std::size_t encoded_bytes,
                                       std::span<const std::string> txids, RuleSet rules) {
    using R = ValidationReason;
    if (!IsLowerHex(block.ParentHash(), 64)) {
        return ValidationResult::Fail(R::BadPreviousHashForm,
                                      "previous_hash must be 64 lowercase hex characters");
    }
    if (!std::isfinite(block.timestamp) || block.timestamp < 0) {
        return ValidationResult::Fail(R::BadTimestamp,
                                      "timestamp must be a finite positive number");
    }
    if (block.transactions.size() > MAX_BLOCK_TRANSACTIONS) {
        return ValidationResult::Fail(R::TooManyTransactions,
                                      std::to_string(block.transactions.size()) +
                                          " transactions, at most " +
                                          std::to_string(MAX_BLOCK_TRANSACTIONS));
    }
    if (encoded_bytes > MAX_BLOCK_BYTES) {
        return ValidationResult::Fail(
            R::BlockTooLarge,
            std::to_string(encoded_bytes) + " bytes, at most " + std::to_string(MAX_BLOCK_BYTES));
    }
    std::size_t rewards = 0;
    std::unordered_set<std::string_view> seen;
    seen.reserve(txids.size());
    for (std::size_t i = 0; i < block.transactions.size(); ++i) {
        const Transaction& tx = block.transactions[i];
        ValidationResult tx_result = CheckTransaction(tx, rules);
        if (!tx_result.Ok()) {
            tx_result.detail = "transaction " + std::to_string(i) + ": " + tx_result.detail;
            return tx_result;
        }
        if (tx.IsReward() && ++rewards > 1) {
            return ValidationResult::Fail(R::MultipleRewards, "more than one reward transaction");
        }
    }
    for (const std::string& txid : txids) {
        if (!seen.insert(txid).second) {
            return ValidationResult::Fail(R::DuplicateTransaction,
                                          "transaction " + txid + " appears twice in the block");
        }
    }
    return {};
}

ValidationResult CheckBlockContextual(const Block& block, const BlockContext& context,
                                      const ConsensusParams& params) {
    using R = ValidationReason;
    if (block.index != context.parent_index + 1) {
        return ValidationResult::Fail(R::BadIndex, "index " + std::to_string(block.index) +
                                                       " does not follow parent index " +
                                                       std::to_string(context.parent_index));
    }
    if (block.ParentHash() != context.parent_hash) {
        return ValidationResult::Fail(R::BadPreviousHash, "previous_hash is not the parent's hash");
    }
    if (!CheckBlockProof(params, block, context.parent_proof, context.parent_hash)) {
        return ValidationResult::Fail(R::BadProof, "proof " + std::to_string(block.proof) +
                                                       " does not meet difficulty " +
                                                       std::to_string(params.difficulty));
    }
    if (block.timestamp < context.median_time_past) {
        return ValidationResult::Fail(R::TimestampBeforeMedian,
                                      "timestamp is below the median of the last 11 blocks");
    }
    if (block.timestamp > context.now + MAX_FUTURE_BLOCK_SECONDS) {
        return ValidationResult::Fail(R::TimestampTooFarAhead,
                                      "timestamp is more than 2 h ahead of our clock");
    }
    return {};
}

namespace {
// Checks block i against block i - 1: the link to its hash (hex) and the proof.
ValidationResult CheckLink(const Block& block, std::string_view parent_hash, bool proof_ok) {
    if (block.ParentHash() != parent_hash) {
        return ValidationResult::Fail(
            ValidationReason::BadPreviousHash,
            "block " + std::to_string(block.index) + " does not link to the block before it");
    }
    if (!proof_ok) {
        return ValidationResult::Fail(
            ValidationReason::BadProof,
            "block " + std::to_string(block.index) + " has an invalid proof");
    }
    return {};
}

// Checks blocks [begin, end) against their predecessors, two at a time so the SHA-NI unit
// works on two independent messages at once (Sha256Two).
ValidationResult CheckLinkRange(std::span<const Block> chain, std::size_t begin, std::size_t end,
                                const ConsensusParams& params) {
    if (PowCommitsToContent(params.pow_rule)) {
        // Each proof covers its own block's content: one header per block, no pairing.
        for (std::size_t i = begin; i < end; ++i) {
            const std::string parent_hash = BlockHash(chain[i - 1]);
            ValidationResult result =
                CheckLink(chain[i], parent_hash,
                          CheckBlockProof(params, chain[i], chain[i - 1].proof, parent_hash));
            if (!result.Ok())
                return result;
        }
        return {};
    }
    std::string json[2];
    char hex[2][64];
    char preimage[2][MAX_POW_PREIMAGE_BYTES];
    std::size_t preimage_bytes[2];
    Hash256 digest[2];
    for (std::size_t i = begin; i < end; i += 2) {
        const std::size_t count = i + 1 < end ? 2 : 1;
        for (std::size_t k = 0; k < count; ++k) {
            json[k].clear();
            AppendBlockJson(json[k], chain[i + k - 1]);
        }
        if (count == 2) {
            Sha256Two(json[0], json[1], digest[0], digest[1]);
        } else {
            digest[0] = Sha256(json[0]);
        }
        for (std::size_t k = 0; k < count; ++k) {
            HexEncodeTo(digest[k], hex[k]);
            const Block& block = chain[i + k];
            preimage_bytes[k] =
                block.proof > MAX_PROOF
                    ? 0
                    : WritePowPreimage(preimage[k], params.pow_rule, chain[i + k - 1].proof,
                                       block.proof, {hex[k], 64});
        }
        if (count == 2) {
            Sha256Two({preimage[0], preimage_bytes[0]}, {preimage[1], preimage_bytes[1]}, digest[0],
                      digest[1]);
        } else {
            digest[0] = Sha256({preimage[0], preimage_bytes[0]});
        }
        for (std::size_t k = 0; k < count; ++k) {
            bool proof_ok =
                preimage_bytes[k] != 0 && HasLeadingHexZeros(digest[k], params.difficulty);
            ValidationResult result = CheckLink(chain[i + k], {hex[k], 64}, proof_ok);
            if (!result.Ok())
                return result;
        }
    }
    return {};
}
}  // namespace

ValidationResult CheckChainLinks(std::span<const Block> chain, const ConsensusParams& params,
                                 unsigned threads) {
    if (chain.empty() || !(chain.front() == MakeGenesis(params))) {
        return ValidationResult::Fail(ValidationReason::BadGenesis,
                                      "the chain does not start with our genesis block");
    }
    threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(chain.size())));
    if (threads == 1 || chain.size() < 1024)
        return CheckLinkRange(chain, 1, chain.size(), params);
    std::vector<ValidationResult> results(threads);
    std::vector<std::thread> workers;
    std::size_t per = (chain.size() - 1 + threads - 1) / threads;
    for (unsigned t = 0; t < threads; ++t) {
        std::size_t begin = 1 + t * per;
        std::size_t end = std::min(chain.size(), begin + per);
        if (begin >= end)
            break;
        workers.emplace_back(
            [&, t, begin, end] { results[t] = CheckLinkRange(chain, begin, end, params); });
    }
    for (auto& worker : workers)
        worker.join();
    for (auto& result : results) {
        if (!result.Ok())
            return result;
    }
    return {};
}

}  // namespace gossipchain
