// Test harness for multi-process integration tests: starts real `gossipchain` processes (and the
// tutorial's Python node) in private temporary directories, talks to them only over HTTP, and waits
// on conditions under deadlines. Every process is killed with SIGKILL and reaped in a destructor,
// so a failed assertion never leaves a node behind; PR_SET_PDEATHSIG covers a crashed test binary.
//
// The HTTP client here is deliberately small and blocking (one socket, Content-Length bodies or
// read-to-EOF, a receive timeout): tests need to observe the node, not to be a second HTTP stack.
// It is written here because tests/integration/support/process.h and http_client.h had not been
// committed when these tests were written.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace gossipchain::integration {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/** How long a node may take to print its listening line after exec, in milliseconds. */
inline constexpr int DEFAULT_START_TIMEOUT_MS = 10'000;
/** How long one HTTP exchange may block before the client gives up, in milliseconds. */
inline constexpr int DEFAULT_HTTP_TIMEOUT_MS = 30'000;
/** Pause between two polls of a condition, in milliseconds; short, the loop is deadline-bound. */
inline constexpr int DEFAULT_POLL_INTERVAL_MS = 20;
/** Default deadline for a network-wide condition (gossip, sync), in milliseconds. */
inline constexpr int DEFAULT_CONVERGE_TIMEOUT_MS = 15'000;

/** A directory under $TMPDIR removed with everything in it when the object dies. */
class TempDir {
public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "gossipchain-integ-XXXXXX").string();
        if (char* made = mkdtemp(pattern.data()))
            m_path = made;
    }
    ~TempDir() {
        std::error_code ignored;
        if (!m_path.empty() && !std::getenv("GOSSIPCHAIN_KEEP_TEMP"))
            std::filesystem::remove_all(m_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& Path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

/** One child process; SIGKILLed and reaped by Kill() or the destructor, never left running. */
class ChildProcess {
public:
    ChildProcess() = default;
    ~ChildProcess() { Kill(); }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    /** Starts argv[0] with stdout and stderr appended to `log_path`; false if fork failed. */
    bool Start(const std::vector<std::string>& argv, const std::filesystem::path& log_path) {
        Kill();
        std::vector<char*> args;
        for (const std::string& arg : argv)
            args.push_back(const_cast<char*>(arg.c_str()));
        args.push_back(nullptr);
        std::string log = log_path.string();
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
            return false;
        if (pid == 0) {
            // Only async-signal-safe calls between fork and exec: the test binary has threads.
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(127);
            int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
            }
            execv(args[0], args.data());
            _exit(127);
        }
        m_pid = pid;
        return true;
    }

    /** SIGKILL, as `kill -9` would, then reap; idempotent. */
    void Kill() {
        if (m_pid <= 0)
            return;
        ::kill(m_pid, SIGKILL);
        int status = 0;
        waitpid(m_pid, &status, 0);
        m_pid = -1;
    }

    /** True while the child has not exited (reaps it if it has). */
    bool Running() {
        if (m_pid <= 0)
            return false;
        int status = 0;
        if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_pid = -1;
            return false;
        }
        return true;
    }

private:
    pid_t m_pid = -1;
};

/** An HTTP answer; status 0 means the exchange failed and `error` says why. */
struct HttpReply {
    int status = 0;
    std::string body;
    std::string error;

    /** The body as JSON, or a discarded value when it is not JSON. */
    Json JsonBody() const { return Json::parse(body, nullptr, false); }
};

