// Tests of chain sync without links: one outstanding request per peer, what follows each batch
// of an answer, the claim a sync answer makes (and loses once the unproven budget is spent), and
// answers handed out in batches bounded by count that end with the right `more`.
#include "p2p/chain_sync.h"

#include "chain/chain_state.h"
#include "support/chain_builder.h"

#include <gtest/gtest.h>

#include <vector>

namespace gossipchain {
namespace {

class ChainSyncTest : public ::testing::Test {
protected:
    ChainSyncTest() : m_chain(ChainState::Options{test::EasyParams(), {}, {}}), m_sync(m_chain) {}
    void Grow(std::size_t count) {
        for (Block& block : test::MakeBranch(m_chain.Params(), test::TipBlock(m_chain), count, 1))
            ASSERT_EQ(m_chain.ProcessBlock(std::move(block), 2e9).status, BlockStatus::Connected);
    }

    ChainState m_chain;
    ChainSync m_sync;
};

TEST_F(ChainSyncTest, OneRequestIsOutstandingAtATime) {
    SyncState state;
    std::optional<RequestChain> first = m_sync.Request(state);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->locator.front(), m_chain.Tip().HashHex());
    EXPECT_EQ(first->limit, MAX_CHAIN_REQUEST_BLOCKS);
    EXPECT_FALSE(m_sync.Request(state).has_value());
    ChainSync::Restart(state);
    EXPECT_TRUE(m_sync.Request(state).has_value());
}

TEST_F(ChainSyncTest, AnAnswerEndsWhenThePeerHasNoMoreOrSentNothingNew) {
    SyncState state;
    ASSERT_TRUE(m_sync.Request(state));
    EXPECT_EQ(ChainSync::AfterBatch(state, 500, true, true), ChainSync::Next::Wait);
    EXPECT_EQ(ChainSync::AfterBatch(state, 10, false, true), ChainSync::Next::Done);
    EXPECT_FALSE(state.syncing);
    ASSERT_TRUE(m_sync.Request(state));
    EXPECT_EQ(ChainSync::AfterBatch(state, 500, true, false), ChainSync::Next::Done);
}

TEST_F(ChainSyncTest, AFullAnswerWithMoreToComeAsksForTheNextStretch) {
    SyncState state;
    ASSERT_TRUE(m_sync.Request(state));
    for (std::size_t got = 0; got + 500 < MAX_CHAIN_REQUEST_BLOCKS; got += 500)
        ASSERT_EQ(ChainSync::AfterBatch(state, 500, true, true), ChainSync::Next::Wait);
    EXPECT_EQ(ChainSync::AfterBatch(state, 500, true, true), ChainSync::Next::AskAgain);
    EXPECT_TRUE(m_sync.Request(state).has_value());
}

TEST_F(ChainSyncTest, OnlyASyncAnswerClaimsHeightAndOnlyWhileItsBudgetLasts) {
    SyncState state;
    std::vector<Block> blocks = test::MakeBranch(m_chain.Params(), test::TipBlock(m_chain), 3, 1);
    EXPECT_EQ(m_sync.ClaimedHeight(state, 50, blocks, true, true), 0u);  // not asked
    ASSERT_TRUE(m_sync.Request(state));
    EXPECT_EQ(m_sync.ClaimedHeight(state, 50, blocks, false, false), 0u);  // an announcement
    EXPECT_EQ(m_sync.ClaimedHeight(state, 50, blocks, true, false), 4u);   // the batch's end
    EXPECT_EQ(m_sync.ClaimedHeight(state, 50, blocks, true, true), 50u);   // what it reported
    m_sync.AddUnproven(state, MAX_UNPROVEN_SIDE_BYTES_PER_PEER);
    EXPECT_TRUE(m_sync.UnprovenBudgetSpent(state));
    EXPECT_EQ(m_sync.ClaimedHeight(state, 50, blocks, true, true), 0u);
    // Its branch winning gives the budget back, also the node-wide one.
    m_sync.Proven(state);
    EXPECT_FALSE(m_sync.UnprovenBudgetSpent(state));
    EXPECT_EQ(m_sync.UnprovenBytes(), 0u);
}

TEST_F(ChainSyncTest, AnswersComeInBatchesAndSayWhetherTheChainGoesOn) {
    Grow(MAX_CHAIN_BATCH_BLOCKS + 20);
    SyncState state;
    RecentSet known(MAX_CHAIN_REQUEST_BLOCKS);
    std::vector<const BlockEntry*> answer =
        m_sync.Answer(RequestChain{{m_chain.Genesis().HashHex()}, MAX_CHAIN_BATCH_BLOCKS + 10});
    ASSERT_EQ(answer.size(), MAX_CHAIN_BATCH_BLOCKS + 10);
    m_sync.BeginReply(state, std::move(answer));
    std::optional<Chain> first = m_sync.NextBatch(state, known);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->blocks.size(), MAX_CHAIN_BATCH_BLOCKS);
    EXPECT_TRUE(first->more);
    std::optional<Chain> second = m_sync.NextBatch(state, known);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->blocks.size(), 10u);
    // The request's limit ended the answer, not our chain: there is more to ask for.
    EXPECT_TRUE(second->more);
    EXPECT_FALSE(m_sync.NextBatch(state, known).has_value());
    EXPECT_EQ(known.Size(), MAX_CHAIN_BATCH_BLOCKS + 10);
    // A peer at our tip gets an empty answer that says so.
    m_sync.BeginReply(state, m_sync.Answer(RequestChain{{m_chain.Tip().HashHex()}, 100}));
    std::optional<Chain> none = m_sync.NextBatch(state, known);
    ASSERT_TRUE(none.has_value());
    EXPECT_TRUE(none->blocks.empty());
    EXPECT_FALSE(none->more);
}

}  // namespace
}  // namespace gossipchain
