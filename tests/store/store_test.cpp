#include "store/store.h"

#include "primitives/canonical_json.h"
#include "store/stored_rows.h"
#include "store/temp_dir.h"
#include "support/chain_builder.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace gossipchain {
namespace {

using test::EasyParams;
using test::MakeBranch;
using test::MakeChild;
using test::MakeTx;

constexpr double NOW = DEFAULT_GENESIS_TIMESTAMP + 1e6;
/** The key seed a new directory gets in these tests, and the node id that follows from it. */
NodeKeySeed TestSeed(std::uint8_t fill = 0x11) {
    NodeKeySeed seed{};
    seed.fill(fill);
    return seed;
}
const std::string NODE_ID = NodeKey::FromSeed(TestSeed()).NodeId();

using Dir = test::TempDir;

ChainState::Options Options() {
    ChainState::Options options;
    options.params = EasyParams();
    return options;
}

StoreOptions OptionsFor(const std::string& dir) {
    StoreOptions options;
    options.dir = dir;
    options.network_id = NetworkId(EasyParams());
    options.new_node_id = std::string(32, 'a');
    options.new_key_seed = TestSeed();
    return options;
}

/** Passes when `status` is a success, else fails with its message. */
::testing::AssertionResult Succeeded(const Status& status) {
    if (status.Ok())
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << status.Message();
}

/** Wires the chain to the store as the node does: every block is committed when it is added. */
void Attach(ChainState& chain, Store& store) {
    chain.SetHooks(ChainHooks{[&store](const BlockEntry& entry, std::string_view canonical) {
                                  store.PutBlock(entry, canonical);
                                  ASSERT_TRUE(Succeeded(store.Commit()));
                              },
                              [&store](const BlockEntry& entry, const BlockBody& body,
                                       bool connected) { store.MoveTip(entry, body, connected); }});
}

/** Runs `sql` on the database in `dir` behind the store's back; false when it fails. */
bool ExecOn(const std::string& dir, const std::string& sql) {
    sqlite3* db = nullptr;
    bool ok = sqlite3_open((dir + "/" + STORE_FILE_NAME).c_str(), &db) == SQLITE_OK &&
              sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
    sqlite3_close(db);
    return ok;
}

/** The txids of the stored mempool, in stored order. */
std::vector<std::string> StoredMempool(const std::string& dir) {
    return test::StoredColumn(dir, "SELECT txid FROM mempool ORDER BY seq");
}

std::vector<std::string> TxIdsOf(const std::vector<Transaction>& txs) {
    std::vector<std::string> txids;
    for (const Transaction& tx : txs)
        txids.push_back(TxId(tx));
    return txids;
}

/**
 * Stands in for the node's loop: the writer posts completions here and the test thread runs
 * them. With `hold_first`, the writer is held inside its first post until Release(), so whatever
 * is submitted meanwhile is known to wait for one later commit.
 */
class FakeLoop {
public:
    explicit FakeLoop(bool hold_first) : m_holding(hold_first) {}

    Store::Poster Poster() {
        return [this](std::function<void()> completion) {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_posted.push_back(std::move(completion));
            ++m_posts;
            m_changed.notify_all();
            // Bounded, so a failed test cannot leave the writer (and Close) hanging.
            m_changed.wait_for(lock, std::chrono::seconds(10), [this] { return !m_holding; });
        };
    }
    /** Waits until the writer has posted `count` completions in all. */
    bool WaitPosts(std::size_t count) {
        std::unique_lock<std::mutex> lock(m_mutex);
        return m_changed.wait_for(lock, std::chrono::seconds(10), [&] { return m_posts >= count; });
    }
    void Release() {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_holding = false;
        m_changed.notify_all();
    }
    /** Runs what was posted so far, in order, first waiting up to `wait` for something. */
    std::size_t RunPosted(std::chrono::milliseconds wait = std::chrono::milliseconds(0)) {
        std::deque<std::function<void()>> ready;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_changed.wait_for(lock, wait, [this] { return !m_posted.empty(); });
            ready.swap(m_posted);
        }
        for (auto& completion : ready)
            completion();
        return ready.size();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<std::function<void()>> m_posted;
    std::size_t m_posts = 0;
    bool m_holding;
};

/** Opens `store` on `dir` and loads it into `chain`. */
Status OpenAndLoad(Store& store, const std::string& dir, ChainState& chain,
                   std::vector<StoredPeer>& peers, StoreLoadStats& stats) {
    Status opened = store.Open(OptionsFor(dir));
    return opened.Ok() ? store.LoadInto(chain, peers, stats) : opened;
}

Status Reload(const std::string& dir, ChainState& chain, StoreLoadStats& stats) {
    Store store;
    std::vector<StoredPeer> peers;
    return OpenAndLoad(store, dir, chain, peers, stats);
}

TEST(Store, CreatesMetaAndKeepsNodeId) {
    Dir dir;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        EXPECT_EQ(store.NodeId(), NODE_ID);
    }
    Store store;
    StoreOptions options = OptionsFor(dir.Path());
    options.new_node_id = std::string(32, 'b');
    ASSERT_TRUE(Succeeded(store.Open(options)));
    EXPECT_EQ(store.NodeId(), NODE_ID);
}

TEST(Store, ALegacyRandomNodeIdGivesWayToTheIdOfTheNodesKey) {
    Dir dir;
    std::ofstream(dir.Path() + "/node_id") << std::string(32, 'c') << "\n";
    Store store;
    ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
    EXPECT_EQ(store.NodeId(), NODE_ID);
}

