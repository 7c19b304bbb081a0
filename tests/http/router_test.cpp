#include "http/router.h"

#include "support/route_once.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

HttpRequest Request(std::string method, std::string path) {
    HttpRequest request;
    request.method = std::move(method);
    request.target = path;
    request.path = std::move(path);
    return request;
}

using test::RouteOnce;

Router TutorialRouter(std::vector<std::string>& hits) {
    Router router;
    auto record = [&hits](std::string name) {
        return [&hits, name](const HttpRequest& request, Responder respond) {
            hits.push_back(name + " " + request.path);
            respond(JsonResponse(200, nlohmann::json{{"handler", name}}));
        };
    };
    router.Add("GET", "/chain", record("chain"));
    router.Add("POST", "/nodes/register", record("register"));
    router.Add("GET", "/blocks/latest", record("latest"));
    router.AddPrefix("GET", "/blocks/", record("block"));
    return router;
}

TEST(Router, DispatchesExactAndPrefixRoutes) {
    std::vector<std::string> hits;
    Router router = TutorialRouter(hits);
    EXPECT_EQ(RouteOnce(router, Request("GET", "/chain"))->status, 200);
    EXPECT_EQ(RouteOnce(router, Request("GET", "/blocks/7"))->status, 200);
    EXPECT_EQ(RouteOnce(router, Request("GET", "/blocks/latest"))->status, 200);
    EXPECT_EQ(hits, (std::vector<std::string>{"chain /chain", "block /blocks/7",
                                              "latest /blocks/latest"}));
}

TEST(Router, PathSuffixIsThePrefixRouteSegment) {
    EXPECT_EQ(PathSuffix(Request("GET", "/blocks/00ab"), "/blocks/"), "00ab");
    EXPECT_EQ(PathSuffix(Request("GET", "/chain"), "/blocks/"), "");
}

TEST(Router, UnknownPathIs404WithPathInMessage) {
    std::vector<std::string> hits;
    Router router = TutorialRouter(hits);
    for (const char* path : {"/x", "/blocks/", "/blocks/1/2", "/chain/", "/"}) {
        std::optional<HttpResponse> response = RouteOnce(router, Request("GET", path));
        ASSERT_TRUE(response);
        EXPECT_EQ(response->status, 404) << path;
        EXPECT_EQ(response->body, "{\"error\":\"not found: " + std::string(path) + "\"}\n");
    }
    EXPECT_TRUE(hits.empty());
}

TEST(Router, WrongMethodIs405WithAllow) {
    std::vector<std::string> hits;
    Router router = TutorialRouter(hits);
    router.Add("DELETE", "/chain",
               [](const HttpRequest&, Responder respond) { respond(JsonResponse(200, nullptr)); });
    std::optional<HttpResponse> response = RouteOnce(router, Request("POST", "/chain"));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 405);
    ASSERT_EQ(response->headers.size(), 1u);
    EXPECT_EQ(response->headers[0].first, "Allow");
    EXPECT_EQ(response->headers[0].second, "DELETE, GET, HEAD, OPTIONS");

    response = RouteOnce(router, Request("GET", "/nodes/register"));
    EXPECT_EQ(response->status, 405);
    EXPECT_EQ(response->headers[0].second, "OPTIONS, POST");
    EXPECT_EQ(RouteOnce(router, Request("HEAD", "/nodes/register"))->status, 405);
    EXPECT_EQ(RouteOnce(router, Request("POST", "/blocks/3"))->headers[0].second,
              "GET, HEAD, OPTIONS");
    EXPECT_TRUE(hits.empty());
}

TEST(Router, HeadRunsTheGetHandler) {
    std::vector<std::string> hits;
    Router router = TutorialRouter(hits);
    EXPECT_EQ(RouteOnce(router, Request("HEAD", "/chain"))->status, 200);
    EXPECT_EQ(RouteOnce(router, Request("HEAD", "/blocks/7"))->status, 200);
    EXPECT_EQ(RouteOnce(router, Request("HEAD", "/nope"))->status, 404);
    EXPECT_EQ(hits, (std::vector<std::string>{"chain /chain", "block /blocks/7"}));
    // A route of its own for HEAD wins over GET's.
    router.Add("HEAD", "/chain", [&hits](const HttpRequest&, Responder respond) {
        hits.push_back("head");
        respond(JsonResponse(200, nullptr));
    });
    RouteOnce(router, Request("HEAD", "/chain"));
    EXPECT_EQ(hits.back(), "head");
}

TEST(Router, OptionsAnswersTheAllowListWithoutContent) {
    std::vector<std::string> hits;
    Router router = TutorialRouter(hits);
    std::optional<HttpResponse> response = RouteOnce(router, Request("OPTIONS", "/chain"));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "");
    EXPECT_EQ(response->content_type, "");
    ASSERT_EQ(response->headers.size(), 1u);
    EXPECT_EQ(response->headers[0],
              (std::pair<std::string, std::string>{"Allow", "GET, HEAD, OPTIONS"}));

    response = RouteOnce(router, Request("OPTIONS", "*"));
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->headers[0].second, "GET, HEAD, OPTIONS, POST");
    EXPECT_EQ(RouteOnce(router, Request("OPTIONS", "/nope"))->status, 404);
    EXPECT_EQ(RouteOnce(router, Request("GET", "*"))->status, 404);
    EXPECT_TRUE(hits.empty());
}

TEST(Router, JsonContentTypeCheck) {
    HttpRequest request = Request("POST", "/x");
    EXPECT_EQ(CheckJsonContentType(request)->status, 415);  // missing
    for (const char* ok : {"application/json", "application/json; charset=utf-8",
                           "Application/JSON;charset=\"UTF-8\"", "application/json ; foo=bar"}) {
        request.headers = {{"content-type", ok}};
        EXPECT_FALSE(CheckJsonContentType(request)) << ok;
    }
    for (const char* bad : {"text/plain", "application/x-www-form-urlencoded",
                            "application/json; charset=latin-1", "application/jsonx", ""}) {
        request.headers = {{"content-type", bad}};
        std::optional<HttpResponse> rejected = CheckJsonContentType(request);
        ASSERT_TRUE(rejected) << bad;
        EXPECT_EQ(rejected->status, 415);
    }
}

}  // namespace
}  // namespace gossipchain
