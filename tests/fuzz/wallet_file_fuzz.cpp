// Fuzz target: a wallet key file's text (`gossipchain wallet --wallet FILE`, a node's
// reward_wallet). ParseWalletText never crashes and refuses what is not a wallet file; a text it
// accepts names exactly one key, and the text WalletText writes for that key reads back to it.
#include "fuzz/fuzz_check.h"
#include "node/wallet_file.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace gossipchain;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    Result<NodeKey> key = ParseWalletText(text);
    if (!key.Ok()) {
        fuzz::Check(!key.Message().empty(), "a refusal says why");
        return 0;
    }
    fuzz::Check(text.size() <= MAX_WALLET_FILE_BYTES, "nothing over the limit is read");
    Result<NodeKey> again = ParseWalletText(WalletText(key.Value()));
    fuzz::Check(again.Ok() && again->PublicKey() == key->PublicKey(),
                "the written text reads back to the same key");
    return 0;
}
