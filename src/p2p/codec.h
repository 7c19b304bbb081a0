// The msgpack encoding of gossip messages (protocol/SPEC.md, "Message encoding"): a payload is the
// array [type, body] with body a map of short string keys. Encoding is canonical (smallest int and
// str forms, keys in SPEC order) so independent implementations produce identical bytes. Decoding
// takes untrusted bytes straight off the network: it bounds every msgpack size before the parser
// allocates, checks the schema strictly, and reports failure as a value; it never throws.
#pragma once

#include "p2p/messages.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace gossipchain {

/** Why a payload was refused. Every code is the peer's fault; the peer manager scores them. */
enum class DecodeErrorCode : std::uint8_t {
    /** Not exactly one well-formed msgpack value: truncated, trailing bytes, bad envelope. */
    Malformed,
    /** A msgpack size, or the payload size, is over the parser limits (MAX_MSGPACK_*). */
    LimitExceeded,
    /** A well-formed envelope with a message type number this node does not know. */
    UnknownType,
    /** A known message whose body breaks the schema: wrong type, missing key, bad string, range. */
    InvalidField,
};

std::string_view DecodeErrorCodeName(DecodeErrorCode code);

struct DecodeError {
    DecodeErrorCode code = DecodeErrorCode::Malformed;
    /** For logs, e.g. "blocks[3].transactions[0].amount: expected an integer". */
    std::string text;
};

/** Either a decoded message or the reason there is none. */
class [[nodiscard]] DecodeResult {
public:
    DecodeResult(Message message) : m_value(std::move(message)) {}
    DecodeResult(DecodeError error) : m_value(std::move(error)) {}

    bool Ok() const { return std::holds_alternative<Message>(m_value); }
    /** The message; only when Ok(). */
    const Message& Value() const { return std::get<Message>(m_value); }
    Message& Value() { return std::get<Message>(m_value); }
    /** The error; only when !Ok(). */
    const DecodeError& Error() const { return std::get<DecodeError>(m_value); }

private:
    std::variant<Message, DecodeError> m_value;
};

/** Canonical msgpack payload of `message` (without the 4-byte frame length). */
std::string EncodeMessage(const Message& message);

/** Appends the canonical payload to `out`, so a caller can reserve a frame header in front. */
void AppendMessage(std::string& out, const Message& message);

/** Decodes one payload. Never throws; any input yields either a message or an error. */
DecodeResult DecodeMessage(std::string_view payload);

}  // namespace gossipchain
