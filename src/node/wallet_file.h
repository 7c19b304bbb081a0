// A wallet key file: the 32-byte seed of one Ed25519 account key (SPEC §6.7) as text, so
// `gossipchain wallet` and a node's reward account share one format. Whoever reads the file can
// spend the account, so it is created with mode 0600, all at once (never seen half written), and
// never over an existing file. The text is one line of 64 hex characters, with optional lines
// starting with '#' before or after it (the file names its address in one of them, for people).
#pragma once

#include "crypto/node_key.h"
#include "util/result.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace gossipchain {

/** Largest wallet file read, in bytes (the file gossipchain writes is about 300). */
inline constexpr std::size_t MAX_WALLET_FILE_BYTES = 4096;
/** The reward account's wallet file inside a data directory (signed rules). */
inline constexpr const char* REWARD_WALLET_FILE_NAME = "reward_wallet";

/** The key a wallet file's text holds, or why the text is not a wallet file. */
Result<NodeKey> ParseWalletText(std::string_view text);
/** The text CreateWalletFile writes for `key`. */
std::string WalletText(const NodeKey& key);
/** Reads the wallet file at `path` (a regular file, not a link, at most MAX_WALLET_FILE_BYTES). */
Result<NodeKey> ReadWalletFile(const std::string& path);
/** Creates `path` holding `key` (mode 0600, fsynced); refuses when anything exists at `path`. */
Status CreateWalletFile(const std::string& path, const NodeKey& key);

}  // namespace gossipchain
