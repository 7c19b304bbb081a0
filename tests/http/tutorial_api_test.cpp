// GET /nodes/resolve through the router against a fake node: the tutorial's two answer shapes
// byte for byte ("message" with "new_chain" or "chain"), and the notes beside them.
#include "http/tutorial_api.h"

#include "support/fake_node_control.h"
#include "support/route_once.h"

#include <gtest/gtest.h>

#include <string>

namespace gossipchain {
namespace {

class ResolvingNode final : public test::FakeNodeControl {
public:
    void Resolve(std::function<void(ResolveOutcome)> done) override { done(outcome); }

    ResolveOutcome outcome;
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
