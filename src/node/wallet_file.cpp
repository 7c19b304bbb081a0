#include "node/wallet_file.h"

#include "consensus/signed_tx.h"
#include "util/hex.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gossipchain {

Result<NodeKey> ParseWalletText(std::string_view text) {
    if (text.size() > MAX_WALLET_FILE_BYTES)
        return Status::Error("larger than " + std::to_string(MAX_WALLET_FILE_BYTES) + " bytes");
    std::optional<NodeKey> key;
    std::size_t line_number = 0;
    while (!text.empty()) {
        std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        ++line_number;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty() || line.front() == '#')
            continue;
        NodeKeySeed seed{};
        if (key || !HexDecodeTo(line, seed)) {
            sodium_memzero(seed.data(), seed.size());
            return Status::Error(
                "line " + std::to_string(line_number) +
                (key ? ": more than one key" : ": expected the key's seed as 64 hex characters"));
        }
        key = NodeKey::FromSeed(seed);
        sodium_memzero(seed.data(), seed.size());
    }
    if (!key)
        return Status::Error("no key in it (a line of 64 hex characters)");
    return *key;
}

std::string WalletText(const NodeKey& key) {
    return "# gossipchain wallet: the seed of one account's Ed25519 key. Whoever reads this file\n"
           "# can spend the account's balance: keep it secret (mode 0600) and back it up.\n"
           "# address " +
           AddressOf(key.PublicKey()) + "\n" + HexEncode(key.Seed()) + "\n";
}

Result<NodeKey> ReadWalletFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return Status::Error("cannot read wallet " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return Status::Error("wallet " + path + " is not a regular file");
    }
    std::string text(MAX_WALLET_FILE_BYTES + 1, '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        ssize_t n = ::read(fd, text.data() + got, text.size() - got);
        if (n <= 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(got);
    Result<NodeKey> key = ParseWalletText(text);
    sodium_memzero(text.data(), text.size());
    if (!key.Ok())
        return Status::Error("wallet " + path + ": " + key.Message());
    return key;
}

Status CreateWalletFile(const std::string& path, const NodeKey& key) {
    // Written whole under a temporary name, then linked into place: link(2) never replaces an
    // existing file, so two creators cannot both succeed and nobody sees half a key.
    const std::string temp = path + ".new." + std::to_string(::getpid());
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return Status::Error("cannot create " + temp + ": " + std::strerror(errno));
    std::string text = WalletText(key);
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    sodium_memzero(text.data(), text.size());
    ok = ::close(fd) == 0 && ok;
    int error = ok ? 0 : errno;
    if (ok && ::link(temp.c_str(), path.c_str()) != 0) {
        error = errno;
        ok = false;
    }
    ::unlink(temp.c_str());
    if (!ok) {
        if (error == EEXIST)
            return Status::Error(path + " exists already; not overwritten");
        return Status::Error("cannot create " + path + ": " + std::strerror(error));
    }
    return {};
}

}  // namespace gossipchain
