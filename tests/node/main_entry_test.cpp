// Tests of the gossipchain command line that guard test-only features: POST /admin/links has no
// authentication, so the node refuses --admin unless it listens on a loopback address.
#include "node/main_entry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gossipchain {
namespace {

/** NodeMain's exit code for these arguments (after the program name). */
int RunMain(std::vector<std::string> args) {
    args.insert(args.begin(), "gossipchain");
    std::vector<char*> argv;
    for (std::string& arg : args)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    return NodeMain(static_cast<int>(args.size()), argv.data());
}

TEST(MainEntry, AdminIsRefusedUnlessTheBindIsLoopback) {
    // Each is refused as a bad command line before anything listens.
    for (const char* bind : {"0.0.0.0", "192.168.1.10", "::", "10.127.0.1"})
        EXPECT_EQ(RunMain({"--admin", "--bind", bind, "--port", "0"}), 2) << bind;
}

}  // namespace
}  // namespace gossipchain
