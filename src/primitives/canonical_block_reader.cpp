#include "primitives/canonical_block_reader.h"

#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"

#include <charconv>
#include <cmath>
#include <utility>

namespace gossipchain {

bool CanonicalBlockReader::Read(Block& block) {
    std::string previous;
    if (!Expect("{\"index\": ") || !Number(block.index) || !Expect(", \"previous_hash\": ") ||
        !String(previous) || !Expect(", \"proof\": ") || !Number(block.proof) ||
        !Expect(", \"timestamp\": ") || !Finite(block.timestamp) ||
        !Expect(", \"transactions\": ["))
        return false;
    block.previous_hash = std::move(previous);
    block.transactions.clear();
    if (Expect("]}"))
        return m_pos == m_text.size();
    while (true) {
        Transaction tx;
        if (!Expect("{\"amount\": ") || !Number(tx.amount))
            return false;
        if (Expect(", \"nonce\": ")) {
            std::uint64_t nonce = 0;
            if (!Number(nonce) || !Expect(", \"recipient\": ") || !String(tx.recipient) ||
                !Expect(", \"sender\": ") || !String(tx.sender) || !Expect(", \"signature\": ") ||
                !String(tx.signature) || !Expect("}"))
                return false;
            tx.nonce = nonce;
        } else if (!Expect(", \"id\": ") || !String(tx.id) || !Expect(", \"recipient\": ") ||
                   !String(tx.recipient) || !Expect(", \"sender\": ") || !String(tx.sender) ||
                   !Expect("}")) {
            return false;
        }
        block.transactions.push_back(std::move(tx));
        if (Expect("]}"))
            return m_pos == m_text.size();
        if (!Expect(", "))
            return false;
    }
}

bool CanonicalBlockReader::Expect(std::string_view literal) {
    if (m_text.substr(m_pos, literal.size()) != literal)
        return false;
    m_pos += literal.size();
    return true;
}

bool CanonicalBlockReader::String(std::string& out) {
    if (!Expect("\""))
        return false;
    std::size_t end = m_text.find('"', m_pos);
    if (end == std::string_view::npos)
        return false;
    std::string_view body = m_text.substr(m_pos, end - m_pos);
    if (body.find('\\') != std::string_view::npos)
        return false;
    out.assign(body);
    m_pos = end + 1;
    return true;
}

template <typename T>
bool CanonicalBlockReader::Number(T& out) {
    const char* begin = m_text.data() + m_pos;
    auto [ptr, ec] = std::from_chars(begin, m_text.data() + m_text.size(), out);
    if (ec != std::errc() || ptr == begin)
        return false;
    m_pos += static_cast<std::size_t>(ptr - begin);
    return true;
}

bool CanonicalBlockReader::Finite(double& out) {
    // from_chars also reads "NaN" and "Infinity", which BlockJson writes back unchanged but
    // which JSON (and so the general reader) refuses.
    return Number(out) && std::isfinite(out);
}

Result<Block> ParseCanonicalBlock(std::string_view text) {
    Block block;
    if (CanonicalBlockReader(text).Read(block) && BlockJson(block) == text)
        return block;
    Result<nlohmann::json> value = ParseJson(text);
    if (!value.Ok())
        return value.GetStatus();
    return BlockFromJson(value.Value());
}

}  // namespace gossipchain
