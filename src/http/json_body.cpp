#include "http/json_body.h"

#include "http/router.h"
#include "primitives/json_reader.h"

#include <utility>

namespace gossipchain {

Result<nlohmann::json> ParseJsonObjectBody(std::string_view body) {
    Result<nlohmann::json> value = ParseJson(body, MAX_JSON_DEPTH);
    if (!value.Ok())
        return Status::Error("invalid JSON body: " + value.Message());
    if (!value->is_object())
        return Status::Error("JSON body must be an object");
    return value;
}

std::optional<HttpResponse> ReadJsonObjectBody(const HttpRequest& request, nlohmann::json& out) {
    if (auto rejected = CheckJsonContentType(request))
        return rejected;
    Result<nlohmann::json> body = ParseJsonObjectBody(request.body);
    if (!body.Ok())
        return JsonErrorResponse(400, body.Message());
    out = std::move(body).Value();
    return std::nullopt;
}

}  // namespace gossipchain
