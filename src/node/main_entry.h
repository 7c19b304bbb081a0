// Entry point of the gossipchain binary: parses flags, runs the node until a signal, returns the
// process exit code (0 clean stop, 1 startup failure, 2 bad command line).
#pragma once

namespace gossipchain {

int NodeMain(int argc, char** argv);

}  // namespace gossipchain
