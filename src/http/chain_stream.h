// GET /chain (and the /nodes/resolve answer) of a long chain, streamed: the tutorial's `{"chain":
// [...], "length": N}` written a few hundred blocks at a time while the client keeps up, so the
// answer never sits whole in memory (280 MB at a million blocks, more than a connection may queue).
// Each stream serves the main chain as it was when its body started: a reorg meanwhile does not mix
// two branches into one answer (the rest of the old branch is collected once, by its parent links).
// The body ends with the connection (Connection: close, no Content-Length); short chains are
// answered whole. Loop thread only.
#pragma once

#include "chain/chain_state.h"
#include "http/http_stream.h"
#include "http/response.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gossipchain {

/** Main chains whose /chain body is at least this many bytes are streamed. */
inline constexpr std::size_t CHAIN_STREAM_MIN_BYTES = 1 << 20;
/** A stream writes more only while less than this waits unread for its client. */
inline constexpr std::size_t CHAIN_STREAM_LOW_WATER_BYTES = 256 << 10;
/** Blocks written per piece of a streamed /chain. */
inline constexpr std::size_t CHAIN_STREAM_PIECE_BLOCKS = 256;
/** Streamed /chain answers at once; more get a 503. */
inline constexpr std::size_t MAX_CHAIN_STREAMS = 16;

/** The /chain answer up to the opening bracket of the block list: `{` `prefix` (members with
 * their trailing comma) `"chain_key":[`. */
std::string ChainResponseHead(std::string_view chain_key = "chain", std::string_view prefix = "");
/** Its end after the last block: `],"length":N}` and a newline. */
void AppendChainResponseTail(std::string& out, std::uint64_t length);

class ChainStreamer final : public HttpStreamHandler {
public:
    explicit ChainStreamer(const ChainState& chain) : m_chain(chain) {}
    ChainStreamer(const ChainStreamer&) = delete;
    ChainStreamer& operator=(const ChainStreamer&) = delete;

    /** Whether GET /chain of the main chain now is worth streaming. */
    bool ShouldStream() const;
    /**
     * An answer that streams the main chain after `head` (the JSON up to the opening bracket of
     * the block list, ChainResponseHead) and ends it with `],"length":N}`; 503 while
     * MAX_CHAIN_STREAMS run.
     */
    HttpResponse Respond(std::string head);

    void OnStreamOpen(HttpStream& stream) override;
    void OnStreamWritable(HttpStream& stream) override;
    void OnStreamClosed(HttpStream& stream) override;

    std::size_t Streams() const { return m_streams.size(); }

private:
    struct Cursor {
        const BlockEntry* tip = nullptr;
        std::uint64_t next = 1;
        /** After a reorg: the snapshot's blocks from height `path_from` on, in order. */
        std::vector<const BlockEntry*> path;
        std::uint64_t path_from = 0;
        bool finished = false;
    };
    /** Writes pieces while the client keeps up; ends the answer after the last block. */
    void Pump(HttpStream& stream, Cursor& cursor);
    /** The snapshot's block at `height` (>= cursor.next). */
    const BlockEntry* At(Cursor& cursor, std::uint64_t height) const;

    const ChainState& m_chain;
    std::unordered_map<HttpStream*, Cursor> m_streams;
};

}  // namespace gossipchain
