#include "http/json_body.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace gossipchain {
namespace {

HttpRequest Post(std::string path) {
    HttpRequest request;
    request.method = "POST";
    request.target = path;
    request.path = std::move(path);
    return request;
}

TEST(JsonBody, ParsesObjects) {
    Result<nlohmann::json> out = ParseJsonObjectBody(R"({"nodes": ["http://127.0.0.1:5001"]})");
    ASSERT_TRUE(out.Ok()) << out.Message();
    EXPECT_EQ(out.Value()["nodes"][0], "http://127.0.0.1:5001");
}

TEST(JsonBody, RejectsNonObjectsAndGarbage) {
    for (const char* bad : {"[1]", "5", "\"s\"", "", "{", "{\"a\":1} x", "nul"}) {
        Result<nlohmann::json> out = ParseJsonObjectBody(bad);
        EXPECT_FALSE(out.Ok()) << bad;
        EXPECT_FALSE(out.Message().empty()) << bad;
    }
}

TEST(JsonBody, EnforcesDepthLimit) {
    auto nested = [](std::size_t depth) {
        std::string inner(depth - 1, '[');
        inner += std::string(depth - 1, ']');
        return "{\"a\":" + inner + "}";
    };
    Result<nlohmann::json> out = ParseJsonObjectBody(nested(MAX_JSON_DEPTH));
    EXPECT_TRUE(out.Ok()) << out.Message();
    EXPECT_FALSE(ParseJsonObjectBody(nested(MAX_JSON_DEPTH + 1)).Ok());
    // Far deeper than any stack would allow if the parser recursed without a limit.
    std::string deep = "{\"a\":" + std::string(1000000, '[');
    EXPECT_FALSE(ParseJsonObjectBody(deep).Ok());
}

TEST(JsonBody, ReadJsonObjectBodyGives415Then400) {
    HttpRequest request = Post("/transactions/new");
    nlohmann::json out;
    request.body = "{}";
    EXPECT_EQ(ReadJsonObjectBody(request, out)->status, 415);
    request.headers = {{"content-type", "application/json"}};
    request.body = "not json";
    std::optional<HttpResponse> rejected = ReadJsonObjectBody(request, out);
    ASSERT_TRUE(rejected);
    EXPECT_EQ(rejected->status, 400);
    EXPECT_NE(rejected->body.find("\"error\""), std::string::npos);
    request.body = R"({"sender": "a"})";
    EXPECT_FALSE(ReadJsonObjectBody(request, out));
    EXPECT_EQ(out["sender"], "a");
}

}  // namespace
}  // namespace gossipchain
