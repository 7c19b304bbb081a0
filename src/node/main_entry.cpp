#include "node/main_entry.h"

#include "consensus/signed_tx.h"
#include "node/node.h"
#include "util/log.h"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace gossipchain {

namespace {

constexpr const char* VERSION = "gossipchain 0.1.0";
/** Largest --trust-file read, in bytes (1 MiB: some 15,000 keys). */
constexpr std::size_t MAX_TRUST_FILE_BYTES = 1u << 20;

/** The keys of a trust file: one per line, blank lines and # comments skipped. */
Result<std::vector<std::string>> ReadTrustFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Status::Error(path + ": cannot open it");
    std::string text(MAX_TRUST_FILE_BYTES + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > MAX_TRUST_FILE_BYTES)
        return Status::Error(path + ": larger than 1 MiB");
    std::vector<std::string> keys;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        line = line.substr(0, line.find('#'));
        std::size_t first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos)
            continue;
        keys.push_back(line.substr(first, line.find_last_not_of(" \t\r") + 1 - first));
    }
    return keys;
}

}  // namespace

int NodeMain(int argc, char** argv) {
    CLI::App app{
        "gossipchain: a peer-to-peer node for the 'Learn Blockchains by Building One' ledger.\n"
        "Gossip (msgpack over persistent TCP links) and the tutorial's HTTP API share one port.",
        "gossipchain"};
    NodeOptions options;
    std::vector<std::string> peers;
    std::string pow;
    std::string rules = "open";
    std::string log_level = "info";
    int difficulty = DEFAULT_DIFFICULTY;
    unsigned threads = DEFAULT_MINER_THREADS;
    app.add_option("--port", options.port, "Port for gossip and HTTP (0 picks a free one)")
        ->capture_default_str();
    app.add_option("--bind", options.bind, "Address to listen on")->capture_default_str();
    app.add_option("--data-dir", options.data_dir,
                   "Directory for the node's files (default ./data/<port>, with the port actually "
                   "bound: each --port 0 run gets a new one)");
    std::string durability = "normal";
    app.add_option("--durability", durability,
                   "normal: commits survive a crash of the process; full: also power loss "
                   "(fsync on every commit, slower)")
        ->check(CLI::IsMember({"normal", "full"}))
        ->capture_default_str();
    std::size_t block_cache_kib = DEFAULT_RESIDENT_BODY_BYTES / 1024;
    app.add_option("--block-cache-kib", block_cache_kib,
                   "Memory for the content of stored blocks, most recently stored first, in KiB "
                   "of their JSON; older blocks are read back from the data directory when asked "
                   "for (0: only blocks not yet stored stay in memory)")
        ->check(CLI::Range(std::size_t{0}, std::size_t{64} << 20))
        ->capture_default_str();
    // Hidden (empty group): tests act out a full disk with it.
    app.add_option("--test-store-max-pages", options.store_max_pages,
                   "Test-only: cap the database at this many pages")
        ->group("");
    app.add_option("--test-timeout-ms", options.test_timeout_ms,
                   "Test-only: shorten every peer and client timeout to this many milliseconds")
        ->group("");
    app.add_option("--test-mempool-max-txs", options.mempool_max_txs,
                   "Test-only: hold at most this many pending transactions")
        ->group("")
        ->check(CLI::Range(std::size_t{1}, DEFAULT_MEMPOOL_MAX_TXS));
    app.add_option("--peer", peers, "HOST:PORT of a peer to keep a link to (repeatable)");
    app.add_option("--difficulty", difficulty, "Proof-of-work difficulty in leading hex zeros")
        ->check(CLI::Range(1, MAX_DIFFICULTY))
        ->capture_default_str();
    app.add_option("--rules", rules,
                   "Rule set of the network: open (the tutorial's ledger: anyone writes any "
                   "transaction) or signed (Ed25519 accounts with balances and nonces; SPEC "
                   "§6.7). Part of the network id and stored with the data directory")
        ->check(CLI::IsMember({"open", "signed"}))
        ->capture_default_str();
    app.add_option("--pow", pow,
                   "Proof-of-work rule: linked (hash includes the last block's hash), seed (the "
                   "tutorial's text) or header (an 80-byte header with a digest of the block's "
                   "content, so the work covers the transactions). Default: linked under "
                   "--rules open, header under --rules signed")
        ->check(CLI::IsMember({"linked", "seed", "header"}));
    app.add_flag("--mine", options.mine, "Mine continuously, restarting on every new tip");
    app.add_option("--threads", threads, "Miner threads")
        ->check(CLI::Range(1u, 256u))
        ->capture_default_str();
    app.add_option("--log-level", log_level, "debug, info, warn, error or off")
        ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}))
        ->capture_default_str();
    app.add_option("--reward-address", options.reward_address,
                   "Signed rules: the account (64 hex, as `gossipchain wallet address` prints) "
                   "that block rewards go to (default: the account of <data-dir>/reward_wallet, "
                   "made on first start, mode 0600)");
    app.add_option("--target-outbound", options.target_outbound,
                   "Outbound links kept to addresses learned from peers, beyond --peer ones "
                   "(0: only --peer links; tools/netsim pins topologies with it)")
        ->capture_default_str();
    app.add_option("--events", options.events_path,
                   "Test/measurement: append one JSON line per block, transaction, reorg and "
                   "peer event to this file (nanosecond CLOCK_REALTIME stamps; tools/netsim)");
    app.add_flag("--admin", options.admin,
                 "Test-only: enable POST /admin/links (link delay, jitter, blocked peers; "
                 "tools/netsim); refused unless --bind is a loopback address");
    std::vector<std::string> trust;
    std::string trust_file;
    app.add_option("--trust", trust,
                   "Node key (64 hex, as a node prints at start) allowed to link; repeatable. "
                   "With any --trust or --trust-file, keys not listed are refused (a private "
                   "classroom mesh)");
    app.add_option("--trust-file", trust_file,
                   "File of trusted node keys, one per line (# starts a comment)");
    app.footer(
        "Identity: each node has an Ed25519 key, made on first start and kept in "
        "<data-dir>/node_key (mode 0600) and in the database; the node id is derived from it. "
        "Back up node_key to keep the node id and its place in others' --trust lists.");
    app.set_version_flag("--version", VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "gossipchain: %s\n", e.what());
        std::fprintf(stderr,
                     "usage: gossipchain [--port 5000] [--bind 127.0.0.1] [--data-dir DIR] "
                     "[--peer HOST:PORT ...] [--rules open|signed] [--difficulty 4] "
                     "[--pow linked|seed|header] [--mine] "
                     "[--threads N] [--durability normal|full] [--log-level info]   (--help for "
                     "details)\n");
        return 2;
    }
    for (const std::string& text : peers) {
        PeerAddress address;
        if (!ParseHostPort(text, address)) {
            std::fprintf(stderr, "gossipchain: --peer %s: expected HOST:PORT\n", text.c_str());
            return 2;
        }
        options.peers.push_back(address);
    }
    if (!trust_file.empty()) {
        Result<std::vector<std::string>> listed = ReadTrustFile(trust_file);
        if (!listed.Ok()) {
            std::fprintf(stderr, "gossipchain: --trust-file %s\n", listed.Message().c_str());
            return 2;
        }
        trust.insert(trust.end(), listed->begin(), listed->end());
    }
    for (const std::string& text : trust) {
        NodePublicKey key{};
        if (!ParseKeyHex(text, key)) {
            std::fprintf(stderr, "gossipchain: --trust %s: expected a node key of 64 hex\n",
                         text.c_str());
            return 2;
        }
        options.trusted.push_back(KeyHex(key));
    }
    // The admin endpoint has no authentication: only a loopback listener keeps it local.
    if (options.admin && options.bind.rfind("127.", 0) != 0 && options.bind != "::1" &&
        options.bind != "localhost") {
        std::fprintf(stderr, "gossipchain: --admin needs a loopback --bind (127.x.x.x or ::1)\n");
        return 2;
    }
    LogLevel level;
    ParseLogLevel(log_level, level);
    SetLogLevel(level);
    options.params.rules = *ParseRuleSet(rules);
    if (!options.reward_address.empty() &&
        (options.params.rules != RuleSet::Signed || !IsAccountAddress(options.reward_address))) {
        std::fprintf(stderr,
                     "gossipchain: --reward-address wants --rules signed and an account "
                     "address of 64 lowercase hex characters\n");
        return 2;
    }
    if (pow.empty())
        pow = options.params.rules == RuleSet::Signed ? "header" : "linked";
    options.params.pow_rule = *ParsePowRule(pow);
    options.params.difficulty = difficulty;
    options.threads = threads;
    options.durability = durability == "full" ? Durability::Full : Durability::Normal;
    options.resident_body_bytes = block_cache_kib * 1024;
    options.data_dir_by_port = options.data_dir.empty();

    // A peer that closes while we write makes write(2) raise SIGPIPE, whose default action
    // kills the node; the write's EPIPE already closes that one link.
    std::signal(SIGPIPE, SIG_IGN);
    Node node(options);
    Status started = node.Start();
    if (!started.Ok()) {
        LOG_ERROR("%s", started.Message().c_str());
        return 1;
    }
    node.Run();
    LOG_INFO("stopped");
    return 0;
}

}  // namespace gossipchain
