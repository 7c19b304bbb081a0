#include "consensus/ledger.h"

#include "consensus/params.h"

namespace gossipchain {

Account Ledger::Get(std::string_view address) const {
    auto found = m_accounts.find(std::string(address));
    return found == m_accounts.end() ? Account{} : found->second;
}

ValidationResult Ledger::Apply(const Transaction& tx) {
    using R = ValidationReason;
    if (tx.IsReward()) {
        m_accounts[tx.recipient].balance += tx.amount;
        return {};
    }
    Account& sender = m_accounts[tx.sender];
    const std::uint64_t nonce = tx.nonce.value_or(0);
    ValidationResult result;
    if (!tx.IsSigned()) {
        result = ValidationResult::Fail(R::WrongShape, "a transfer without nonce and signature");
    } else if (nonce < sender.nonce) {
        result = ValidationResult::Fail(R::StaleNonce, "nonce " + std::to_string(nonce) +
                                                           " was used already: the sender's "
                                                           "next nonce is " +
                                                           std::to_string(sender.nonce));
    } else if (nonce > sender.nonce) {
        result = ValidationResult::Fail(R::GappedNonce, "nonce " + std::to_string(nonce) +
                                                            " skips ahead: the sender's next "
                                                            "nonce is " +
                                                            std::to_string(sender.nonce));
    } else if (sender.balance < tx.amount) {
        result = ValidationResult::Fail(R::Overspend, "amount " + std::to_string(tx.amount) +
                                                          " is more than the sender's balance " +
                                                          std::to_string(sender.balance));
    }
    if (!result.Ok()) {
        Prune(tx.sender);
        return result;
    }
    sender.balance -= tx.amount;
    sender.nonce += 1;
    m_accounts[tx.recipient].balance += tx.amount;
    return {};
}

void Ledger::Undo(const Transaction& tx) {
    m_accounts[tx.recipient].balance -= tx.amount;
    if (!tx.IsReward()) {
        Account& sender = m_accounts[tx.sender];
        sender.balance += tx.amount;
        sender.nonce -= 1;
        Prune(tx.sender);
    }
    Prune(tx.recipient);
}

void Ledger::Prune(const std::string& address) {
    auto found = m_accounts.find(address);
    if (found != m_accounts.end() && found->second == Account{})
        m_accounts.erase(found);
}

ValidationResult Ledger::Connect(const Block& block) {
    for (std::size_t i = 0; i < block.transactions.size(); ++i) {
        ValidationResult result = Apply(block.transactions[i]);
        if (result.Ok())
            continue;
        for (std::size_t j = i; j-- > 0;)
            Undo(block.transactions[j]);
        result.detail = "transaction " + std::to_string(i) + ": " + result.detail;
        return result;
    }
    return {};
}

void Ledger::Disconnect(const Block& block) {
    for (std::size_t j = block.transactions.size(); j-- > 0;)
        Undo(block.transactions[j]);
}

ValidationResult Ledger::CheckPending(const Transaction& tx, const PendingSpend& pending) const {
    using R = ValidationReason;
    const Account account = Get(tx.sender);
    const std::uint64_t next = pending.last_nonce ? *pending.last_nonce + 1 : account.nonce;
    const std::uint64_t nonce = tx.nonce.value_or(0);
    if (nonce < account.nonce) {
        return ValidationResult::Fail(R::StaleNonce, "nonce " + std::to_string(nonce) +
                                                         " was used already: the account's next "
                                                         "nonce is " +
                                                         std::to_string(account.nonce));
    }
    if (nonce < next) {
        return ValidationResult::Fail(
            R::StaleNonce, "nonce " + std::to_string(nonce) +
                               " is taken by a pending transfer of this account: its next "
                               "nonce is " +
                               std::to_string(next));
    }
    if (nonce > next) {
        return ValidationResult::Fail(R::GappedNonce,
                                      "nonce " + std::to_string(nonce) +
                                          " skips ahead: the account's next nonce is " +
                                          std::to_string(next));
    }
    if (account.balance - pending.amount < tx.amount) {
        return ValidationResult::Fail(
            R::Overspend, "amount " + std::to_string(tx.amount) + " is more than the balance " +
                              std::to_string(account.balance) +
                              (pending.amount > 0 ? " less the " + std::to_string(pending.amount) +
                                                        " pending transfers spend"
                                                  : std::string()));
    }
    return {};
}

}  // namespace gossipchain