TEST(Store, TheNodeKeyIsKeptInItsFileAndInMetaAndEitherRestoresTheOther) {
    Dir dir;
    const std::string key_file = dir.Path() + "/" + NODE_KEY_FILE_NAME;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        EXPECT_EQ(store.KeySeed(), TestSeed());
    }
    struct stat st {};
    ASSERT_EQ(::stat(key_file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    Result<std::optional<NodeKeySeed>> read = ReadKeyFile(dir.Path());
    ASSERT_TRUE(read.Ok() && read.Value());
    EXPECT_EQ(*read.Value(), TestSeed());
    // The file lost: the database's copy brings it back, and the node keeps its id.
    ASSERT_EQ(std::remove(key_file.c_str()), 0);
    StoreOptions other = OptionsFor(dir.Path());
    other.new_key_seed = TestSeed(0x22);
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(other)));
        EXPECT_EQ(store.NodeId(), NODE_ID);
    }
    read = ReadKeyFile(dir.Path());
    ASSERT_TRUE(read.Ok() && read.Value());
    EXPECT_EQ(*read.Value(), TestSeed());
    // Another node's key file next to this database: refused, naming both, nothing changed.
    ASSERT_TRUE(WriteKeyFile(dir.Path(), TestSeed(0x33)).Ok());
    {
        Store store;
        Status refused = store.Open(other);
        ASSERT_FALSE(refused.Ok());
        EXPECT_EQ(refused.Code(), StatusCode::Incompatible);
        EXPECT_NE(refused.Message().find(NODE_ID), std::string::npos) << refused.Message();
        EXPECT_NE(refused.Message().find(NodeKey::FromSeed(TestSeed(0x33)).NodeId()),
                  std::string::npos)
            << refused.Message();
    }
    // A damaged key file is refused too, rather than replaced.
    std::ofstream(key_file, std::ios::trunc) << "# a comment\nnot a key\n";
    Store store;
    Status refused = store.Open(other);
    ASSERT_FALSE(refused.Ok());
    EXPECT_EQ(refused.Code(), StatusCode::Corrupt);
}

TEST(Store, SecondOpenOfOneDirectoryIsRefused) {
    Dir dir;
    Store first;
    ASSERT_TRUE(Succeeded(first.Open(OptionsFor(dir.Path()))));
    Store second;
    Status refused = second.Open(OptionsFor(dir.Path()));
    EXPECT_EQ(refused.Code(), StatusCode::InUse);
    const std::string& error = refused.Message();
    EXPECT_NE(error.find("already in use"), std::string::npos) << error;
    EXPECT_NE(error.find(dir.Path()), std::string::npos) << error;
    first.Close();
    EXPECT_TRUE(Succeeded(second.Open(OptionsFor(dir.Path()))));
}

TEST(Store, OtherNetworkIsRefusedAndLeftUnchanged) {
    Dir dir;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
    }
    std::string path = dir.Path() + "/" + STORE_FILE_NAME;
    auto before = std::filesystem::file_size(path);
    Store store;
    StoreOptions options = OptionsFor(dir.Path());
    options.network_id = "another-network";
    Status refused = store.Open(options);
    EXPECT_EQ(refused.Code(), StatusCode::Incompatible);
    const std::string& error = refused.Message();
    EXPECT_NE(error.find("belongs to network"), std::string::npos) << error;
    EXPECT_NE(error.find(dir.Path()), std::string::npos) << error;
    store.Close();
    EXPECT_EQ(std::filesystem::file_size(path), before);
    EXPECT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
}

TEST(Store, NewerSchemaIsRefused) {
    Dir dir;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.Path() + "/" + STORE_FILE_NAME).c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value='99' WHERE key='schema_version'", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    Store store;
    Status refused = store.Open(OptionsFor(dir.Path()));
    EXPECT_EQ(refused.Code(), StatusCode::Incompatible);
    EXPECT_NE(refused.Message().find("schema version 99"), std::string::npos) << refused.Message();
}

/** Stores `blocks` blocks in a new store in `dir` and closes it (checkpointed into the file). */
void FillAndClose(const std::string& dir, std::size_t blocks) {
    Store store;
    ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir))));
    ChainState chain(Options());
    Attach(chain, store);
    for (const Block& block : MakeBranch(chain.Params(), test::TipBlock(chain), blocks, 1))
        chain.ProcessBlock(block, NOW);
}

/** Opens a store on `dir`, expecting a refusal of kind `code` naming the directory; its text. */
std::string RefusedOpen(const std::string& dir, StatusCode code) {
    Store store;
    Status refused = store.Open(OptionsFor(dir));
    EXPECT_EQ(refused.Code(), code) << refused.Message();
    EXPECT_NE(refused.Message().find("data directory " + dir), std::string::npos)
        << refused.Message();
    EXPECT_FALSE(store.IsOpen());
    return refused.Message();
}

TEST(Store, CorruptFileIsRefused) {
    Dir dir;
    FillAndClose(dir.Path(), 50);
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
    auto before = test::DirectoryContents(dir.Path());
    EXPECT_NE(RefusedOpen(dir.Path(), StatusCode::Corrupt).find("is damaged"), std::string::npos);
    EXPECT_EQ(test::DirectoryContents(dir.Path()), before);
}

