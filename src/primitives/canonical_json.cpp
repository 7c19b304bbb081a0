#include "primitives/canonical_json.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace gossipchain {
namespace {

// True for the bytes Python's ensure_ascii output cannot copy as they are: everything outside
// printable ASCII (' ' to '~'), so control characters, DEL (0x7f) and every byte of a multi-byte
// UTF-8 sequence, plus the quote and the backslash. The byte-wise tail of a scan uses this
// table; WordNeedsEscape below is the same test for eight bytes at once.
constexpr std::array<bool, 256> NEEDS_ESCAPE = [] {
    std::array<bool, 256> table{};
    for (std::size_t c = 0; c < table.size(); ++c)
        table[c] = c < 0x20 || c > 0x7e;
    table['"'] = true;
    table['\\'] = true;
    return table;
}();

void AppendUnicodeEscape(std::string& out, std::uint32_t unit) {
    static constexpr char DIGITS[] = "0123456789abcdef";
    char buf[6] = {'\\',
                   'u',
                   DIGITS[(unit >> 12) & 0xf],
                   DIGITS[(unit >> 8) & 0xf],
                   DIGITS[(unit >> 4) & 0xf],
                   DIGITS[unit & 0xf]};
    out.append(buf, sizeof(buf));
}

// Decodes one code point starting at s[i] (valid UTF-8 assumed; a stray byte is taken as is).
std::uint32_t DecodeCodePoint(std::string_view s, std::size_t& i) {
    auto c = static_cast<unsigned char>(s[i]);
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    std::uint32_t cp = extra == 3 ? (c & 0x07) : extra == 2 ? (c & 0x0f) : (c & 0x1f);
    if (extra == 0 || i + extra >= s.size()) {
        ++i;
        return c;
    }
    for (int k = 1; k <= extra; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    i += extra + 1;
    return cp;
}

// The letter of the two-character escapes Python uses (\n for a newline), or 0 for bytes that
// take the \u00XX form.
char ShortEscape(unsigned char c) {
    switch (c) {
        case '"':
            return '"';
        case '\\':
            return '\\';
        case '\n':
            return 'n';
        case '\r':
            return 'r';
        case '\t':
            return 't';
        case '\b':
            return 'b';
        case '\f':
            return 'f';
        default:
            return 0;
    }
}

// True when any of the eight bytes in `word` needs escaping. Word-at-a-time ("SWAR") tests let
// the hex hashes and ids that make up most of a block be scanned eight bytes per step; each test
// is exact about whether some byte matches, which is all the caller needs.
bool WordNeedsEscape(std::uint64_t word) {
    constexpr std::uint64_t ONES = 0x0101010101010101;
    constexpr std::uint64_t HIGH = 0x8080808080808080;
    auto has_zero_byte = [](std::uint64_t v) { return (v - ONES) & ~v & HIGH; };
    std::uint64_t below_space = (word - ONES * 0x20) & ~word & HIGH;
    return ((word & HIGH) | below_space | has_zero_byte(word ^ (ONES * 0x7f)) |
            has_zero_byte(word ^ (ONES * '"')) | has_zero_byte(word ^ (ONES * '\\'))) != 0;
}

// The index of the first byte at or after `i` that needs escaping, or s.size().
std::size_t PlainRunEnd(std::string_view s, std::size_t i) {
    while (i + sizeof(std::uint64_t) <= s.size()) {
        std::uint64_t word;
        std::memcpy(&word, s.data() + i, sizeof(word));
        if (WordNeedsEscape(word))
            break;
        i += sizeof(word);
    }
    while (i < s.size() && !NEEDS_ESCAPE[static_cast<unsigned char>(s[i])])
        ++i;
    return i;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
    out.push_back('"');
    std::size_t i = 0;
    while (i < s.size()) {
        // Copy the longest run that needs no escaping in one append.
        std::size_t run = PlainRunEnd(s, i);
        out.append(s.data() + i, run - i);
        i = run;
        if (i >= s.size())
            break;
        auto c = static_cast<unsigned char>(s[i]);
        if (char escape = ShortEscape(c)) {
            out.push_back('\\');
            out.push_back(escape);
            ++i;
            continue;
        }
        if (c < 0x80) {
            AppendUnicodeEscape(out, c);
            ++i;
            continue;
        }
        std::uint32_t cp = DecodeCodePoint(s, i);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            AppendUnicodeEscape(out, 0xd800 + (cp >> 10));
            AppendUnicodeEscape(out, 0xdc00 + (cp & 0x3ff));
        } else {
            AppendUnicodeEscape(out, cp);
        }
    }
    out.push_back('"');
}

void AppendJsonInt(std::string& out, std::int64_t value) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof(buf), value);
    out.append(buf, res.ptr);
}

void AppendJsonUint(std::string& out, std::uint64_t value) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof(buf), value);
    out.append(buf, res.ptr);
}

