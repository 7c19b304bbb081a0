#include "store/data_dir.h"

#include "util/hex.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace gossipchain {
namespace {

/** SQLite's own files next to the database: a write-ahead log, its index, a rollback journal. */
const char* const SQLITE_SIDE_SUFFIXES[] = {"-wal", "-shm", "-journal"};

/** What a file of mode `mode` is when it is not a regular file ("a FIFO"); empty when it is. */
std::string KindProblem(mode_t mode) {
    if (S_ISREG(mode))
        return {};
    return S_ISLNK(mode)    ? "a symbolic link"
           : S_ISDIR(mode)  ? "a directory"
           : S_ISFIFO(mode) ? "a FIFO"
           : S_ISSOCK(mode) ? "a socket"
                            : "a device or other special file";
}

/**
 * Following a link would let whoever placed it choose what the node truncates and overwrites
 * (LOCK, SQLite's -wal), and a FIFO would block the start.
 */
std::string NotRegular(const std::string& path, const std::string& problem) {
    return path + " is " + problem +
           "; refusing to start: the files in a data directory must be regular files (the "
           "directory itself may be a symbolic link)";
}

}  // namespace

PathState InspectPath(const std::string& path) {
    PathState state;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno != ENOENT) {
            state.exists = true;
            state.problem = std::string("not readable (") + std::strerror(errno) + ")";
        }
        return state;
    }
    state.exists = true;
    state.size = static_cast<std::uintmax_t>(st.st_size);
    state.problem = KindProblem(st.st_mode);
    return state;
}

Status CheckStoreFileTypes(const std::string& dir) {
    std::vector<std::string> names = {STORE_FILE_NAME, LEGACY_NODE_ID_NAME, NODE_KEY_FILE_NAME};
    for (const char* suffix : SQLITE_SIDE_SUFFIXES)
        names.push_back(std::string(STORE_FILE_NAME) + suffix);
    for (const std::string& name : names) {
        std::string path = dir + "/" + name;
        PathState state = InspectPath(path);
        if (!state.problem.empty())
            return Status::Error(NotRegular(path, state.problem));
    }
    return {};
}

std::string EvidenceOfDatabase(const std::string& dir, std::uintmax_t lock_size) {
    for (const char* suffix : SQLITE_SIDE_SUFFIXES) {
        std::string name = std::string(STORE_FILE_NAME) + suffix;
        if (InspectPath(dir + "/" + name).exists)
            return name + " is there";
    }
    if (lock_size > 0)
        return std::string(STORE_LOCK_NAME) + " names the process that last ran on it";
    return {};
}

void SyncDirectory(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)::fsync(fd);
        ::close(fd);
    }
}

std::string SeedHex(const NodeKeySeed& seed) {
    return HexEncode(seed);
}

bool ParseSeedHex(std::string_view text, NodeKeySeed& seed) {
    // A seed and a public key are both 32 bytes (one array type): ParseKeyHex reads either.
    return IsLowerHex(text, 2 * seed.size()) && ParseKeyHex(text, seed);
}

Result<std::optional<NodeKeySeed>> ReadKeyFile(const std::string& dir) {
    const std::string path = dir + "/" + NODE_KEY_FILE_NAME;
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return std::optional<NodeKeySeed>();
        return Status::Error("cannot read " + path + ": " + std::strerror(errno));
    }
    struct stat st {};
    std::string text;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= 4096) {
        text.resize(static_cast<std::size_t>(st.st_size));
        ssize_t n = ::read(fd, text.data(), text.size());
        text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    }
    ::close(fd);
    std::size_t at = 0;
    NodeKeySeed seed{};
    while (at < text.size()) {
        std::size_t end = text.find('\n', at);
        std::string_view line(text.data() + at,
                              (end == std::string::npos ? text.size() : end) - at);
        at = end == std::string::npos ? text.size() : end + 1;
        if (line.empty() || line.front() == '#')
            continue;
        bool ok = ParseSeedHex(line, seed);
        sodium_memzero(text.data(), text.size());
        if (!ok)
            break;
        return std::optional<NodeKeySeed>(seed);
    }
    sodium_memzero(text.data(), text.size());
    return Status::Error(path +
                             " does not hold a node key (a line of 64 lowercase hex); restore it "
                             "from a backup, or remove it to use the key kept in the database",
                         StatusCode::Corrupt);
}

