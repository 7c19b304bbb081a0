// One tutorial node's `GET /chain` answer as /nodes/resolve reads it: taken piece by piece from
// the fetch (a FetchSink), split by ChainReader, and checked block by block as it arrives, so
// memory is one block's text plus, while the chain can still be adopted, its parsed blocks.
//
// It records every reason the chain cannot be adopted, not just the first, because a person
// comparing a Python tutorial node with gossipchain needs all of them at once: a different
// genesis, transactions the tutorial writes without "id", proofs of the other proof rule. Two
// layers of checks, each on every block:
//   * the tutorial's own valid_chain, on the JSON as Python sees it: genesis, previous_hash =
//     the hash of the block before, the proof of work (with a hint when the proofs follow the
//     other rule);
//   * gossipchain's rules on the typed block: the strict reader, index, context-free validity,
//     timestamps against the median and our clock.
// Reasons are grouped (one line for "blocks 2-500: missing id"), at most
// MAX_RESOLVE_REASONS_PER_PEER of them. Duplicate transactions across blocks are left to
// ChainState when the chain is applied.
//
// Runs on a resolver worker thread; the result is handed to the loop thread afterwards.
#pragma once

#include "consensus/params.h"
#include "http/chain_reader.h"
#include "http/http_fetch.h"
#include "primitives/block.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace gossipchain {

/** Most distinct reasons listed for one peer's chain in the notes of /nodes/resolve; further
 * ones are counted ("and 3 more problems"). */
inline constexpr std::size_t MAX_RESOLVE_REASONS_PER_PEER = 8;
/** Longest text of one reason, in bytes: a parser's message can quote the input at length. */
inline constexpr std::size_t MAX_RESOLVE_REASON_BYTES = 256;

class FetchedChain : public FetchSink {
public:
    /** Checks against our `params`; `now` (seconds since the epoch) bounds future timestamps. */
    FetchedChain(const ConsensusParams& params, double now);

    // FetchSink
    bool OnHead(int status, std::optional<std::uint64_t> content_length) override;
    bool OnBody(std::string_view bytes) override;

    /** The fetch ended with `fetch`: records why it failed, or checks the end of the answer. */
    void Finish(const FetchResult& fetch);

    /** The whole answer was read (Finish saw a complete fetch of the tutorial's shape). */
    bool Complete() const { return m_complete; }
    /** Complete and no reason against it: Blocks() holds every block. */
    bool Adoptable() const { return m_complete && m_groups.empty() && m_more == 0; }
    /** Blocks in the answer (read so far). */
    std::uint64_t Length() const { return m_position; }
    /** The blocks, in order, while Adoptable(); moved out by the caller. */
    std::vector<Block>& Blocks() { return m_blocks; }
    /** Every reason against the chain, grouped, for people. */
    std::vector<std::string> Reasons() const;

private:
    /** One reason and the blocks it applies to (block 0: the answer as a whole). */
    struct Group {
        std::string text;
        std::uint64_t first = 0;
        std::uint64_t last = 0;
        std::uint64_t count = 0;
    };

    bool OnBlock(std::string_view text);
    /**
     * The tutorial's valid_chain step for the block at m_position, on its JSON: `hash` is what
     * Python's hash() gives for it, `proof` its proof when that is a valid proof number.
     */
    bool CheckLikeTheTutorial(const std::string& hash, std::optional<std::uint64_t> proof,
                              const nlohmann::json& block);
    /** gossipchain's rules for the typed block at m_position; `tutorial_ok`: links and proof. */
    void CheckOurRules(const Block& block, std::size_t encoded_bytes, bool tutorial_ok);
    void Reason(std::uint64_t block, std::string text);

    ConsensusParams m_params;
    double m_now;
    std::string m_genesis_hash;
    ChainReader m_reader;
    bool m_complete = false;
    /** Position (1-based) of the last block read. */
    std::uint64_t m_position = 0;
    /** The block before the current one as the tutorial sees it: its hash and proof. */
    std::string m_prev_hash;
    std::optional<std::uint64_t> m_prev_proof;
    /** Timestamps of the last MEDIAN_TIME_SPAN blocks read in a row, oldest first. */
    std::deque<double> m_times;
    std::vector<Block> m_blocks;
    std::vector<Group> m_groups;
    /** Reasons not listed once MAX_RESOLVE_REASONS_PER_PEER were. */
    std::size_t m_more = 0;
};

}  // namespace gossipchain
