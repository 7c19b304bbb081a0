#include "p2p/codec.h"

#include "consensus/params.h"
#include "consensus/signed_tx.h"
#include "util/hex.h"

#include <msgpack.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <new>

namespace gossipchain {
namespace {

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

// msgpack::packer writes through any stream with a lowercase write(); this one appends straight
// to the payload string so no intermediate buffer is copied.
class StringSink {
public:
    explicit StringSink(std::string& out) : m_out(out) {}
    void write(const char* data, std::size_t size) { m_out.append(data, size); }

private:
    std::string& m_out;
};

// Holds the sink so it is constructed before the packer that writes through it.
struct SinkHolder {
    StringSink sink;
};

// msgpack::packer plus the one form it will not write. packer's pack_uintN/pack_intN/pack_str
// pick the smallest encoding, which is what SPEC.md calls canonical (never use the pack_fix_*
// forms here). But msgpack-c 4's pack_double writes an integral double as an int, and a block
// timestamp must always be float64 on the wire (1700000000.0 hashes differently from
// 1700000000), so floats go through PackFloat64.
class Packer : private SinkHolder, public msgpack::packer<StringSink> {
public:
    explicit Packer(std::string& out)
        : SinkHolder{StringSink(out)}, msgpack::packer<StringSink>(sink) {}

