// The messages gossipchain nodes exchange over a gossip link, as plain structs, and every limit a
// receiver enforces on them. This file gives a frame payload its meaning; src/net turns bytes into
// frames, p2p/codec.h turns frames into these structs. protocol/SPEC.md is the normative text and
// its Limits table lists every constant below, so keep the two in step.
#pragma once

#include "net/constants.h"
#include "primitives/block.h"
#include "primitives/transaction.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gossipchain {

/** Wire protocol version this node speaks; a peer with any other version is rejected. Version 2
 * added TxInventory and GetTransactions, and compact block relay: BlockInventory, GetBlock,
 * CompactBlock, GetBlockTxs, BlockTxs (SPEC §8). Version 3 runs every link inside an authenticated,
 * encrypted channel (SPEC §7): node ids are proven, never claimed. Version 4 adds rule sets (SPEC
 * §6.7): signed transactions ({sender, recipient, amount, nonce, signature}) and the header proof
 * rule; a network id names its rules. */
inline constexpr std::uint32_t PROTOCOL_VERSION = 4;

/** Largest message payload, in bytes: one frame's payload, which src/net bounds (8 MiB), less
 * the 16-byte tag of its encryption (SPEC §7.3). */
inline constexpr std::size_t MAX_MESSAGE_BYTES = net::MAX_FRAME_BYTES - 16;
/** Most hashes a RequestChain locator may carry (exponential spacing reaches 2^62 blocks). */
inline constexpr std::size_t MAX_LOCATOR_HASHES = 64;
/** Most blocks one Chain message may carry. */
inline constexpr std::size_t MAX_CHAIN_BATCH_BLOCKS = 500;
/** Most blocks a responder sends for one RequestChain, in blocks; larger limits are clamped. */
inline constexpr std::uint32_t MAX_CHAIN_REQUEST_BLOCKS = 2000;
/** Most addresses one Peers message may carry. */
inline constexpr std::size_t MAX_PEERS_PER_MESSAGE = 1000;
/** Most transactions one NewTransactions message may carry, and most txids one GetTransactions
 * may ask for. */
inline constexpr std::size_t MAX_TXS_PER_MESSAGE = 1000;
/** Most txids one TxInventory message may carry. */
inline constexpr std::size_t MAX_INVENTORY_PER_MESSAGE = 5000;
/** Longest Hello network id, in bytes ("<64 hex>/linked/16" needs 74). */
inline constexpr std::size_t MAX_NETWORK_ID_BYTES = 128;
/** Longest Hello agent string, in bytes. */
inline constexpr std::size_t MAX_AGENT_BYTES = 256;
/** Longest RegisterPeer host, in bytes (a DNS name is at most 253; a bracketed IPv6 fits). */
inline constexpr std::size_t MAX_HOST_BYTES = 255;
/** Longest "host:port" entry of a Peers message, in bytes. */
inline constexpr std::size_t MAX_PEER_ADDRESS_BYTES = MAX_HOST_BYTES + 6;
/** Longest Reject reason, in bytes. */
inline constexpr std::size_t MAX_REJECT_REASON_BYTES = 256;

// Bounds handed to the msgpack parser itself. They cap what any input can make the decoder
// allocate before the schema is even looked at, including values under unknown keys.
/** Most elements of any msgpack array (a block's transactions are the largest legitimate one). */
inline constexpr std::size_t MAX_MSGPACK_ARRAY_ITEMS = 5000;
/** Most entries of any msgpack map (known keys plus room for future ones). */
inline constexpr std::size_t MAX_MSGPACK_MAP_ENTRIES = 32;
/** Longest msgpack str, in bytes. */
inline constexpr std::size_t MAX_MSGPACK_STR_BYTES = 4096;
/** Deepest container nesting, in levels (Chain > blocks > block > transactions > tx uses 6). */
inline constexpr std::size_t MAX_MSGPACK_DEPTH = 8;

