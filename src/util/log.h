// Process-wide logging: one line per event, "<time> <level> <message>", to stderr.
// The level is set once at startup by src/node; every layer may log.
#pragma once

#include <string_view>

namespace gossipchain {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

/** Parses "debug", "info", "warn", "error" or "off"; false when `name` is none of them. */
bool ParseLogLevel(std::string_view name, LogLevel& level);
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

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