    void PackFloat64(double value) {
        auto bits = std::bit_cast<std::uint64_t>(value);
        char bytes[9];
        bytes[0] = static_cast<char>(0xcb);
        for (int i = 0; i < 8; ++i)
            bytes[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
        sink.write(bytes, sizeof(bytes));
    }
};

void PackStr(Packer& pk, std::string_view s) {
    pk.pack_str(static_cast<std::uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

void PackStrArray(Packer& pk, const std::vector<std::string>& items) {
    pk.pack_array(static_cast<std::uint32_t>(items.size()));
    for (const auto& item : items)
        PackStr(pk, item);
}

void PackTransaction(Packer& pk, const Transaction& tx) {
    pk.pack_map(tx.IsSigned() ? 5 : 4);
    PackStr(pk, "sender");
    PackStr(pk, tx.sender);
    PackStr(pk, "recipient");
    PackStr(pk, tx.recipient);
    PackStr(pk, "amount");
    pk.pack_int64(tx.amount);
    if (tx.IsSigned()) {
        PackStr(pk, "nonce");
        pk.pack_uint64(*tx.nonce);
        PackStr(pk, "signature");
        PackStr(pk, tx.signature);
        return;
    }
    PackStr(pk, "id");
    PackStr(pk, tx.id);
}

void PackTransactions(Packer& pk, const std::vector<Transaction>& txs) {
    pk.pack_array(static_cast<std::uint32_t>(txs.size()));
    for (const auto& tx : txs)
        PackTransaction(pk, tx);
}

void PackBlock(Packer& pk, const Block& block) {
    // The tutorial's key order (new_block builds the dict in this order).
    pk.pack_map(5);
    PackStr(pk, "index");
    pk.pack_uint64(block.index);
    PackStr(pk, "timestamp");
    pk.PackFloat64(block.timestamp);
    PackStr(pk, "transactions");
    PackTransactions(pk, block.transactions);
    PackStr(pk, "proof");
    pk.pack_uint64(block.proof);
    PackStr(pk, "previous_hash");
    if (const auto* hash = std::get_if<std::string>(&block.previous_hash)) {
        PackStr(pk, *hash);
    } else {
        pk.pack_int64(std::get<std::int64_t>(block.previous_hash));
    }
}

void PackBody(Packer& pk, const Hello& m) {
    pk.pack_map(7);
    PackStr(pk, "protocol_version");
    pk.pack_uint32(m.protocol_version);
    PackStr(pk, "network_id");
    PackStr(pk, m.network_id);
    PackStr(pk, "node_id");
    PackStr(pk, m.node_id);
    PackStr(pk, "listen_port");
    pk.pack_uint16(m.listen_port);
    PackStr(pk, "height");
    pk.pack_uint64(m.height);
    PackStr(pk, "tip");
    PackStr(pk, m.tip);
    PackStr(pk, "agent");
    PackStr(pk, m.agent);
}

void PackNonce(Packer& pk, std::uint64_t nonce) {
    pk.pack_map(1);
    PackStr(pk, "nonce");
    pk.pack_uint64(nonce);
}

void PackBody(Packer& pk, const Ping& m) {
    PackNonce(pk, m.nonce);
}

void PackBody(Packer& pk, const Pong& m) {
    PackNonce(pk, m.nonce);
}

void PackBody(Packer& pk, const AnnounceBlock& m) {
    pk.pack_map(1);
    PackStr(pk, "block");
    PackBlock(pk, m.block);
}

void PackBody(Packer& pk, const RequestChain& m) {
    pk.pack_map(2);
    PackStr(pk, "locator");
    PackStrArray(pk, m.locator);
    PackStr(pk, "limit");
    pk.pack_uint32(m.limit);
}

void PackBody(Packer& pk, const Chain& m) {
    pk.pack_map(2);
    PackStr(pk, "blocks");
    pk.pack_array(static_cast<std::uint32_t>(m.blocks.size()));
    for (const auto& block : m.blocks)
        PackBlock(pk, block);
    PackStr(pk, "more");
    if (m.more) {
        pk.pack_true();
    } else {
        pk.pack_false();
    }
}

void PackBody(Packer& pk, const RegisterPeer& m) {
    pk.pack_map(2);
    PackStr(pk, "host");
    PackStr(pk, m.host);
    PackStr(pk, "port");
    pk.pack_uint16(m.port);
}

void PackBody(Packer& pk, const Peers& m) {
    pk.pack_map(1);
    PackStr(pk, "addresses");
    PackStrArray(pk, m.addresses);
}

void PackBody(Packer& pk, const NewTransactions& m) {
    pk.pack_map(1);
    PackStr(pk, "transactions");
    PackTransactions(pk, m.transactions);
}

void PackTxids(Packer& pk, const std::vector<std::string>& txids) {
    pk.pack_map(1);
    PackStr(pk, "txids");
    PackStrArray(pk, txids);
}

void PackBody(Packer& pk, const TxInventory& m) {
    PackTxids(pk, m.txids);
}

void PackBody(Packer& pk, const GetTransactions& m) {
    PackTxids(pk, m.txids);
}

void PackBody(Packer& pk, const BlockInventory& m) {
    pk.pack_map(2);
    PackStr(pk, "hash");
    PackStr(pk, m.hash);
    PackStr(pk, "height");
    pk.pack_uint64(m.height);
}

void PackBody(Packer& pk, const GetBlock& m) {
    pk.pack_map(1);
    PackStr(pk, "hash");
    PackStr(pk, m.hash);
}

void PackBody(Packer& pk, const CompactBlock& m) {
    pk.pack_map(4);
    PackStr(pk, "hash");
    PackStr(pk, m.hash);
    PackStr(pk, "header");
    PackBlock(pk, m.header);
    PackStr(pk, "short_ids");
    pk.pack_array(static_cast<std::uint32_t>(m.short_ids.size()));
    for (std::uint32_t id : m.short_ids)
        pk.pack_uint32(id);
    PackStr(pk, "prefilled");
    PackTransactions(pk, m.prefilled);
}

void PackBody(Packer& pk, const GetBlockTxs& m) {
    pk.pack_map(2);
    PackStr(pk, "hash");
    PackStr(pk, m.hash);
    PackStr(pk, "indexes");
    pk.pack_array(static_cast<std::uint32_t>(m.indexes.size()));
    for (std::uint32_t index : m.indexes)
        pk.pack_uint32(index);
}

void PackBody(Packer& pk, const BlockTxs& m) {
    pk.pack_map(2);
    PackStr(pk, "hash");
    PackStr(pk, m.hash);
    PackStr(pk, "transactions");
    PackTransactions(pk, m.transactions);
}

void PackBody(Packer& pk, const Reject& m) {
    pk.pack_map(2);
    PackStr(pk, "code");
    pk.pack_uint32(m.code);
    PackStr(pk, "reason");
    PackStr(pk, m.reason);
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

using Object = msgpack::object;

// The error of a failed body decode. The field path is built outward while the failure unwinds,
// so the success path never formats a string.
class Failure {
public:
    bool Invalid(std::string message) {
        m_message = std::move(message);
        return false;
    }
    void PrependKey(std::string_view key) {
        // Built by appending: GCC 12 at -O3 warns falsely (-Wrestrict) on insert(0, ...).
        std::string path(1, '.');
        path += key;
        path += m_path;
        m_path = std::move(path);
    }
    void PrependIndex(std::size_t index) { m_path.insert(0, "[" + std::to_string(index) + "]"); }
    DecodeError Take(std::string_view root) {
        return {DecodeErrorCode::InvalidField,
                std::string(root) + m_path + ": " + std::move(m_message)};
    }

private:
    std::string m_path;
    std::string m_message;
};

// Names the field a nested read failed in; written as `Field(f, "key", Read...(...))` so `&&`
// chains stop at the first failure.
bool Field(Failure& f, std::string_view key, bool ok) {
    if (!ok)
        f.PrependKey(key);
    return ok;
}

std::string_view StrView(const Object& o) {
    return {o.via.str.ptr, o.via.str.size};
}

template <typename T>
bool ReadUint(const Object& o, T& out, Failure& f,
              std::uint64_t max = std::numeric_limits<T>::max()) {
    if (o.type != msgpack::type::POSITIVE_INTEGER) {
        return f.Invalid("expected a non-negative integer");
    }
    if (o.via.u64 > max)
        return f.Invalid("integer above " + std::to_string(max));
    out = static_cast<T>(o.via.u64);
    return true;
}

bool ReadInt64(const Object& o, std::int64_t& out, Failure& f) {
    if (o.type == msgpack::type::NEGATIVE_INTEGER) {
        out = o.via.i64;
        return true;
    }
    return ReadUint(o, out, f);
}

bool ReadFloat64(const Object& o, double& out, Failure& f) {
    // float32 is refused too: a timestamp narrowed to float32 would hash differently.
    if (o.type != msgpack::type::FLOAT64)
        return f.Invalid("expected a float64");
    if (!std::isfinite(o.via.f64))
        return f.Invalid("float is not finite");
    out = o.via.f64;
    return true;
}

bool ReadBool(const Object& o, bool& out, Failure& f) {
    if (o.type != msgpack::type::BOOLEAN)
        return f.Invalid("expected a boolean");
    out = o.via.boolean;
    return true;
}

bool ReadText(const Object& o, std::size_t max_bytes, std::string& out, Failure& f) {
    if (o.type != msgpack::type::STR)
        return f.Invalid("expected a string");
    std::string_view text = StrView(o);
    if (text.size() > max_bytes) {
        return f.Invalid("string longer than " + std::to_string(max_bytes) + " bytes");
    }
    if (!IsValidUtf8(text))
        return f.Invalid("string is not valid UTF-8");
    out.assign(text);
    return true;
}

bool ReadHex(const Object& o, std::size_t chars, std::string& out, Failure& f) {
    if (o.type != msgpack::type::STR)
        return f.Invalid("expected a string");
    std::string_view text = StrView(o);
    if (!IsLowerHex(text, chars)) {
        return f.Invalid("expected " + std::to_string(chars) + " lowercase hex characters");
    }
    out.assign(text);
    return true;
}

bool ReadHash(const Object& o, std::string& out, Failure& f) {
    return ReadHex(o, HASH_HEX_CHARS, out, f);
}

template <typename T, typename ReadItem>
bool ReadArray(const Object& o, std::size_t max_items, std::vector<T>& out, Failure& f,
               ReadItem read_item) {
    if (o.type != msgpack::type::ARRAY)
        return f.Invalid("expected an array");
    if (o.via.array.size > max_items) {
        return f.Invalid("more than " + std::to_string(max_items) + " items");
    }
    out.resize(o.via.array.size);
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (!read_item(o.via.array.ptr[i], out[i], f)) {
            f.PrependIndex(i);
            return false;
        }
    }
    return true;
}

// Finds the value of every key in `keys` (all required, each at most once). Unknown keys are
// skipped when `allow_unknown` (message bodies: a later protocol may add fields) and refused
// otherwise (blocks and transactions: their hash covers every field, so an extra key would be
// silently dropped from what the sender meant).
template <std::size_t N>
bool FindFields(const Object& o, const std::array<std::string_view, N>& keys, bool allow_unknown,
                std::array<const Object*, N>& values, Failure& f) {
    static_assert(N <= 32, "the seen-set is a 32-bit mask");
    if (o.type != msgpack::type::MAP)
        return f.Invalid("expected a map");
    values.fill(nullptr);
    for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const msgpack::object_kv& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR)
            return f.Invalid("map key is not a string");
        auto it = std::find(keys.begin(), keys.end(), StrView(kv.key));
        if (it == keys.end()) {
            if (allow_unknown)
                continue;
            return f.Invalid("unexpected key");
        }
        auto index = static_cast<std::size_t>(it - keys.begin());
        if (values[index])
            return f.Invalid("duplicate key \"" + std::string(*it) + "\"");
        values[index] = &kv.val;
    }
    for (std::size_t i = 0; i < N; ++i) {
        if (!values[i])
            return f.Invalid("missing key \"" + std::string(keys[i]) + "\"");
    }
    return true;
}

// Key order is the canonical encoding order; the indices below follow it.
constexpr std::array<std::string_view, 4> TX_KEYS{"sender", "recipient", "amount", "id"};
constexpr std::array<std::string_view, 5> SIGNED_TX_KEYS{"sender", "recipient", "amount", "nonce",
                                                         "signature"};
constexpr std::array<std::string_view, 5> BLOCK_KEYS{"index", "timestamp", "transactions", "proof",
                                                     "previous_hash"};
constexpr std::array<std::string_view, 7> HELLO_KEYS{
    "protocol_version", "network_id", "node_id", "listen_port", "height", "tip", "agent"};

/** The fields both transaction shapes start with: sender, recipient, amount. */
bool ReadTransfer(const Object* const* v, Transaction& tx, Failure& f) {
    return Field(f, "sender", ReadText(*v[0], MAX_ADDRESS_BYTES, tx.sender, f)) &&
           Field(f, "recipient", ReadText(*v[1], MAX_ADDRESS_BYTES, tx.recipient, f)) &&
           Field(f, "amount", ReadInt64(*v[2], tx.amount, f));
}

bool ReadSignedTransaction(const Object& o, Transaction& tx, Failure& f) {
    std::array<const Object*, SIGNED_TX_KEYS.size()> v;
    std::uint64_t nonce = 0;
    if (!FindFields(o, SIGNED_TX_KEYS, false, v, f) || !ReadTransfer(v.data(), tx, f) ||
        !Field(f, "nonce", ReadUint(*v[3], nonce, f)) ||
        !Field(f, "signature", ReadHex(*v[4], SIGNATURE_HEX_CHARS, tx.signature, f)))
        return false;
    tx.nonce = nonce;
    return true;
}

/** A map with 5 entries is the signed shape (SPEC §5.2), any other the id shape. */
bool ReadTransaction(const Object& o, Transaction& tx, Failure& f) {
    if (o.type == msgpack::type::MAP && o.via.map.size == SIGNED_TX_KEYS.size())
        return ReadSignedTransaction(o, tx, f);
    std::array<const Object*, TX_KEYS.size()> v;
    return FindFields(o, TX_KEYS, false, v, f) && ReadTransfer(v.data(), tx, f) &&
           Field(f, "id", ReadHex(*v[3], TX_ID_HEX_CHARS, tx.id, f));
}

bool ReadTransactions(const Object& o, std::size_t max_items, std::vector<Transaction>& out,
                      Failure& f) {
    return ReadArray(o, max_items, out, f, ReadTransaction);
}

bool ReadPreviousHash(const Object& o, PreviousHash& out, Failure& f) {
    if (o.type == msgpack::type::STR)
        return ReadHash(o, out.emplace<std::string>(), f);
    if (o.type == msgpack::type::POSITIVE_INTEGER || o.type == msgpack::type::NEGATIVE_INTEGER) {
        return ReadInt64(o, out.emplace<std::int64_t>(), f);
    }
    return f.Invalid("expected an integer or a string");
}

bool ReadBlock(const Object& o, Block& block, Failure& f) {
    std::array<const Object*, BLOCK_KEYS.size()> v;
    return FindFields(o, BLOCK_KEYS, false, v, f) &&
           Field(f, "index", ReadUint(*v[0], block.index, f)) &&
           Field(f, "timestamp", ReadFloat64(*v[1], block.timestamp, f)) &&
           Field(f, "transactions",
                 ReadTransactions(*v[2], MAX_BLOCK_TRANSACTIONS, block.transactions, f)) &&
           Field(f, "proof", ReadUint(*v[3], block.proof, f, MAX_PROOF)) &&
           Field(f, "previous_hash", ReadPreviousHash(*v[4], block.previous_hash, f));
}

bool ReadBody(const Object& o, Hello& m, Failure& f) {
    std::array<const Object*, HELLO_KEYS.size()> v;
    return FindFields(o, HELLO_KEYS, true, v, f) &&
           Field(f, "protocol_version", ReadUint(*v[0], m.protocol_version, f)) &&
           Field(f, "network_id", ReadText(*v[1], MAX_NETWORK_ID_BYTES, m.network_id, f)) &&
           Field(f, "node_id", ReadHex(*v[2], NODE_ID_HEX_CHARS, m.node_id, f)) &&
           Field(f, "listen_port", ReadUint(*v[3], m.listen_port, f)) &&
           Field(f, "height", ReadUint(*v[4], m.height, f)) &&
           Field(f, "tip", ReadHash(*v[5], m.tip, f)) &&
           Field(f, "agent", ReadText(*v[6], MAX_AGENT_BYTES, m.agent, f));
}

bool ReadNonce(const Object& o, std::uint64_t& nonce, Failure& f) {
    static constexpr std::array<std::string_view, 1> KEYS{"nonce"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) && Field(f, "nonce", ReadUint(*v[0], nonce, f));
}

bool ReadBody(const Object& o, Ping& m, Failure& f) {
    return ReadNonce(o, m.nonce, f);
}

bool ReadBody(const Object& o, Pong& m, Failure& f) {
    return ReadNonce(o, m.nonce, f);
}

bool ReadBody(const Object& o, AnnounceBlock& m, Failure& f) {
    static constexpr std::array<std::string_view, 1> KEYS{"block"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) && Field(f, "block", ReadBlock(*v[0], m.block, f));
}

bool ReadBody(const Object& o, RequestChain& m, Failure& f) {
    static constexpr std::array<std::string_view, 2> KEYS{"locator", "limit"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) &&
           Field(f, "locator", ReadArray(*v[0], MAX_LOCATOR_HASHES, m.locator, f, ReadHash)) &&
           Field(f, "limit", ReadUint(*v[1], m.limit, f));
}

bool ReadBody(const Object& o, Chain& m, Failure& f) {
    static constexpr std::array<std::string_view, 2> KEYS{"blocks", "more"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) &&
           Field(f, "blocks", ReadArray(*v[0], MAX_CHAIN_BATCH_BLOCKS, m.blocks, f, ReadBlock)) &&
           Field(f, "more", ReadBool(*v[1], m.more, f));
}

bool ReadBody(const Object& o, RegisterPeer& m, Failure& f) {
    static constexpr std::array<std::string_view, 2> KEYS{"host", "port"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) &&
           Field(f, "host", ReadText(*v[0], MAX_HOST_BYTES, m.host, f)) &&
           Field(f, "port", ReadUint(*v[1], m.port, f));
}

bool ReadPeerAddress(const Object& o, std::string& out, Failure& f) {
    return ReadText(o, MAX_PEER_ADDRESS_BYTES, out, f);
}

bool ReadBody(const Object& o, Peers& m, Failure& f) {
    static constexpr std::array<std::string_view, 1> KEYS{"addresses"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) &&
           Field(f, "addresses",
                 ReadArray(*v[0], MAX_PEERS_PER_MESSAGE, m.addresses, f, ReadPeerAddress));
}

bool ReadBody(const Object& o, NewTransactions& m, Failure& f) {
    static constexpr std::array<std::string_view, 1> KEYS{"transactions"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) &&
           Field(f, "transactions",
                 ReadTransactions(*v[0], MAX_TXS_PER_MESSAGE, m.transactions, f));
}

bool ReadTxids(const Object& o, std::size_t max, std::vector<std::string>& txids, Failure& f) {
    static constexpr std::array<std::string_view, 1> KEYS{"txids"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) &&
           Field(f, "txids", ReadArray(*v[0], max, txids, f, ReadHash));
}

bool ReadBody(const Object& o, TxInventory& m, Failure& f) {
    return ReadTxids(o, MAX_INVENTORY_PER_MESSAGE, m.txids, f);
}

bool ReadBody(const Object& o, GetTransactions& m, Failure& f) {
    return ReadTxids(o, MAX_TXS_PER_MESSAGE, m.txids, f);
}

bool ReadBody(const Object& o, BlockInventory& m, Failure& f) {
    static constexpr std::array<std::string_view, 2> KEYS{"hash", "height"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) && Field(f, "hash", ReadHash(*v[0], m.hash, f)) &&
           Field(f, "height", ReadUint(*v[1], m.height, f));
}

bool ReadBody(const Object& o, GetBlock& m, Failure& f) {
    static constexpr std::array<std::string_view, 1> KEYS{"hash"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) && Field(f, "hash", ReadHash(*v[0], m.hash, f));
}

bool ReadU32(const Object& o, std::uint32_t& out, Failure& f) {
    return ReadUint(o, out, f);
}

bool ReadBody(const Object& o, CompactBlock& m, Failure& f) {
    static constexpr std::array<std::string_view, 4> KEYS{"hash", "header", "short_ids",
                                                          "prefilled"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) && Field(f, "hash", ReadHash(*v[0], m.hash, f)) &&
           Field(f, "header", ReadBlock(*v[1], m.header, f)) &&
           Field(f, "short_ids",
                 ReadArray(*v[2], MAX_BLOCK_TRANSACTIONS, m.short_ids, f, ReadU32)) &&
           Field(f, "prefilled", ReadTransactions(*v[3], MAX_BLOCK_TRANSACTIONS, m.prefilled, f));
}

bool ReadBody(const Object& o, GetBlockTxs& m, Failure& f) {
    static constexpr std::array<std::string_view, 2> KEYS{"hash", "indexes"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) && Field(f, "hash", ReadHash(*v[0], m.hash, f)) &&
           Field(f, "indexes", ReadArray(*v[1], MAX_BLOCK_TRANSACTIONS, m.indexes, f, ReadU32));
}

bool ReadBody(const Object& o, BlockTxs& m, Failure& f) {
    static constexpr std::array<std::string_view, 2> KEYS{"hash", "transactions"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) && Field(f, "hash", ReadHash(*v[0], m.hash, f)) &&
           Field(f, "transactions",
                 ReadTransactions(*v[1], MAX_BLOCK_TRANSACTIONS, m.transactions, f));
}

bool ReadBody(const Object& o, Reject& m, Failure& f) {
    static constexpr std::array<std::string_view, 2> KEYS{"code", "reason"};
    std::array<const Object*, KEYS.size()> v;
    return FindFields(o, KEYS, true, v, f) && Field(f, "code", ReadUint(*v[0], m.code, f)) &&
           Field(f, "reason", ReadText(*v[1], MAX_REJECT_REASON_BYTES, m.reason, f));
}

template <typename T>
DecodeResult DecodeBody(const Object& body) {
    T message;
    Failure failure;
    if (!ReadBody(body, message, failure))
        return failure.Take(MessageTypeName(T::TYPE));
    return Message(std::in_place_type<T>, std::move(message));
}

DecodeError Malformed(std::string text) {
    return {DecodeErrorCode::Malformed, std::move(text)};
}

DecodeResult DecodeEnvelope(const Object& root) {
    if (root.type != msgpack::type::ARRAY || root.via.array.size != 2) {
        return Malformed("payload is not a [type, body] array");
    }
    const Object& type = root.via.array.ptr[0];
    const Object& body = root.via.array.ptr[1];
    if (type.type != msgpack::type::POSITIVE_INTEGER) {
        return Malformed("message type is not a non-negative integer");
    }
    switch (type.via.u64) {
        case static_cast<std::uint64_t>(MessageType::Hello):
            return DecodeBody<Hello>(body);
        case static_cast<std::uint64_t>(MessageType::Ping):
            return DecodeBody<Ping>(body);
        case static_cast<std::uint64_t>(MessageType::Pong):
            return DecodeBody<Pong>(body);
        case static_cast<std::uint64_t>(MessageType::AnnounceBlock):
            return DecodeBody<AnnounceBlock>(body);
        case static_cast<std::uint64_t>(MessageType::RequestChain):
            return DecodeBody<RequestChain>(body);
        case static_cast<std::uint64_t>(MessageType::Chain):
            return DecodeBody<Chain>(body);
        case static_cast<std::uint64_t>(MessageType::RegisterPeer):
            return DecodeBody<RegisterPeer>(body);
        case static_cast<std::uint64_t>(MessageType::Peers):
            return DecodeBody<Peers>(body);
        case static_cast<std::uint64_t>(MessageType::NewTransactions):
            return DecodeBody<NewTransactions>(body);
        case static_cast<std::uint64_t>(MessageType::Reject):
            return DecodeBody<Reject>(body);
        case static_cast<std::uint64_t>(MessageType::TxInventory):
            return DecodeBody<TxInventory>(body);
        case static_cast<std::uint64_t>(MessageType::GetTransactions):
            return DecodeBody<GetTransactions>(body);
        case static_cast<std::uint64_t>(MessageType::BlockInventory):
            return DecodeBody<BlockInventory>(body);
        case static_cast<std::uint64_t>(MessageType::GetBlock):
            return DecodeBody<GetBlock>(body);
        case static_cast<std::uint64_t>(MessageType::CompactBlock):
            return DecodeBody<CompactBlock>(body);
        case static_cast<std::uint64_t>(MessageType::GetBlockTxs):
            return DecodeBody<GetBlockTxs>(body);
        case static_cast<std::uint64_t>(MessageType::BlockTxs):
            return DecodeBody<BlockTxs>(body);
        default:
            break;
    }
    return DecodeError{DecodeErrorCode::UnknownType,
                       "unknown message type " + std::to_string(type.via.u64)};
}

// Strings stay in the payload instead of being copied into the parser's zone: the parsed tree
// lives only inside DecodeMessage, while the caller's payload is alive.
bool ReferencePayload(msgpack::type::object_type, std::size_t, void*) {
    return true;
}

// A declared array of n items needs at least n more bytes, a map of n entries 2n, a str of n
// bytes n; so clamping to the payload size refuses impossible declarations before the parser
// allocates room for them, without ever refusing a real value.
msgpack::unpack_limit ParserLimits(std::size_t payload_size) {
    return msgpack::unpack_limit(std::min(MAX_MSGPACK_ARRAY_ITEMS, payload_size),
                                 std::min(MAX_MSGPACK_MAP_ENTRIES, payload_size / 2),
                                 std::min(MAX_MSGPACK_STR_BYTES, payload_size),
                                 /*bin=*/0, /*ext=*/0, MAX_MSGPACK_DEPTH);
}

}  // namespace

std::string_view DecodeErrorCodeName(DecodeErrorCode code) {
    switch (code) {
        case DecodeErrorCode::Malformed:
            return "malformed";
        case DecodeErrorCode::LimitExceeded:
            return "limit-exceeded";
        case DecodeErrorCode::UnknownType:
            return "unknown-type";
        case DecodeErrorCode::InvalidField:
            return "invalid-field";
    }
    return "unknown";
}

void AppendMessage(std::string& out, const Message& message) {
    Packer pk(out);
    pk.pack_array(2);
    std::visit(
        [&pk](const auto& m) {
            pk.pack_uint8(static_cast<std::uint8_t>(std::decay_t<decltype(m)>::TYPE));
            PackBody(pk, m);
        },
        message);
}

std::string EncodeMessage(const Message& message) {
    std::string out;
    AppendMessage(out, message);
    return out;
}

DecodeResult DecodeMessage(std::string_view payload) {
    if (payload.size() > MAX_MESSAGE_BYTES) {
        return DecodeError{DecodeErrorCode::LimitExceeded,
                           "payload of " + std::to_string(payload.size()) + " bytes"};
    }
    // msgpack-c reports bad input by throwing; nothing may escape to the loop's C callbacks.
    try {
        std::size_t offset = 0;
        msgpack::object_handle handle =
            msgpack::unpack(payload.data(), payload.size(), offset, ReferencePayload, nullptr,
                            ParserLimits(payload.size()));
        if (offset != payload.size())
            return Malformed("trailing bytes after the message");
        return DecodeEnvelope(handle.get());
    } catch (const msgpack::size_overflow& e) {
        return DecodeError{DecodeErrorCode::LimitExceeded, e.what()};
    } catch (const msgpack::insufficient_bytes&) {
        return Malformed("truncated payload");
    } catch (const std::bad_alloc&) {
        return DecodeError{DecodeErrorCode::LimitExceeded, "out of memory while decoding"};
    } catch (const std::exception& e) {
        return Malformed(e.what());
    }
}

}  // namespace gossipchain
