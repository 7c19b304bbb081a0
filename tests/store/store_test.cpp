#include "store/store.h"

#include "primitives/canonical_json.h"
#include "support/chain_builder.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace gossipchain {
namespace {

using test::EasyParams;
using test::MakeBranch;
using test::MakeChild;
using test::MakeTx;

constexpr double NOW = DEFAULT_GENESIS_TIMESTAMP + 1e6;
const std::string NODE_ID = std::string(32, 'a');

class Dir {
public:
    Dir() {
        std::string pattern =
            std::filesystem::temp_directory_path().string() + "/store-test-XXXXXX";
        std::vector<char> buf(pattern.begin(), pattern.end());
        buf.push_back('\0');
        m_path = ::mkdtemp(buf.data());
    }
    ~Dir() { std::filesystem::remove_all(m_path); }
    const std::string& Path() const { return m_path; }

private:
    std::string m_path;
};

ChainState::Options Options() {
    ChainState::Options options;
    options.params = EasyParams();
    return options;
}

StoreOptions OptionsFor(const std::string& dir) {
    StoreOptions options;
    options.dir = dir;
    options.network_id = NetworkId(EasyParams());
    options.new_node_id = NODE_ID;
    return options;
}

/** Wires the chain to the store as the node does: every block is committed when it is added. */
void Attach(ChainState& chain, Store& store) {
    chain.SetHooks(ChainHooks{
        [&store](const BlockEntry& entry) {
            store.PutBlock(entry);
            ASSERT_EQ(store.Commit(), "");
        },
        [&store](const BlockEntry& entry, bool connected) { store.MoveTip(entry, connected); }});
}

std::string Reload(const std::string& dir, ChainState& chain, StoreLoadStats& stats) {
    Store store;
    std::string error = store.Open(OptionsFor(dir));
    if (!error.empty())
        return error;
    std::vector<std::string> peers;
    return store.LoadInto(chain, peers, stats);
}

TEST(Store, CreatesMetaAndKeepsNodeId) {
    Dir dir;
    {
        Store store;
        ASSERT_EQ(store.Open(OptionsFor(dir.Path())), "");
        EXPECT_EQ(store.NodeId(), NODE_ID);
    }
    Store store;
    StoreOptions options = OptionsFor(dir.Path());
    options.new_node_id = std::string(32, 'b');
    ASSERT_EQ(store.Open(options), "");
    EXPECT_EQ(store.NodeId(), NODE_ID);
}

TEST(Store, MigratesLegacyNodeIdFile) {
    Dir dir;
    std::ofstream(dir.Path() + "/node_id") << std::string(32, 'c') << "\n";
    Store store;
    ASSERT_EQ(store.Open(OptionsFor(dir.Path())), "");
    EXPECT_EQ(store.NodeId(), std::string(32, 'c'));
}

TEST(Store, SecondOpenOfOneDirectoryIsRefused) {
    Dir dir;
    Store first;
    ASSERT_EQ(first.Open(OptionsFor(dir.Path())), "");
    Store second;
    std::string error = second.Open(OptionsFor(dir.Path()));
    EXPECT_NE(error.find("already in use"), std::string::npos) << error;
    EXPECT_NE(error.find(dir.Path()), std::string::npos) << error;
    first.Close();
    EXPECT_EQ(second.Open(OptionsFor(dir.Path())), "");
}

TEST(Store, OtherNetworkIsRefusedAndLeftUnchanged) {
    Dir dir;
    {
        Store store;
        ASSERT_EQ(store.Open(OptionsFor(dir.Path())), "");
    }
    std::string path = dir.Path() + "/" + STORE_FILE_NAME;
    auto before = std::filesystem::file_size(path);
    Store store;
    StoreOptions options = OptionsFor(dir.Path());
    options.network_id = "another-network";
    std::string error = store.Open(options);
    EXPECT_NE(error.find("belongs to network"), std::string::npos) << error;
    EXPECT_NE(error.find(dir.Path()), std::string::npos) << error;
    store.Close();
    EXPECT_EQ(std::filesystem::file_size(path), before);
    EXPECT_EQ(store.Open(OptionsFor(dir.Path())), "");
}

TEST(Store, NewerSchemaIsRefused) {
    Dir dir;
    {
        Store store;
        ASSERT_EQ(store.Open(OptionsFor(dir.Path())), "");
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.Path() + "/" + STORE_FILE_NAME).c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value='99' WHERE key='schema_version'", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    Store store;
    std::string error = store.Open(OptionsFor(dir.Path()));
    EXPECT_NE(error.find("schema version 99"), std::string::npos) << error;
}

TEST(Store, CorruptFileIsRefused) {
    Dir dir;
    {
        Store store;
        ASSERT_EQ(store.Open(OptionsFor(dir.Path())), "");
        ChainState chain(Options());
        Attach(chain, store);
        for (const Block& block : MakeBranch(chain.Params(), chain.Tip().block, 50, 1))
            chain.ProcessBlock(block, NOW);
    }
    std::string path = dir.Path() + "/" + STORE_FILE_NAME;
    // Checkpointed at close: everything is in the main file. Overwrite the middle of it.
    auto size = std::filesystem::file_size(path);
    ASSERT_GT(size, 8192u);
    {
        std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(4096);
        std::string junk(static_cast<std::size_t>(size) - 4096, '\x5a');
        file.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    Store store;
    std::string error = store.Open(OptionsFor(dir.Path()));
    EXPECT_NE(error.find("is damaged"), std::string::npos) << error;

    std::filesystem::resize_file(path, 100);
    error = store.Open(OptionsFor(dir.Path()));
    EXPECT_NE(error.find("is damaged"), std::string::npos) << error;
}

TEST(Store, ForkedTreeReloadsWithSameTipAndSideBranch) {
    Dir dir;
    std::string tip;
    std::string side_tip;
    std::uint64_t height = 0;
    {
        Store store;
        ASSERT_EQ(store.Open(OptionsFor(dir.Path())), "");
        ChainState chain(Options());
        Attach(chain, store);
        const ConsensusParams& params = chain.Params();
        std::vector<Block> main = MakeBranch(params, chain.Tip().block, 6, 100);
        for (const Block& block : main)
            ASSERT_EQ(chain.ProcessBlock(block, NOW).status, BlockStatus::Connected);
        // A side branch from height 3 that stays shorter, then one that overtakes (a reorg).
        std::vector<Block> side = MakeBranch(params, main[1], 2, 200);
        for (const Block& block : side)
            ASSERT_EQ(chain.ProcessBlock(block, NOW).status, BlockStatus::SideBranch);
        std::vector<Block> better = MakeBranch(params, main[2], 5, 300);
        for (const Block& block : better)
            chain.ProcessBlock(block, NOW);
        ASSERT_EQ(chain.Height(), 9u);
        ASSERT_EQ(chain.Reorgs(), 1u);
        tip = chain.Tip().hash;
        side_tip = BlockHash(side.back());
        height = chain.Height();
    }
    ChainState chain(Options());
    StoreLoadStats stats;
    ASSERT_EQ(Reload(dir.Path(), chain, stats), "");
    EXPECT_EQ(stats.blocks, 6u + 2u + 5u);
    EXPECT_EQ(chain.Height(), height);
    EXPECT_EQ(chain.Tip().hash, tip);
    EXPECT_EQ(chain.BlockCount(), 14u);
    const BlockEntry* side = chain.Find(side_tip);
    ASSERT_NE(side, nullptr);
    EXPECT_FALSE(chain.IsOnMainChain(*side));
    // Transactions of the abandoned blocks (heights 5..7 of the first branch) came back pending.
    EXPECT_EQ(chain.GetMempool().Size(), 3u);
    EXPECT_TRUE(chain.GetMempool().Contains(TxId(MakeTx(103))));
    EXPECT_EQ(chain.ConfirmedHeight(TxId(MakeTx(300))), 5u);
}

TEST(Store, MempoolRoundTripDropsConfirmed) {
    Dir dir;
    {
        Store store;
        ASSERT_EQ(store.Open(OptionsFor(dir.Path())), "");
        ChainState chain(Options());
        Attach(chain, store);
        for (std::uint64_t n = 1; n <= 5; ++n) {
            TxResult result = chain.SubmitTransaction(MakeTx(n), TxOrigin::Local);
            ASSERT_EQ(result.status, TxStatus::Accepted);
            store.PutTransaction(result.txid, MakeTx(n));
        }
        ASSERT_EQ(store.Commit(), "");
        // A block confirms two of them.
        chain.ProcessBlock(MakeChild(chain.Params(), chain.Tip().block, {MakeTx(2), MakeTx(4)}),
                           NOW);
        ASSERT_EQ(chain.GetMempool().Size(), 3u);
    }
    ChainState chain(Options());
    StoreLoadStats stats;
    ASSERT_EQ(Reload(dir.Path(), chain, stats), "");
    EXPECT_EQ(stats.mempool, 3u);
    std::vector<Transaction> pending = chain.GetMempool().All();
    ASSERT_EQ(pending.size(), 3u);
    EXPECT_EQ(pending[0], MakeTx(1));
    EXPECT_EQ(pending[1], MakeTx(3));
    EXPECT_EQ(pending[2], MakeTx(5));
    EXPECT_EQ(chain.ConfirmedHeight(TxId(MakeTx(4))), 2u);
}

TEST(Store, PeersRoundTrip) {
    Dir dir;
    {
        Store store;
        ASSERT_EQ(store.Open(OptionsFor(dir.Path())), "");
        store.PutPeer("127.0.0.1:5001", 10);
        store.PutPeer("127.0.0.1:5002", 20);
        ASSERT_EQ(store.Commit(), "");
    }
    Store store;
    ASSERT_EQ(store.Open(OptionsFor(dir.Path())), "");
    ChainState chain(Options());
    std::vector<std::string> peers;
    StoreLoadStats stats;
    ASSERT_EQ(store.LoadInto(chain, peers, stats), "");
    EXPECT_EQ(peers, (std::vector<std::string>{"127.0.0.1:5002", "127.0.0.1:5001"}));
}

TEST(Store, FullDiskRefusesThenRecoversKeepingBlocks) {
    Dir dir;
    StoreOptions options = OptionsFor(dir.Path());
    options.max_pages = 12;
    std::string tip;
    {
        Store store;
        ASSERT_EQ(store.Open(options), "");
        ChainState chain(Options());
        std::string error;
        chain.SetHooks(ChainHooks{
            [&](const BlockEntry& entry) {
                store.PutBlock(entry);
                std::string failed = store.Commit();
                if (!failed.empty())
                    error = failed;
            },
            [&](const BlockEntry& entry, bool connected) { store.MoveTip(entry, connected); }});
        for (const Block& block : MakeBranch(chain.Params(), chain.Tip().block, 80, 1))
            chain.ProcessBlock(block, NOW);
        EXPECT_NE(error.find("full"), std::string::npos) << error;
        EXPECT_GT(store.PendingWrites(), 0u);
        // A transaction write fails too and is dropped (its client is told), not retried.
        std::size_t kept = store.PendingWrites();
        store.PutTransaction(TxId(MakeTx(999)), MakeTx(999));
        EXPECT_NE(store.Commit(), "");
        EXPECT_EQ(store.PendingWrites(), kept);
        // Space returns: the blocks kept in memory reach the disk with the next commit.
        store.SetMaxPages(100000);
        EXPECT_EQ(store.Probe(), "");
        EXPECT_EQ(store.PendingWrites(), 0u);
        tip = chain.Tip().hash;
    }
    ChainState chain(Options());
    StoreLoadStats stats;
    ASSERT_EQ(Reload(dir.Path(), chain, stats), "");
    EXPECT_EQ(stats.blocks, 80u);
    EXPECT_EQ(chain.Tip().hash, tip);
    EXPECT_FALSE(chain.GetMempool().Contains(TxId(MakeTx(999))));
}

TEST(Store, BlocksWithEscapedStringsReloadExactly) {
    Dir dir;
    std::string tip;
    {
        Store store;
        ASSERT_EQ(store.Open(OptionsFor(dir.Path())), "");
        ChainState chain(Options());
        Attach(chain, store);
        // Escaped on the wire (ensure_ascii): the fast reader declines, the general one reads.
        Transaction odd = MakeTx(7, 3, "caf\u00e9 \"quoted\" \\ \U0001F600");
        chain.ProcessBlock(MakeChild(chain.Params(), chain.Tip().block, {odd}), NOW);
        chain.ProcessBlock(MakeChild(chain.Params(), chain.Tip().block, {MakeTx(8)}), NOW);
        ASSERT_EQ(chain.Height(), 3u);
        tip = chain.Tip().hash;
    }
    ChainState chain(Options());
    StoreLoadStats stats;
    ASSERT_EQ(Reload(dir.Path(), chain, stats), "");
    EXPECT_EQ(stats.blocks, 2u);
    EXPECT_EQ(chain.Tip().hash, tip);
    EXPECT_EQ(chain.AtHeight(2)->block.transactions[0].sender,
              "caf\u00e9 \"quoted\" \\ \U0001F600");
}

TEST(Store, ProbeNeedsRealSpace) {
    Dir dir;
    StoreOptions options = OptionsFor(dir.Path());
    options.max_pages = 16;
    Store store;
    ASSERT_EQ(store.Open(options), "");
    std::string error;
    for (std::uint64_t n = 1; n < 10000 && error.empty(); ++n) {
        store.PutTransaction(TxId(MakeTx(n)), MakeTx(n));
        error = store.Commit();
    }
    ASSERT_NE(error, "");
    EXPECT_EQ(store.PendingWrites(), 0u);
    EXPECT_NE(store.Probe(), "");
    store.SetMaxPages(100000);
    EXPECT_EQ(store.Probe(), "");
}

}  // namespace
}  // namespace gossipchain
