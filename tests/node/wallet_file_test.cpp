#include "node/wallet_file.h"

#include "consensus/signed_tx.h"
#include "store/temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace gossipchain {
namespace {

TEST(WalletFile, CreatedWithMode0600AndReadBack) {
    test::TempDir dir;
    NodeKey key = NodeKey::Generate();
    const std::string path = dir.File("w");
    ASSERT_TRUE(CreateWalletFile(path, key).Ok());
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    Result<NodeKey> read = ReadWalletFile(path);
    ASSERT_TRUE(read.Ok()) << read.Message();
    EXPECT_EQ(read->PublicKey(), key.PublicKey());
    EXPECT_NE(WalletText(key).find("# address " + AddressOf(key.PublicKey())), std::string::npos);
}

TEST(WalletFile, NeverOverwritten) {
    test::TempDir dir;
    const std::string path = dir.File("w");
    NodeKey first = NodeKey::Generate();
    ASSERT_TRUE(CreateWalletFile(path, first).Ok());
    Status again = CreateWalletFile(path, NodeKey::Generate());
    EXPECT_FALSE(again.Ok());
    EXPECT_NE(again.Message().find("exists already"), std::string::npos) << again.Message();
    EXPECT_EQ(ReadWalletFile(path)->PublicKey(), first.PublicKey());
}

TEST(WalletFile, TextErrorsSayWhere) {
    const std::string seed(64, 'a');
    EXPECT_TRUE(ParseWalletText("# comment\n\n" + seed + "\r\n# after\n").Ok());
    EXPECT_NE(ParseWalletText("").Message().find("no key"), std::string::npos);
    EXPECT_NE(ParseWalletText("# x\nnot hex\n").Message().find("line 2"), std::string::npos);
    EXPECT_NE(ParseWalletText(seed + "\n" + seed + "\n").Message().find("more than one key"),
              std::string::npos);
    EXPECT_FALSE(ParseWalletText(std::string(MAX_WALLET_FILE_BYTES + 1, '#')).Ok());
}

TEST(WalletFile, ALinkOrMissingFileIsRefused) {
    test::TempDir dir;
    EXPECT_FALSE(ReadWalletFile(dir.File("missing")).Ok());
    ASSERT_TRUE(CreateWalletFile(dir.File("w"), NodeKey::Generate()).Ok());
    ASSERT_EQ(::symlink(dir.File("w").c_str(), dir.File("link").c_str()), 0);
    EXPECT_FALSE(ReadWalletFile(dir.File("link")).Ok());
}

}  // namespace
}  // namespace gossipchain