/** A blocking HTTP/1.1 connection to 127.0.0.1:port, kept alive across requests. */
class HttpConnection {
public:
    explicit HttpConnection(std::uint16_t port, int timeout_ms = DEFAULT_HTTP_TIMEOUT_MS)
        : m_port(port), m_timeout_ms(timeout_ms) {}
    ~HttpConnection() { Close(); }
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    /** Sends one request and reads its whole response; reconnects once if the server closed. */
    HttpReply Request(const std::string& method, const std::string& path,
                      const std::string& body = "") {
        for (int attempt = 0; attempt < 2; ++attempt) {
            bool reused = m_fd >= 0;
            if (!reused && !Connect())
                return Failed("connect: " + std::string(strerror(errno)));
            std::string request = method + " " + path +
                                  " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(m_port) + "\r\n";
            if (!body.empty() || method == "POST") {
                request += "Content-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n";
            }
            request += "\r\n" + body;
            HttpReply reply;
            if (SendAll(request) && ReadResponse(reply))
                return reply;
            Close();
            // A kept-alive socket may have been closed by the server between requests.
            if (!reused)
                return reply.error.empty() ? Failed("connection lost") : reply;
        }
        return Failed("connection lost");
    }

    void Close() {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
        m_buffer.clear();
    }

private:
    static HttpReply Failed(std::string error) {
        HttpReply reply;
        reply.error = std::move(error);
        return reply;
    }

    bool Connect() {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (m_fd < 0)
            return false;
        timeval tv{m_timeout_ms / 1000, (m_timeout_ms % 1000) * 1000};
        setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        int one = 1;
        setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(m_port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
            int saved = errno;
            Close();
            errno = saved;
            return false;
        }
        return true;
    }

    bool SendAll(const std::string& data) {
        std::size_t sent = 0;
        while (sent < data.size()) {
            ssize_t n = ::send(m_fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            sent += static_cast<std::size_t>(n);
        }
        return true;
    }

    /** Appends more bytes to m_buffer; false on EOF, error or timeout. */
    bool Fill() {
        char chunk[65536];
        ssize_t n = ::recv(m_fd, chunk, sizeof(chunk), 0);
        if (n <= 0)
            return false;
        m_buffer.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    bool ReadResponse(HttpReply& reply) {
        std::size_t head_end;
        while ((head_end = m_buffer.find("\r\n\r\n")) == std::string::npos) {
            if (!Fill()) {
                reply.error = "no response head";
                return false;
            }
        }
        std::string head = m_buffer.substr(0, head_end);
        m_buffer.erase(0, head_end + 4);
        if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) {
            reply.error = "bad status line";
            return false;
        }
        reply.status = std::atoi(head.c_str() + 9);
        std::string lower = head;
        for (char& c : lower)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        bool close = lower.find("\r\nconnection: close") != std::string::npos ||
                     head.compare(0, 8, "HTTP/1.0") == 0;
        std::size_t length_at = lower.find("\r\ncontent-length:");
        if (length_at != std::string::npos) {
            std::size_t length = std::strtoull(lower.c_str() + length_at + 17, nullptr, 10);
            while (m_buffer.size() < length) {
                if (!Fill()) {
                    reply.error = "short body";
                    return false;
                }
            }
            reply.body = m_buffer.substr(0, length);
            m_buffer.erase(0, length);
        } else {
            // No length (or chunked, which our servers do not send): the body ends at EOF.
            while (Fill()) {
            }
            reply.body = std::move(m_buffer);
            close = true;
        }
        if (close)
            Close();
        return true;
    }

    std::uint16_t m_port;
    int m_timeout_ms;
    int m_fd = -1;
    std::string m_buffer;
};

/** One request on a fresh connection. */
inline HttpReply HttpCall(std::uint16_t port, const std::string& method, const std::string& path,
                          const std::string& body = "") {
    HttpConnection connection(port);
    return connection.Request(method, path, body);
}

/** Polls `condition` until it holds or `timeout` passes; true when it held. */
inline bool WaitUntil(const std::function<bool()>& condition,
                      milliseconds timeout = milliseconds(DEFAULT_CONVERGE_TIMEOUT_MS)) {
    auto deadline = Clock::now() + timeout;
    while (true) {
        if (condition())
            return true;
        if (Clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(milliseconds(DEFAULT_POLL_INTERVAL_MS));
    }
}

/**
 * Polls `condition` for the whole `window`; false as soon as it fails. A property of the form
 * "this never happens" has no event to wait for, so it is checked over an observation window.
 */
inline bool HoldsFor(const std::function<bool()>& condition, milliseconds window) {
    auto deadline = Clock::now() + window;
    do {
        if (!condition())
            return false;
        std::this_thread::sleep_for(milliseconds(DEFAULT_POLL_INTERVAL_MS));
    } while (Clock::now() < deadline);
    return condition();
}

/** A port that was free a moment ago (for servers, like Flask, that cannot report theirs). */
inline std::uint16_t FreePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(addr);
    std::uint16_t port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) == 0)
        port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

