#include "primitives/json_reader.h"

#include "primitives/canonical_json.h"
#include "util/hex.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace gossipchain {
namespace {

using Json = nlohmann::json;

/** Longest piece of untrusted text copied into an error message, in bytes. */
constexpr std::size_t MAX_ERROR_SNIPPET_BYTES = 64;

// Untrusted text in error messages is escaped (so control bytes cannot reach a log or terminal)
// and shortened (so an error cannot be as large as the input).
std::string Quote(std::string_view text) {
    std::string out;
    AppendJsonString(out, text.substr(0, MAX_ERROR_SNIPPET_BYTES));
    if (text.size() > MAX_ERROR_SNIPPET_BYTES)
        out += "...";
    return out;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the rest is what people
// need ("parse error at line 1, column 3: syntax error ...").
std::string WithoutExceptionTag(std::string_view what) {
    if (!what.empty() && what.front() == '[') {
        std::size_t end = what.find("] ");
        if (end != std::string_view::npos)
            what.remove_prefix(end + 2);
    }
    return std::string(what);
}

// Builds the DOM from nlohmann's SAX events. It exists (instead of json::parse) so parsing can
// stop at the first container deeper than the limit, before a hostile "[[[[..." costs memory,
// and so duplicate keys, which Python would silently collapse to the last one, are refused.
class BoundedDomBuilder {
public:
    using number_integer_t = Json::number_integer_t;
    using number_unsigned_t = Json::number_unsigned_t;
    using number_float_t = Json::number_float_t;
    using string_t = Json::string_t;
    using binary_t = Json::binary_t;

    BoundedDomBuilder(Json& root, std::size_t max_depth) : m_root(root), m_max_depth(max_depth) {}

    bool null() { return Add(nullptr) != nullptr; }
    bool boolean(bool value) { return Add(value) != nullptr; }
    bool number_integer(number_integer_t value) { return Add(value) != nullptr; }
    bool number_unsigned(number_unsigned_t value) { return Add(value) != nullptr; }
    bool number_float(number_float_t value, const string_t& text) {
        // nlohmann reads an integer literal beyond 64 bits as the nearest double, which changes
        // its value (Python keeps it exact): refuse it rather than hash or relay another number.
        if (text.find_first_of(".eE") == string_t::npos)
            return Fail("integer " + Quote(text) + " does not fit in 64 bits");
        return Add(value) != nullptr;
    }
    bool string(string_t& value) { return Add(std::move(value)) != nullptr; }
    bool binary(binary_t& /*value*/) { return Fail("binary values are not JSON"); }

    bool start_object(std::size_t /*size*/) { return Open(Json::object()); }
    bool start_array(std::size_t /*size*/) { return Open(Json::array()); }
    bool end_object() { return Close(); }
    bool end_array() { return Close(); }

    bool key(string_t& name) {
        Json& object = *m_open.back();
        if (object.contains(name))
            return Fail("duplicate key " + Quote(name));
        m_slot = &object[name];
        return true;
    }

    bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                     const Json::exception& ex) {
        return Fail(WithoutExceptionTag(ex.what()));
    }

    const std::string& Error() const { return m_error; }

private:
    // Stores `value` where the parser is: the root, the end of the open array, or the slot of
    // the key just read. Returns where it went so containers can be opened in place.
    Json* Add(Json&& value) {
        if (m_open.empty()) {
            m_root = std::move(value);
            return &m_root;
        }
        Json& parent = *m_open.back();
        if (parent.is_array()) {
            parent.push_back(std::move(value));
            return &parent.back();
        }
        *m_slot = std::move(value);
        return m_slot;
    }

    bool Open(Json&& container) {
        if (m_open.size() >= m_max_depth) {
            return Fail("JSON nested deeper than " + std::to_string(m_max_depth) + " levels");
        }
        m_open.push_back(Add(std::move(container)));
        return true;
    }

    bool Close() {
        m_open.pop_back();
        return true;
    }

    bool Fail(std::string message) {
        if (m_error.empty())
            m_error = std::move(message);
        return false;
    }

    Json& m_root;
    std::size_t m_max_depth;
    /** The containers being filled, outermost first. Pointers stay valid: only the last grows. */
    std::vector<Json*> m_open;
    /** Where the value after the last key goes. */
    Json* m_slot = nullptr;
    std::string m_error;
};

// Finds exactly `names` in `json`, in that order, or names the first missing or extra key.
template <std::size_t N>
Status FindExactKeys(const Json& json, const std::array<const char*, N>& names, const char* what,
                     std::array<const Json*, N>& values) {
    if (!json.is_object())
        return Status::Error(std::string(what) + " must be a JSON object, got " + json.type_name());
    for (std::size_t i = 0; i < N; ++i) {
        auto it = json.find(names[i]);
        if (it == json.end())
            return Status::Error(std::string(what) + ": missing key \"" + names[i] + "\"");
        values[i] = &*it;
    }
    if (json.size() != N) {
        // Every name is present, so at least one key is not a name; report the first.
        for (const auto& [key, value] : json.items()) {
            bool known = false;
            for (const char* name : names)
                known = known || key == name;
            if (!known)
                return Status::Error(std::string(what) + ": unexpected key " + Quote(key));
        }
    }
    return {};
}

std::string Describe(const Json& value) {
    if (value.is_number_float()) {
        std::string text = "float ";
        AppendJsonDouble(text, value.get<double>());
        return text;
    }
    if (value.is_number())
        return "integer " + value.dump();
    return value.type_name();
}

// The readers below write into a field of the value being built (no copy of it on success) and
// say why not otherwise.

Status ReadString(const Json& value, const char* key, std::string& out) {
    if (!value.is_string())
        return Status::Error(std::string("\"") + key + "\" must be a string, got " +
                             Describe(value));
    const auto& text = value.get_ref<const std::string&>();
    if (!IsValidUtf8(text))
        return Status::Error(std::string("\"") + key + "\" is not valid UTF-8");
    out = text;
    return {};
}

Status ReadUint(const Json& value, const char* key, std::uint64_t& out) {
    if (value.is_number_unsigned()) {
        out = value.get<std::uint64_t>();
        return {};
    }
    if (value.is_number_integer()) {
        auto signed_value = value.get<std::int64_t>();
        if (signed_value >= 0) {
            out = static_cast<std::uint64_t>(signed_value);
            return {};
        }
        return Status::Error(std::string("\"") + key + "\" must be a non-negative integer, got " +
                             std::to_string(signed_value));
    }
    return Status::Error(std::string("\"") + key + "\" must be an integer, got " + Describe(value));
}

Status ReadInt(const Json& value, const char* key, std::int64_t& out) {
    if (value.is_number_integer() && !value.is_number_unsigned()) {
        out = value.get<std::int64_t>();
        return {};
    }
    if (value.is_number_unsigned()) {
        auto unsigned_value = value.get<std::uint64_t>();
        if (unsigned_value <=
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            out = static_cast<std::int64_t>(unsigned_value);
            return {};
        }
        return Status::Error(std::string("\"") + key +
                             "\" is out of range: " + std::to_string(unsigned_value));
    }
    return Status::Error(std::string("\"") + key + "\" must be an integer, got " + Describe(value));
}

Status ReadTimestamp(const Json& value, double& out) {
    if (value.is_number_float()) {
        out = value.get<double>();
        if (std::isfinite(out))
            return {};
        return Status::Error("\"timestamp\" must be finite");
    }
    if (value.is_number()) {
        // Python's time() always returns a float, which json.dumps writes with a ".0" or a
        // fraction; 1700000000 and 1700000000.0 hash differently, so guessing would fork.
        return Status::Error("\"timestamp\" must be a JSON float such as " + value.dump() +
                             ".0 (Python's time() is a float), got integer " + value.dump());
    }
    return Status::Error("\"timestamp\" must be a float, got " + Describe(value));
}

Status ReadPreviousHash(const Json& value, PreviousHash& out) {
    if (value.is_string()) {
        std::string hash;
        if (Status read = ReadString(value, "previous_hash", hash); !read.Ok())
            return read;
        out = std::move(hash);
        return {};
    }
    if (value.is_number_integer()) {
        std::int64_t link = 0;
        if (Status read = ReadInt(value, "previous_hash", link); !read.Ok())
            return read;
        out = link;
        return {};
    }
    return Status::Error("\"previous_hash\" must be a string or an integer, got " +
                         Describe(value));
}

/** The fields both shapes share: sender, recipient, amount (the first three of `values`). */
Status ReadTransfer(const std::array<const char*, 3> keys, const Json* const* values,
                    Transaction& tx) {
    if (Status read = ReadString(*values[0], keys[0], tx.sender); !read.Ok())
        return read;
    if (Status read = ReadString(*values[1], keys[1], tx.recipient); !read.Ok())
        return read;
    return ReadInt(*values[2], keys[2], tx.amount);
}

Status ReadSignedTransaction(const Json& json, Transaction& tx) {
    static constexpr std::array<const char*, 5> KEYS = {"sender", "recipient", "amount", "nonce",
                                                        "signature"};
    std::array<const Json*, 5> values{};
    if (Status found = FindExactKeys(json, KEYS, "signed transaction", values); !found.Ok())
        return found;
    if (Status read = ReadTransfer({KEYS[0], KEYS[1], KEYS[2]}, values.data(), tx); !read.Ok())
        return read;
    std::uint64_t nonce = 0;
    if (Status read = ReadUint(*values[3], KEYS[3], nonce); !read.Ok())
        return read;
    tx.nonce = nonce;
    return ReadString(*values[4], KEYS[4], tx.signature);
}

Status ReadTransaction(const Json& json, Transaction& tx) {
    // A "nonce" key marks the signed shape; everything else is read as the id shape, whose
    // errors name what it misses.
    if (json.is_object() && json.contains("nonce"))
        return ReadSignedTransaction(json, tx);
    static constexpr std::array<const char*, 4> KEYS = {"sender", "recipient", "amount", "id"};
    std::array<const Json*, 4> values{};
    if (Status found = FindExactKeys(json, KEYS, "transaction", values); !found.Ok())
        return found;
    if (Status read = ReadTransfer({KEYS[0], KEYS[1], KEYS[2]}, values.data(), tx); !read.Ok())
        return read;
    return ReadString(*values[3], KEYS[3], tx.id);
}

Status ReadBlock(const Json& json, Block& block) {
    static constexpr std::array<const char*, 5> KEYS = {"index", "timestamp", "transactions",
                                                        "proof", "previous_hash"};
    std::array<const Json*, 5> values{};
    if (Status found = FindExactKeys(json, KEYS, "block", values); !found.Ok())
        return found;
    if (Status read = ReadUint(*values[0], KEYS[0], block.index); !read.Ok())
        return read;
    if (Status read = ReadTimestamp(*values[1], block.timestamp); !read.Ok())
        return read;
    const Json& transactions = *values[2];
    if (!transactions.is_array())
        return Status::Error("\"transactions\" must be an array, got " + Describe(transactions));
    // Reserved, not resized: a hostile array of many small items touches memory only as far as
    // it reads well.
    block.transactions.reserve(transactions.size());
    for (std::size_t i = 0; i < transactions.size(); ++i) {
        if (Status read = ReadTransaction(transactions[i], block.transactions.emplace_back());
            !read.Ok())
            return Status::Error("transactions[" + std::to_string(i) + "]: " + read.Message());
    }
    if (Status read = ReadUint(*values[3], KEYS[3], block.proof); !read.Ok())
        return read;
    return ReadPreviousHash(*values[4], block.previous_hash);
}

}  // namespace

