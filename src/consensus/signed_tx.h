// What the signed rules (SPEC §6.7) ask of one transaction alone: account addresses are Ed25519
// public keys in lowercase hex, and a transfer carries its sender's signature over the network
// id and the transfer's canonical JSON without "signature". The network id in the signed bytes
// keeps a signature from ever being valid on another network (another genesis, proof rule or
// difficulty). Consensus is pure: nothing here reads a clock, does I/O or touches a global;
// verification may use several threads, which the caller chooses.
#pragma once

#include "consensus/validation.h"
#include "crypto/node_key.h"
#include "primitives/transaction.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace gossipchain {

/** Length of an account address: an Ed25519 public key, in lowercase hex characters. */
inline constexpr std::size_t ADDRESS_HEX_CHARS = 64;
/** Length of a transaction signature: an Ed25519 signature, in lowercase hex characters. */
inline constexpr std::size_t SIGNATURE_HEX_CHARS = 128;
/** Largest account nonce (fits every JSON reader's integer, like MAX_AMOUNT). */
inline constexpr std::uint64_t MAX_NONCE = (std::uint64_t{1} << 53) - 1;
/** Prefix of the bytes a transfer's signature covers, before the network id and a newline. */
inline constexpr std::string_view SIGNED_TX_DOMAIN = "gossipchain/tx\n";
/** Fewest signatures of one block worth a second verifying thread. */
inline constexpr std::size_t PARALLEL_VERIFY_MIN_SIGNATURES = 64;

/** True when `address` is an account address: 64 lowercase hex characters. */
bool IsAccountAddress(std::string_view address);
/** The account address of `key`. */
std::string AddressOf(const NodePublicKey& key);

/**
 * The bytes a transfer's signature covers: SIGNED_TX_DOMAIN, the network id, "\n", and the
 * canonical JSON of {"amount", "nonce", "recipient", "sender"}.
 */
std::string SignedTxMessage(const Transaction& tx, std::string_view network_id);

/** A transfer of `amount` from `key`'s account to `recipient` with `nonce`, signed. */
Transaction SignTransfer(const NodeKey& key, const std::string& recipient, std::int64_t amount,
                         std::uint64_t nonce, std::string_view network_id);

/** True when the transfer's signature is its sender's over SignedTxMessage(). */
bool VerifyTransferSignature(const Transaction& tx, std::string_view network_id);

/**
 * Verifies the signature of every signed transfer of `transactions` whose `skip` entry is false
 * (`skip` is empty or one entry per transaction: ones verified before, e.g. on mempool
 * admission), on up to `threads` threads. Ok, or BadSignature naming the first bad one.
 */
ValidationResult CheckSignatures(std::span<const Transaction> transactions,
                                 std::span<const bool> skip, std::string_view network_id,
                                 unsigned threads);

}  // namespace gossipchain