inline std::string ReadFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

/** How a gossipchain node is started. */
struct NodeConfig {
    int difficulty = 2;
    std::string pow = "linked";
    /** Ports of nodes passed as --peer 127.0.0.1:PORT. */
    std::vector<std::uint16_t> peers;
    unsigned threads = 1;
    std::string log_level = "info";

    NodeConfig& Difficulty(int value) {
        difficulty = value;
        return *this;
    }
    NodeConfig& Pow(std::string value) {
        pow = std::move(value);
        return *this;
    }
    NodeConfig& Peer(std::uint16_t port) {
        peers.push_back(port);
        return *this;
    }
    NodeConfig& LogLevel(std::string value) {
        log_level = std::move(value);
        return *this;
    }
};

/**
 * A gossipchain process with its own data directory and log file. It starts on port 0 and learns
 * its port from the "listening on" log line; Restart() reuses that port and data directory, as an
 * operator bringing a crashed node back would.
 */
class GossipNode {
public:
    GossipNode(const TempDir& root, std::string name, NodeConfig config)
        : m_config(std::move(config)),
          m_data_dir(root.Path() / name),
          m_log_path(root.Path() / (name + ".log")),
          m_name(std::move(name)) {}

    /** Starts the process and waits for its listening line; an error text, empty on success. */
    std::string Start() { return Launch(0); }
    /** Starts again on the same port and data directory after Kill(). */
    std::string Restart() { return Launch(m_port); }
    void Kill() { m_process.Kill(); }

    std::uint16_t Port() const { return m_port; }
    const std::string& Name() const { return m_name; }
    std::string HostPort() const { return "127.0.0.1:" + std::to_string(m_port); }
    std::string Url() const { return "http://" + HostPort(); }
    std::string Log() const { return ReadFile(m_log_path); }

    HttpReply Get(const std::string& path) { return HttpCall(m_port, "GET", path); }
    HttpReply Post(const std::string& path, const Json& body) {
        return HttpCall(m_port, "POST", path, body.dump());
    }
    /** GET path as JSON; a discarded value when the exchange or the parse failed. */
    Json GetJson(const std::string& path) {
        HttpReply reply = Get(path);
        return reply.status == 200 ? reply.JsonBody() : Json(Json::value_t::discarded);
    }
    /** /status, or a discarded value when the node did not answer. */
    Json Status() { return GetJson("/status"); }
    std::uint64_t Height() {
        Json status = Status();
        return status.is_object() ? status.value("height", std::uint64_t{0}) : 0;
    }
    std::string Tip() {
        Json status = Status();
        return status.is_object() ? status.value("tip", std::string()) : std::string();
    }
    /** GET /mine; the new block's index, or nullopt when mining failed. */
    std::optional<std::uint64_t> Mine() {
        Json body = GetJson("/mine");
        if (!body.is_object() || body.value("message", "") != "New Block Forged")
            return std::nullopt;
        return body.value("index", std::uint64_t{0});
    }

