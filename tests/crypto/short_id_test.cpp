// Tests of compact-block short ids: stable for one block, different under another block's key
// (so collisions cannot be prepared), and the precomputed-key form agrees with the plain one.
#include "crypto/short_id.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

namespace gossipchain {
namespace {

const std::string BLOCK_A(64, 'a');
const std::string BLOCK_B = std::string(31, 'a') + "b" + std::string(32, 'a');
const std::string TXID = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

TEST(ShortTxId, IsStableAndAgreesWithThePrecomputedKey) {
    EXPECT_EQ(ShortTxId(BLOCK_A, TXID), ShortTxId(BLOCK_A, TXID));
    EXPECT_EQ(ShortTxId(ShortIdKeyOf(BLOCK_A), TXID), ShortTxId(BLOCK_A, TXID));
}

TEST(ShortTxId, TheKeyIsTheFirstSixteenBytesOfTheBlockHash) {
    // BLOCK_B differs in byte 15: another key, another id.
    EXPECT_NE(ShortTxId(BLOCK_A, TXID), ShortTxId(BLOCK_B, TXID));
    // A difference past the first 16 bytes does not change the key.
    std::string tail_differs = BLOCK_A;
    tail_differs[63] = 'b';
    EXPECT_EQ(ShortTxId(BLOCK_A, TXID), ShortTxId(tail_differs, TXID));
}

TEST(ShortTxId, ManyTxidsGetDistinctIds) {
    std::set<std::uint32_t> ids;
    for (int i = 0; i < 10'000; ++i) {
        char txid[65];
        std::snprintf(txid, sizeof(txid), "%064x", i);
        ids.insert(ShortTxId(BLOCK_A, txid));
    }
    EXPECT_EQ(ids.size(), 10'000u);
}

}  // namespace
}  // namespace gossipchain
