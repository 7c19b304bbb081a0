// gossipchain: the node binary, and `gossipchain wallet ...`. All wiring lives in src/node.
#include "node/main_entry.h"
#include "node/wallet_main.h"

#include <string_view>

int main(int argc, char** argv) {
    if (argc > 1 && std::string_view(argv[1]) == "wallet")
        return gossipchain::WalletMain(argc - 1, argv + 1);
    return gossipchain::NodeMain(argc, argv);
}
