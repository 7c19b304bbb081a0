// Test harness for multi-process integration tests: a gossipchain process (GossipNode) or the
// tutorial's Flask node (TutorialNode) in a private temporary directory, driven and observed only
// over HTTP, and the conditions tests wait on. Processes, temporary directories, deadlines and the
// HTTP client come from process.h and http_client.h; this file adds what a node is: its flags, how
// its port is learnt, restart on the same port and data dir, and JSON views of its endpoints.
#pragma once

#include "integration/support/http_client.h"
#include "integration/support/process.h"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gossipchain::test {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/** How long a node may take to print its listening line after exec, in milliseconds. */
inline constexpr milliseconds DEFAULT_START_TIMEOUT{10'000};
/** A tutorial node (Python, Flask) starts slower, and one with --junk-chain first builds 50 MB of
 * junk that each readiness probe then downloads: under a sanitized suite's load that passed 10 s.
 */
inline constexpr milliseconds TUTORIAL_START_TIMEOUT{40'000};
/** How long one HTTP exchange with a node may take, in milliseconds (a /mine included). */
inline constexpr milliseconds DEFAULT_NODE_HTTP_TIMEOUT{30'000};
/** Default deadline for a network-wide condition (gossip, sync), in milliseconds. */
inline constexpr milliseconds DEFAULT_CONVERGE_TIMEOUT{15'000};
/** Pause between two polls of a condition, in milliseconds. */
inline constexpr milliseconds DEFAULT_POLL_INTERVAL{20};

/** A response body as JSON; a discarded value when the exchange failed or it is not JSON. */
inline Json JsonOf(const HttpClientResponse& response) {
    if (!response.Ok())
        return Json(Json::value_t::discarded);
    return Json::parse(response.body, nullptr, false);
}

/** Polls `condition` until it holds or `timeout` passes; true when it held. */
inline bool WaitUntil(const std::function<bool()>& condition,
                      milliseconds timeout = DEFAULT_CONVERGE_TIMEOUT) {
    return WaitFor(condition, timeout, DEFAULT_POLL_INTERVAL);
}

/**
 * Polls `condition` for the whole `window`; false as soon as it fails. A property of the form
 * "this never happens" has no event to wait for, so it is checked over an observation window.
 */
inline bool HoldsFor(const std::function<bool()>& condition, milliseconds window) {
    return !WaitFor([&] { return !condition(); }, window, DEFAULT_POLL_INTERVAL) && condition();
}

/** The node-facing half of GossipNode and TutorialNode: HTTP to 127.0.0.1:port. */
class HttpEndpoint {
public:
    int Port() const { return m_port; }
    std::string HostPort() const { return "127.0.0.1:" + std::to_string(m_port); }
    std::string Url() const { return "http://" + HostPort(); }

    HttpClientResponse Get(const std::string& path) const {
        return HttpGet("127.0.0.1", m_port, path, DEFAULT_NODE_HTTP_TIMEOUT);
    }
    HttpClientResponse Post(const std::string& path, const Json& body) const {
        return HttpPost("127.0.0.1", m_port, path, body.dump(), DEFAULT_NODE_HTTP_TIMEOUT);
    }
    /** GET path as JSON when it answers 200; a discarded value otherwise. */
    Json GetJson(const std::string& path) const {
        HttpClientResponse response = Get(path);
        return response.status == 200 ? JsonOf(response) : Json(Json::value_t::discarded);
    }

protected:
    int m_port = 0;
};

/** How a gossipchain node is started. */
struct NodeConfig {
    int difficulty = 2;
    std::string pow = "linked";
    /** Ports of nodes passed as --peer 127.0.0.1:PORT. */
    std::vector<int> peers;
    unsigned threads = 1;
    std::string log_level = "info";
    /** Further flags, passed as they are (test-only ones such as --test-timeout-ms). */
    std::vector<std::string> extra_args;

    NodeConfig& Difficulty(int value) {
        difficulty = value;
        return *this;
    }
    NodeConfig& Pow(std::string value) {
        pow = std::move(value);
        return *this;
    }
    NodeConfig& Peer(int port) {
        peers.push_back(port);
        return *this;
    }
    NodeConfig& LogLevel(std::string value) {
        log_level = std::move(value);
        return *this;
    }
    NodeConfig& Arg(std::string flag, std::string value) {
        extra_args.push_back(std::move(flag));
        extra_args.push_back(std::move(value));
        return *this;
    }
};

/**
 * A gossipchain process with its own data directory and log file. It starts on port 0 and learns
 * its port from the "listening on" log line; Restart() reuses that port and data directory, as an
 * operator bringing a crashed node back would. The destructor SIGKILLs the process.
 */
class GossipNode : public HttpEndpoint {
public:
    GossipNode(const TempDir& root, std::string name, NodeConfig config)
        : m_config(std::move(config)),
          m_data_dir(root.Path() + "/" + name),
          m_log_path(root.Path() + "/" + name + ".log"),
          m_name(std::move(name)) {}

    /** Starts the process and waits for its listening line; an error text, empty on success. */
    std::string Start() { return Launch(0); }
    /** Starts on `port` (a free one the test picked, e.g. to name it in another's --peer). */
    std::string StartOn(int port) { return Launch(port); }
    /** Starts again on the same port and data directory after Kill(). */
    std::string Restart() { return Launch(m_port); }
    /** SIGKILL, as `kill -9` would; the data directory stays. */
    void Kill() { m_process.reset(); }

    const std::string& Name() const { return m_name; }
    /** Everything the node logged (all its runs). */
    std::string Log() const { return m_process ? m_process->ReadLog() : m_last_log; }

    /** /status, or a discarded value when the node did not answer. */
    Json Status() const { return GetJson("/status"); }
    const std::string& DataDir() const { return m_data_dir; }
    std::uint64_t Height() const {
        Json status = Status();
        return status.is_object() ? status.value("height", std::uint64_t{0}) : 0;
    }
    std::string Tip() const {
        Json status = Status();
        return status.is_object() ? status.value("tip", std::string()) : std::string();
    }
    /** Ready gossip links, as /status counts them (0 when the node did not answer). */
    std::size_t ReadyPeers() const {
        Json status = Status();
        return status.is_object() ? status.value("peers", std::size_t{0}) : 0;
    }
    /** GET /mine; the new block's index, or nullopt when mining failed. */
    std::optional<std::uint64_t> Mine() const {
        Json body = GetJson("/mine");
        if (!body.is_object() || body.value("message", "") != "New Block Forged")
            return std::nullopt;
        return body.value("index", std::uint64_t{0});
    }
    /** The transactions of /transactions/pending. */
    Json Pending() const {
        Json body = GetJson("/transactions/pending");
        return body.is_object() ? body.value("transactions", Json::array()) : Json::array();
    }
    /** The blocks of /chain. */
    Json Chain() const {
        Json body = GetJson("/chain");
        return body.is_object() ? body.value("chain", Json::array()) : Json::array();
    }

private:
    std::string Launch(int port) {
        std::vector<std::string> argv = {GOSSIPCHAIN_BINARY,
                                         "--port",
                                         std::to_string(port),
                                         "--data-dir",
                                         m_data_dir,
                                         "--difficulty",
                                         std::to_string(m_config.difficulty),
                                         "--pow",
                                         m_config.pow,
                                         "--threads",
                                         std::to_string(m_config.threads),
                                         "--log-level",
                                         m_config.log_level};
        for (int peer : m_config.peers) {
            argv.push_back("--peer");
            argv.push_back("127.0.0.1:" + std::to_string(peer));
        }
        argv.insert(argv.end(), m_config.extra_args.begin(), m_config.extra_args.end());
        // The log file is appended to across runs; this run's listening line comes after
        // whatever the previous run wrote.
        std::size_t log_offset = Log().size();
        m_process.reset();
        m_process = std::make_unique<ChildProcess>(argv, m_log_path);
        if (!m_process->Started())
            return m_name + ": " + m_process->Error();
        static const std::string MARK = "listening on 127.0.0.1:";
        int found = 0;
        WaitUntil(
            [&] {
                std::string log = m_process->ReadLog();
                std::size_t at = log.find(MARK, log_offset);
                if (at != std::string::npos)
                    found = std::atoi(log.c_str() + at + MARK.size());
                return found != 0 || !m_process->Running();
            },
            DEFAULT_START_TIMEOUT);
        m_last_log = m_process->ReadLog();
        if (found == 0)
            return m_name + " did not start; log:\n" + m_last_log;
        m_port = found;
        return {};
    }

    NodeConfig m_config;
    std::string m_data_dir;
    std::string m_log_path;
    std::string m_name;
    /** Log of the last run, for Log() while the node is killed. */
    std::string m_last_log;
    std::unique_ptr<ChildProcess> m_process;
};

/** The tutorial's Flask node (tests/integration/tutorial_node.py) on a free port. */
class TutorialNode : public HttpEndpoint {
public:
    /** `extra_args` go after the others (argparse keeps the last of a repeated flag). */
    TutorialNode(const TempDir& root, std::string pow, int difficulty,
                 std::vector<std::string> extra_args = {}, const std::string& name = "tutorial")
        : m_pow(std::move(pow)),
          m_difficulty(difficulty),
          m_extra_args(std::move(extra_args)),
          m_log_path(root.Path() + "/" + name + ".log") {}

    static std::string Script() {
        return std::string(GOSSIPCHAIN_SOURCE_DIR) + "/tests/integration/tutorial_node.py";
    }
    /** Empty when the script and its Python packages are present, else why not. */
    static std::string Unavailable() {
        if (::access(Script().c_str(), R_OK) != 0)
            return "tests/integration/tutorial_node.py is missing";
        if (std::system("python3 -c 'import flask, requests' >/dev/null 2>&1") != 0)
            return "python3 with flask and requests is not installed (apt install python3-flask)";
        return {};
    }

    /**
     * Starts the node on `port` (0: a free one) and waits until it answers /chain; an error
     * text, empty on success.
     */
    std::string Start(int port = 0) {
        // Flask cannot report a port it picked, so take one that is free now; a collision is
        // possible but rare and shows up as a failed start, not as a wrong answer.
        m_port = port != 0 ? port : FindFreePort();
        std::vector<std::string> argv = {"python3",
                                         Script(),
                                         "--port",
                                         std::to_string(m_port),
                                         "--pow",
                                         m_pow,
                                         "--difficulty",
                                         std::to_string(m_difficulty),
                                         "--genesis-timestamp",
                                         "1700000000.0"};
        argv.insert(argv.end(), m_extra_args.begin(), m_extra_args.end());
        m_process = std::make_unique<ChildProcess>(argv, m_log_path);
        if (!m_process->Started())
            return "tutorial node: " + m_process->Error();
        bool up = WaitUntil([&] { return !m_process->Running() || Get("/chain").status == 200; },
                            TUTORIAL_START_TIMEOUT);
        if (!up || !m_process->Running())
            return "tutorial node did not start; log:\n" + m_process->ReadLog();
        return {};
    }

    /** SIGKILL; the port is free again once this returns. */
    void Kill() { m_process.reset(); }

private:
    std::string m_pow;
    int m_difficulty;
    std::vector<std::string> m_extra_args;
    std::string m_log_path;
    std::unique_ptr<ChildProcess> m_process;
};

/** True when every node reports `height` and `tip`. */
inline bool AllOn(const std::vector<GossipNode*>& nodes, std::uint64_t height,
                  const std::string& tip) {
    for (GossipNode* node : nodes) {
        Json status = node->Status();
        if (!status.is_object() || status.value("height", std::uint64_t{0}) != height ||
            status.value("tip", std::string()) != tip)
            return false;
    }
    return true;
}

/** True when a transaction with this client id is in `transactions`. */
inline bool ContainsTx(const Json& transactions, const std::string& id) {
    for (const Json& tx : transactions) {
        if (tx.is_object() && tx.value("id", std::string()) == id)
            return true;
    }
    return false;
}

/** True when a block of `chain` holds a transaction with this client id. */
inline bool ChainContainsTx(const Json& chain, const std::string& id) {
    for (const Json& block : chain) {
        if (block.is_object() && ContainsTx(block.value("transactions", Json::array()), id))
            return true;
    }
    return false;
}

}  // namespace gossipchain::test
