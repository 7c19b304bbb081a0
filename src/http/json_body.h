// Reading POST bodies as JSON objects for the endpoints. Parsing itself is primitives' ParseJson
// (never throws, bounded depth, strict UTF-8); this file adds what HTTP needs on top: the
// Content-Type check (415), "must be an object", and error messages fit for a 400 body.
#pragma once

#include "http/request_parser.h"
#include "http/response.h"
#include "primitives/json_reader.h"
#include "util/result.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace gossipchain {

/**
 * Parses `body` as one JSON object, nested at most MAX_JSON_DEPTH levels: the object, or a
 * message for the client saying why not.
 */
Result<nlohmann::json> ParseJsonObjectBody(std::string_view body);

/**
 * The whole check a JSON POST endpoint starts with: nullopt with `out` set when the request is
 * application/json and its body a JSON object; otherwise the 415 or 400 response to send.
 */
std::optional<HttpResponse> ReadJsonObjectBody(const HttpRequest& request, nlohmann::json& out);

}  // namespace gossipchain