TEST(Store, TruncatedFileIsRefusedAtAnySizeAndLeftUnchanged) {
    // Bytes kept of the database; HALF stands for half of it.
    constexpr std::uintmax_t HALF = ~std::uintmax_t{0};
    for (std::uintmax_t keep :
         {std::uintmax_t{0}, std::uintmax_t{100}, std::uintmax_t{4096}, HALF}) {
        Dir dir;
        FillAndClose(dir.Path(), 50);
        std::string path = dir.Path() + "/" + STORE_FILE_NAME;
        std::uintmax_t size = std::filesystem::file_size(path);
        ASSERT_GT(size, 8192u);
        std::filesystem::resize_file(path, keep == HALF ? size / 2 : keep);
        auto before = test::DirectoryContents(dir.Path());
        std::string error = RefusedOpen(dir.Path(), StatusCode::Corrupt);
        EXPECT_EQ(test::DirectoryContents(dir.Path()), before) << keep << " bytes: " << error;
        if (keep == 0) {
            EXPECT_NE(error.find("is empty (0 bytes) but this directory has held a database"),
                      std::string::npos)
                << error;
            EXPECT_NE(error.find("move the data directory away"), std::string::npos) << error;
        } else {
            EXPECT_NE(error.find("is damaged"), std::string::npos) << keep << ": " << error;
        }
    }
}

TEST(Store, MissingDatabaseOfADirectoryThatHeldOneIsRefused) {
    // Removed after a clean stop: LOCK still names the last owner.
    {
        Dir dir;
        FillAndClose(dir.Path(), 3);
        std::filesystem::remove(dir.Path() + "/" + STORE_FILE_NAME);
        auto before = test::DirectoryContents(dir.Path());
        std::string error = RefusedOpen(dir.Path(), StatusCode::Corrupt);
        EXPECT_NE(error.find("is missing but this directory has held a database (LOCK names"),
                  std::string::npos)
            << error;
        EXPECT_EQ(test::DirectoryContents(dir.Path()), before);
    }
    // SQLite's files of a database without it, even with LOCK gone too.
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
        Dir dir;
        std::string name = std::string(STORE_FILE_NAME) + suffix;
        std::ofstream(dir.Path() + "/" + name) << "frames";
        auto before = test::DirectoryContents(dir.Path());
        std::string error = RefusedOpen(dir.Path(), StatusCode::Corrupt);
        EXPECT_NE(error.find("(" + name + " is there)"), std::string::npos) << error;
        EXPECT_EQ(test::DirectoryContents(dir.Path()), before) << name;
    }
}

TEST(Store, DirectoryThatNeverHeldADatabaseIsNew) {
    Dir dir;
    // What a first start interrupted before its database was complete leaves (an empty LOCK and
    // the half-built file), plus a file that is not the store's.
    std::ofstream(dir.Path() + "/" + STORE_LOCK_NAME);
    std::ofstream(dir.Path() + "/" + STORE_FILE_NAME + ".new") << "half a database";
    std::ofstream(dir.Path() + "/events.ndjson") << "{}\n";
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        EXPECT_EQ(store.NodeId(), NODE_ID);
        std::ifstream lock(dir.Path() + "/" + STORE_LOCK_NAME);
        std::string pid;
        std::getline(lock, pid);
        EXPECT_EQ(pid, std::to_string(::getpid()));
    }
    EXPECT_FALSE(std::filesystem::exists(dir.Path() + "/" + STORE_FILE_NAME + ".new"));
    // A directory that does not exist yet is new as well.
    std::string nested = dir.Path() + "/a/b";
    Store store;
    EXPECT_TRUE(Succeeded(store.Open(OptionsFor(nested))));
}

TEST(Store, DatabaseWithoutItsTablesIsRefused) {
    Dir dir;
    ASSERT_TRUE(ExecOn(dir.Path(), "CREATE TABLE other(x)"));
    auto before = test::DirectoryContents(dir.Path());
    std::string error = RefusedOpen(dir.Path(), StatusCode::Corrupt);
    EXPECT_NE(error.find("holds no gossipchain tables"), std::string::npos) << error;
    EXPECT_EQ(test::DirectoryContents(dir.Path()), before);
}

TEST(Store, LockThatIsASymlinkIsRefusedAndItsTargetUnchanged) {
    Dir outside;
    std::string target = outside.Path() + "/precious";
    std::ofstream(target) << "keep me\n";
    // In a new directory, and in one that holds a database.
    for (bool with_database : {false, true}) {
        Dir dir;
        if (with_database) {
            FillAndClose(dir.Path(), 3);
            std::filesystem::remove(dir.Path() + "/" + STORE_LOCK_NAME);
        }
        std::filesystem::create_symlink(target, dir.Path() + "/" + STORE_LOCK_NAME);
        auto before = test::DirectoryContents(dir.Path());
        std::string error = RefusedOpen(dir.Path(), StatusCode::Failed);
        EXPECT_NE(error.find("/LOCK is a symbolic link; refusing to start"), std::string::npos)
            << error;
        EXPECT_EQ(test::DirectoryContents(dir.Path()), before);
        EXPECT_EQ(test::DirectoryContents(outside.Path())["precious"], "keep me\n");
    }
}

