#include "util/hex.h"

#include <array>

namespace gossipchain {

void HexEncodeTo(std::span<const std::uint8_t> bytes, char* out) {
    static constexpr char DIGITS[] = "0123456789abcdef";
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        out[2 * i] = DIGITS[bytes[i] >> 4];
        out[2 * i + 1] = DIGITS[bytes[i] & 0x0f];
    }
}

std::string HexEncode(std::span<const std::uint8_t> bytes) {
    std::string out(bytes.size() * 2, '\0');
    HexEncodeTo(bytes, out.data());
    return out;
}

bool HexDecodeTo(std::string_view hex, std::span<std::uint8_t> out) {
    if (hex.size() != 2 * out.size())
        return false;
    for (std::size_t i = 0; i < out.size(); ++i) {
        int high = HexDigitValue(hex[2 * i]);
        int low = HexDigitValue(hex[2 * i + 1]);
        if (high < 0 || low < 0)
            return false;
        out[i] = static_cast<std::uint8_t>(high * 16 + low);
    }
    return true;
}

bool IsLowerHex(std::string_view s, std::size_t length) {
    // One table lookup per character: this runs on every hash and id a peer sends.
    static constexpr auto LOWER_HEX = [] {
        std::array<bool, 256> table{};
        for (char c : std::string_view("0123456789abcdef"))
            table[static_cast<unsigned char>(c)] = true;
        return table;
    }();
    if (s.size() != length)
        return false;
    bool ok = true;
    for (char c : s)
        ok &= LOWER_HEX[static_cast<unsigned char>(c)];
    return ok;
}

bool IsValidUtf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int extra;
        std::uint32_t cp;
        if ((c & 0xe0) == 0xc0) {
            extra = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (end - p <= extra)
            return false;
        for (int i = 1; i <= extra; ++i) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        static constexpr std::uint32_t MIN_FOR_LENGTH[] = {0, 0x80, 0x800, 0x10000};
        if (cp < MIN_FOR_LENGTH[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        p += extra + 1;
    }
    return true;
}

int HexDigitValue(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

}  // namespace gossipchain
