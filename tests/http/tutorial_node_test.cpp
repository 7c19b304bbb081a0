// Runs tests/integration/tutorial_node.py (the tutorial's Flask node) through the multi-process
// test support, checking both: the helpers start, drive and kill a real server, and the
// transcribed tutorial node answers as the tutorial does. Skipped without python3 + Flask.
#include "integration/support/http_client.h"
#include "integration/support/process.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

namespace gossipchain {
namespace {

using namespace std::chrono_literals;
using test::ChildProcess;
using test::HttpClientResponse;

bool HavePythonFlask() {
    return std::system("python3 -c 'import flask, requests' >/dev/null 2>&1") == 0;
}

/** A tutorial node on a free port, killed when the test ends. */
struct TutorialNode {
    TutorialNode(const test::TempDir& dir, const std::string& name,
                 std::vector<std::string> extra_args = {}) {
        for (int attempt = 0; attempt < 3 && !ready; ++attempt) {
            port = test::FindFreePort();
            std::vector<std::string> argv = {
                "python3",
                std::string(GOSSIPCHAIN_SOURCE_DIR) + "/tests/integration/tutorial_node.py",
                "--port", std::to_string(port)};
            argv.insert(argv.end(), extra_args.begin(), extra_args.end());
            process = std::make_unique<ChildProcess>(argv, dir.Path() + "/" + name + ".log");
            if (!process->Started())
                return;
            ready = test::WaitFor(
                        [&] {
                            return !process->Running() ||
                                   test::HttpGet("127.0.0.1", port, "/chain", 1s).Ok();
                        },
                        20s) &&
                    process->Running();
        }
    }

    int port = 0;
    bool ready = false;
    std::unique_ptr<ChildProcess> process;
};

TEST(TutorialNode, FollowsTheTutorialFlow) {
    if (!HavePythonFlask())
        GTEST_SKIP() << "python3 with flask and requests not installed";
    test::TempDir dir;
    ASSERT_FALSE(dir.Path().empty());
    TutorialNode a(dir, "a", {"--difficulty", "2", "--genesis-timestamp", "1700000000.0"});
    TutorialNode b(dir, "b", {"--difficulty", "2", "--genesis-timestamp", "1700000000.0"});
    ASSERT_TRUE(a.ready) << a.process->Error() << a.process->ReadLog();
    ASSERT_TRUE(b.ready) << b.process->Error() << b.process->ReadLog();

    HttpClientResponse chain = test::HttpGet("127.0.0.1", a.port, "/chain");
    ASSERT_TRUE(chain.Ok()) << chain.error;
    EXPECT_EQ(chain.status, 200);
    EXPECT_EQ(*chain.Header("content-type"), "application/json");
    // gossipchain's genesis, byte for byte as Flask's jsonify writes it.
    EXPECT_EQ(chain.body,
              "{\"chain\":[{\"index\":1,\"previous_hash\":1,\"proof\":100,"
              "\"timestamp\":1700000000.0,\"transactions\":[]}],\"length\":1}\n");

    HttpClientResponse missing =
        test::HttpPost("127.0.0.1", a.port, "/transactions/new", R"({"sender": "a", "amount": 5})");
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(missing.body, "Missing values");

    HttpClientResponse tx = test::HttpPost("127.0.0.1", a.port, "/transactions/new",
                                           R"({"sender": "a", "recipient": "b", "amount": 5})");
    EXPECT_EQ(tx.status, 201);
    EXPECT_EQ(tx.body, "{\"message\":\"Transaction will be added to Block 2\"}\n");

    HttpClientResponse mined = test::HttpGet("127.0.0.1", a.port, "/mine");
    ASSERT_EQ(mined.status, 200) << mined.error;
    nlohmann::json block = nlohmann::json::parse(mined.body);
    EXPECT_EQ(block["message"], "New Block Forged");
    EXPECT_EQ(block["index"], 2);
    EXPECT_EQ(block["transactions"].size(), 2u);

    HttpClientResponse bad_register =
        test::HttpPost("127.0.0.1", b.port, "/nodes/register", R"({"other": 1})");
    EXPECT_EQ(bad_register.status, 400);
    EXPECT_EQ(bad_register.body, "Error: Please supply a valid list of nodes");

    HttpClientResponse registered =
        test::HttpPost("127.0.0.1", b.port, "/nodes/register",
                       R"({"nodes": ["http://127.0.0.1:)" + std::to_string(a.port) + "\"]}");
    EXPECT_EQ(registered.status, 201);

    HttpClientResponse resolved = test::HttpGet("127.0.0.1", b.port, "/nodes/resolve");
    ASSERT_EQ(resolved.status, 200) << resolved.error;
    nlohmann::json answer = nlohmann::json::parse(resolved.body);
    EXPECT_EQ(answer["message"], "Our chain was replaced");
    EXPECT_EQ(answer["new_chain"].size(), 2u);

    resolved = test::HttpGet("127.0.0.1", b.port, "/nodes/resolve");
    EXPECT_EQ(nlohmann::json::parse(resolved.body)["message"], "Our chain is authoritative");
}

TEST(TestSupport, ChildProcessReportsExecFailureAndExitStatus) {
    test::TempDir dir;
    ChildProcess missing({"/nonexistent/binary"}, dir.Path() + "/missing.log");
    EXPECT_FALSE(missing.Started());
    EXPECT_NE(missing.Error().find("exec"), std::string::npos);

    ChildProcess echo({"sh", "-c", "echo hello; exit 3"}, dir.Path() + "/echo.log");
    ASSERT_TRUE(echo.Started()) << echo.Error();
    std::optional<int> status = echo.WaitExit(10s);
    ASSERT_TRUE(status);
    EXPECT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 3);
    EXPECT_EQ(echo.ReadLog(), "hello\n");
}

TEST(TestSupport, KillStopsTheWholeProcessGroup) {
    test::TempDir dir;
    pid_t grandchild = 0;
    {
        ChildProcess shell({"sh", "-c", "sleep 1000 & echo $!; wait"}, dir.Path() + "/k.log");
        ASSERT_TRUE(shell.Started());
        ASSERT_TRUE(test::WaitFor([&] { return !shell.ReadLog().empty(); }, 10s));
        grandchild = static_cast<pid_t>(std::atoi(shell.ReadLog().c_str()));
        ASSERT_GT(grandchild, 0);
        EXPECT_TRUE(shell.Running());
    }
    // The grandchild is not ours to reap, so it may linger as a zombie: dead either way.
    auto dead = [grandchild] {
        std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
        std::string pid, comm, state;
        return !(stat >> pid >> comm >> state) || state == "Z";
    };
    EXPECT_TRUE(test::WaitFor(dead, 10s));
}

TEST(TestSupport, FreePortIsBindable) {
    int port = test::FindFreePort();
    ASSERT_GT(port, 0);
    test::HttpConnection connection;
    // Nothing listens there: the connection is refused, not hung.
    EXPECT_FALSE(connection.Connect("127.0.0.1", port, 5s));
    EXPECT_FALSE(connection.Error().empty());
}

}  // namespace
}  // namespace gossipchain
