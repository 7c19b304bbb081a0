// Test helper: vectors spell bytes as hex; these turn them into the std::string a payload or frame
// is, and back.
#pragma once

#include "util/hex.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace gossipchain::test {

/** The bytes `hex` spells, two hex digits per byte; anything else is a test failure. */
inline std::string FromHex(std::string_view hex) {
    EXPECT_EQ(hex.size() % 2, 0u) << hex;
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        const int high = HexDigitValue(hex[i]);
        const int low = HexDigitValue(hex[i + 1]);
        EXPECT_TRUE(high >= 0 && low >= 0) << hex;
        out.push_back(static_cast<char>(high * 16 + low));
    }
    return out;
}

/** Lowercase hex of `bytes`. */
inline std::string ToHex(std::string_view bytes) {
    return HexEncode(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

}  // namespace gossipchain::test