TEST(Store, LockThatIsADirectoryOrAFifoIsRefused) {
    Dir dir;
    std::string lock = dir.Path() + "/" + STORE_LOCK_NAME;
    std::filesystem::create_directory(lock);
    EXPECT_NE(
        RefusedOpen(dir.Path(), StatusCode::Failed).find("/LOCK is a directory; refusing to start"),
        std::string::npos);
    std::filesystem::remove(lock);
    ASSERT_EQ(::mkfifo(lock.c_str(), 0644), 0);
    EXPECT_NE(
        RefusedOpen(dir.Path(), StatusCode::Failed).find("/LOCK is a FIFO; refusing to start"),
        std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir.Path() + "/" + STORE_FILE_NAME));
}

TEST(Store, OtherStoreFilesThatAreSymlinksAreRefused) {
    Dir outside;
    std::string target = outside.Path() + "/precious";
    std::ofstream(target) << "keep me\n";
    FillAndClose(outside.Path() + "/real", 3);
    // chain.sqlite itself (linking the whole directory is the way), SQLite's files next to it
    // (a link there would have SQLite overwrite its target), the legacy node_id file.
    for (std::string name : {std::string(STORE_FILE_NAME), std::string(STORE_FILE_NAME) + "-wal",
                             std::string(STORE_FILE_NAME) + "-shm", std::string("node_id")}) {
        Dir dir;
        if (name != STORE_FILE_NAME)
            FillAndClose(dir.Path(), 3);
        std::string link_target =
            name == STORE_FILE_NAME ? outside.Path() + "/real/" + STORE_FILE_NAME : target;
        std::filesystem::create_symlink(link_target, dir.Path() + "/" + name);
        auto before = test::DirectoryContents(dir.Path());
        std::string error = RefusedOpen(dir.Path(), StatusCode::Failed);
        EXPECT_NE(error.find("/" + name + " is a symbolic link; refusing to start"),
                  std::string::npos)
            << error;
        EXPECT_EQ(test::DirectoryContents(dir.Path()), before) << name;
        EXPECT_EQ(test::DirectoryContents(outside.Path())["precious"], "keep me\n") << name;
    }
}

TEST(Store, DataDirectoryMayBeASymlink) {
    Dir root;
    std::filesystem::create_directory(root.Path() + "/real");
    std::string link = root.Path() + "/link";
    std::filesystem::create_directory_symlink(root.Path() + "/real", link);
    FillAndClose(link, 3);
    EXPECT_TRUE(std::filesystem::is_regular_file(root.Path() + "/real/" + STORE_FILE_NAME));
    ChainState chain(Options());
    StoreLoadStats stats;
    ASSERT_TRUE(Succeeded(Reload(link, chain, stats)));
    EXPECT_EQ(stats.blocks, 3u);
    EXPECT_EQ(chain.Height(), 4u);
}

TEST(Store, ForkedTreeReloadsWithSameTipAndSideBranch) {
    Dir dir;
    std::string tip;
    std::string side_tip;
    std::uint64_t height = 0;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        ChainState chain(Options());
        Attach(chain, store);
        const ConsensusParams& params = chain.Params();
        std::vector<Block> main = MakeBranch(params, test::TipBlock(chain), 6, 100);
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
        tip = chain.Tip().HashHex();
        side_tip = BlockHash(side.back());
        height = chain.Height();
    }
    ChainState chain(Options());
    StoreLoadStats stats;
    ASSERT_TRUE(Succeeded(Reload(dir.Path(), chain, stats)));
    EXPECT_EQ(stats.blocks, 6u + 2u + 5u);
    EXPECT_EQ(chain.Height(), height);
    EXPECT_EQ(chain.Tip().HashHex(), tip);
    EXPECT_EQ(chain.BlockCount(), 14u);
    const BlockEntry* side = chain.Find(side_tip);
    ASSERT_NE(side, nullptr);
    EXPECT_FALSE(chain.IsOnMainChain(*side));
    // Transactions of the abandoned blocks (heights 5..7 of the first branch) came back pending.
    EXPECT_EQ(chain.GetMempool().Size(), 3u);
    EXPECT_TRUE(chain.GetMempool().Contains(TxId(MakeTx(103))));
    EXPECT_EQ(chain.ConfirmedHeight(TxId(MakeTx(300))), 5u);
}

