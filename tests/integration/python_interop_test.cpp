// Meshing with the tutorial's own Flask node: it must accept our chain through its /nodes/resolve
// (same genesis, same block hashing, same proof rule), and our /nodes/resolve must refuse its
// chain, whose transactions lack the "id" our rules require, with a note instead of an error.
#include "integration/support/node_harness.h"

#include <gtest/gtest.h>

namespace gossipchain::test {
namespace {

/** Difficulty both sides use: low enough for the Python miner to be quick. */
constexpr int INTEROP_DIFFICULTY = 3;
/** How long our node may take to find out a registered address is a plain HTTP node, in ms. */
constexpr int RESOLVE_NOTE_TIMEOUT_MS = 5'000;

class PythonInterop : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        std::string why = TutorialNode::Unavailable();
        if (!why.empty())
            GTEST_SKIP() << why;
    }
};

TEST_P(PythonInterop, PythonTutorialNodeAdoptsOurChain) {
    TempDir root;
    GossipNode ours(root, "ours", NodeConfig().Difficulty(INTEROP_DIFFICULTY).Pow(GetParam()));
    ASSERT_EQ(ours.Start(), "");
    TutorialNode python(root, GetParam(), INTEROP_DIFFICULTY);
    ASSERT_EQ(python.Start(), "");
    for (std::uint64_t index = 2; index <= 4; ++index)
        ASSERT_EQ(ours.Mine(), index);

    HttpClientResponse registered = python.Post("/nodes/register", Json{{"nodes", {ours.Url()}}});
    ASSERT_EQ(registered.status, 201) << registered.body;
    HttpClientResponse resolved = python.Get("/nodes/resolve");
    ASSERT_EQ(resolved.status, 200) << resolved.body;
    Json body = JsonOf(resolved);
    EXPECT_EQ(body.value("message", ""), "Our chain was replaced") << resolved.body;

    Json our_chain = ours.GetJson("/chain");
    Json python_chain = Json::parse(python.Get("/chain").body, nullptr, false);
    ASSERT_TRUE(python_chain.is_object());
    EXPECT_EQ(python_chain["length"], 4);
    EXPECT_EQ(python_chain, our_chain);
    EXPECT_EQ(body.value("new_chain", Json()), our_chain["chain"]);
}

TEST_P(PythonInterop, OurNodeReadsATutorialNodesChain) {
    TempDir root;
    GossipNode ours(root, "ours", NodeConfig().Difficulty(INTEROP_DIFFICULTY).Pow(GetParam()));
    ASSERT_EQ(ours.Start(), "");
    TutorialNode python(root, GetParam(), INTEROP_DIFFICULTY);
    ASSERT_EQ(python.Start(), "");
    for (int index = 2; index <= 4; ++index) {
        HttpClientResponse mined = python.Get("/mine");
        ASSERT_EQ(mined.status, 200) << mined.body;
        ASSERT_EQ(JsonOf(mined).value("index", 0), index);
    }
    std::string our_tip = ours.Tip();

    HttpClientResponse registered = ours.Post("/nodes/register", Json{{"nodes", {python.Url()}}});
    ASSERT_EQ(registered.status, 201) << registered.body;
    // The node learns that the address speaks plain HTTP (not gossip) by dialling it, so the
    // first resolve may come before that; ask again until an answer mentions the tutorial node.
    std::string python_address = "127.0.0.1:" + std::to_string(python.Port());
    HttpClientResponse resolved;
    Json body;
    bool noted = WaitUntil(
        [&] {
            resolved = ours.Get("/nodes/resolve");
            body = JsonOf(resolved);
            return resolved.status != 200 || (body.is_object() && body.contains("notes"));
        },
        milliseconds(RESOLVE_NOTE_TIMEOUT_MS));
    ASSERT_EQ(resolved.status, 200) << resolved.body;
    ASSERT_TRUE(body.is_object()) << resolved.body;
    EXPECT_TRUE(noted) << "no resolve answer within " << RESOLVE_NOTE_TIMEOUT_MS
                       << " ms had notes; /nodes: " << ours.GetJson("/nodes").dump()
                       << "\nour log:\n"
                       << ours.Log();
    EXPECT_EQ(body.value("message", ""), "Our chain is authoritative");
    std::string notes = body.value("notes", Json::array()).dump();
    EXPECT_NE(notes.find(python_address), std::string::npos) << notes;
    EXPECT_NE(notes.find("skipped"), std::string::npos) << notes;
    EXPECT_NE(notes.find("id"), std::string::npos) << "should name the missing field: " << notes;
    EXPECT_EQ(body.value("chain", Json::array()).size(), 1u);
    EXPECT_EQ(ours.Height(), 1u);
    EXPECT_EQ(ours.Tip(), our_tip);
}

INSTANTIATE_TEST_SUITE_P(PowRules, PythonInterop, ::testing::Values("linked", "seed"),
                         [](const auto& test) {
                             return test.param == "linked" ? "Linked" : "Seed";
                         });

}  // namespace
}  // namespace gossipchain::test
