#include "node/wallet_main.h"

#include "consensus/signed_tx.h"
#include "http/http_fetch.h"
#include "node/wallet_file.h"
#include "p2p/peer_address.h"
#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <optional>
#include <string>

namespace gossipchain {
namespace {

/** The node a wallet asks when --node is not given: the tutorial's first node. */
constexpr const char* DEFAULT_WALLET_NODE = "http://127.0.0.1:5000";
/** Largest answer the wallet reads from a node, in bytes. */
constexpr std::size_t MAX_WALLET_ANSWER_BYTES = 64 << 10;

constexpr int EXIT_DONE = 0;
constexpr int EXIT_FAILED = 1;
constexpr int EXIT_USAGE = 2;
constexpr int EXIT_UNREACHABLE = 3;

/** A node's answer: status and JSON body (null when the body was not JSON). */
struct Answer {
    int status = 0;
    nlohmann::json body;
};

class CollectSink : public FetchSink {
public:
    bool OnBody(std::string_view bytes) override {
        text.append(bytes);
        return true;
    }
    std::string text;
};

/** A failure to report: the exit code and what to print. */
struct Failure {
    int code;
    std::string message;
};

/** The node at `url` answers `path` (GET, or POST of `json` when given). */
std::optional<Failure> Ask(const std::string& url, const std::string& path,
                           const std::optional<std::string>& json, Answer& answer) {
    PeerAddress address;
    if (!ParseHostPort(url, address))
        return Failure{EXIT_USAGE, "--node " + url + ": expected http://HOST:PORT"};
    CollectSink sink;
    FetchOptions options;
    options.max_body_bytes = MAX_WALLET_ANSWER_BYTES;
    FetchResult result = json ? HttpPostJson(address.host, address.port, path, *json, sink, options)
                              : HttpGet(address.host, address.port, path, sink, options);
    if (!result.Ok())
        return Failure{EXIT_UNREACHABLE, "cannot ask " + url + path + ": " + result.detail};
    answer.status = result.status;
    Result<nlohmann::json> parsed = ParseJson(sink.text);
    answer.body = parsed.Ok() ? parsed.Value() : nlohmann::json();
    return std::nullopt;
}

/** What the node said, for a person: its "error" or "message", else the whole body. */
std::string Reason(const Answer& answer) {
    for (const char* key : {"error", "message"}) {
        if (answer.body.is_object() && answer.body.contains(key) && answer.body[key].is_string())
            return answer.body[key].get<std::string>();
    }
    return answer.body.is_null() ? "no JSON answer" : answer.body.dump();
}

/** The node's network id, which a signature covers; the node must run the signed rules. */
std::optional<Failure> NetworkOf(const std::string& url, std::string& network_id) {
    Answer answer;
    if (auto failed = Ask(url, "/status", std::nullopt, answer))
        return failed;
    if (answer.status != 200 || !answer.body.is_object() || !answer.body.contains("network"))
        return Failure{EXIT_FAILED, url + "/status: " + Reason(answer)};
    if (answer.body.value("rules", std::string("open")) != "signed") {
        return Failure{EXIT_FAILED, url + " runs --rules " + answer.body.value("rules", "open") +
                                        ": it has no accounts to sign for"};
    }
    network_id = answer.body["network"].get<std::string>();
    return std::nullopt;
}

std::optional<Failure> AccountAt(const std::string& url, const std::string& address,
                                 Answer& answer) {
    if (auto failed = Ask(url, "/accounts/" + address, std::nullopt, answer))
        return failed;
    if (answer.status != 200)
        return Failure{EXIT_FAILED, url + "/accounts/" + address + ": " + Reason(answer)};
    return std::nullopt;
}

/** Signs a transfer from `key`; the nonce is `nonce` or, when absent, the node's next one. */
std::optional<Failure> SignFor(const std::string& url, const NodeKey& key, const std::string& to,
                               std::int64_t amount, std::optional<std::uint64_t> nonce,
                               Transaction& tx) {
    if (!IsAccountAddress(to))
        return Failure{EXIT_USAGE, "--to " + to + ": expected an account address (64 hex)"};
    std::string network_id;
    if (auto failed = NetworkOf(url, network_id))
        return failed;
    if (!nonce) {
        Answer account;
        if (auto failed = AccountAt(url, AddressOf(key.PublicKey()), account))
            return failed;
        nonce = account.body.value("next_nonce", std::uint64_t{0});
    }
    tx = SignTransfer(key, to, amount, *nonce, network_id);
    return std::nullopt;
}

int Report(const std::optional<Failure>& failed) {
    if (!failed)
        return EXIT_DONE;
    std::fprintf(stderr, "gossipchain wallet: %s\n", failed->message.c_str());
    return failed->code;
}

std::optional<Failure> LoadKey(const std::string& path, std::optional<NodeKey>& key) {
    Result<NodeKey> read = ReadWalletFile(path);
    if (!read.Ok())
        return Failure{EXIT_FAILED, read.Message()};
    key = read.Value();
    return std::nullopt;
}

}  // namespace

int WalletMain(int argc, char** argv) {
    CLI::App app{"gossipchain wallet: Ed25519 accounts of a --rules signed network", "wallet"};
    app.require_subcommand(1);
    std::string wallet;
    std::string node = DEFAULT_WALLET_NODE;
    std::string to;
    std::int64_t amount = 0;
    std::optional<std::uint64_t> nonce;
    std::string address;

    CLI::App* make =
        app.add_subcommand("new", "Create a key file (mode 0600) and print its address");
    make->add_option("--wallet", wallet, "Key file to create (never overwritten)")->required();
    CLI::App* show = app.add_subcommand("address", "Print the key file's account address");
    show->add_option("--wallet", wallet, "Key file")->required();
    CLI::App* balance = app.add_subcommand("balance", "Print an account as the node sees it");
    balance->add_option("ADDRESS", address, "Account address (default: --wallet's)");
    balance->add_option("--wallet", wallet, "Key file whose account to show");
    CLI::App* sign = app.add_subcommand("sign", "Print a signed transfer; send nothing");
    CLI::App* send = app.add_subcommand("send", "Sign a transfer with the next nonce and post it");
    for (CLI::App* command : {balance, sign, send})
        command->add_option("--node", node, "The node to ask")->capture_default_str();
    for (CLI::App* command : {sign, send}) {
        command->add_option("--wallet", wallet, "Key file of the sender")->required();
        command->add_option("--to", to, "Recipient's account address")->required();
        command->add_option("--amount", amount, "Amount to move")
            ->required()
            ->check(CLI::Range(std::int64_t{1}, MAX_AMOUNT));
    }
    sign->add_option("--nonce", nonce, "Nonce to sign with (default: the node's next one)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? EXIT_DONE : EXIT_USAGE;
    }

    std::optional<NodeKey> key;
    if (make->parsed()) {
        key = NodeKey::Generate();
        if (Status created = CreateWalletFile(wallet, *key); !created.Ok())
            return Report(Failure{EXIT_FAILED, created.Message()});
        std::printf("wallet %s created\n%s\n", wallet.c_str(), AddressOf(key->PublicKey()).c_str());
        return EXIT_DONE;
    }
    if (!wallet.empty()) {
        if (auto failed = LoadKey(wallet, key))
            return Report(failed);
    }
    if (show->parsed()) {
        std::printf("%s\n", AddressOf(key->PublicKey()).c_str());
        return EXIT_DONE;
    }
    if (balance->parsed()) {
        if (address.empty() && !key)
            return Report(Failure{EXIT_USAGE, "balance wants an ADDRESS or --wallet"});
        Answer answer;
        if (auto failed =
                AccountAt(node, address.empty() ? AddressOf(key->PublicKey()) : address, answer))
            return Report(failed);
        std::printf("%s\n", answer.body.dump().c_str());
        return EXIT_DONE;
    }
    Transaction tx;
    if (auto failed = SignFor(node, *key, to, amount, sign->parsed() ? nonce : std::nullopt, tx))
        return Report(failed);
    std::string json;
    AppendTransactionJson(json, tx);
    if (sign->parsed()) {
        std::printf("%s\n", json.c_str());
        return EXIT_DONE;
    }
    Answer answer;
    if (auto failed = Ask(node, "/transactions/new", json, answer))
        return Report(failed);
    if (answer.status != 201) {
        return Report(Failure{EXIT_FAILED, "the node refused the transfer (" +
                                               std::to_string(answer.status) +
                                               "): " + Reason(answer)});
    }
    std::printf("%s\n", answer.body.value("txid", std::string()).c_str());
    return EXIT_DONE;
}

}  // namespace gossipchain
