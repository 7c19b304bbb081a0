#include "http/admin_api.h"

#include "http/json_body.h"
#include "p2p/peer_address.h"
#include "util/result.h"

#include <memory>
#include <optional>
#include <string>

namespace gossipchain {
namespace {

using Json = nlohmann::json;

/** Reads an optional millisecond field into `out` (left as it is when absent); Ok, or why not. */
Status ReadMs(const Json& body, const char* key, std::uint64_t& out) {
    if (!body.contains(key))
        return {};
    const Json& value = body[key];
    if (!value.is_number_unsigned() || value.get<std::uint64_t>() > MAX_ADMIN_DELAY_MS) {
        return Status::Error(std::string(key) + " must be an integer from 0 to " +
                             std::to_string(MAX_ADMIN_DELAY_MS));
    }
    out = value.get<std::uint64_t>();
    return {};
}

/** Reads "blocked" into `out` as canonical host:port keys (left as it is when absent); Ok, or
 * why not. */
Status ReadBlocked(const Json& body, std::vector<std::string>& out) {
    if (!body.contains("blocked"))
        return {};
    const Json& list = body["blocked"];
    if (!list.is_array())
        return Status::Error("blocked must be a list of \"host:port\" strings");
    std::vector<std::string> keys;
    for (const Json& item : list) {
        PeerAddress address;
        if (!item.is_string() || !ParseHostPort(item.get_ref<const std::string&>(), address))
            return Status::Error("blocked must be a list of \"host:port\" strings");
        keys.push_back(FormatHostPort(address));
    }
    out = std::move(keys);
    return {};
}

void SetLinks(const std::function<void(const LinkShaping&)>& apply, LinkShaping& current,
              const HttpRequest& request, const Responder& respond) {
    Json body;
    if (auto refused = ReadJsonObjectBody(request, body))
        return respond(std::move(*refused));
    // A misspelt field would otherwise be a silent no-op answered with 200.
    for (const auto& [key, value] : body.items()) {
        if (key != "delay_ms" && key != "jitter_ms" && key != "blocked") {
            return respond(JsonErrorResponse(
                400, "unknown field " + key + " (expected delay_ms, jitter_ms, blocked)"));
        }
    }
    // Validate everything before applying anything.
    LinkShaping next = current;
    for (const Status& read :
         {ReadMs(body, "delay_ms", next.delay_ms), ReadMs(body, "jitter_ms", next.jitter_ms),
          ReadBlocked(body, next.blocked)}) {
        if (!read.Ok())
            return respond(JsonErrorResponse(400, read.Message()));
    }
    if (next.jitter_ms > next.delay_ms)
        return respond(JsonErrorResponse(400, "jitter_ms must not exceed delay_ms"));
    current = next;
    apply(next);
    respond(JsonResponse(200, Json{{"delay_ms", next.delay_ms},
                                   {"jitter_ms", next.jitter_ms},
                                   {"blocked", next.blocked}}));
}

}  // namespace

void RegisterAdminRoutes(Router& router, std::function<void(const LinkShaping&)> apply) {
    auto current = std::make_shared<LinkShaping>();
    router.Add("POST", "/admin/links",
               [apply = std::move(apply), current](const HttpRequest& request, Responder respond) {
                   SetLinks(apply, *current, request, respond);
               });
}

}  // namespace gossipchain