void AppendJsonDouble(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value < 0 ? "-Infinity" : "Infinity";
        return;
    }
    // Shortest round-trip digits in scientific form ("d.ddde±XX"), then laid out as Python's
    // float_repr_style 'short' does: fixed notation when -4 <= exponent < 16, else exponent form.
    char sci[32];
    auto res = std::to_chars(sci, sci + sizeof(sci), value, std::chars_format::scientific);
    std::string_view text(sci, static_cast<std::size_t>(res.ptr - sci));
    bool negative = text.front() == '-';
    if (negative)
        text.remove_prefix(1);
    std::size_t e_pos = text.find('e');
    int exponent = 0;
    std::from_chars(text.data() + e_pos + 1 + (text[e_pos + 1] == '+'), text.data() + text.size(),
                    exponent);
    char digits[20];
    std::size_t n = 0;
    for (std::size_t k = 0; k < e_pos; ++k) {
        if (text[k] != '.')
            digits[n++] = text[k];
    }
    if (negative)
        out.push_back('-');
    if (exponent < -4 || exponent >= 16) {
        out.push_back(digits[0]);
        if (n > 1) {
            out.push_back('.');
            out.append(digits + 1, n - 1);
        }
        // Python writes at least two exponent digits with an explicit sign: 1e-05, 1e+16.
        out.push_back('e');
        out.push_back(exponent < 0 ? '-' : '+');
        int magnitude = exponent < 0 ? -exponent : exponent;
        if (magnitude < 10)
            out.push_back('0');
        char exp_buf[4];
        auto exp_end = std::to_chars(exp_buf, exp_buf + sizeof(exp_buf), magnitude).ptr;
        out.append(exp_buf, exp_end);
    } else if (exponent < 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-exponent - 1), '0');
        out.append(digits, n);
    } else {
        auto int_digits = static_cast<std::size_t>(exponent) + 1;
        if (n <= int_digits) {
            out.append(digits, n);
            out.append(int_digits - n, '0');
            out += ".0";
        } else {
            out.append(digits, int_digits);
            out.push_back('.');
            out.append(digits + int_digits, n - int_digits);
        }
    }
}

namespace {
/** The signed shape up to its last key before "signature", without the closing brace. */
void AppendSignedFields(std::string& out, const Transaction& tx) {
    // Keys in sorted order: amount, nonce, recipient, sender (, signature).
    out += "{\"amount\": ";
    AppendJsonInt(out, tx.amount);
    out += ", \"nonce\": ";
    AppendJsonUint(out, tx.nonce.value_or(0));
    out += ", \"recipient\": ";
    AppendJsonString(out, tx.recipient);
    out += ", \"sender\": ";
    AppendJsonString(out, tx.sender);
}
}  // namespace

void AppendUnsignedTransactionJson(std::string& out, const Transaction& tx) {
    AppendSignedFields(out, tx);
    out.push_back('}');
}

void AppendTransactionJson(std::string& out, const Transaction& tx) {
    if (tx.IsSigned()) {
        AppendSignedFields(out, tx);
        out += ", \"signature\": ";
        AppendJsonString(out, tx.signature);
        out.push_back('}');
        return;
    }
    // Keys in sorted order: amount, id, recipient, sender.
    out += "{\"amount\": ";
    AppendJsonInt(out, tx.amount);
    out += ", \"id\": ";
    AppendJsonString(out, tx.id);
    out += ", \"recipient\": ";
    AppendJsonString(out, tx.recipient);
    out += ", \"sender\": ";
    AppendJsonString(out, tx.sender);
    out.push_back('}');
}

void AppendBlockJson(std::string& out, const Block& block) {
    // Keys in sorted order: index, previous_hash, proof, timestamp, transactions.
    out += "{\"index\": ";
    AppendJsonUint(out, block.index);
    out += ", \"previous_hash\": ";
    if (const auto* hash = std::get_if<std::string>(&block.previous_hash)) {
        AppendJsonString(out, *hash);
    } else {
        AppendJsonInt(out, std::get<std::int64_t>(block.previous_hash));
    }
    out += ", \"proof\": ";
    AppendJsonUint(out, block.proof);
    out += ", \"timestamp\": ";
    AppendJsonDouble(out, block.timestamp);
    out += ", \"transactions\": [";
    for (std::size_t i = 0; i < block.transactions.size(); ++i) {
        if (i)
            out += ", ";
        AppendTransactionJson(out, block.transactions[i]);
    }
    out += "]}";
}

std::string BlockJson(const Block& block) {
    std::string out;
    out.reserve(160 + block.transactions.size() * 160);
    AppendBlockJson(out, block);
    return out;
}

namespace {
/** Python's json.dumps separators: item (", " or ",") and key (": " or ":"). */
struct Separators {
    std::string_view item;
    std::string_view key;
};

void AppendValue(std::string& out, const nlohmann::json& value, const Separators& sep) {
    using Type = nlohmann::json::value_t;
    switch (value.type()) {
        case Type::null:
            out += "null";
            return;
        case Type::boolean:
            out += value.get<bool>() ? "true" : "false";
            return;
        case Type::number_integer:
            AppendJsonInt(out, value.get<std::int64_t>());
            return;
        case Type::number_unsigned:
            AppendJsonUint(out, value.get<std::uint64_t>());
            return;
        case Type::number_float:
            AppendJsonDouble(out, value.get<double>());
            return;
        case Type::string:
            AppendJsonString(out, value.get_ref<const std::string&>());
            return;
        case Type::array: {
            out.push_back('[');
            bool first = true;
            for (const auto& item : value) {
                if (!first)
                    out += sep.item;
                first = false;
                AppendValue(out, item, sep);
            }
            out.push_back(']');
            return;
        }
        case Type::object: {
            // nlohmann::json keeps object keys in a std::map ordered by UTF-8 bytes, which is
            // code-point order, the order Python's sort_keys uses.
            out.push_back('{');
            bool first = true;
            for (const auto& [key, item] : value.get_ref<const nlohmann::json::object_t&>()) {
                if (!first)
                    out += sep.item;
                first = false;
                AppendJsonString(out, key);
                out += sep.key;
                AppendValue(out, item, sep);
            }
            out.push_back('}');
            return;
        }
        case Type::binary:
        case Type::discarded:
            out += "null";
            return;
    }
}
}  // namespace

std::string CanonicalJson(const nlohmann::json& value) {
    std::string out;
    AppendValue(out, value, Separators{", ", ": "});
    return out;
}

std::string CompactJson(const nlohmann::json& value) {
    std::string out;
    AppendValue(out, value, Separators{",", ":"});
    return out;
}

}  // namespace gossipchain
