#include "consensus/signed_tx.h"

#include "primitives/canonical_json.h"
#include "util/hex.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace gossipchain {

bool IsAccountAddress(std::string_view address) {
    return IsLowerHex(address, ADDRESS_HEX_CHARS);
}

std::string AddressOf(const NodePublicKey& key) {
    return KeyHex(key);
}

std::string SignedTxMessage(const Transaction& tx, std::string_view network_id) {
    std::string message(SIGNED_TX_DOMAIN);
    message += network_id;
    message += '\n';
    AppendUnsignedTransactionJson(message, tx);
    return message;
}

Transaction SignTransfer(const NodeKey& key, const std::string& recipient, std::int64_t amount,
                         std::uint64_t nonce, std::string_view network_id) {
    Transaction tx;
    tx.sender = AddressOf(key.PublicKey());
    tx.recipient = recipient;
    tx.amount = amount;
    tx.nonce = nonce;
    tx.signature = HexEncode(key.Sign(SignedTxMessage(tx, network_id)));
    return tx;
}

bool VerifyTransferSignature(const Transaction& tx, std::string_view network_id) {
    NodePublicKey key{};
    NodeSignature signature{};
    if (!tx.IsSigned() || !IsAccountAddress(tx.sender) || !ParseKeyHex(tx.sender, key) ||
        !IsLowerHex(tx.signature, SIGNATURE_HEX_CHARS) || !HexDecodeTo(tx.signature, signature))
        return false;
    return VerifySignature(key, SignedTxMessage(tx, network_id), signature);
}

ValidationResult CheckSignatures(std::span<const Transaction> transactions,
                                 std::span<const bool> skip, std::string_view network_id,
                                 unsigned threads) {
    std::vector<std::size_t> todo;
    todo.reserve(transactions.size());
    for (std::size_t i = 0; i < transactions.size(); ++i) {
        if (transactions[i].IsSigned() && (skip.empty() || !skip[i]))
            todo.push_back(i);
    }
    // Each thread takes every `threads`-th transfer; the lowest failing position is reported, so
    // the answer does not depend on the thread count.
    const unsigned count = todo.size() < PARALLEL_VERIFY_MIN_SIGNATURES
                               ? 1u
                               : std::max(1u, std::min<unsigned>(threads, 64u));
    std::atomic<std::size_t> first_bad{transactions.size()};
    auto work = [&](unsigned t) {
        for (std::size_t k = t; k < todo.size(); k += count) {
            const std::size_t i = todo[k];
            if (i >= first_bad.load(std::memory_order_relaxed))
                return;
            if (!VerifyTransferSignature(transactions[i], network_id)) {
                std::size_t current = first_bad.load();
                while (i < current && !first_bad.compare_exchange_weak(current, i)) {
                }
                return;
            }
        }
    };
    std::vector<std::thread> workers;
    for (unsigned t = 1; t < count; ++t)
        workers.emplace_back(work, t);
    work(0);
    for (std::thread& worker : workers)
        worker.join();
    const std::size_t bad = first_bad.load();
    if (bad == transactions.size())
        return {};
    return ValidationResult::Fail(ValidationReason::BadSignature,
                                  "transaction " + std::to_string(bad) +
                                      ": the signature is not the sender's over this transfer on "
                                      "this network");
}

}  // namespace gossipchain