/** Length of a block hash in lowercase hex characters. */
inline constexpr std::size_t HASH_HEX_CHARS = 64;
/** Length of a node id in lowercase hex characters (16 random bytes). */
inline constexpr std::size_t NODE_ID_HEX_CHARS = 32;
/** Length of a transaction id in lowercase hex characters. */
inline constexpr std::size_t TX_ID_HEX_CHARS = 32;

/** The number that opens every payload and says which message follows. Never reuse a number. */
enum class MessageType : std::uint8_t {
    Hello = 1,
    Ping = 2,
    Pong = 3,
    AnnounceBlock = 4,
    RequestChain = 5,
    Chain = 6,
    RegisterPeer = 7,
    Peers = 8,
    NewTransactions = 9,
    Reject = 10,
    TxInventory = 11,
    GetTransactions = 12,
    BlockInventory = 13,
    GetBlock = 14,
    CompactBlock = 15,
    GetBlockTxs = 16,
    BlockTxs = 17,
};

/** Name of a message type for logs ("Hello"), or "Unknown". */
std::string_view MessageTypeName(MessageType type);

/** First message on every link, sent by both sides; everything else waits for it. */
struct Hello {
    static constexpr MessageType TYPE = MessageType::Hello;
    std::uint32_t protocol_version = PROTOCOL_VERSION;
    /** "<genesis hash>/<pow rule>/<difficulty>", see NetworkId(). */
    std::string network_id;
    /** 32 lowercase hex characters; equal ids on both ends mean we dialled ourselves. */
    std::string node_id;
    /** Port this node accepts gossip on; 0 when it does not listen. */
    std::uint16_t listen_port = 0;
    std::uint64_t height = 0;
    /** Hash of the sender's tip block, 64 lowercase hex characters. */
    std::string tip;
    /** Free text naming the software, e.g. "gossipchain/0.1.0". */
    std::string agent;
    bool operator==(const Hello&) const = default;
};

struct Ping {
    static constexpr MessageType TYPE = MessageType::Ping;
    std::uint64_t nonce = 0;
    bool operator==(const Ping&) const = default;
};

/** Answer to a Ping, echoing its nonce. */
struct Pong {
    static constexpr MessageType TYPE = MessageType::Pong;
    std::uint64_t nonce = 0;
    bool operator==(const Pong&) const = default;
};

/** A new block, pushed in full so the receiver needs no second round trip. */
struct AnnounceBlock {
    static constexpr MessageType TYPE = MessageType::AnnounceBlock;
    Block block;
    bool operator==(const AnnounceBlock&) const = default;
};

/** Asks for the blocks after the newest locator hash on the responder's main chain. */
struct RequestChain {
    static constexpr MessageType TYPE = MessageType::RequestChain;
    /** Block hashes, newest first, exponentially spaced, ending with genesis. */
    std::vector<std::string> locator;
    /** How many blocks the requester wants; responders send at most MAX_CHAIN_REQUEST_BLOCKS. */
    std::uint32_t limit = MAX_CHAIN_REQUEST_BLOCKS;
    bool operator==(const RequestChain&) const = default;
};

/** Consecutive main-chain blocks, oldest first, answering a RequestChain. */
struct Chain {
    static constexpr MessageType TYPE = MessageType::Chain;
    std::vector<Block> blocks;
    /** True when the sender's main chain continues after the last block here. */
    bool more = false;
    bool operator==(const Chain&) const = default;
};

/** "I accept gossip at host:port"; an empty host means the address this link comes from. */
struct RegisterPeer {
    static constexpr MessageType TYPE = MessageType::RegisterPeer;
    std::string host;
    std::uint16_t port = 0;
    bool operator==(const RegisterPeer&) const = default;
};

/** Peer exchange: addresses the sender believes reachable, each "host:port". */
struct Peers {
    static constexpr MessageType TYPE = MessageType::Peers;
    std::vector<std::string> addresses;
    bool operator==(const Peers&) const = default;
};

