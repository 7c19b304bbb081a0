#include "store/data_dir.h"

#include "store/stored_rows.h"
#include "store/temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace gossipchain {
namespace {

using test::TempDir;

TEST(StoreDataDir, SecondLockIsRefusedNamingTheHolder) {
    TempDir dir;
    DataDirLock first;
    ASSERT_TRUE(first.Lock(dir.Path()).Ok());
    first.WritePid();
    // flock belongs to the open file, so a second lock in this process is refused as another
    // process's would be.
    DataDirLock second;
    Status refused = second.Lock(dir.Path());
    EXPECT_EQ(refused.Code(), StatusCode::InUse);
    EXPECT_NE(refused.Message().find("pid " + std::to_string(::getpid())), std::string::npos)
        << refused.Message();
    first.Unlock();
    EXPECT_TRUE(second.Lock(dir.Path()).Ok());
    EXPECT_GT(second.SizeWhenLocked(), 0u);
}

TEST(StoreDataDir, UndoRemovesOnlyALockThisOpenCreated) {
    TempDir dir;
    {
        DataDirLock lock;
        ASSERT_TRUE(lock.Lock(dir.Path()).Ok());
        EXPECT_EQ(lock.SizeWhenLocked(), 0u);
        lock.UnlockAndUndo();
        EXPECT_FALSE(lock.Locked());
    }
    EXPECT_FALSE(std::filesystem::exists(dir.File(STORE_LOCK_NAME)));

    dir.Write(STORE_LOCK_NAME, "");
    {
        DataDirLock lock;
        ASSERT_TRUE(lock.Lock(dir.Path()).Ok());
        lock.UnlockAndUndo();
    }
    EXPECT_TRUE(std::filesystem::exists(dir.File(STORE_LOCK_NAME)));

    std::filesystem::remove(dir.File(STORE_LOCK_NAME));
    {
        // Once the pid is written a database exists, and LOCK is its evidence: it stays.
        DataDirLock lock;
        ASSERT_TRUE(lock.Lock(dir.Path()).Ok());
        lock.WritePid();
        lock.UnlockAndUndo();
    }
    EXPECT_EQ(test::DirectoryContents(dir.Path())[STORE_LOCK_NAME],
              std::to_string(::getpid()) + "\n");
}

TEST(StoreDataDir, WritePidReplacesALongerOne) {
    TempDir dir;
    dir.Write(STORE_LOCK_NAME, "12345678901234567890\n");
    DataDirLock lock;
    ASSERT_TRUE(lock.Lock(dir.Path()).Ok());
    EXPECT_EQ(lock.SizeWhenLocked(), 21u);
    lock.WritePid();
    EXPECT_EQ(test::DirectoryContents(dir.Path())[STORE_LOCK_NAME],
              std::to_string(::getpid()) + "\n");
}

TEST(StoreDataDir, LockThatIsNotARegularFileIsRefused) {
    TempDir dir;
    ASSERT_EQ(::mkfifo(dir.File(STORE_LOCK_NAME).c_str(), 0644), 0);
    DataDirLock lock;
    Status refused = lock.Lock(dir.Path());
    EXPECT_FALSE(refused.Ok());
    EXPECT_NE(refused.Message().find("is a FIFO"), std::string::npos) << refused.Message();
}

TEST(StoreDataDir, FileTypesAreCheckedForEveryStoreFile) {
    TempDir dir;
    EXPECT_TRUE(CheckStoreFileTypes(dir.Path()).Ok());
    dir.Write(STORE_FILE_NAME, "x");
    dir.Write("unrelated", "x");
    EXPECT_TRUE(CheckStoreFileTypes(dir.Path()).Ok());
    for (const std::string& name :
         {std::string(STORE_FILE_NAME) + "-wal", std::string("node_id")}) {
        std::filesystem::create_symlink("/etc/passwd", dir.File(name));
        Status refused = CheckStoreFileTypes(dir.Path());
        EXPECT_NE(refused.Message().find(name + " is a symbolic link"), std::string::npos)
            << refused.Message();
        std::filesystem::remove(dir.File(name));
    }
}

TEST(StoreDataDir, EvidenceOfADatabase) {
    TempDir dir;
    EXPECT_EQ(EvidenceOfDatabase(dir.Path(), 0), "");
    EXPECT_NE(EvidenceOfDatabase(dir.Path(), 6).find("LOCK names the process"), std::string::npos);
    dir.Write(std::string(STORE_FILE_NAME) + "-shm", "");
    EXPECT_EQ(EvidenceOfDatabase(dir.Path(), 0), "chain.sqlite-shm is there");
}

TEST(StoreDataDir, LegacyNodeIdIsReadOnlyWhenWellFormed) {
    TempDir dir;
    EXPECT_EQ(ReadLegacyNodeId(dir.Path()), "");
    const std::string id(32, 'c');
    dir.Write(LEGACY_NODE_ID_NAME, id + "\n");
    EXPECT_EQ(ReadLegacyNodeId(dir.Path()), id);
    dir.Write(LEGACY_NODE_ID_NAME, std::string(32, 'C'));
    EXPECT_EQ(ReadLegacyNodeId(dir.Path()), "");
    std::filesystem::remove(dir.File(LEGACY_NODE_ID_NAME));
    TempDir other;
    other.Write("id", id);
    std::filesystem::create_symlink(other.File("id"), dir.File(LEGACY_NODE_ID_NAME));
    EXPECT_EQ(ReadLegacyNodeId(dir.Path()), "");
}

}  // namespace
}  // namespace gossipchain
