#include "node/main_entry.h"

#include <cstdio>

namespace gossipchain {

int NodeMain(int, char**) {
    std::fprintf(stderr, "gossipchain: node not wired yet\n");
    return 1;
}

}  // namespace gossipchain
