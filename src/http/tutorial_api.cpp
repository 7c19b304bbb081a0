#include "http/tutorial_api.h"

#include "consensus/signed_tx.h"
#include "crypto/random.h"
#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"
#include "util/hex.h"

namespace gossipchain {
namespace {

using Json = nlohmann::json;

HttpResponse RawJson(int status, std::string body) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

/** What a client is told when a block cannot be read back from storage (the log says why). */
constexpr const char* UNREADABLE_BLOCK = "storage unavailable: a block could not be read back";

/** The chain in the /chain shape after `prefix`: streamed when long (ChainStreamer), else whole. */
HttpResponse ChainAnswer(NodeControl& node, std::string_view chain_key, std::string_view prefix) {
    ChainStreamer* streamer = node.ChainStream();
    if (streamer != nullptr && streamer->ShouldStream())
        return streamer->Respond(ChainResponseHead(chain_key, prefix));
    std::string body = ChainResponseBody(node.Chain(), chain_key, prefix);
    if (body.empty())
        return JsonErrorResponse(503, UNREADABLE_BLOCK);
    return RawJson(200, std::move(body));
}

/** Parses the body of a POST as a JSON object, or says which response to send instead. */
std::optional<HttpResponse> ReadJsonObject(const HttpRequest& request, Json& body) {
    // A POST without content (no body, or a length of 0; RFC 9112 section 6.3) sends no values
    // and has no media type to refuse: the endpoint answers it with its own "missing" message.
    if (request.body.empty()) {
        body = Json::object();
        return std::nullopt;
    }
    if (auto refused = CheckJsonContentType(request))
        return refused;
    Result<Json> parsed = ParseJson(request.body);
    if (!parsed.Ok())
        return JsonErrorResponse(400, "malformed JSON: " + parsed.Message());
    if (!parsed->is_object())
        return JsonErrorResponse(400, "the body must be a JSON object");
    body = std::move(parsed).Value();
    return std::nullopt;
}

void AnswerTransaction(NodeControl& node, const Transaction& tx, const Result<TxResult>& admitted,
                       const Responder& respond);

/**
 * Signed rules: the body must be a signed transfer, exactly (SPEC §6.7); a tutorial-style one is
 * told what it lacks.
 */
void NewSignedTransaction(NodeControl& node, const Json& body, const Responder& respond) {
    std::string missing;
    for (const char* key : {"nonce", "signature"}) {
        if (!body.contains(key))
            missing += std::string(missing.empty() ? "" : " and ") + "\"" + key + "\"";
    }
    if (!missing.empty()) {
        return respond(JsonErrorResponse(
            400, "this network runs --rules signed: the transaction has no " + missing +
                     "; a transfer is {\"sender\", \"recipient\", \"amount\", \"nonce\", "
                     "\"signature\"} signed by the sender (gossipchain wallet sign)"));
    }
    Result<Transaction> read = TransactionFromJson(body);
    if (!read.Ok())
        return respond(JsonErrorResponse(400, read.Message()));
    const Transaction& tx = read.Value();
    node.SubmitTransactionDurably(tx, [&node, tx, respond](Result<TxResult> admitted) {
        AnswerTransaction(node, tx, admitted, respond);
    });
}

void NewTransaction(NodeControl& node, const HttpRequest& request, const Responder& respond) {
    Json body;
    if (auto refused = ReadJsonObject(request, body))
        return respond(std::move(*refused));
    // The tutorial's check, with its exact message.
    for (const char* key : {"sender", "recipient", "amount"}) {
        if (!body.contains(key))
            return respond(TextResponse(400, "Missing values"));
    }
    if (node.Chain().Params().rules == RuleSet::Signed)
        return NewSignedTransaction(node, body, respond);
    const Json& sender = body["sender"];
    const Json& recipient = body["recipient"];
    const Json& amount = body["amount"];
    if (!sender.is_string() || !recipient.is_string()) {
        return respond(JsonErrorResponse(400, "sender and recipient must be strings"));
    }
    if (!amount.is_number_integer()) {
        return respond(JsonErrorResponse(400, "amount must be a positive integer"));
    }
    Transaction tx;
    tx.sender = sender.get<std::string>();
    tx.recipient = recipient.get<std::string>();
    if (amount.is_number_unsigned() && amount.get<std::uint64_t>() > INT64_MAX) {
        return respond(JsonErrorResponse(400, "amount must be a positive integer up to 2^53-1"));
    }
    tx.amount = amount.get<std::int64_t>();
    if (body.contains("id")) {
        const Json& id = body["id"];
        if (!id.is_string() || !IsLowerHex(id.get_ref<const std::string&>(), 32)) {
            return respond(JsonErrorResponse(400, "id must be 32 lowercase hex characters"));
        }
        tx.id = id.get<std::string>();
    } else {
        tx.id = RandomHex(16);
    }
    node.SubmitTransactionDurably(tx, [&node, tx, respond](Result<TxResult> admitted) {
        AnswerTransaction(node, tx, admitted, respond);
    });
}

void AnswerTransaction(NodeControl& node, const Transaction& tx, const Result<TxResult>& admitted,
                       const Responder& respond) {
    if (!admitted.Ok()) {
        return respond(JsonErrorResponse(503, "the transaction could not be stored (" +
                                                  admitted.Message() + "); try again later"));
    }
    const TxResult& result = admitted.Value();
    std::uint64_t next = node.Chain().Height() + 1;
    // A signed transfer has no id: its nonce and signature make it distinct.
    auto answer = [&](std::string message) {
        Json out{{"message", std::move(message)}, {"txid", result.txid}};
        if (!tx.IsSigned())
            out["id"] = tx.id;
        return out;
    };
    switch (result.status) {
        case TxStatus::Accepted:
        case TxStatus::Duplicate:
            return respond(JsonResponse(
                201, answer("Transaction will be added to Block " + std::to_string(next))));
        case TxStatus::AlreadyConfirmed: {
            auto height = node.Chain().ConfirmedHeight(result.txid).value_or(0);
            return respond(JsonResponse(
                200, answer("Transaction is already in Block " + std::to_string(height))));
        }
        case TxStatus::MempoolFull:
            return respond(JsonErrorResponse(503, "the mempool is full; try again later"));
        case TxStatus::Invalid:
            return respond(JsonErrorResponse(400, result.validation.ToString()));
    }
}

void RegisterNodes(NodeControl& node, const HttpRequest& request, const Responder& respond) {
    Json body;
    if (auto refused = ReadJsonObject(request, body))
        return respond(std::move(*refused));
    static constexpr const char* INVALID_LIST = "Error: Please supply a valid list of nodes";
    if (!body.contains("nodes") || !body["nodes"].is_array()) {
        return respond(TextResponse(400, INVALID_LIST));
    }
    if (body["nodes"].size() > MAX_REGISTER_NODES) {
        return respond(JsonErrorResponse(400, "at most " + std::to_string(MAX_REGISTER_NODES) +
                                                  " nodes per request, got " +
                                                  std::to_string(body["nodes"].size())));
    }
    std::vector<PeerAddress> addresses;
    for (const Json& item : body["nodes"]) {
        PeerAddress address;
        if (!item.is_string() || !ParseHostPort(item.get_ref<const std::string&>(), address)) {
            return respond(
                JsonErrorResponse(400, "not a node address (want host:port or http://host:port): " +
                                           item.dump().substr(0, 200)));
        }
        addresses.push_back(std::move(address));
    }
    // Only an answer that added them all says so; a full table adds none and says why.
    Result<std::vector<std::string>> known = node.RegisterNodes(addresses);
    if (!known.Ok())
        return respond(JsonErrorResponse(503, known.Message()));
    respond(JsonResponse(
        201, Json{{"message", "New nodes have been added"}, {"total_nodes", known.Value()}}));
}

Json BlockSummary(const Block& block, const BlockEntry& entry) {
    Json out = BlockToJson(block);
    out["hash"] = entry.HashHex();
    return out;
}

void Mine(NodeControl& node, const Responder& respond) {
    node.MineOne([&node, respond](Result<const BlockEntry*> mined) {
        if (!mined.Ok())
            return respond(JsonErrorResponse(503, "mining failed: " + mined.Message()));
        const std::shared_ptr<const BlockBody> body = node.Chain().Body(*mined.Value());
        if (!body)
            return respond(JsonErrorResponse(503, UNREADABLE_BLOCK));
        const Block& block = body->block;
        respond(JsonResponse(200, Json{{"message", "New Block Forged"},
                                       {"index", block.index},
                                       {"transactions", BlockToJson(block)["transactions"]},
                                       {"proof", block.proof},
                                       {"previous_hash", block.ParentHash()}}));
    });
}

void Resolve(NodeControl& node, const Responder& respond) {
    node.Resolve([&node, respond](ResolveOutcome outcome) {
        // The tutorial's two shapes; our notes, when there are any, come before them.
        std::string prefix;
        if (!outcome.notes.empty()) {
            prefix = "\"notes\":" + FlaskJsonBody(Json(outcome.notes));
            prefix.back() = ',';  // FlaskJsonBody's trailing newline.
        }
        prefix += outcome.replaced ? "\"message\":\"Our chain was replaced\","
                                   : "\"message\":\"Our chain is authoritative\",";
        respond(ChainAnswer(node, outcome.replaced ? "new_chain" : "chain", prefix));
    });
}

void NodeStatus(NodeControl& node, const Responder& respond) {
    const ChainState& chain = node.Chain();
    std::size_t ready = 0;
    auto peers = node.Peers();
    for (const PeerView& peer : peers)
        ready += peer.state == "ready";
    respond(JsonResponse(200, Json{{"node_id", node.NodeId()},
                                   {"node_key", node.NodeKeyHex()},
                                   {"network", NetworkId(chain.Params())},
                                   {"rules", std::string(RuleSetName(chain.Params().rules))},
                                   {"reward_recipient", node.RewardRecipient()},
                                   {"pow", std::string(PowRuleName(chain.Params().pow_rule))},
                                   {"difficulty", chain.Params().difficulty},
                                   {"height", chain.Height()},
                                   {"tip", chain.Tip().HashHex()},
                                   {"peers", ready},
                                   {"known_peers", peers.size()},
                                   {"mempool", chain.GetMempool().Size()},
                                   {"orphans", chain.Orphans().Size()},
                                   {"uptime_seconds", node.UptimeSeconds()}}));
}

void Nodes(NodeControl& node, const Responder& respond) {
    Json list = Json::array();
    for (const PeerView& peer : node.Peers()) {
        list.push_back(Json{{"address", peer.address},
                            {"direction", peer.inbound ? "inbound" : "outbound"},
                            {"state", peer.state},
                            {"node_id", peer.node_id},
                            {"key", peer.key},
                            {"session_id", peer.session_id},
                            {"height", peer.height}});
    }
    respond(JsonResponse(200, Json{{"nodes", list}, {"total", list.size()}}));
}

void BlockByKey(NodeControl& node, const HttpRequest& request, const Responder& respond) {
    std::string key(PathSuffix(request, "/blocks/"));
    const ChainState& chain = node.Chain();
    const BlockEntry* entry = nullptr;
    if (IsLowerHex(key, 64)) {
        entry = chain.Find(key);
    } else if (!key.empty() && key.size() <= 19 &&
               key.find_first_not_of("0123456789") == std::string::npos) {
        entry = chain.AtHeight(std::stoull(key));
    } else {
        return respond(JsonErrorResponse(400, "want a block index or a 64-hex block hash"));
    }
    if (!entry)
        return respond(JsonErrorResponse(404, "no such block: " + key));
    const std::shared_ptr<const BlockBody> body = chain.Body(*entry);
    if (!body)
        return respond(JsonErrorResponse(503, UNREADABLE_BLOCK));
    Json out = BlockSummary(body->block, *entry);
    out["main_chain"] = chain.IsOnMainChain(*entry);
    respond(JsonResponse(200, out));
}

void AccountByAddress(NodeControl& node, const HttpRequest& request, const Responder& respond) {
    const ChainState& chain = node.Chain();
    if (chain.Params().rules != RuleSet::Signed) {
        return respond(JsonErrorResponse(
            404, "accounts exist only on a network with --rules signed; this one runs " +
                     std::string(RuleSetName(chain.Params().rules))));
    }
    std::string address(PathSuffix(request, "/accounts/"));
    if (!IsAccountAddress(address)) {
        return respond(JsonErrorResponse(
            400, "an account address is 64 lowercase hex characters (an Ed25519 public key)"));
    }
    Account account = chain.AccountOf(address);
    PendingSpend pending = chain.GetMempool().PendingOf(address);
    respond(JsonResponse(
        200, Json{{"address", address},
                  {"balance", account.balance},
                  {"nonce", account.nonce},
                  {"pending_spend", pending.amount},
                  {"next_nonce", pending.last_nonce ? *pending.last_nonce + 1 : account.nonce}}));
}

void Pending(NodeControl& node, const Responder& respond) {
    const Mempool& pool = node.Chain().GetMempool();
    std::string body = "{\"length\":" + std::to_string(pool.Size()) + ",\"transactions\":[";
    bool first = true;
    for (const Transaction& tx : pool.All()) {
        if (!first)
            body += ",";
        first = false;
        AppendTransactionJson(body, tx);
    }
    body += "]}\n";
    respond(RawJson(200, std::move(body)));
}

void Metrics(NodeControl& node, const HttpMetrics& metrics, const Responder& respond) {
    std::string text = node.MetricsText();
    text +=
        "# HELP gossipchain_http_responses_total HTTP responses sent, by status code.\n"
        "# TYPE gossipchain_http_responses_total counter\n";
    for (const auto& [status, count] : metrics.responses_by_status) {
        text += "gossipchain_http_responses_total{code=\"" + std::to_string(status) + "\"} " +
                std::to_string(count) + "\n";
    }
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = std::move(text);
    respond(std::move(response));
}

}  // namespace

std::string ChainResponseBody(const ChainState& chain, std::string_view chain_key,
                              std::string_view prefix) {
    std::size_t bytes = 64 + prefix.size();
    for (std::uint64_t h = 1; h <= chain.Height(); ++h)
        bytes += chain.AtHeight(h)->json_size + 1;
    std::string body;
    body.reserve(bytes);
    body += ChainResponseHead(chain_key, prefix);
    const ChainState::ReadScope reads = chain.Reads();
    for (std::uint64_t h = 1; h <= chain.Height(); ++h) {
        if (h > 1)
            body += ",";
        if (!chain.AppendBlockJson(*chain.AtHeight(h), body))
            return std::string();
    }
    AppendChainResponseTail(body, chain.Height());
    return body;
}

void RegisterTutorialRoutes(Router& router, NodeControl& node, HttpMetrics& metrics) {
    auto add = [&](const char* method, const char* path, Handler handler) {
        router.Add(method, path, std::move(handler));
    };
    add("GET", "/mine", [&node](const HttpRequest&, Responder respond) { Mine(node, respond); });
    add("POST", "/transactions/new", [&node](const HttpRequest& request, Responder respond) {
        NewTransaction(node, request, respond);
    });
    add("GET", "/chain", [&node](const HttpRequest&, Responder respond) {
        respond(ChainAnswer(node, "chain", ""));
    });
    add("POST", "/nodes/register", [&node](const HttpRequest& request, Responder respond) {
        RegisterNodes(node, request, respond);
    });
    add("GET", "/nodes/resolve",
        [&node](const HttpRequest&, Responder respond) { Resolve(node, respond); });
    add("GET", "/status",
        [&node](const HttpRequest&, Responder respond) { NodeStatus(node, respond); });
    add("GET", "/nodes", [&node](const HttpRequest&, Responder respond) { Nodes(node, respond); });
    add("GET", "/transactions/pending",
        [&node](const HttpRequest&, Responder respond) { Pending(node, respond); });
    add("GET", "/metrics", [&node, &metrics](const HttpRequest&, Responder respond) {
        Metrics(node, metrics, respond);
    });
    router.AddPrefix("GET", "/blocks/", [&node](const HttpRequest& request, Responder respond) {
        BlockByKey(node, request, respond);
    });
    router.AddPrefix("GET", "/accounts/", [&node](const HttpRequest& request, Responder respond) {
        AccountByAddress(node, request, respond);
    });
}

}  // namespace gossipchain
