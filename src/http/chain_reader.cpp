#include "http/chain_reader.h"

#include "primitives/canonical_json.h"

#include <utility>

namespace gossipchain {
namespace {

/** Longest text quoted in an error (an unexpected key), in bytes. */
constexpr std::size_t SNIPPET_BYTES = 24;
/** Longest key read at the top level: longer than "length" cannot be one of ours. */
constexpr std::size_t KEY_BYTES = 8;
/** Digits of the largest uint64. */
constexpr std::size_t LENGTH_DIGITS = 19;

bool IsSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

ChainReader::ChainReader(BlockHandler on_block) : m_on_block(std::move(on_block)) {}

bool ChainReader::Fail(std::string why, std::string_view near) {
    m_state = State::Failed;
    m_error = "not a tutorial /chain answer: " + std::move(why);
    // What is quoted is the same however the body was split: the offending byte, or the key.
    if (!near.empty()) {
        m_error += " at byte " + std::to_string(m_offset) + ": ";
        AppendJsonString(m_error, near.substr(0, SNIPPET_BYTES));
    }
    m_block.clear();
    m_block.shrink_to_fit();
    return false;
}

bool ChainReader::Feed(std::string_view bytes) {
    std::size_t i = 0;
    while (i < bytes.size()) {
        if (m_state == State::Failed)
            return false;
        if (m_state == State::Done && !IsSpace(bytes[i]))
            return Fail("more data after the answer", bytes.substr(i, 1));
        if (m_state != State::InBlock) {
            if (!Step(bytes.substr(i)))
                return false;
            ++i;
            ++m_offset;
            continue;
        }
        // A block's bytes are copied in one run up to its end or the end of this piece.
        std::size_t start = i;
        bool ended = false;
        while (i < bytes.size() && !ended) {
            if (m_block.size() + (i - start) == MAX_CHAIN_BLOCK_TEXT_BYTES) {
                return Fail("block " + std::to_string(m_blocks + 1) + " is longer than " +
                            std::to_string(MAX_CHAIN_BLOCK_TEXT_BYTES) + " bytes");
            }
            if (!StepBlock(bytes[i]))
                return false;
            ended = m_depth == 0;
            ++i;
            ++m_offset;
        }
        m_block.append(bytes.substr(start, i - start));
        if (ended) {
            ++m_blocks;
            m_state = State::AfterBlock;
            std::string text = std::exchange(m_block, {});
            if (!m_on_block(text)) {
                m_state = State::Failed;
                return false;
            }
        }
    }
    return m_state != State::Failed;
}

bool ChainReader::StepBlock(char c) {
    if (m_in_string) {
        if (m_escaped)
            m_escaped = false;
        else if (c == '\\')
            m_escaped = true;
        else if (c == '"')
            m_in_string = false;
        return true;
    }
    switch (c) {
        case '"':
            m_in_string = true;
            return true;
        case '{':
        case '[':
            if (++m_depth > MAX_CHAIN_BLOCK_DEPTH) {
                return Fail("block " + std::to_string(m_blocks + 1) +
                            " is nested deeper than a block (" +
                            std::to_string(MAX_CHAIN_BLOCK_DEPTH) + " levels)");
            }
            break;
        case '}':
        case ']':
            --m_depth;
            return true;
        case ',':
            break;
        default:
            return true;
    }
    if (++m_tokens > MAX_CHAIN_BLOCK_TOKENS) {
        return Fail("block " + std::to_string(m_blocks + 1) + " has more than " +
                    std::to_string(MAX_CHAIN_BLOCK_TOKENS) + " values");
    }
    return true;
}

bool ChainReader::Step(std::string_view rest) {
    const char c = rest.front();
    const bool in_token =
        m_state == State::KeyText || (m_state == State::LengthDigits && !m_digits.empty());
    if (IsSpace(c) && !in_token)
        return true;
    switch (m_state) {
        case State::Start:
            if (c != '{')
                return Fail("it does not start with '{'", rest.substr(0, 1));
            m_state = State::KeyOrClose;
            return true;
        case State::KeyOrClose:
            if (c == '}') {
                m_state = State::Done;
                return true;
            }
            [[fallthrough]];
        case State::Key:
            if (c != '"')
                return Fail("expected a key", rest.substr(0, 1));
            m_key.clear();
            m_state = State::KeyText;
            return true;
        case State::KeyText:
            if (c == '"') {
                m_state = State::Colon;
                return true;
            }
            if (c == '\\' || m_key.size() == KEY_BYTES)
                return Fail("a key other than \"chain\" and \"length\"", m_key + c);
            m_key += c;
            return true;
        case State::Colon:
            if (c != ':')
                return Fail("expected ':'", rest.substr(0, 1));
            if (m_key == "chain" && !m_seen_chain) {
                m_seen_chain = true;
                m_state = State::ChainOpen;
            } else if (m_key == "length" && !m_seen_length) {
                m_seen_length = true;
                m_digits.clear();
                m_state = State::LengthDigits;
            } else if (m_key == "chain" || m_key == "length") {
                return Fail("key \"" + m_key + "\" twice");
            } else {
                return Fail("a key other than \"chain\" and \"length\"", m_key);
            }
            return true;
        case State::ChainOpen:
            if (c != '[')
                return Fail("\"chain\" is not an array", rest.substr(0, 1));
            m_state = State::FirstBlock;
            return true;
        case State::FirstBlock:
            if (c == ']') {
                m_state = State::AfterValue;
                return true;
            }
            [[fallthrough]];
        case State::NextBlock:
            if (c != '{') {
                return Fail("chain[" + std::to_string(m_blocks) + "] is not a block object",
                            rest.substr(0, 1));
            }
            m_state = State::InBlock;
            m_depth = 1;
            m_tokens = 1;
            m_in_string = false;
            m_escaped = false;
            m_block.assign(1, '{');
            return true;
        case State::AfterBlock:
            if (c == ',') {
                m_state = State::NextBlock;
            } else if (c == ']') {
                m_state = State::AfterValue;
            } else {
                return Fail("expected ',' or ']' after block " + std::to_string(m_blocks),
                            rest.substr(0, 1));
            }
            return true;
        case State::LengthDigits:
            if (IsDigit(c)) {
                if (m_digits.size() == LENGTH_DIGITS)
                    return Fail("\"length\" is too large", rest.substr(0, 1));
                m_digits += c;
                return true;
            }
            if (!EndLength())
                return Fail("\"length\" is not a non-negative integer", rest.substr(0, 1));
            m_state = State::AfterValue;
            return IsSpace(c) || Step(rest);
        case State::AfterValue:
            if (c == ',') {
                m_state = State::Key;
            } else if (c == '}') {
                m_state = State::Done;
            } else {
                return Fail("expected ',' or '}'", rest.substr(0, 1));
            }
            return true;
        case State::InBlock:
        case State::Done:
        case State::Failed:
            break;
    }
    return false;
}

bool ChainReader::EndLength() {
    // JSON has no leading zeros; "length": 05 is not what a tutorial node writes.
    if (m_digits.empty() || (m_digits.size() > 1 && m_digits.front() == '0'))
        return false;
    m_length = std::stoull(m_digits);
    return true;
}

bool ChainReader::Finish() {
    if (m_state == State::Failed)
        return false;
    if (m_state != State::Done) {
        // A body that is only `{"length": 3` ends inside the number.
        if (m_state == State::LengthDigits && EndLength())
            return Fail("the answer ended before its closing '}'");
        return Fail("the answer ended early (after " + std::to_string(m_offset) + " bytes)");
    }
    if (!m_seen_chain)
        return Fail("no \"chain\"");
    if (!m_seen_length)
        return Fail("no \"length\"");
    return true;
}

}  // namespace gossipchain
