#include "http/dashboard_api.h"

#include "consensus/params.h"

#include <string>

namespace gossipchain {
namespace {

using Json = nlohmann::json;

/** No inline script or style attribute can run; the page talks to this node only. */
constexpr const char* PAGE_POLICY =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

HttpResponse Asset(std::string_view content_type, std::string_view body) {
    HttpResponse response;
    response.content_type = std::string(content_type);
    response.body = std::string(body);
    response.headers.emplace_back("Cache-Control", "no-cache");
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.headers.emplace_back("Content-Security-Policy", PAGE_POLICY);
    return response;
}

Json BlocksJson(const ChainState& chain, const EventHub& hub) {
    Json blocks = Json::array();
    for (std::uint64_t height = chain.Height(); height >= 1 && blocks.size() < DASHBOARD_BLOCKS;
         --height) {
        const BlockEntry* entry = chain.AtHeight(height);
        if (entry == nullptr)
            break;
        const std::string hash = entry->HashHex();
        Json block = {{"index", entry->Height()},
                      {"hash", hash},
                      {"transactions", entry->tx_count},
                      {"timestamp", entry->timestamp}};
        for (const RecentBlock& recent : hub.RecentBlocks()) {
            if (recent.hash == hash) {
                block["source"] = recent.source;
                block["received"] = recent.time;
            }
        }
        blocks.push_back(std::move(block));
    }
    return blocks;
}

Json MempoolJson(const ChainState& chain) {
    Json txs = Json::array();
    for (const Transaction& tx : chain.GetMempool().Oldest(DASHBOARD_MEMPOOL_TXS)) {
        txs.push_back(Json{{"id", tx.id},
                           {"sender", tx.sender},
                           {"recipient", tx.recipient},
                           {"amount", tx.amount}});
    }
    return Json{{"size", chain.GetMempool().Size()}, {"transactions", txs}};
}

Json PeersJson(const NodeControl& node) {
    Json peers = Json::array();
    for (const PeerView& peer : node.Peers()) {
        peers.push_back(Json{{"address", peer.address},
                             {"direction", peer.inbound ? "inbound" : "outbound"},
                             {"state", peer.state},
                             {"node_id", peer.node_id},
                             {"session_id", peer.session_id},
                             {"height", peer.height},
                             {"rtt_ms", peer.rtt_ms}});
    }
    return peers;
}

void Events(EventHub& hub, const Responder& respond) {
    if (hub.Full()) {
        hub.CountRefused();
        return respond(JsonErrorResponse(
            503, "too many event streams open (" + std::to_string(MAX_SSE_CLIENTS) + ")"));
    }
    HttpResponse response;
    response.content_type = "text/event-stream";
    response.headers.emplace_back("Cache-Control", "no-store");
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.stream = &hub;
    respond(std::move(response));
}

}  // namespace

Json DashboardState(NodeControl& node, const EventHub& hub) {
    const ChainState& chain = node.Chain();
    return Json{{"node_id", node.NodeId()},
                {"network", NetworkId(chain.Params())},
                {"pow", std::string(PowRuleName(chain.Params().pow_rule))},
                {"difficulty", chain.Params().difficulty},
                {"height", chain.Height()},
                {"tip", chain.Tip().HashHex()},
                {"uptime_seconds", node.UptimeSeconds()},
                {"blocks", BlocksJson(chain, hub)},
                {"mempool", MempoolJson(chain)},
                {"peers", PeersJson(node)},
                {"event_streams", hub.Clients()}};
}

void RegisterDashboardRoutes(Router& router, NodeControl& node, EventHub& hub) {
    router.Add("GET", "/dashboard", [](const HttpRequest&, Responder respond) {
        respond(Asset("text/html; charset=utf-8", DashboardHtml()));
    });
    router.Add("GET", "/dashboard.js", [](const HttpRequest&, Responder respond) {
        respond(Asset("text/javascript; charset=utf-8", DashboardScript()));
    });
    router.Add("GET", "/dashboard/state", [&node, &hub](const HttpRequest&, Responder respond) {
        HttpResponse response = JsonResponse(200, DashboardState(node, hub));
        response.headers.emplace_back("Cache-Control", "no-store");
        respond(std::move(response));
    });
    router.Add("GET", "/events",
               [&hub](const HttpRequest&, Responder respond) { Events(hub, respond); });
}

}  // namespace gossipchain
