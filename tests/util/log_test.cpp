#include "util/log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace gossipchain {
namespace {

TEST(Log, EscapeLeavesPlainTextAlone) {
    EXPECT_EQ(EscapeLogText("block 9 a1b2c3 mined (2 txs)"), "block 9 a1b2c3 mined (2 txs)");
    EXPECT_EQ(EscapeLogText("Zoë → 東京 🙂"), "Zoë → 東京 🙂");
    EXPECT_EQ(EscapeLogText(""), "");
}

TEST(Log, EscapeLineBreaksTabsAndBackslash) {
    EXPECT_EQ(EscapeLogText("x\n2026-01-01T00:00:00.000Z info  block 9 mined"),
              "x\\n2026-01-01T00:00:00.000Z info  block 9 mined");
    EXPECT_EQ(EscapeLogText("a\rb\tc"), "a\\rb\\tc");
    // A literal backslash-n is doubled, so an escaped line break is never ambiguous.
    EXPECT_EQ(EscapeLogText("a\\nb"), "a\\\\nb");
}

TEST(Log, EscapeEveryOtherControlByteAsHex) {
    EXPECT_EQ(EscapeLogText("\x1b[2K\x1b[1Ahidden"), "\\x1b[2K\\x1b[1Ahidden");
    EXPECT_EQ(EscapeLogText(std::string("a\0b", 3)), "a\\x00b");
    EXPECT_EQ(EscapeLogText("\x7f\x08\x0b\x0c"), "\\x7f\\x08\\x0b\\x0c");
    for (int c = 0; c < 0x20; ++c) {
        std::string escaped = EscapeLogText(std::string(1, static_cast<char>(c)));
        EXPECT_EQ(escaped.front(), '\\') << c;
        EXPECT_TRUE(std::none_of(escaped.begin(), escaped.end(), [](char e) {
            return static_cast<unsigned char>(e) < 0x20;
        })) << c;
    }
}

TEST(Log, EscapeInvalidUtf8BytesAsHex) {
    // A lone 0x9b is CSI for a terminal in an 8-bit mode.
    EXPECT_EQ(EscapeLogText("a\x9b"
                            "31mb"),
              "a\\x9b31mb");
    EXPECT_EQ(EscapeLogText("\xc3\xa9\xff"), "\\xc3\\xa9\\xff");
}

TEST(Log, EscapeUnicodeControlsThatActOnLines) {
    EXPECT_EQ(EscapeLogText("a\xc2\x85"
                            "b"),
              "a\\u0085b");  // NEL
    EXPECT_EQ(EscapeLogText("a\xc2\x9b"
                            "31m"),
              "a\\u009b31m");  // CSI
    EXPECT_EQ(EscapeLogText("a\xe2\x80\xa8"
                            "b"),
              "a\\u2028b");  // line separator
    EXPECT_EQ(EscapeLogText("a\xe2\x80\xae"
                            "cba"),
              "a\\u202ecba");  // right-to-left override
    EXPECT_EQ(EscapeLogText("\xe2\x81\xa6"
                            "x"),
              "\\u2066x");                                               // left-to-right isolate
    EXPECT_EQ(EscapeLogText("\xe2\x80\x8f\xd8\x9c"), "\\u200f\\u061c");  // RLM, Arabic mark
    EXPECT_EQ(EscapeLogText("\xc2\xa0\xe2\x80\x94"), "\xc2\xa0\xe2\x80\x94");  // NBSP, em dash
}

TEST(Log, PrintfWritesExactlyOneLineWhateverTheArguments) {
    SetLogLevel(LogLevel::Info);
    ::testing::internal::CaptureStderr();
    LOG_INFO("transaction %s accepted (%s -> %s, %d)", "ab12",
             "x\n2026-01-01T00:00:00.000Z info  block 9 mined", "y\r\x1b[1A", 5);
    std::string written = ::testing::internal::GetCapturedStderr();
    ASSERT_FALSE(written.empty());
    EXPECT_EQ(std::count(written.begin(), written.end(), '\n'), 1) << written;
    EXPECT_EQ(written.back(), '\n');
    EXPECT_NE(written.find(" info  transaction ab12 accepted (x\\n2026-01-01T00:00:00.000Z info  "
                           "block 9 mined -> y\\r\\x1b[1A, 5)\n"),
              std::string::npos)
        << written;
}

TEST(Log, PrintfKeepsAndEscapesAnEmbeddedNul) {
    SetLogLevel(LogLevel::Info);
    ::testing::internal::CaptureStderr();
    LOG_INFO("a%cb", '\0');
    std::string written = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(written.find(" info  a\\x00b\n"), std::string::npos) << written;
}

TEST(Log, PrintfTruncationKeepsValidUtf8) {
    SetLogLevel(LogLevel::Info);
    // 1,022 ASCII bytes then a two-byte character: the 1 KiB buffer cuts it after its first byte.
    std::string text(1022, 'a');
    text += "\xc3\xa9";
    ::testing::internal::CaptureStderr();
    LOG_INFO("%s", text.c_str());
    std::string written = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(written.find("\\x"), std::string::npos);
    EXPECT_NE(written.find(std::string(1022, 'a') + "\n"), std::string::npos);
}

}  // namespace
}  // namespace gossipchain
