#include "util/log.h"

#include <sys/time.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace gossipchain {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};
constexpr const char* LEVEL_NAMES[] = {"debug", "info", "warn", "error", "off"};
}  // namespace

bool ParseLogLevel(std::string_view name, LogLevel& level) {
    for (int i = 0; i <= static_cast<int>(LogLevel::Off); ++i) {
        if (name == LEVEL_NAMES[i]) {
            level = static_cast<LogLevel>(i);
            return true;
        }
    }
    return false;
}

void SetLogLevel(LogLevel level) {
    g_level.store(static_cast<int>(level));
}

bool LogEnabled(LogLevel level) {
    return static_cast<int>(level) >= g_level.load();
}

void LogPrintf(LogLevel level, const char* fmt, ...) {
    if (!LogEnabled(level))
        return;
    char message[1024];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    timeval tv{};
    gettimeofday(&tv, nullptr);
    tm utc{};
    gmtime_r(&tv.tv_sec, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);
    // One fprintf per line so lines from miner threads never interleave mid-line.
    std::fprintf(stderr, "%s.%03dZ %-5s %s\n", stamp, static_cast<int>(tv.tv_usec / 1000),
                 LEVEL_NAMES[static_cast<int>(level)], message);
}

}  // namespace gossipchain
