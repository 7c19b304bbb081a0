// Test support for multi-process tests: free ports, temporary directories, child processes
// that are always killed, and waiting for a condition under a deadline. Header-only so the
// integration test glob (tests/integration/*_test.cpp) does not pick it up as a test.
//
// Children run in their own process group with stdout and stderr in a log file, so a test can
// show what a node printed when it fails, and SIGKILL to the group also reaches anything the
// child started. On Linux a child also gets SIGKILL when the test process dies.
#pragma once

#include "support/free_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace gossipchain::test {

/** A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction. */
class TempDir {
public:
    explicit TempDir(const std::string& prefix = "gossipchain-test") {
        const char* base = std::getenv("TMPDIR");
        std::string pattern =
            std::string(base != nullptr ? base : "/tmp") + "/" + prefix + "-XXXXXX";
        std::vector<char> buf(pattern.begin(), pattern.end());
        buf.push_back('\0');
        if (::mkdtemp(buf.data()) != nullptr)
            m_path = buf.data();
    }
    ~TempDir() {
        if (m_path.empty() || std::getenv("GOSSIPCHAIN_KEEP_TEST_DIRS") != nullptr)
            return;
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    /** Empty when the directory could not be created. */
    const std::string& Path() const { return m_path; }

private:
    std::string m_path;
};

/**
 * Polls `predicate` until it returns true or `timeout` passes; true when it held. The short
 * pause between polls only yields the CPU to the processes being waited for.
 */
template <typename Predicate>
bool WaitFor(Predicate&& predicate, std::chrono::milliseconds timeout,
             std::chrono::milliseconds poll_interval = std::chrono::milliseconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (predicate())
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(poll_interval);
    }
}

/** A child process started with fork/exec; killed (SIGKILL to its group) on destruction. */
class ChildProcess {
public:
    /**
     * Starts argv[0] (searched in PATH) with `argv`, stdout and stderr appended to `log_path`.
     * Check Started() and Error() afterwards.
     */
    ChildProcess(std::vector<std::string> argv, std::string log_path)
        : m_argv(std::move(argv)), m_log_path(std::move(log_path)) {
        Start();
    }
    ~ChildProcess() { Kill(); }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    bool Started() const { return m_pid > 0; }
    pid_t Pid() const { return m_pid; }
    /** Why the start failed (fork, exec or log file errors); empty when it started. */
    const std::string& Error() const { return m_error; }
    const std::string& LogPath() const { return m_log_path; }

    /** Everything the child wrote to stdout and stderr so far. */
    std::string ReadLog() const {
        std::ifstream in(m_log_path, std::ios::binary);
        std::ostringstream out;
        out << in.rdbuf();
        return out.str();
    }

    /** Sends `signal` to the child's process group; false when it is not running. */
    bool Signal(int signal) const { return Running() && ::kill(-m_pid, signal) == 0; }

    /** True until the child has exited (and was reaped). */
    bool Running() const {
        if (m_pid <= 0 || m_exit_status)
            return false;
        int status = 0;
        pid_t r = ::waitpid(m_pid, &status, WNOHANG);
        if (r == m_pid) {
            m_exit_status = status;
            return false;
        }
        return r == 0;
    }

    /** Waits up to `timeout` for the child to exit; its waitpid status, or nullopt. */
    std::optional<int> WaitExit(std::chrono::milliseconds timeout) {
        WaitFor([&] { return !Running(); }, timeout, std::chrono::milliseconds(5));
        return m_exit_status;
    }

    /** SIGKILLs the whole process group and reaps the child. Idempotent. */
    void Kill() {
        if (m_pid <= 0)
            return;
        if (!m_exit_status) {
            ::kill(-m_pid, SIGKILL);
            int status = 0;
            while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
            }
            m_exit_status = status;
        }
    }

private:
    void Start() {
        // Everything the child needs is prepared before fork: after fork in a threaded
        // process only async-signal-safe calls are allowed.
        std::vector<char*> args;
        for (std::string& arg : m_argv)
            args.push_back(arg.data());
        args.push_back(nullptr);
        if (m_argv.empty()) {
            m_error = "empty argv";
            return;
        }
        int log_fd = ::open(m_log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log_fd < 0) {
            m_error = "cannot open log " + m_log_path + ": " + std::strerror(errno);
            return;
        }
        // The child reports an exec failure through this close-on-exec pipe.
        int report[2];
        if (::pipe2(report, O_CLOEXEC) != 0) {
            m_error = std::string("pipe2: ") + std::strerror(errno);
            ::close(log_fd);
            return;
        }
        const pid_t parent = ::getpid();
        pid_t pid = ::fork();
        if (pid == 0) {
            ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent)
                ::_exit(127);  // the parent died before prctl
            ::dup2(log_fd, STDOUT_FILENO);
            ::dup2(log_fd, STDERR_FILENO);
            ::execvp(args[0], args.data());
            int err = errno;
            ssize_t ignored = ::write(report[1], &err, sizeof(err));
            (void)ignored;
            ::_exit(127);
        }
        ::close(log_fd);
        ::close(report[1]);
        if (pid < 0) {
            m_error = std::string("fork: ") + std::strerror(errno);
            ::close(report[0]);
            return;
        }
        ::setpgid(pid, pid);  // also here, so Kill() works even if the child has not run yet
        int child_errno = 0;
        ssize_t n;
        do {
            n = ::read(report[0], &child_errno, sizeof(child_errno));
        } while (n < 0 && errno == EINTR);
        ::close(report[0]);
        m_pid = pid;
        if (n == static_cast<ssize_t>(sizeof(child_errno))) {
            m_error = "exec " + m_argv[0] + ": " + std::strerror(child_errno);
            Kill();
            m_pid = -1;
        }
    }

    std::vector<std::string> m_argv;
    std::string m_log_path;
    std::string m_error;
    pid_t m_pid = -1;
    mutable std::optional<int> m_exit_status;
};

}  // namespace gossipchain::test
