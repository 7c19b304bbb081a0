#include "util/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

TEST(Status, DefaultIsSuccessWithoutMessage) {
    Status status;
    EXPECT_TRUE(status.Ok());
    EXPECT_EQ(status.Code(), StatusCode::Ok);
    EXPECT_EQ(status.Message(), "");
}

TEST(Status, ErrorCarriesMessageAndCode) {
    Status failed = Status::Error("disk full");
    EXPECT_FALSE(failed.Ok());
    EXPECT_EQ(failed.Code(), StatusCode::Failed);
    EXPECT_EQ(failed.Message(), "disk full");

    Status in_use = Status::Error("locked by pid 7", StatusCode::InUse);
    EXPECT_FALSE(in_use.Ok());
    EXPECT_EQ(in_use.Code(), StatusCode::InUse);
    EXPECT_EQ(in_use.Message(), "locked by pid 7");
}

TEST(Status, ErrorWithoutAMessageIsStillAFailure) {
    Status status = Status::Error("", StatusCode::Corrupt);
    EXPECT_FALSE(status.Ok());
    EXPECT_EQ(status.Code(), StatusCode::Corrupt);
}

Result<int> Half(int n) {
    if (n % 2 != 0)
        return Status::Error(std::to_string(n) + " is odd", StatusCode::Failed);
    return n / 2;
}

TEST(Result, HoldsTheValueOnSuccess) {
    Result<int> half = Half(8);
    ASSERT_TRUE(half.Ok());
    EXPECT_EQ(half.Value(), 4);
    EXPECT_TRUE(half.GetStatus().Ok());
    EXPECT_EQ(half.Message(), "");
}

TEST(Result, HoldsTheStatusOnFailure) {
    Result<int> half = Half(7);
    EXPECT_FALSE(half.Ok());
    EXPECT_EQ(half.GetStatus().Code(), StatusCode::Failed);
    EXPECT_EQ(half.Message(), "7 is odd");
}

TEST(Result, MovesItsValueOut) {
    Result<std::unique_ptr<std::vector<int>>> made =
        std::make_unique<std::vector<int>>(std::vector<int>{1, 2, 3});
    ASSERT_TRUE(made.Ok());
    EXPECT_EQ(made->get()->size(), 3u);
    std::unique_ptr<std::vector<int>> taken = std::move(made).Value();
    ASSERT_NE(taken, nullptr);
    EXPECT_EQ(taken->at(2), 3);
}

TEST(Result, OfAStringIsNotConfusedWithItsError) {
    Result<std::string> text = std::string("fine");
    ASSERT_TRUE(text.Ok());
    EXPECT_EQ(text.Value(), "fine");
    Result<std::string> error = Status::Error("fine");
    EXPECT_FALSE(error.Ok());
    EXPECT_EQ(error.Message(), "fine");
}

}  // namespace
}  // namespace gossipchain