TEST(Store, BlocksWhoseContentLeftMemoryAreReadBackExactly) {
    Dir dir;
    std::vector<Block> main;
    std::vector<Block> side;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        ChainState chain(Options());
        Attach(chain, store);
        main = MakeBranch(chain.Params(), test::TipBlock(chain), 6, 100);
        for (const Block& block : main)
            ASSERT_EQ(chain.ProcessBlock(block, NOW).status, BlockStatus::Connected);
        side = MakeBranch(chain.Params(), main[1], 3, 200);
        for (const Block& block : side)
            ASSERT_EQ(chain.ProcessBlock(block, NOW).status, BlockStatus::SideBranch);
    }
    // Loaded as the node loads it: nothing stored stays in memory.
    Store store;
    ChainState chain(Options());
    chain.SetBodySource(&store, 0);
    std::vector<StoredPeer> peers;
    StoreLoadStats stats;
    ASSERT_TRUE(Succeeded(OpenAndLoad(store, dir.Path(), chain, peers, stats)));
    ASSERT_EQ(chain.Height(), 7u);
    EXPECT_EQ(chain.ResidentStoredBodies(), 0u);
    for (std::uint64_t h = 2; h <= 7; ++h) {
        const BlockEntry& entry = *chain.AtHeight(h);
        EXPECT_EQ(entry.body, nullptr);
        std::shared_ptr<const BlockBody> body = chain.Body(entry);
        ASSERT_NE(body, nullptr) << h;
        EXPECT_EQ(body->block, main[h - 2]);
        EXPECT_EQ(body->txids, TxIdsOf(main[h - 2].transactions));
        std::string json;
        ASSERT_TRUE(chain.AppendBlockJson(entry, json));
        EXPECT_EQ(json, BlockJson(main[h - 2]));
    }
    // The side branch overtakes: the main chain's blocks are read back to be disconnected, and
    // their transactions are pending again; the new blocks get rows after the stored ones.
    Attach(chain, store);
    std::vector<Block> more = MakeBranch(chain.Params(), side.back(), 3, 300);
    for (const Block& block : more)
        chain.ProcessBlock(block, NOW);
    EXPECT_EQ(chain.Height(), 9u);
    EXPECT_EQ(chain.Tip().HashHex(), BlockHash(more.back()));
    for (std::uint64_t n = 102; n <= 105; ++n)
        EXPECT_TRUE(chain.GetMempool().Contains(TxId(MakeTx(n)))) << n;
    EXPECT_EQ(chain.Tip().seq, 6u + 3u + 3u);
    ASSERT_NE(chain.Body(chain.Tip()), nullptr);
    // A row changed behind the store's back reads as missing, never as another block.
    const BlockEntry& damaged = *chain.AtHeight(3);
    ASSERT_TRUE(ExecOn(dir.Path(),
                       "UPDATE blocks SET json = replace(json, '\"bob\"', "
                       "'\"eve\"') WHERE seq = " +
                           std::to_string(damaged.seq)));
    EXPECT_EQ(chain.Body(damaged), nullptr);
}

TEST(Store, MempoolRoundTripDropsConfirmed) {
    Dir dir;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        ChainState chain(Options());
        Attach(chain, store);
        for (std::uint64_t n = 1; n <= 5; ++n) {
            TxResult result = chain.SubmitTransaction(MakeTx(n), TxOrigin::Local);
            ASSERT_EQ(result.status, TxStatus::Accepted);
            store.PutTransaction(result.txid, MakeTx(n), TxOrigin::Local);
        }
        ASSERT_TRUE(Succeeded(store.Commit()));
        // A block confirms two of them.
        chain.ProcessBlock(MakeChild(chain.Params(), test::TipBlock(chain), {MakeTx(2), MakeTx(4)}),
                           NOW);
        ASSERT_EQ(chain.GetMempool().Size(), 3u);
    }
    ChainState chain(Options());
    StoreLoadStats stats;
    ASSERT_TRUE(Succeeded(Reload(dir.Path(), chain, stats)));
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
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        store.PutPeer("127.0.0.1:5001", 10);
        store.PutPeer("127.0.0.1:5002", 20);
        store.PutPeer("127.0.0.1:5003", 5, StoredPeerOrigin::Registered);
        // Written again as learned (gossip repeats it): it stays the operator's.
        store.PutPeer("127.0.0.1:5003", 6, StoredPeerOrigin::Learned);
        ASSERT_TRUE(Succeeded(store.Commit()));
    }
    auto addresses = [](const std::vector<StoredPeer>& peers) {
        std::vector<std::string> out;
        for (const StoredPeer& peer : peers)
            out.push_back(peer.address);
        return out;
    };
    {
        Store store;
        ChainState chain(Options());
        std::vector<StoredPeer> peers;
        StoreLoadStats stats;
        ASSERT_TRUE(Succeeded(OpenAndLoad(store, dir.Path(), chain, peers, stats)));
        // The operator's first, then the freshest.
        EXPECT_EQ(addresses(peers),
                  (std::vector<std::string>{"127.0.0.1:5003", "127.0.0.1:5002", "127.0.0.1:5001"}));
        EXPECT_EQ(peers[0].origin, StoredPeerOrigin::Registered);
        EXPECT_EQ(peers[0].last_seen_s, 6);
        EXPECT_EQ(peers[1].origin, StoredPeerOrigin::Learned);
        // Written anew, the table loses what the node forgot.
        store.ClearPeers();
        store.PutPeer("127.0.0.1:5002", 30);
        ASSERT_TRUE(Succeeded(store.Commit()));
    }
    Store store;
    ChainState chain(Options());
    std::vector<StoredPeer> peers;
    StoreLoadStats stats;
    ASSERT_TRUE(Succeeded(OpenAndLoad(store, dir.Path(), chain, peers, stats)));
    EXPECT_EQ(addresses(peers), std::vector<std::string>{"127.0.0.1:5002"});
}

