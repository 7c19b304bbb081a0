// Process-wide logging: one line per event, "<time> <level> <message>", to stderr.
// The level is set once at startup by src/node; every layer may log. Messages often quote what a
// peer or client sent (a sender, an address, an agent string), so the logger escapes the formatted
// message itself: nothing inside one can end the line, start a forged one, move the cursor or
// reorder text on a terminal, whichever call site logged it.
#pragma once

#include <string>
#include <string_view>

namespace gossipchain {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

/** Parses "debug", "info", "warn", "error" or "off"; false when `name` is none of them. */
bool ParseLogLevel(std::string_view name, LogLevel& level);
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

/**
 * `text` as it goes into a log line: a backslash becomes "\\", LF, CR and TAB become "\n", "\r"
 * and "\t", every other C0 control and DEL becomes "\xNN"; when `text` is not valid UTF-8 every
 * byte above 0x7f becomes "\xNN" too; in valid UTF-8 the C1 controls (U+0080..U+009F, NEL and
 * CSI among them), the line and paragraph separators and the bidirectional controls become
 * "\uNNNN". Everything else stays as it is, so ordinary UTF-8 text reads unchanged.
 */
std::string EscapeLogText(std::string_view text);

/** Formats, escapes the result with EscapeLogText and writes one line to stderr. */
void LogPrintf(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace gossipchain

#define LOG_DEBUG(...)                                                             \
    do {                                                                           \
        if (::gossipchain::LogEnabled(::gossipchain::LogLevel::Debug))             \
            ::gossipchain::LogPrintf(::gossipchain::LogLevel::Debug, __VA_ARGS__); \
    } while (0)
#define LOG_INFO(...) ::gossipchain::LogPrintf(::gossipchain::LogLevel::Info, __VA_ARGS__)
#define LOG_WARN(...) ::gossipchain::LogPrintf(::gossipchain::LogLevel::Warn, __VA_ARGS__)
#define LOG_ERROR(...) ::gossipchain::LogPrintf(::gossipchain::LogLevel::Error, __VA_ARGS__)
