// Tests of POST /admin/links, the test-only endpoint tools/netsim uses to set link delay, jitter
// and blocked peers: what it accepts, that each field it names replaces the current one and the
// others stay, and that bad input gets a 400 (or 415) with a clear message and changes nothing.
// The endpoint is routed straight through a Router onto a recorder of what it applies; link
// behaviour itself is tests/p2p/link_shaping_test.cpp.
#include "http/admin_api.h"

#include "p2p/link_shaper.h"
#include "support/route_once.h"
#include "util/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

using Json = nlohmann::json;

class AdminApiTest : public ::testing::Test {
protected:
    AdminApiTest() {
        RegisterAdminRoutes(m_router,
                            [this](const LinkShaping& shaping) { m_applied.push_back(shaping); });
    }
    void SetUp() override { SetLogLevel(LogLevel::Warn); }
    void TearDown() override { SetLogLevel(LogLevel::Info); }

    /** The one response the endpoint gives, synchronously, to `body` with `content_type`. */
    HttpResponse Post(const std::string& body, const std::string& content_type = "application/json",
                      const std::string& method = "POST") {
        HttpRequest request;
        request.method = method;
        request.target = request.path = "/admin/links";
        request.headers.emplace_back("content-type", content_type);
        request.body = body;
        return test::RouteOnce(m_router, request).value_or(HttpResponse{});
    }
    /** The shaping now in force, as the endpoint reports it for a body that changes nothing. */
    Json Current() {
        HttpResponse response = Post("{}");
        EXPECT_EQ(response.status, 200);
        return Json::parse(response.body);
    }
    /** Expects a 400 whose JSON error message is `message`, and no change to the shaping. */
    void ExpectRejected(const std::string& body, const std::string& message) {
        Json before = Current();
        std::size_t applied = m_applied.size();
        HttpResponse response = Post(body);
        EXPECT_EQ(m_applied.size(), applied) << "a refused body was applied: " << body;
        EXPECT_EQ(response.status, 400) << body;
        EXPECT_EQ(response.content_type, "application/json");
        Json error = Json::parse(response.body, nullptr, false);
        ASSERT_TRUE(error.is_object()) << response.body;
        EXPECT_EQ(error.value("error", ""), message) << body;
        EXPECT_EQ(Current(), before) << body;
    }

    /** Every shaping the endpoint put in force, in order. */
    std::vector<LinkShaping> m_applied;
    Router m_router;
};

TEST_F(AdminApiTest, StartsWithNoShaping) {
    EXPECT_EQ(Current(), (Json{{"delay_ms", 0}, {"jitter_ms", 0}, {"blocked", Json::array()}}));
}

TEST_F(AdminApiTest, SetsEveryFieldAndAnswersTheShapingInForce) {
    HttpResponse response =
        Post(R"({"delay_ms": 50, "jitter_ms": 10, "blocked": ["127.0.0.1:5001", "127.0.0.2:7"]})");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(Json::parse(response.body), (Json{{"delay_ms", 50},
                                                {"jitter_ms", 10},
                                                {"blocked", {"127.0.0.1:5001", "127.0.0.2:7"}}}));
    ASSERT_EQ(m_applied.size(), 1u);
    EXPECT_EQ(m_applied[0].delay_ms, 50u);
    EXPECT_EQ(m_applied[0].jitter_ms, 10u);
    EXPECT_EQ(m_applied[0].blocked, (std::vector<std::string>{"127.0.0.1:5001", "127.0.0.2:7"}));
}

TEST_F(AdminApiTest, FieldsNotNamedKeepTheirValues) {
    ASSERT_EQ(Post(R"({"delay_ms": 50, "jitter_ms": 10, "blocked": ["127.0.0.1:5001"]})").status,
              200);
    // Healing a partition keeps the latency ...
    ASSERT_EQ(Post(R"({"blocked": []})").status, 200);
    EXPECT_EQ(Current(), (Json{{"delay_ms", 50}, {"jitter_ms", 10}, {"blocked", Json::array()}}));
    // ... and changing the latency keeps the partition.
    ASSERT_EQ(Post(R"({"blocked": ["127.0.0.1:5002"]})").status, 200);
    ASSERT_EQ(Post(R"({"delay_ms": 0, "jitter_ms": 0})").status, 200);
    EXPECT_EQ(Current(),
              (Json{{"delay_ms", 0}, {"jitter_ms", 0}, {"blocked", {"127.0.0.1:5002"}}}));
}

