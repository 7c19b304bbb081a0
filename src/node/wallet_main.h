// `gossipchain wallet ...`: the account side of the signed rules (SPEC §6.7) in the node's own
// binary. It makes and reads wallet key files (node/wallet_file.h), asks a node for an account
// and its network id, signs transfers, and posts them. Exit codes: 0 done, 1 refused or failed
// (the node's reason, or the file's problem, on stderr), 2 usage, 3 the node could not be asked.
#pragma once

namespace gossipchain {

/** Runs `wallet` with argv[0] = "wallet"; returns the process exit code. */
int WalletMain(int argc, char** argv);

}  // namespace gossipchain
