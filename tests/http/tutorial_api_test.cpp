// GET /nodes/resolve through the router against a fake node: the tutorial's two answer shapes
// byte for byte ("message" with "new_chain" or "chain"), and the notes beside them.
#include "http/tutorial_api.h"

#include "support/route_once.h"

#include <gtest/gtest.h>

#include <string>

namespace gossipchain {
namespace {

class ResolvingNode final : public NodeControl {
public:
    ResolvingNode() : m_chain(ChainState::Options{}) {}

    const ChainState& Chain() const override { return m_chain; }
    const std::string& NodeId() const override { return m_node_id; }
    double UptimeSeconds() const override { return 1.0; }
    TxResult SubmitTransaction(const Transaction& tx) override {
        return m_chain.SubmitTransaction(tx, TxOrigin::Local);
    }
    void MineOne(std::function<void(Result<const BlockEntry*>)> done) override {
        done(Status::Error("no mining here"));
    }
    Result<std::vector<std::string>> RegisterNodes(const std::vector<PeerAddress>&) override {
        return std::vector<std::string>{};
    }
    void Resolve(std::function<void(ResolveOutcome)> done) override { done(outcome); }
    std::vector<PeerView> Peers() const override { return {}; }
    std::string MetricsText() const override { return {}; }

    ResolveOutcome outcome;

private:
    ChainState m_chain;
    std::string m_node_id = std::string(32, '0');
};

std::string Resolved(ResolvingNode& node) {
    Router router;
    HttpMetrics metrics;
    RegisterTutorialRoutes(router, node, metrics);
    HttpRequest request;
    request.method = "GET";
    request.path = request.target = "/nodes/resolve";
    std::optional<HttpResponse> response = test::RouteOnce(router, request);
    EXPECT_TRUE(response);
    if (!response)
        return {};
    EXPECT_EQ(response->status, 200);
    return response->body;
}

const std::string GENESIS =
    R"({"index": 1, "previous_hash": 1, "proof": 100, "timestamp": 1700000000.0, )"
    R"("transactions": []})";

TEST(TutorialApi, ResolveAnswersInTheTutorialsTwoShapes) {
    ResolvingNode node;
    EXPECT_EQ(Resolved(node), R"({"message":"Our chain is authoritative","chain":[)" + GENESIS +
                                  "],\"length\":1}\n");
    node.outcome.replaced = true;
    EXPECT_EQ(Resolved(node), R"({"message":"Our chain was replaced","new_chain":[)" + GENESIS +
                                  "],\"length\":1}\n");
}

TEST(TutorialApi, ResolveNotesComeBesideTheTutorialsShape) {
    ResolvingNode node;
    node.outcome.notes = {"127.0.0.1:6000: skipped: block 1: different genesis; block 2: \"x\"",
                          "127.0.0.1:6001: not fetched: Connection refused"};
    EXPECT_EQ(Resolved(node),
              R"({"notes":["127.0.0.1:6000: skipped: block 1: different genesis; block 2: \"x\"",)"
              R"("127.0.0.1:6001: not fetched: Connection refused"],)"
              R"("message":"Our chain is authoritative","chain":[)" +
                  GENESIS + "],\"length\":1}\n");
}

}  // namespace
}  // namespace gossipchain