struct NewTransactions {
    static constexpr MessageType TYPE = MessageType::NewTransactions;
    std::vector<Transaction> transactions;
    bool operator==(const NewTransactions&) const = default;
};

/** Pending transactions the sender holds, by txid (SHA-256 of the canonical JSON, 64 hex): the
 * receiver asks with GetTransactions for those it lacks. */
struct TxInventory {
    static constexpr MessageType TYPE = MessageType::TxInventory;
    std::vector<std::string> txids;
    bool operator==(const TxInventory&) const = default;
};

/** Asks for pending transactions by txid; answered with NewTransactions holding those the
 * sender still has pending. */
struct GetTransactions {
    static constexpr MessageType TYPE = MessageType::GetTransactions;
    std::vector<std::string> txids;
    bool operator==(const GetTransactions&) const = default;
};

/** "I have this new block": a lazy announcement; the receiver asks with GetBlock if it lacks it. */
struct BlockInventory {
    static constexpr MessageType TYPE = MessageType::BlockInventory;
    std::string hash;
    std::uint64_t height = 0;
    bool operator==(const BlockInventory&) const = default;
};

/** Asks for a block by hash; answered with its CompactBlock. */
struct GetBlock {
    static constexpr MessageType TYPE = MessageType::GetBlock;
    std::string hash;
    bool operator==(const GetBlock&) const = default;
};

/**
 * A block as its header and a short id per transaction (crypto/short_id.h, keyed by `hash`), in
 * block order, plus transactions the receiver is unlikely to hold (the reward). The receiver
 * rebuilds the block from its mempool and `prefilled`, asks for the rest with GetBlockTxs, and
 * checks that the rebuilt block hashes to `hash`.
 */
struct CompactBlock {
    static constexpr MessageType TYPE = MessageType::CompactBlock;
    std::string hash;
    /** The block without its transactions. */
    Block header;
    std::vector<std::uint32_t> short_ids;
    std::vector<Transaction> prefilled;
    bool operator==(const CompactBlock&) const = default;
};

/** Asks for transactions of block `hash` by their positions in it. */
struct GetBlockTxs {
    static constexpr MessageType TYPE = MessageType::GetBlockTxs;
    std::string hash;
    std::vector<std::uint32_t> indexes;
    bool operator==(const GetBlockTxs&) const = default;
};

/** The transactions a GetBlockTxs asked for, in the order asked. */
struct BlockTxs {
    static constexpr MessageType TYPE = MessageType::BlockTxs;
    std::string hash;
    std::vector<Transaction> transactions;
    bool operator==(const BlockTxs&) const = default;
};

/** Codes a Reject carries. Receivers must accept codes not listed here (log them as unknown). */
enum class RejectCode : std::uint32_t {
    Malformed = 1,
    ProtocolVersion = 2,
    WrongNetwork = 3,
    SelfConnection = 4,
    DuplicateLink = 5,
    Banned = 6,
    TooManyPeers = 7,
    InvalidBlock = 8,
    InvalidTransaction = 9,
    Misbehaving = 10,
    Timeout = 11,
    /** The node runs with an allowlist (--trust) that does not hold the peer's key. */
    NotTrusted = 12,
};

/** Why the sender is about to close the link (or refuses what we sent). */
struct Reject {
    static constexpr MessageType TYPE = MessageType::Reject;
    std::uint32_t code = 0;
    std::string reason;
    bool operator==(const Reject&) const = default;
};

using Message = std::variant<Hello, Ping, Pong, AnnounceBlock, RequestChain, Chain, RegisterPeer,
                             Peers, NewTransactions, Reject, TxInventory, GetTransactions,
                             BlockInventory, GetBlock, CompactBlock, GetBlockTxs, BlockTxs>;

/** The wire type of `message`. */
MessageType TypeOf(const Message& message);

}  // namespace gossipchain
