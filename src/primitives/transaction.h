// A transaction exactly as the tutorial's ledger holds it, plus the `id` gossipchain adds so two
// equal payments stay distinct: {"sender", "recipient", "amount", "id"}.
#pragma once

#include <cstdint>
#include <string>

namespace gossipchain {

/** The sender of the mining reward, as in the tutorial's /mine. */
inline constexpr const char* REWARD_SENDER = "0";

struct Transaction {
    std::string sender;
    std::string recipient;
    std::int64_t amount = 0;
    /** 32 lowercase hex characters chosen by whoever created the transaction. */
    std::string id;

    bool IsReward() const { return sender == REWARD_SENDER; }
    bool operator==(const Transaction&) const = default;
};

/** Transaction id: lowercase hex SHA-256 of the transaction's canonical JSON. */
std::string TxId(const Transaction& tx);

}  // namespace gossipchain
