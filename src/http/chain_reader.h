// Incremental reader of a tutorial node's `GET /chain` answer, `{"chain": [block, ...],
// "length": N}`, for /nodes/resolve. It takes the body in pieces as they arrive and hands each
// block's JSON text to a callback, so neither the body nor a parsed value of the whole answer is
// ever held: memory is one block's text at a time. It stops at the first byte that cannot belong
// to that shape (`<html>`, `[[[[`, a key other than "chain" and "length", a chain element that is
// not an object, nesting deeper than a block's), so junk costs a few bytes of reading, not its
// size. What a block's text means is the callback's business.
#pragma once

#include "consensus/params.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gossipchain {

/** Longest text of one block in a /chain answer, in bytes: twice MAX_BLOCK_BYTES (2 MiB), room
 * for the whitespace of a pretty-printed answer around the largest valid block. */
inline constexpr std::size_t MAX_CHAIN_BLOCK_TEXT_BYTES = 2 * MAX_BLOCK_BYTES;
/**
 * Most commas and opening brackets in one block's text, a count: a block with
 * MAX_BLOCK_TRANSACTIONS transactions has 5 per transaction and 5 more (25,005). It keeps the
 * parsed value of a block a small multiple of its text ("[1,1,1,...]" would be 8x).
 */
inline constexpr std::size_t MAX_CHAIN_BLOCK_TOKENS = 5 * MAX_BLOCK_TRANSACTIONS + 5;
/** Deepest nesting inside one block, in levels: the block, its transactions, a transaction. */
inline constexpr std::size_t MAX_CHAIN_BLOCK_DEPTH = 3;

class ChainReader {
public:
    /** Gets each block's text in order; returning false stops the reader. */
    using BlockHandler = std::function<bool(std::string_view text)>;

    explicit ChainReader(BlockHandler on_block);

    /** Reads the next bytes of the body; false once the reader has stopped. */
    bool Feed(std::string_view bytes);
    /** The body ended; true when it was one complete answer with both keys. */
    bool Finish();

    /** Why the reader stopped or Finish() failed, for people; empty otherwise. */
    const std::string& Error() const { return m_error; }
    /** Blocks handed to the callback so far. */
    std::size_t Blocks() const { return m_blocks; }
    /** The "length" value, once read. */
    std::optional<std::uint64_t> Length() const { return m_length; }

private:
    enum class State {
        Start,
        KeyOrClose,
        Key,
        KeyText,
        Colon,
        ChainOpen,
        FirstBlock,
        NextBlock,
        InBlock,
        AfterBlock,
        LengthDigits,
        AfterValue,
        Done,
        Failed,
    };

    /** Handles the first byte of `rest`, outside a block; false when the reader stopped. */
    bool Step(std::string_view rest);
    /** Handles one byte of a block's text; false when the reader stopped. */
    bool StepBlock(char c);
    bool Fail(std::string why, std::string_view near = {});
    bool EndLength();

    BlockHandler m_on_block;
    State m_state = State::Start;
    std::string m_error;
    std::string m_key;
    bool m_seen_chain = false;
    bool m_seen_length = false;
    std::optional<std::uint64_t> m_length;
    std::string m_digits;
    std::size_t m_blocks = 0;
    /** The text of the block being read, its nesting and tokens, and string state. */
    std::string m_block;
    std::size_t m_depth = 0;
    std::size_t m_tokens = 0;
    bool m_in_string = false;
    bool m_escaped = false;
    /** Bytes read so far, to say where the answer went wrong. */
    std::uint64_t m_offset = 0;
};

}  // namespace gossipchain
