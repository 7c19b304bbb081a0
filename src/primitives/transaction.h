// A transaction exactly as the tutorial's ledger holds it, plus the `id` gossipchain adds so two
// equal payments stay distinct: {"sender", "recipient", "amount", "id"}. Under the signed rules
// (SPEC §6.7) a transfer has another shape, {"sender", "recipient", "amount", "nonce",
// "signature"}: the sender's account nonce makes equal payments distinct instead of an id, and
// the signature proves the sender wrote it. Rewards keep the first shape under every rule set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace gossipchain {

/** The sender of the mining reward, as in the tutorial's /mine. */
inline constexpr const char* REWARD_SENDER = "0";

struct Transaction {
    std::string sender;
    std::string recipient;
    std::int64_t amount = 0;
    /** 32 lowercase hex characters chosen by whoever created the transaction; empty when signed.
     */
    std::string id;
    /** Signed shape only: the sender's account nonce (0 for its first transfer). */
    std::optional<std::uint64_t> nonce = std::nullopt;
    /** Signed shape only: the Ed25519 signature, 128 lowercase hex characters. */
    std::string signature = {};

    bool IsReward() const { return sender == REWARD_SENDER; }
    /** The signed shape: {"sender", "recipient", "amount", "nonce", "signature"}. */
    bool IsSigned() const { return nonce.has_value(); }
    bool operator==(const Transaction&) const = default;
};

/** Transaction id: lowercase hex SHA-256 of the transaction's canonical JSON. */
std::string TxId(const Transaction& tx);

}  // namespace gossipchain
