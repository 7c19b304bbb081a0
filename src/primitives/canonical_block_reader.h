// The fast way back from a block's canonical bytes (what BlockJson writes, what the store keeps
// and hashes) to the Block. Reading 100,000 stored blocks at every start through a JSON tree
// costs about ten times more than reading the one layout BlockJson produces directly, so
// CanonicalBlockReader reads exactly that layout and nothing else. ParseCanonicalBlock is what
// callers use: the fast reader, confirmed by writing the block again and comparing the bytes,
// else the general reader (ParseJson + BlockFromJson). So a mistake in the fast reader can only
// cost speed, never a different block or one the general reader would refuse.
#pragma once

#include "primitives/block.h"
#include "util/result.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace gossipchain {

/**
 * Reads the bytes BlockJson writes for a block whose previous_hash is a string and whose strings
 * need no escapes: sorted keys, ", " and ": " separators, no whitespace elsewhere, a finite
 * timestamp. Anything else (genesis's integer previous_hash, an escape, another layout) is
 * refused, and the caller falls back to the general reader. A text it takes need not be exactly
 * canonical (from_chars takes "1.50" or "007"): ParseCanonicalBlock compares the bytes again.
 */
class CanonicalBlockReader {
public:
    explicit CanonicalBlockReader(std::string_view text) : m_text(text) {}

    /** True when the whole text was read into `block`; `block` is unspecified when false. */
    bool Read(Block& block);

private:
    bool Expect(std::string_view literal);
    bool String(std::string& out);
    template <typename T>
    bool Number(T& out);
    bool Finite(double& out);

    std::string_view m_text;
    std::size_t m_pos = 0;
};

/**
 * The block whose canonical JSON is `text`: through CanonicalBlockReader when its result writes
 * back to exactly `text`, else through ParseJson and BlockFromJson (so the same block, or the same
 * refusal, as the general reader gives).
 */
Result<Block> ParseCanonicalBlock(std::string_view text);

}  // namespace gossipchain