    /** Ready gossip links, as /status counts them (0 when the node did not answer). */
    std::size_t ReadyPeers() {
        Json status = Status();
        return status.is_object() ? status.value("peers", std::size_t{0}) : 0;
    }
    /** The transactions of /transactions/pending. */
    Json Pending() {
        Json body = GetJson("/transactions/pending");
        return body.is_object() ? body.value("transactions", Json::array()) : Json::array();
    }
    /** The blocks of /chain. */
    Json Chain() {
        Json body = GetJson("/chain");
        return body.is_object() ? body.value("chain", Json::array()) : Json::array();
    }

private:
    std::string Launch(std::uint16_t port) {
        std::vector<std::string> argv = {GOSSIPCHAIN_BINARY,
                                         "--port",
                                         std::to_string(port),
                                         "--data-dir",
                                         m_data_dir.string(),
                                         "--difficulty",
                                         std::to_string(m_config.difficulty),
                                         "--pow",
                                         m_config.pow,
                                         "--threads",
                                         std::to_string(m_config.threads),
                                         "--log-level",
                                         m_config.log_level};
        for (std::uint16_t peer : m_config.peers) {
            argv.push_back("--peer");
            argv.push_back("127.0.0.1:" + std::to_string(peer));
        }
        // The listening line of this run is the first one after the log's current end.
        std::size_t log_offset = Log().size();
        if (!m_process.Start(argv, m_log_path))
            return m_name + ": fork failed";
        static const std::string MARK = "listening on 127.0.0.1:";
        std::uint16_t found = 0;
        bool started = WaitUntil(
            [&] {
                std::string log = Log();
                std::size_t at = log.find(MARK, log_offset);
                if (at != std::string::npos)
                    found = static_cast<std::uint16_t>(std::atoi(log.c_str() + at + MARK.size()));
                return found != 0 || !m_process.Running();
            },
            milliseconds(DEFAULT_START_TIMEOUT_MS));
        if (!started || found == 0)
            return m_name + " did not start; log:\n" + Log();
        m_port = found;
        return {};
    }

    NodeConfig m_config;
    std::filesystem::path m_data_dir;
    std::filesystem::path m_log_path;
    std::string m_name;
    std::uint16_t m_port = 0;
    ChildProcess m_process;
};

/** The tutorial's Flask node (tests/integration/tutorial_node.py) on a free port. */
class TutorialNode {
public:
    TutorialNode(const TempDir& root, std::string pow, int difficulty)
        : m_pow(std::move(pow)),
          m_difficulty(difficulty),
          m_log_path(root.Path() / "tutorial.log") {}

    static std::filesystem::path Script() {
        return std::filesystem::path(GOSSIPCHAIN_SOURCE_DIR) / "tests/integration/tutorial_node.py";
    }
    /** Empty when the script and its Python packages are present, else why not. */
    static std::string Unavailable() {
        if (!std::filesystem::exists(Script()))
            return "tests/integration/tutorial_node.py is missing";
        if (std::system("python3 -c 'import flask, requests' >/dev/null 2>&1") != 0)
            return "python3 with flask and requests is not installed (apt install python3-flask)";
        return {};
    }

    /** Starts the node and waits until it answers /chain; an error text, empty on success. */
    std::string Start() {
        // Flask cannot report a port it picked, so take one that is free now; a collision is
        // possible but rare and shows up as a failed start, not as a wrong answer.
        m_port = FreePort();
        std::vector<std::string> argv = {"/usr/bin/env",
                                         "python3",
                                         Script().string(),
                                         "--port",
                                         std::to_string(m_port),
                                         "--pow",
                                         m_pow,
                                         "--difficulty",
                                         std::to_string(m_difficulty),
                                         "--genesis-timestamp",
                                         "1700000000.0"};
        if (!m_process.Start(argv, m_log_path))
            return "tutorial node: fork failed";
        bool up = WaitUntil([&] { return !m_process.Running() || Get("/chain").status == 200; },
                            milliseconds(DEFAULT_START_TIMEOUT_MS));
        if (!up || !m_process.Running())
            return "tutorial node did not start; log:\n" + ReadFile(m_log_path);
        return {};
    }

    std::uint16_t Port() const { return m_port; }
    std::string Url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    HttpReply Get(const std::string& path) { return HttpCall(m_port, "GET", path); }
    HttpReply Post(const std::string& path, const Json& body) {
        return HttpCall(m_port, "POST", path, body.dump());
    }

private:
    std::string m_pow;
    int m_difficulty;
    std::filesystem::path m_log_path;
    std::uint16_t m_port = 0;
    ChildProcess m_process;
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

}  // namespace gossipchain::integration
