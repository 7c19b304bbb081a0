// The make-chain mode of gossipchain_bench (see make_chain.cpp).
#pragma once

namespace gossipchain {

/** `gossipchain_bench make-chain ARGS`: argv without the program name and the mode word. */
int MakeChainMain(int argc, char** argv);

}  // namespace gossipchain
