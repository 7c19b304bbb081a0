// /dashboard, /dashboard/state and /events through the router against a fake node: the page is
// self-contained and cannot run injected script, peer-supplied strings stay JSON text, and the
// event stream is refused with 503 beyond its node-wide bound.
#include "http/dashboard_api.h"

#include "support/fake_node_control.h"
#include "support/route_once.h"

#include <gtest/gtest.h>

#include <string>

namespace gossipchain {
namespace {

const std::string HOSTILE = "<img src=x onerror=alert(1)>\"</script>\n\xff";

/** A node whose one peer claims markup for its node id and address. */
class DashboardNode final : public test::FakeNodeControl {
public:
    std::vector<PeerView> Peers() const override {
        return {PeerView{HOSTILE, true, "ready", HOSTILE, HOSTILE, HOSTILE, 9, 12}};
    }
};

class NullStream final : public HttpStream {
public:
    std::size_t PendingBytes() const override { return 0; }
    bool Write(std::string) override { return true; }
    void Close(std::string_view) override {}
    void Finish(std::string_view) override {}
    const std::string& Peer() const override { return m_peer; }

private:
    std::string m_peer = "127.0.0.1:1";
};

HttpResponse Get(const Router& router, const std::string& path) {
    HttpRequest request;
    request.method = "GET";
    request.path = request.target = path;
    std::optional<HttpResponse> response = test::RouteOnce(router, request);
    EXPECT_TRUE(response);
    return response ? *response : HttpResponse{};
}

const std::string* HeaderOf(const HttpResponse& response, const std::string& name) {
    for (const auto& [key, value] : response.headers) {
        if (key == name)
            return &value;
    }
    return nullptr;
}

class DashboardApiTest : public ::testing::Test {
protected:
    void SetUp() override { RegisterDashboardRoutes(m_router, m_node, m_hub); }

    DashboardNode m_node;
    EventHub m_hub{EventHub::Options{.max_clients = 2}};
    Router m_router;
};

TEST_F(DashboardApiTest, ThePageIsSelfContainedAndAllowsNoInlineScript) {
    HttpResponse page = Get(m_router, "/dashboard");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
    const std::string* policy = HeaderOf(page, "Content-Security-Policy");
    ASSERT_NE(policy, nullptr);
    EXPECT_NE(policy->find("default-src 'none'"), std::string::npos);
    EXPECT_NE(policy->find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(policy->find("unsafe-eval"), std::string::npos);
    HttpResponse script = Get(m_router, "/dashboard.js");
    EXPECT_EQ(script.status, 200);
    for (const std::string* body : {&page.body, &script.body}) {
        EXPECT_EQ(body->find("http://"), std::string::npos);
        EXPECT_EQ(body->find("https://"), std::string::npos);
        EXPECT_EQ(body->find("innerHTML"), std::string::npos);
        EXPECT_EQ(body->find("insertAdjacentHTML"), std::string::npos);
    }
    EXPECT_NE(page.body.find("<script src=\"/dashboard.js\"></script>"), std::string::npos);
    EXPECT_NE(script.body.find("new EventSource('/events')"), std::string::npos);
}

TEST_F(DashboardApiTest, StateShowsTheChainAndKeepsPeerStringsAsJsonText) {
    Transaction tx{HOSTILE.substr(0, 30), "bob", 5, std::string(32, 'c')};
    ASSERT_EQ(m_node.SubmitTransaction(tx).status, TxStatus::Accepted);
    m_hub.PublishBlock(
        RecentBlock{m_node.Chain().Tip().HashHex(), 1, HOSTILE, 1700000000.5, std::nullopt});
    HttpResponse state = Get(m_router, "/dashboard/state");
    EXPECT_EQ(state.status, 200);
    for (unsigned char c : state.body)
        EXPECT_LT(c, 0x80);
    nlohmann::json json = nlohmann::json::parse(state.body);
    EXPECT_EQ(json["height"], 1);
    EXPECT_EQ(json["tip"], m_node.Chain().Tip().HashHex());
    EXPECT_EQ(json["difficulty"], m_node.Chain().Params().difficulty);
    ASSERT_EQ(json["blocks"].size(), 1u);
    EXPECT_EQ(json["blocks"][0]["source"].get<std::string>().substr(0, 28), HOSTILE.substr(0, 28));
    ASSERT_EQ(json["peers"].size(), 1u);
    EXPECT_EQ(json["peers"][0]["direction"], "inbound");
    EXPECT_EQ(json["peers"][0]["rtt_ms"], 12);
    EXPECT_EQ(json["peers"][0]["node_id"].get<std::string>().substr(0, 28), HOSTILE.substr(0, 28));
    EXPECT_EQ(json["mempool"]["size"], 1);
    EXPECT_EQ(json["mempool"]["transactions"][0]["sender"], HOSTILE.substr(0, 30));
}

TEST_F(DashboardApiTest, EventsIsAStreamUntilTheNodeWideBoundThen503) {
    HttpResponse events = Get(m_router, "/events");
    EXPECT_EQ(events.status, 200);
    EXPECT_EQ(events.content_type, "text/event-stream");
    EXPECT_EQ(events.stream, &m_hub);
    NullStream a, b;
    m_hub.OnStreamOpen(a);
    m_hub.OnStreamOpen(b);
    HttpResponse refused = Get(m_router, "/events");
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.stream, nullptr);
    EXPECT_EQ(m_hub.Metrics().streams_refused, 1u);
}

}  // namespace
}  // namespace gossipchain
