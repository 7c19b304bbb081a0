// GET /metrics of real nodes with traffic against `promtool check metrics` (Prometheus's own
// parser and linter): every family has HELP and TYPE, a sample, and nothing promtool warns about.
// promtool comes from Debian's prometheus package, which tools/deps.sh installs; without it the
// test fails rather than skips, so CI cannot pass without the check having run.
#include "integration/support/node_harness.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace gossipchain::test {
namespace {

struct CommandResult {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};

/** Runs `command` with /bin/sh and collects what it prints. */
CommandResult RunShell(const std::string& command) {
    CommandResult result;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr)
        return result;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0)
        result.output.append(buf, n);
    const int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

/** Families named by "# TYPE" lines, "# HELP" lines, and sample lines of exposition `text`. */
struct Families {
    std::set<std::string> typed, helped, sampled;
};

Families ReadFamilies(const std::string& text) {
    Families families;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string first, second, name;
        words >> first;
        if (first == "#") {
            words >> second >> name;
            if (second == "TYPE")
                families.typed.insert(name);
            else if (second == "HELP")
                families.helped.insert(name);
        } else if (!first.empty()) {
            families.sampled.insert(first.substr(0, first.find('{')));
        }
    }
    return families;
}

TEST(Metrics, PassPromtoolOnLinkedNodesWithTraffic) {
    const CommandResult which = RunShell("command -v promtool");
    ASSERT_EQ(which.exit_code, 0)
        << "promtool is missing: tools/deps.sh installs it (Debian package prometheus)";

    TempDir root;
    GossipNode a(root, "a", NodeConfig{});
    ASSERT_EQ(a.Start(), "");
    GossipNode b(root, "b", NodeConfig{}.Peer(a.Port()));
    ASSERT_EQ(b.Start(), "");
    ASSERT_TRUE(WaitUntil([&] { return a.ReadyPeers() == 1 && b.ReadyPeers() == 1; }))
        << a.Log() << b.Log();

    // Traffic for every family: a mined block that gossips, a transaction that is relayed, and
    // HTTP answers of more than one status.
    ASSERT_EQ(a.Mine(), 2u);
    ASSERT_TRUE(WaitUntil([&] { return b.Height() == 2; })) << b.Log();
    HttpClientResponse created =
        b.Post("/transactions/new", Json{{"sender", "s"}, {"recipient", "r"}, {"amount", 3}});
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id = JsonOf(created).value("id", "");
    ASSERT_TRUE(WaitUntil([&] { return ContainsTx(a.Pending(), id); })) << a.Log();
    EXPECT_EQ(a.Get("/no-such-path").status, 404);

    for (GossipNode* node : {&a, &b}) {
        HttpClientResponse metrics = node->Get("/metrics");
        ASSERT_EQ(metrics.status, 200) << node->Name();
        ASSERT_NE(metrics.Header("content-type"), nullptr);
        EXPECT_EQ(*metrics.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");

        const Families families = ReadFamilies(metrics.body);
        EXPECT_GE(families.typed.size(), 20u) << metrics.body;
        EXPECT_EQ(families.helped, families.typed) << node->Name() << ":\n" << metrics.body;
        EXPECT_EQ(families.sampled, families.typed) << node->Name() << ":\n" << metrics.body;

        const std::string path = root.Path() + "/" + node->Name() + ".metrics";
        std::ofstream(path) << metrics.body;
        const CommandResult checked = RunShell("promtool check metrics < '" + path + "'");
        EXPECT_EQ(checked.exit_code, 0) << node->Name() << ": " << checked.output;
        EXPECT_EQ(checked.output, "") << node->Name() << ":\n" << metrics.body;
    }
}

}  // namespace
}  // namespace gossipchain::test