TEST(Store, FullDiskRefusesThenRecoversKeepingBlocks) {
    Dir dir;
    StoreOptions options = OptionsFor(dir.Path());
    options.max_pages = 12;
    std::string tip;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(options)));
        ChainState chain(Options());
        std::string error;
        chain.SetHooks(ChainHooks{[&](const BlockEntry& entry, std::string_view canonical) {
                                      store.PutBlock(entry, canonical);
                                      Status committed = store.Commit();
                                      if (!committed.Ok())
                                          error = committed.Message();
                                  },
                                  [&](const BlockEntry& entry, const BlockBody& body,
                                      bool connected) { store.MoveTip(entry, body, connected); }});
        for (const Block& block : MakeBranch(chain.Params(), test::TipBlock(chain), 80, 1))
            chain.ProcessBlock(block, NOW);
        EXPECT_NE(error.find("full"), std::string::npos) << error;
        EXPECT_GT(store.PendingWrites(), 0u);
        // A transaction write fails too and is dropped (its client is told), not retried.
        std::size_t kept = store.PendingWrites();
        store.PutTransaction(TxId(MakeTx(999)), MakeTx(999), TxOrigin::Local);
        EXPECT_FALSE(store.Commit().Ok());
        EXPECT_EQ(store.PendingWrites(), kept);
        // Space returns: the blocks kept in memory reach the disk with the next commit.
        store.SetMaxPages(100000);
        EXPECT_TRUE(Succeeded(store.Probe()));
        EXPECT_EQ(store.PendingWrites(), 0u);
        tip = chain.Tip().HashHex();
    }
    ChainState chain(Options());
    StoreLoadStats stats;
    ASSERT_TRUE(Succeeded(Reload(dir.Path(), chain, stats)));
    EXPECT_EQ(stats.blocks, 80u);
    EXPECT_EQ(chain.Tip().HashHex(), tip);
    EXPECT_FALSE(chain.GetMempool().Contains(TxId(MakeTx(999))));
}

TEST(Store, BlocksWithEscapedStringsReloadExactly) {
    Dir dir;
    std::string tip;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        ChainState chain(Options());
        Attach(chain, store);
        // Escaped on the wire (ensure_ascii): the fast reader declines, the general one reads.
        Transaction odd = MakeTx(7, 3, "caf\u00e9 \"quoted\" \\ \U0001F600");
        chain.ProcessBlock(MakeChild(chain.Params(), test::TipBlock(chain), {odd}), NOW);
        chain.ProcessBlock(MakeChild(chain.Params(), test::TipBlock(chain), {MakeTx(8)}), NOW);
        ASSERT_EQ(chain.Height(), 3u);
        tip = chain.Tip().HashHex();
    }
    ChainState chain(Options());
    StoreLoadStats stats;
    ASSERT_TRUE(Succeeded(Reload(dir.Path(), chain, stats)));
    EXPECT_EQ(stats.blocks, 2u);
    EXPECT_EQ(chain.Tip().HashHex(), tip);
    EXPECT_EQ(test::BlockOf(chain, *chain.AtHeight(2)).transactions[0].sender,
              "caf\u00e9 \"quoted\" \\ \U0001F600");
}

TEST(Store, ProbeNeedsRealSpace) {
    Dir dir;
    StoreOptions options = OptionsFor(dir.Path());
    options.max_pages = 16;
    Store store;
    ASSERT_TRUE(Succeeded(store.Open(options)));
    Status committed;
    for (std::uint64_t n = 1; n < 10000 && committed.Ok(); ++n) {
        store.PutTransaction(TxId(MakeTx(n)), MakeTx(n), TxOrigin::Local);
        committed = store.Commit();
    }
    ASSERT_FALSE(committed.Ok());
    EXPECT_EQ(store.PendingWrites(), 0u);
    EXPECT_FALSE(store.Probe().Ok());
    store.SetMaxPages(100000);
    EXPECT_TRUE(Succeeded(store.Probe()));
}

TEST(Store, UpgradesSchemaOneInPlace) {
    Dir dir;
    // A data directory as schema 1 wrote it, with one pending transaction.
    std::string json;
    AppendTransactionJson(json, MakeTx(1));
    ASSERT_TRUE(ExecOn(
        dir.Path(),
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE blocks(seq INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, parent TEXT NOT "
        "NULL, height INTEGER NOT NULL, json BLOB NOT NULL);"
        "CREATE TABLE main_chain(height INTEGER PRIMARY KEY, hash TEXT NOT NULL);"
        "CREATE TABLE mempool(seq INTEGER PRIMARY KEY, txid TEXT NOT NULL UNIQUE, json BLOB NOT "
        "NULL);"
        "CREATE TABLE peers(address TEXT PRIMARY KEY, last_seen INTEGER NOT NULL, banned_until "
        "INTEGER NOT NULL DEFAULT 0);"
        "INSERT INTO meta VALUES('schema_version','1');"
        "INSERT INTO meta VALUES('network_id','" +
            NetworkId(EasyParams()) + "');INSERT INTO meta VALUES('node_id','" + NODE_ID +
            "');INSERT INTO mempool(txid, json) VALUES('" + TxId(MakeTx(1)) + "','" + json +
            "');INSERT INTO peers VALUES('127.0.0.1:5001', 7, 0);"));
    Store store;
    ChainState chain(Options());
    std::vector<StoredPeer> peers;
    StoreLoadStats stats;
    ASSERT_TRUE(Succeeded(OpenAndLoad(store, dir.Path(), chain, peers, stats)));
    EXPECT_EQ(store.NodeId(), NODE_ID);
    EXPECT_EQ(stats.mempool, 1u);
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers[0].address, "127.0.0.1:5001");
    EXPECT_EQ(peers[0].origin, StoredPeerOrigin::Learned);
    store.PutBan("node:" + NODE_ID, 1);
    store.PutTransaction(TxId(MakeTx(2)), MakeTx(2), TxOrigin::Relay);
    EXPECT_TRUE(Succeeded(store.Commit()));
    store.Close();
    EXPECT_EQ(test::StoredColumn(dir.Path(), "SELECT value FROM meta WHERE key = 'schema_version'"),
              std::vector<std::string>{std::to_string(STORE_SCHEMA_VERSION)});
    EXPECT_EQ(StoredMempool(dir.Path()).size(), 2u);
}

