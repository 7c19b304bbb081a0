#include "http/json_body.h"

#include "http/router.h"
#include "primitives/json_reader.h"

namespace gossipchain {

bool ParseJsonObjectBody(std::string_view body, nlohmann::json& out, std::string& error) {
    nlohmann::json value;
    std::string parse_error;
    if (!ParseJson(body, value, parse_error, MAX_JSON_DEPTH)) {
        error = "invalid JSON body: " + parse_error;
        return false;
    }
    if (!value.is_object()) {
        error = "JSON body must be an object";
        return false;
    }
    out = std::move(value);
    return true;
}

std::optional<HttpResponse> ReadJsonObjectBody(const HttpRequest& request, nlohmann::json& out) {
    if (auto rejected = CheckJsonContentType(request))
        return rejected;
    std::string error;
    if (!ParseJsonObjectBody(request.body, out, error))
        return JsonErrorResponse(400, error);
    return std::nullopt;
}

}  // namespace gossipchain