Result<nlohmann::json> ParseJson(std::string_view text, std::size_t max_depth) {
    // nlohmann's lexer takes a NUL byte for the end of the input (as in a C string), so
    // "{}\0<anything>" would pass. No JSON text holds a raw NUL (strings spell it \u0000).
    if (std::size_t nul = text.find('\0'); nul != std::string_view::npos)
        return Status::Error("NUL byte at offset " + std::to_string(nul) + " of the JSON text");
    try {
        Json root;
        BoundedDomBuilder builder(root, max_depth);
        if (!Json::sax_parse(text.begin(), text.end(), &builder))
            return Status::Error(builder.Error().empty() ? "invalid JSON" : builder.Error());
        return root;
    } catch (const std::exception& ex) {
        return Status::Error(std::string("cannot parse JSON: ") + ex.what());
    }
}

Result<Transaction> TransactionFromJson(const nlohmann::json& json) {
    try {
        Transaction tx;
        if (Status read = ReadTransaction(json, tx); !read.Ok())
            return read;
        return tx;
    } catch (const std::exception& ex) {
        return Status::Error(std::string("cannot read transaction: ") + ex.what());
    }
}

Result<Block> BlockFromJson(const nlohmann::json& json) {
    try {
        Block block;
        if (Status read = ReadBlock(json, block); !read.Ok())
            return read;
        return block;
    } catch (const std::exception& ex) {
        return Status::Error(std::string("cannot read block: ") + ex.what());
    }
}

nlohmann::json TransactionToJson(const Transaction& tx) {
    if (tx.IsSigned()) {
        return Json{{"sender", tx.sender},
                    {"recipient", tx.recipient},
                    {"amount", tx.amount},
                    {"nonce", *tx.nonce},
                    {"signature", tx.signature}};
    }
    return Json{
        {"sender", tx.sender}, {"recipient", tx.recipient}, {"amount", tx.amount}, {"id", tx.id}};
}

nlohmann::json BlockToJson(const Block& block) {
    Json transactions = Json::array();
    for (const auto& tx : block.transactions)
        transactions.push_back(TransactionToJson(tx));
    Json previous_hash =
        std::visit([](const auto& link) { return Json(link); }, block.previous_hash);
    return Json{{"index", block.index},
                {"timestamp", block.timestamp},
                {"transactions", std::move(transactions)},
                {"proof", block.proof},
                {"previous_hash", std::move(previous_hash)}};
}

}  // namespace gossipchain