TEST_F(AdminApiTest, BlockedAddressesAreStoredInCanonicalForm) {
    // The tutorial's URL form and bracketed IPv6 name the same listeners as host:port.
    HttpResponse response = Post(R"({"blocked": ["http://127.0.0.1:5001/", "[::1]:80"]})");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(Json::parse(response.body)["blocked"], (Json{"127.0.0.1:5001", "[::1]:80"}));
}

TEST_F(AdminApiTest, DelayBoundsAreInclusive) {
    EXPECT_EQ(Post(R"({"delay_ms": 60000, "jitter_ms": 60000})").status, 200);
    EXPECT_EQ(Current()["jitter_ms"], MAX_ADMIN_DELAY_MS);
    EXPECT_EQ(Post(R"({"delay_ms": 0, "jitter_ms": 0})").status, 200);
}

TEST_F(AdminApiTest, BadDelaysAreRejectedWithTheRule) {
    const std::string delay_rule = "delay_ms must be an integer from 0 to 60000";
    for (const char* body :
         {R"({"delay_ms": -1})", R"({"delay_ms": 60001})", R"({"delay_ms": 1.5})",
          R"({"delay_ms": "10"})", R"({"delay_ms": null})", R"({"delay_ms": true})"}) {
        ExpectRejected(body, delay_rule);
    }
    ExpectRejected(R"({"delay_ms": 10, "jitter_ms": -3})",
                   "jitter_ms must be an integer from 0 to 60000");
    ExpectRejected(R"({"delay_ms": 10, "jitter_ms": 11})", "jitter_ms must not exceed delay_ms");
    // Jitter is checked against the delay in force when the body leaves the delay out.
    ASSERT_EQ(Post(R"({"delay_ms": 20})").status, 200);
    ExpectRejected(R"({"jitter_ms": 21})", "jitter_ms must not exceed delay_ms");
}

TEST_F(AdminApiTest, BadBlockedListsAreRejected) {
    const std::string rule = "blocked must be a list of \"host:port\" strings";
    for (const char* body : {R"({"blocked": "127.0.0.1:5001"})", R"({"blocked": [5001]})",
                             R"({"blocked": ["127.0.0.1"]})", R"({"blocked": ["127.0.0.1:0"]})",
                             R"({"blocked": ["127.0.0.1:65536"]})", R"({"blocked": [":5001"]})",
                             R"({"blocked": {"a": "127.0.0.1:1"}})"}) {
        ExpectRejected(body, rule);
    }
}

TEST_F(AdminApiTest, UnknownFieldsAreRejected) {
    ExpectRejected(R"({"delay": 50})",
                   "unknown field delay (expected delay_ms, jitter_ms, blocked)");
    ExpectRejected(R"({"delay_ms": 50, "blocked": [], "partition": true})",
                   "unknown field partition (expected delay_ms, jitter_ms, blocked)");
}

TEST_F(AdminApiTest, NothingIsAppliedWhenOneFieldIsBad) {
    ASSERT_EQ(Post(R"({"delay_ms": 5, "blocked": ["127.0.0.1:9"]})").status, 200);
    ExpectRejected(R"({"delay_ms": 40, "jitter_ms": 1, "blocked": ["nonsense"]})",
                   "blocked must be a list of \"host:port\" strings");
    EXPECT_EQ(Current(), (Json{{"delay_ms", 5}, {"jitter_ms", 0}, {"blocked", {"127.0.0.1:9"}}}));
}

TEST_F(AdminApiTest, BodyMustBeAJsonObject) {
    for (const char* body : {"", "not json", "[1, 2]", "42", R"({"delay_ms": 1)"}) {
        Json before = Current();
        std::size_t applied = m_applied.size();
        HttpResponse response = Post(body);
        EXPECT_EQ(m_applied.size(), applied) << "a refused body was applied: " << body;
        EXPECT_EQ(response.status, 400) << body;
        Json error = Json::parse(response.body, nullptr, false);
        ASSERT_TRUE(error.is_object()) << response.body;
        EXPECT_FALSE(error.value("error", "").empty()) << body;
        EXPECT_EQ(Current(), before);
    }
}

TEST_F(AdminApiTest, NonJsonContentTypeIs415) {
    EXPECT_EQ(Post(R"({"delay_ms": 5})", "text/plain").status, 415);
    EXPECT_EQ(Current()["delay_ms"], 0);
}

TEST_F(AdminApiTest, OnlyPostIsRouted) {
    HttpResponse response = Post("", "application/json", "GET");
    EXPECT_EQ(response.status, 405);
    ASSERT_EQ(response.headers.size(), 1u);
    EXPECT_EQ(response.headers[0], (std::pair<std::string, std::string>{"Allow", "OPTIONS, POST"}));
}

}  // namespace
}  // namespace gossipchain
