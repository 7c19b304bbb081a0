// The accounts of the signed rules (SPEC §6.7): each address's balance and next nonce, derived
// from the main chain block by block. A block's reward mints REWARD_AMOUNT to its recipient; a
// transfer moves `amount` from sender to recipient when the sender holds at least that much and
// the transfer's nonce is the sender's next one. Blocks apply in order, transactions in block
// order (a transfer may spend what an earlier one in the same block paid in), all or nothing:
// Connect either applies a whole block or leaves the accounts as they were. Disconnect undoes
// the last connected block exactly, so a reorg walks back and forth without recomputing from
// genesis.
//
// Consensus is pure: this is state the caller owns; it takes blocks and transactions, not the
// chain's bookkeeping (it needs a block's transactions, nothing of how the chain keeps them), and
// does no I/O and reads no clock. Signatures are not checked here (signed_tx.h does that).
#pragma once

#include "consensus/validation.h"
#include "primitives/block.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gossipchain {

struct Account {
    std::int64_t balance = 0;
    /** The nonce the account's next transfer must carry (how many it has made). */
    std::uint64_t nonce = 0;
    bool operator==(const Account&) const = default;
};

/** What an account already has waiting in a mempool: its highest pending nonce and the sum of
 * its pending transfers' amounts. */
struct PendingSpend {
    std::optional<std::uint64_t> last_nonce;
    std::int64_t amount = 0;
};

class Ledger {
public:
    /** The account at `address` (all zero when it never received anything). */
    Account Get(std::string_view address) const;

    /** Applies `block`'s reward and transfers in order; on any failure applies nothing and says
     * which transaction failed and why (StaleNonce, GappedNonce, Overspend). */
    ValidationResult Connect(const Block& block);
    /** Undoes `block`, which must be the last block connected and not yet disconnected. */
    void Disconnect(const Block& block);

    /**
     * Whether the transfer `tx` may wait for a block behind what its sender already has pending:
     * its nonce must follow the pending ones (or the account's when none is pending), and the
     * account's balance must cover every pending amount and this one.
     */
    ValidationResult CheckPending(const Transaction& tx, const PendingSpend& pending) const;

    /** Accounts with a balance or a nonce. */
    std::size_t Size() const { return m_accounts.size(); }

private:
    /** Applies one transaction, or says why it cannot be. */
    ValidationResult Apply(const Transaction& tx);
    /** Undoes one applied transaction. */
    void Undo(const Transaction& tx);
    /** Forgets an account that is back to nothing (so undone blocks leave no trace). */
    void Prune(const std::string& address);

    std::unordered_map<std::string, Account> m_accounts;
};

}  // namespace gossipchain
