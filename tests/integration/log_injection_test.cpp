// A client's text cannot forge or hide a line of a real node's log: the tutorial's
// POST /transactions/new with a sender carrying a line break and a fake log line, a carriage
// return and an ANSI escape, which the node logs when it accepts the transaction.
#include "integration/support/node_harness.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>

namespace gossipchain::test {
namespace {

TEST(LogInjection, ClientTextCannotStartOrHideALogLine) {
    TempDir root;
    GossipNode node(root, "a", NodeConfig{});
    ASSERT_EQ(node.Start(), "");

    const std::string forged = "2026-01-01T00:00:00.000Z info  block 9 0123abcd mined";
    HttpClientResponse created =
        node.Post("/transactions/new",
                  Json{{"sender", "x\n" + forged}, {"recipient", "y\r\x1b[2Kz"}, {"amount", 1}});
    ASSERT_EQ(created.status, 201) << created.body;

    // The node logs "transaction <first 12 of txid> accepted (...)" once the transaction is stored.
    const std::string txid = JsonOf(created).value("txid", "");
    ASSERT_EQ(txid.size(), 64u) << created.body;
    const std::string accepted = "transaction " + txid.substr(0, 12) + " accepted ";
    ASSERT_TRUE(WaitUntil([&] { return node.Log().find(accepted) != std::string::npos; }))
        << node.Log();

    const std::string log = node.Log();
    EXPECT_NE(log.find(accepted + "(x\\n" + forged + " -> y\\r\\x1b[2Kz, 1)"), std::string::npos)
        << log;
    EXPECT_EQ(log.find('\r'), std::string::npos);
    EXPECT_EQ(log.find('\x1b'), std::string::npos);
    // Every line is one the logger started: timestamp, level, message.
    const std::regex logged(
        R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info |warn |error) .*)");
    std::istringstream lines(log);
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) {
        ++count;
        EXPECT_TRUE(std::regex_match(line, logged)) << "not a logger line: " << line;
        EXPECT_NE(line.rfind(forged, 0), 0u) << "forged line: " << line;
    }
    EXPECT_GT(count, 1);
}

}  // namespace
}  // namespace gossipchain::test