Status WriteKeyFile(const std::string& dir, const NodeKeySeed& seed) {
    const std::string path = dir + "/" + NODE_KEY_FILE_NAME;
    const std::string temp = path + ".new";
    ::unlink(temp.c_str());
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return Status::Error("cannot write " + temp + ": " + std::strerror(errno));
    std::string text =
        "# gossipchain node key: the seed of this node's Ed25519 key. Its node id and its place\n"
        "# in other nodes' trust lists come from it. Keep it secret; back it up with the data\n"
        "# directory (the database holds a copy).\n" +
        SeedHex(seed) + "\n";
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    sodium_memzero(text.data(), text.size());
    ok = (::close(fd) == 0) && ok;
    if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
        int error = errno;
        ::unlink(temp.c_str());
        return Status::Error("cannot write " + path + ": " + std::strerror(error));
    }
    SyncDirectory(dir);
    return {};
}

std::string ReadLegacyNodeId(const std::string& dir) {
    int fd = ::open((dir + "/" + LEGACY_NODE_ID_NAME).c_str(),
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return {};
    struct stat st {};
    char buf[64] = {};
    ssize_t n = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? ::read(fd, buf, sizeof(buf)) : 0;
    ::close(fd);
    std::string id(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    id = id.substr(0, id.find('\n'));
    return IsLowerHex(id, 32) ? id : std::string();
}

Status DataDirLock::Lock(const std::string& dir) {
    Unlock();
    m_path = dir + "/" + STORE_LOCK_NAME;
    // O_NOFOLLOW: a link named LOCK is refused, never followed to a file the pid would then be
    // written into; O_NONBLOCK: a FIFO named LOCK cannot hang the start. Created exclusively, to
    // know whether a refusal must take it away again.
    const int flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    m_fd = ::open(m_path.c_str(), flags | O_CREAT | O_EXCL, 0644);
    m_created = m_fd >= 0;
    if (m_fd < 0 && errno == EEXIST)
        m_fd = ::open(m_path.c_str(), flags);
    if (m_fd < 0) {
        int error = errno;
        PathState state = InspectPath(m_path);
        if (!state.problem.empty())
            return Status::Error(NotRegular(m_path, state.problem));
        return Status::Error("cannot open " + m_path + ": " + std::strerror(error));
    }
    struct stat st {};
    if (::fstat(m_fd, &st) != 0)
        return Status::Error("cannot examine " + m_path + ": " + std::strerror(errno));
    std::string problem = KindProblem(st.st_mode);
    if (!problem.empty())
        return Status::Error(NotRegular(m_path, problem));
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = {};
        ssize_t n = ::pread(m_fd, pid, sizeof(pid) - 1, 0);
        std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "unknown";
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
            holder.pop_back();
        return Status::Error("already in use by another gossipchain process (pid " + holder +
                                 "); give each node its own --data-dir",
                             StatusCode::InUse);
    }
    // Read again under the lock: a node that held it may have written its pid meanwhile.
    if (::fstat(m_fd, &st) != 0)
        return Status::Error("cannot examine " + m_path + ": " + std::strerror(errno));
    m_size = static_cast<std::uintmax_t>(st.st_size);
    return {};
}

void DataDirLock::WritePid() {
    // Written over the old pid and then cut to its length, so LOCK never becomes empty once a
    // database exists: a LOCK with content is what shows that one did (EvidenceOfDatabase).
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::pwrite(m_fd, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size()))
        (void)!::ftruncate(m_fd, static_cast<off_t>(pid.size()));
    m_created = false;
}

void DataDirLock::Unlock() {
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
    m_created = false;
}

void DataDirLock::UnlockAndUndo() {
    if (m_created)
        ::unlink(m_path.c_str());
    Unlock();
}

}  // namespace gossipchain