TEST(Store, BansRoundTripKeepingOnlyRunningOnes) {
    Dir dir;
    constexpr std::int64_t NOW_MS = 1'800'000'000'000;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        store.PutBan("node:" + std::string(32, 'e'), NOW_MS + 60'000);
        // Written again with an earlier end (an older snapshot): the longer ban stays.
        store.PutBan("node:" + std::string(32, 'e'), NOW_MS + 1'000);
        store.PutBan("192.0.2.7", NOW_MS + 5'000);
        store.PutBan("127.0.0.1:5009", NOW_MS - 1);
        ASSERT_TRUE(Succeeded(store.Commit()));
    }
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        Result<std::vector<StoredBan>> loaded = store.LoadBans(NOW_MS);
        ASSERT_TRUE(Succeeded(loaded.GetStatus()));
        const std::vector<StoredBan>& bans = loaded.Value();
        ASSERT_EQ(bans.size(), 2u);
        EXPECT_EQ(bans[0].key, "192.0.2.7");
        EXPECT_EQ(bans[0].until_ms, NOW_MS + 5'000);
        EXPECT_EQ(bans[1].key, "node:" + std::string(32, 'e'));
        EXPECT_EQ(bans[1].until_ms, NOW_MS + 60'000);
        // The ended ban is deleted with the next commit.
        ASSERT_TRUE(Succeeded(store.Commit()));
    }
    Store store;
    ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
    Result<std::vector<StoredBan>> loaded = store.LoadBans(NOW_MS + 10'000);
    ASSERT_TRUE(Succeeded(loaded.GetStatus()));
    const std::vector<StoredBan>& later = loaded.Value();
    ASSERT_EQ(later.size(), 1u);
    EXPECT_EQ(later[0].key, "node:" + std::string(32, 'e'));
}

TEST(Store, MempoolOriginSurvivesRestart) {
    Dir dir;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        store.PutTransaction(TxId(MakeTx(1)), MakeTx(1), TxOrigin::Relay);
        store.PutTransaction(TxId(MakeTx(2)), MakeTx(2), TxOrigin::Local);
        store.PutTransaction(TxId(MakeTx(3)), MakeTx(3), TxOrigin::Relay);
        // Relayed to us first, then submitted here: acknowledged, so protected.
        store.PutTransaction(TxId(MakeTx(3)), MakeTx(3), TxOrigin::Local);
        ASSERT_TRUE(Succeeded(store.Commit()));
    }
    ChainState::Options options = Options();
    options.mempool.max_txs = 3;
    ChainState chain(options);
    StoreLoadStats stats;
    ASSERT_TRUE(Succeeded(Reload(dir.Path(), chain, stats)));
    ASSERT_EQ(stats.mempool, 3u);
    // The pool is full: a new local transaction evicts the relayed one, and only that one.
    EXPECT_EQ(chain.SubmitTransaction(MakeTx(4), TxOrigin::Local).status, TxStatus::Accepted);
    EXPECT_EQ(TxIdsOf(chain.GetMempool().All()),
              (std::vector<std::string>{TxId(MakeTx(2)), TxId(MakeTx(3)), TxId(MakeTx(4))}));
    EXPECT_EQ(chain.SubmitTransaction(MakeTx(5), TxOrigin::Local).status, TxStatus::MempoolFull);
}

TEST(Store, StoredMempoolEqualsMemoryAfterReorgAndReload) {
    Dir dir;
    std::vector<std::string> before;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        ChainState chain(Options());
        Attach(chain, store);
        const ConsensusParams& params = chain.Params();
        for (std::uint64_t n = 1; n <= 4; ++n) {
            TxResult result = chain.SubmitTransaction(MakeTx(n), TxOrigin::Local);
            store.PutTransaction(result.txid, MakeTx(n), TxOrigin::Local);
        }
        ASSERT_TRUE(Succeeded(store.Commit()));
        // Blocks 2 and 3 confirm transactions 1..4; a longer branch from genesis confirms
        // none of them, so the reorg returns all four; then a block mines 2 and 3 again.
        Block b2 = MakeChild(params, test::TipBlock(chain), {MakeTx(1), MakeTx(2)});
        Block b3 = MakeChild(params, b2, {MakeTx(3), MakeTx(4)});
        ASSERT_EQ(chain.ProcessBlock(b2, NOW).status, BlockStatus::Connected);
        ASSERT_EQ(chain.ProcessBlock(b3, NOW).status, BlockStatus::Connected);
        ASSERT_EQ(chain.GetMempool().Size(), 0u);
        for (const Block& block : MakeBranch(params, test::BlockOf(chain, chain.Genesis()), 3, 100))
            chain.ProcessBlock(block, NOW);
        ASSERT_EQ(chain.Reorgs(), 1u);
        ASSERT_EQ(chain.GetMempool().Size(), 4u);
        chain.ProcessBlock(MakeChild(params, test::TipBlock(chain), {MakeTx(2), MakeTx(3)}), NOW);
        before = TxIdsOf(chain.GetMempool().All());
        // Returned newest block first: 3 and 4, then 1 and 2.
        ASSERT_EQ(before, (std::vector<std::string>{TxId(MakeTx(4)), TxId(MakeTx(1))}));
        ASSERT_TRUE(Succeeded(store.Commit()));
        EXPECT_EQ(StoredMempool(dir.Path()), before);
    }
    // A row that should not be there (written by an older build, or a mined transaction whose
    // delete was lost): reload leaves it out and deletes it.
    std::string json;
    AppendTransactionJson(json, MakeTx(2));
    ASSERT_TRUE(ExecOn(dir.Path(), "INSERT INTO mempool(txid, json) VALUES('" + TxId(MakeTx(2)) +
                                       "','" + json + "')"));
    Store store;
    ChainState chain(Options());
    std::vector<StoredPeer> peers;
    StoreLoadStats stats;
    ASSERT_TRUE(Succeeded(OpenAndLoad(store, dir.Path(), chain, peers, stats)));
    EXPECT_EQ(TxIdsOf(chain.GetMempool().All()), before);
    EXPECT_EQ(stats.mempool, 2u);
    ASSERT_TRUE(Succeeded(store.Commit()));
    EXPECT_EQ(StoredMempool(dir.Path()), before);
}

TEST(Store, WriterGroupsWhatArrivesDuringACommitAndAnswersInOrder) {
    Dir dir;
    constexpr std::size_t LATER = 20;
    FakeLoop loop(true);
    std::vector<std::pair<std::size_t, Status>> answered;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        store.StartWriter(loop.Poster());
        store.PutTransaction(TxId(MakeTx(1)), MakeTx(1), TxOrigin::Local);
        store.CommitAsync([&](const Status& committed) { answered.emplace_back(0, committed); });
        // The first commit is done and its writer is held; these queue behind it.
        ASSERT_TRUE(loop.WaitPosts(1));
        for (std::size_t i = 1; i <= LATER; ++i) {
            store.PutTransaction(TxId(MakeTx(100 + i)), MakeTx(100 + i), TxOrigin::Local);
            store.CommitAsync(
                [&, i](const Status& committed) { answered.emplace_back(i, committed); });
        }
        EXPECT_TRUE(answered.empty()) << "a completion ran on the writer thread";
        loop.Release();
        ASSERT_TRUE(loop.WaitPosts(2));
        EXPECT_EQ(loop.RunPosted(), 2u);
        EXPECT_EQ(store.Commits(), 2u) << "what arrived during a commit shares the next one";
    }
    ASSERT_EQ(answered.size(), LATER + 1);
    for (std::size_t i = 0; i < answered.size(); ++i) {
        EXPECT_EQ(answered[i].first, i);
        EXPECT_TRUE(Succeeded(answered[i].second));
    }
    EXPECT_EQ(StoredMempool(dir.Path()).size(), LATER + 1);
}

TEST(Store, WriterKeepsUpWithConcurrentSubmissions) {
    Dir dir;
    constexpr std::size_t REQUESTS = 300;
    constexpr std::size_t TXS_PER_REQUEST = 4;
    FakeLoop loop(false);
    std::vector<std::size_t> answered;
    std::size_t failed = 0;
    std::uint64_t commits = 0;
    std::string tip;
    {
        Store store;
        ASSERT_TRUE(Succeeded(store.Open(OptionsFor(dir.Path()))));
        ChainState chain(Options());
        chain.SetHooks(ChainHooks{[&](const BlockEntry& entry, std::string_view canonical) {
                                      store.PutBlock(entry, canonical);
                                  },
                                  [&](const BlockEntry& entry, const BlockBody& body,
                                      bool connected) { store.MoveTip(entry, body, connected); }});
        store.StartWriter(loop.Poster());
        std::vector<Block> blocks = MakeBranch(chain.Params(), test::TipBlock(chain), 30, 50'000);
        std::uint64_t n = 0;
        for (std::size_t r = 0; r < REQUESTS; ++r) {
            for (std::size_t t = 0; t < TXS_PER_REQUEST; ++t, ++n)
                store.PutTransaction(TxId(MakeTx(n)), MakeTx(n), TxOrigin::Local);
            if (r % 10 == 0)
                chain.ProcessBlock(blocks[r / 10], NOW);
            store.CommitAsync([&, r](const Status& committed) {
                answered.push_back(r);
                failed += !committed.Ok();
            });
            // The owner keeps running completions as a loop would, while the writer commits.
            loop.RunPosted();
        }
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (answered.size() < REQUESTS && std::chrono::steady_clock::now() < deadline)
            loop.RunPosted(std::chrono::milliseconds(100));
        commits = store.Commits();
        tip = chain.Tip().HashHex();
    }
    ASSERT_EQ(answered.size(), REQUESTS);
    for (std::size_t r = 0; r < REQUESTS; ++r)
        ASSERT_EQ(answered[r], r);
    EXPECT_EQ(failed, 0u);
    EXPECT_GE(commits, 1u);
    EXPECT_LE(commits, REQUESTS);
    EXPECT_EQ(StoredMempool(dir.Path()).size(), REQUESTS * TXS_PER_REQUEST);
    ChainState chain(Options());
    StoreLoadStats stats;
    ASSERT_TRUE(Succeeded(Reload(dir.Path(), chain, stats)));
    EXPECT_EQ(chain.Tip().HashHex(), tip);
    EXPECT_EQ(stats.blocks, 30u);
}

}  // namespace
}  // namespace gossipchain
