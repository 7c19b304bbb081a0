// Two miners race on separate chains, then meet: the longer chain wins on both, and the
// transaction confirmed only by the losing block is returned to the mempool, never lost.
#include "integration/support/node_harness.h"

#include <gtest/gtest.h>

namespace gossipchain::test {
namespace {

/** Posts a transaction and returns its client id ("" when refused). */
std::string Submit(GossipNode& node, const std::string& sender) {
    HttpClientResponse reply = node.Post(
        "/transactions/new", Json{{"sender", sender}, {"recipient", "bob"}, {"amount", 5}});
    Json body = JsonOf(reply);
    if (reply.status != 201 || !body.is_object())
        return {};
    return body.value("id", std::string());
}

TEST(Reorg, RacingMinersEndOnOneTipAndLoserTxsReturn) {
    TempDir root;
    // Nothing stored is kept in memory: the reorg reads B's abandoned block back from its data
    // directory to return its transaction to the mempool.
    GossipNode a(root, "a", NodeConfig().Arg("--block-cache-kib", "0"));
    GossipNode b(root, "b", NodeConfig().Arg("--block-cache-kib", "0"));
    ASSERT_EQ(a.Start(), "");
    ASSERT_EQ(b.Start(), "");
    std::string a_tx = Submit(a, "alice");
    std::string b_tx = Submit(b, "bert");
    ASSERT_FALSE(a_tx.empty());
    ASSERT_FALSE(b_tx.empty());
    ASSERT_EQ(a.Mine(), 2u);
    ASSERT_EQ(b.Mine(), 2u);
    ASSERT_TRUE(ChainContainsTx(a.Chain(), a_tx));
    ASSERT_TRUE(ChainContainsTx(b.Chain(), b_tx));
    ASSERT_NE(a.Tip(), b.Tip());
    ASSERT_EQ(a.Mine(), 3u);
    std::string a_tip = a.Tip();

    HttpClientResponse registered = b.Post("/nodes/register", Json{{"nodes", {a.Url()}}});
    ASSERT_EQ(registered.status, 201) << registered.body;
    ASSERT_TRUE(WaitUntil([&] {
        return AllOn({&a, &b}, 3, a_tip);
    })) << "a "
        << a.Tip() << " b " << b.Tip() << " (height " << b.Height() << ")";

    // B's transaction left the chain with B's block; it must now be pending on B or, if B relayed
    // it and someone mined it, confirmed on the shared chain. Exactly one of the two, at once.
    Json b_chain = b.Chain();
    bool pending = ContainsTx(b.Pending(), b_tx);
    bool confirmed = ChainContainsTx(b_chain, b_tx);
    EXPECT_NE(pending, confirmed) << "pending " << pending << ", confirmed " << confirmed;
    EXPECT_TRUE(pending) << "nobody mined after the reorg, so it cannot be confirmed";
    EXPECT_TRUE(ChainContainsTx(b_chain, a_tx));
    EXPECT_EQ(b_chain, a.Chain());
    EXPECT_FALSE(ContainsTx(b.Pending(), a_tx));
}

}  // namespace
}  // namespace gossipchain::test
