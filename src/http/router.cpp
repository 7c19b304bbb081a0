#include "http/router.h"

#include "http/http_text.h"

#include <algorithm>

namespace gossipchain {

void Router::Add(std::string method, std::string path, Handler handler) {
    m_exact[std::move(path)][std::move(method)] = std::move(handler);
}

void Router::AddPrefix(std::string method, std::string prefix, Handler handler) {
    auto it = std::find_if(m_prefixes.begin(), m_prefixes.end(),
                           [&](const auto& entry) { return entry.first == prefix; });
    if (it == m_prefixes.end()) {
        m_prefixes.emplace_back(std::move(prefix), MethodTable{});
        it = std::prev(m_prefixes.end());
    }
    it->second[std::move(method)] = std::move(handler);
}

const Router::MethodTable* Router::Find(std::string_view path) const {
    if (auto it = m_exact.find(path); it != m_exact.end())
        return &it->second;
    for (const auto& [prefix, table] : m_prefixes) {
        if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix)
            continue;
        if (path.find('/', prefix.size()) != std::string_view::npos)
            continue;
        return &table;
    }
    return nullptr;
}

const Handler* Router::FindHandler(const MethodTable& table, std::string_view method) {
    auto it = table.find(method);
    if (it == table.end() && method == "HEAD")
        it = table.find(std::string_view("GET"));
    return it == table.end() ? nullptr : &it->second;
}

void Router::AddAnsweredMethods(const MethodTable& table, MethodSet& methods) {
    for (const auto& entry : table)
        methods.insert(entry.first);
    if (methods.count("GET") != 0)
        methods.insert("HEAD");
    methods.insert("OPTIONS");
}

std::string Router::AllowedMethods(std::string_view path) const {
    MethodSet methods;
    if (path == "*") {
        for (const auto& [exact, table] : m_exact)
            AddAnsweredMethods(table, methods);
        for (const auto& [prefix, table] : m_prefixes)
            AddAnsweredMethods(table, methods);
    } else if (const MethodTable* table = Find(path)) {
        AddAnsweredMethods(*table, methods);
    }
    // A sorted set, so the header is stable ("GET, HEAD, OPTIONS").
    std::string allow;
    for (const std::string& method : methods) {
        if (!allow.empty())
            allow += ", ";
        allow += method;
    }
    return allow;
}

void Router::Dispatch(const HttpRequest& request, const Responder& respond) const {
    const MethodTable* table = Find(request.path);
    if (table == nullptr && !(request.path == "*" && request.method == "OPTIONS")) {
        respond(JsonErrorResponse(404, "not found: " + request.path));
        return;
    }
    const Handler* handler = table != nullptr ? FindHandler(*table, request.method) : nullptr;
    if (handler != nullptr) {
        (*handler)(request, respond);
        return;
    }
    HttpResponse response;
    if (request.method == "OPTIONS") {
        // RFC 9110 section 9.3.7: no content, so Content-Length 0 and no Content-Type.
        response.content_type.clear();
    } else {
        response =
            JsonErrorResponse(405, "method not allowed: " + request.method + " " + request.path);
    }
    response.headers.emplace_back("Allow", AllowedMethods(request.path));
    respond(std::move(response));
}

std::string_view PathSuffix(const HttpRequest& request, std::string_view prefix) {
    std::string_view path = request.path;
    if (path.substr(0, prefix.size()) != prefix)
        return {};
    return path.substr(prefix.size());
}

std::optional<HttpResponse> CheckJsonContentType(const HttpRequest& request) {
    const std::string* header = request.Header("content-type");
    if (header != nullptr) {
        std::string_view value = *header;
        std::size_t semicolon = value.find(';');
        bool ok = AsciiLower(TrimBlanks(value.substr(0, semicolon))) == "application/json";
        while (ok && semicolon != std::string_view::npos) {
            value.remove_prefix(semicolon + 1);
            semicolon = value.find(';');
            std::string param = AsciiLower(TrimBlanks(value.substr(0, semicolon)));
            if (param.rfind("charset=", 0) == 0) {
                std::string charset = param.substr(8);
                if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"') {
                    charset = charset.substr(1, charset.size() - 2);
                }
                ok = charset == "utf-8";
            }
        }
        if (ok)
            return std::nullopt;
    }
    return JsonErrorResponse(415, "Content-Type must be application/json");
}

}  // namespace gossipchain
