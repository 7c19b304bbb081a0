// Helpers shared by the libFuzzer targets in tests/fuzz: a check that aborts (so libFuzzer and
// the corpus replay driver both record the input as a crash) and a reader that splits one fuzz
// input into chunk sizes and data, so incremental parsers see bytes split everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace gossipchain::fuzz {

/** Aborts with `what` when `condition` is false; a property violation is a crash to libFuzzer. */
inline void Check(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "fuzz property violated: %s\n", what);
        std::abort();
    }
}

/**
 * Splits the input's remaining bytes into chunks whose sizes come from its first byte: 0 means
 * all at once, n means n bytes at a time. Parsers must give the same answer either way.
 */
class ChunkedInput {
public:
    ChunkedInput(const std::uint8_t* data, std::size_t size) {
        if (size > 0) {
            m_chunk = data[0];
            m_rest = std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1);
        }
    }
    /** Everything after the chunk-size byte. */
    std::string_view Whole() const { return m_rest; }
    /** Calls `feed(chunk)` over Whole() in chunks; stops early when `feed` returns false. */
    template <typename Feed>
    void ForEachChunk(Feed&& feed) const {
        std::size_t step = m_chunk == 0 ? m_rest.size() : m_chunk;
        for (std::size_t at = 0; at < m_rest.size(); at += step) {
            if (!feed(m_rest.substr(at, step)))
                return;
        }
    }

private:
    std::size_t m_chunk = 0;
    std::string_view m_rest;
};

}  // namespace gossipchain::fuzz
