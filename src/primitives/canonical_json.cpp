#include "primitives/canonical_json.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <map>

namespace gossipchain {
namespace {

void AppendUnicodeEscape(std::string& out, std::uint32_t unit) {
    static constexpr char DIGITS[] = "0123456789abcdef";
    char buf[6] = {'\\', 'u', DIGITS[(unit >> 12) & 0xf], DIGITS[(unit >> 8) & 0xf],
                   DIGITS[(unit >> 4) & 0xf], DIGITS[unit & 0xf]};
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
    for (int k = 1; k <= extra; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    i += extra + 1;
    return cp;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
    out.push_back('"');
    std::size_t i = 0;
    while (i < s.size()) {
        // Copy the longest run that needs no escaping in one append.
        std::size_t run = i;
        while (run < s.size()) {
            auto c = static_cast<unsigned char>(s[run]);
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
            ++run;
        }
        out.append(s.data() + i, run - i);
        i = run;
        if (i >= s.size()) break;
        auto c = static_cast<unsigned char>(s[i]);
        switch (c) {
            case '"': out += "\\\""; ++i; continue;
            case '\\': out += "\\\\"; ++i; continue;
            case '\n': out += "\\n"; ++i; continue;
            case '\r': out += "\\r"; ++i; continue;
            case '\t': out += "\\t"; ++i; continue;
            case '\b': out += "\\b"; ++i; continue;
            case '\f': out += "\\f"; ++i; continue;
            default: break;
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
    if (negative) text.remove_prefix(1);
    std::size_t e_pos = text.find('e');
    int exponent = 0;
    std::from_chars(text.data() + e_pos + 1 + (text[e_pos + 1] == '+'), text.data() + text.size(),
                    exponent);
    char digits[20];
    std::size_t n = 0;
    for (std::size_t k = 0; k < e_pos; ++k) {
        if (text[k] != '.') digits[n++] = text[k];
    }
    if (negative) out.push_back('-');
    if (exponent < -4 || exponent >= 16) {
        out.push_back(digits[0]);
        if (n > 1) {
            out.push_back('.');
            out.append(digits + 1, n - 1);
        }
        char exp_buf[8];
        int magnitude = exponent < 0 ? -exponent : exponent;
        int len = std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+',
                                magnitude);
        out.append(exp_buf, static_cast<std::size_t>(len));
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

void AppendTransactionJson(std::string& out, const Transaction& tx) {
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
        if (i) out += ", ";
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
void AppendValue(std::string& out, const nlohmann::json& value) {
    using Type = nlohmann::json::value_t;
    switch (value.type()) {
        case Type::null: out += "null"; return;
        case Type::boolean: out += value.get<bool>() ? "true" : "false"; return;
        case Type::number_integer: AppendJsonInt(out, value.get<std::int64_t>()); return;
        case Type::number_unsigned: AppendJsonUint(out, value.get<std::uint64_t>()); return;
        case Type::number_float: AppendJsonDouble(out, value.get<double>()); return;
        case Type::string: AppendJsonString(out, value.get_ref<const std::string&>()); return;
        case Type::array: {
            out.push_back('[');
            bool first = true;
            for (const auto& item : value) {
                if (!first) out += ", ";
                first = false;
                AppendValue(out, item);
            }
            out.push_back(']');
            return;
        }
        case Type::object: {
            // nlohmann::json keeps object keys in a std::map ordered by UTF-8 bytes, which is
            // code-point order, the order Python's sort_keys uses.
            out.push_back('{');
            bool first = true;
            for (const auto& [key, item] : value.items()) {
                if (!first) out += ", ";
                first = false;
                AppendJsonString(out, key);
                out += ": ";
                AppendValue(out, item);
            }
            out.push_back('}');
            return;
        }
        case Type::binary:
        case Type::discarded: out += "null"; return;
    }
}
}  // namespace

std::string CanonicalJson(const nlohmann::json& value) {
    std::string out;
    AppendValue(out, value);
    return out;
}

}  // namespace gossipchain
