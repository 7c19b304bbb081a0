#include "http/response.h"

#include "primitives/canonical_json.h"
#include "util/hex.h"

#include <array>
#include <cstdio>
#include <ctime>

namespace gossipchain {

std::string_view ReasonPhrase(int status) {
    switch (status) {
        case 100:
            return "Continue";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 204:
            return "No Content";
        case 400:
            return "Bad Request";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 413:
            return "Content Too Large";
        case 414:
            return "URI Too Long";
        case 415:
            return "Unsupported Media Type";
        case 422:
            return "Unprocessable Content";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 503:
            return "Service Unavailable";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Unknown";
    }
}

std::string FlaskJsonBody(const nlohmann::json& value) {
    // Flask's provider calls json.dumps(obj, separators=(",", ":"), sort_keys=True,
    // ensure_ascii=True) and jsonify appends a newline.
    std::string out = CompactJson(value);
    out.push_back('\n');
    return out;
}

HttpResponse JsonResponse(int status, const nlohmann::json& value) {
    HttpResponse response;
    response.status = status;
    response.body = FlaskJsonBody(value);
    return response;
}

HttpResponse JsonErrorResponse(int status, std::string_view message) {
    // Messages may echo client input; the JSON writer needs valid UTF-8, so anything else is
    // reduced to ASCII rather than failing the error path itself.
    std::string text(message);
    if (!IsValidUtf8(text)) {
        for (char& c : text) {
            if (static_cast<unsigned char>(c) >= 0x80)
                c = '?';
        }
    }
    return JsonResponse(status, nlohmann::json{{"error", std::move(text)}});
}

HttpResponse TextResponse(int status, std::string body) {
    HttpResponse response;
    response.status = status;
    response.content_type = "text/html; charset=utf-8";
    response.body = std::move(body);
    return response;
}

std::string HttpDate(std::int64_t unix_seconds) {
    static constexpr std::array<const char*, 7> DAYS = {"Sun", "Mon", "Tue", "Wed",
                                                        "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> MONTHS = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", DAYS[tm.tm_wday],
                  tm.tm_mday, MONTHS[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

std::string SerializeResponse(const HttpResponse& response, bool keep_alive,
                              std::optional<std::int64_t> unix_seconds, bool head_request) {
    std::string out;
    out.reserve(128 + (head_request ? 0 : response.body.size()));
    out += "HTTP/1.1 ";
    out += std::to_string(response.status);
    out.push_back(' ');
    out += ReasonPhrase(response.status);
    if (!response.content_type.empty()) {
        out += "\r\nContent-Type: ";
        out += response.content_type;
    }
    if (response.stream == nullptr) {
        out += "\r\nContent-Length: ";
        out += std::to_string(response.body.size());
    }
    out += keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close";
    if (unix_seconds) {
        out += "\r\nDate: ";
        out += HttpDate(*unix_seconds);
    }
    for (const auto& [name, value] : response.headers) {
        out += "\r\n";
        out += name;
        out += ": ";
        out += value;
    }
    out += "\r\n\r\n";
    if (!head_request)
        out += response.body;
    return out;
}

}  // namespace gossipchain
