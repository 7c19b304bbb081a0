// One error vocabulary for the layers that do I/O (STYLE.md 15): a Status is success, or a failure
// with a message for people and a code for code; a Result<T> is a T, or the Status saying why
// there is none. Both are [[nodiscard]], so a failure cannot be dropped by forgetting to look.
// A message names what failed and what to do about it; code that must react to one kind of
// failure reads the code and never compares the message. Consensus keeps its ValidationResult
// (its reasons map to peer penalties) and libuv errors stay negative ints inside src/net.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace gossipchain {

/** Kinds of failure a caller may need to tell apart; anything else is Failed. */
enum class StatusCode {
    Ok,
    /** A failure of no more precise kind (I/O errors, refused files, ...). */
    Failed,
    /** Held by someone else, e.g. a data directory locked by another process. */
    InUse,
    /** Stored data is damaged, missing where it must be, or not what this program wrote. */
    Corrupt,
    /** Stored data is sound but for another network or another version of this program. */
    Incompatible,
};

class [[nodiscard]] Status {
public:
    /** Success. */
    Status() = default;

    /** A failure; `code` must not be Ok (a failure always has a kind, Failed at least). */
    static Status Error(std::string message, StatusCode code = StatusCode::Failed) {
        assert(code != StatusCode::Ok);
        return Status(code == StatusCode::Ok ? StatusCode::Failed : code, std::move(message));
    }

    bool Ok() const { return m_code == StatusCode::Ok; }
    StatusCode Code() const { return m_code; }
    /** Why it failed, for people; empty on success. */
    const std::string& Message() const { return m_message; }

private:
    Status(StatusCode code, std::string message) : m_code(code), m_message(std::move(message)) {}

    StatusCode m_code = StatusCode::Ok;
    std::string m_message;
};

template <typename T>
class [[nodiscard]] Result {
public:
    /** Success, holding `value`. */
    Result(T value) : m_value(std::move(value)) {}
    /** A failure; `error` must not be Ok (a Result that succeeded holds a value). */
    Result(Status error) : m_status(std::move(error)) {
        assert(!m_status.Ok());
        if (m_status.Ok())
            m_status = Status::Error("no value", StatusCode::Failed);
    }

    bool Ok() const { return m_value.has_value(); }
    /** Ok, or why there is no value. */
    const Status& GetStatus() const { return m_status; }
    const std::string& Message() const { return m_status.Message(); }

    /** The value; only when Ok(). */
    T& Value() & { return *m_value; }
    const T& Value() const& { return *m_value; }
    T&& Value() && { return std::move(*m_value); }
    T* operator->() { return &*m_value; }
    const T* operator->() const { return &*m_value; }

private:
    std::optional<T> m_value;
    Status m_status;
};

}  // namespace gossipchain
