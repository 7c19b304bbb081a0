// Hex encoding and the small string checks every layer needs (lowercase hex ids, UTF-8 validity).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace gossipchain {

/** Lowercase hex of `bytes`, two characters per byte. */
std::string HexEncode(std::span<const std::uint8_t> bytes);

/** The value of hex digit `c` (either case), or -1 when it is not one. */
int HexDigitValue(char c);

/** Reads exactly 2 * out.size() hex digits (either case) into `out`; false when `text` is not
 * that (`out` is then unspecified). */
bool HexDecodeTo(std::string_view text, std::span<std::uint8_t> out);

/** Writes the lowercase hex of `bytes` to `out`, which must hold 2 * bytes.size() chars. */
void HexEncodeTo(std::span<const std::uint8_t> bytes, char* out);

/** True when `s` is exactly `length` characters of lowercase hex. */
bool IsLowerHex(std::string_view s, std::size_t length);

/** True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
bool IsValidUtf8(std::string_view s);

}  // namespace gossipchain
