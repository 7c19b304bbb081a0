// gossipchain: the node binary. All wiring lives in src/node.
#include "node/main_entry.h"

int main(int argc, char** argv) {
    return gossipchain::NodeMain(argc, argv);
}
