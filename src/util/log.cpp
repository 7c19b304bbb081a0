#include "util/log.h"

#include "util/hex.h"

#include <sys/time.h>

#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace gossipchain {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};
constexpr const char* LEVEL_NAMES[] = {"debug", "info", "warn", "error", "off"};

/**
 * The code point of the invisible-but-active character starting at text[i] in valid UTF-8, with
 * its length in bytes; 0 when none starts there. These are the ones a terminal or log viewer acts
 * on: C1 controls (U+0085 NEL ends a line for some viewers, U+009B CSI starts an ANSI sequence),
 * U+2028/U+2029 (line and paragraph separators), and the bidirectional marks, embeddings,
 * overrides and isolates that can make a line read differently from its bytes.
 */
std::uint32_t ActiveCodePointAt(std::string_view text, std::size_t i, std::size_t& length) {
    auto byte = [&](std::size_t k) {
        return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0;
    };
    const unsigned char b0 = byte(0);
    const unsigned char b1 = byte(1);
    const unsigned char b2 = byte(2);
    std::uint32_t cp = 0;
    if (b0 == 0xc2 && b1 >= 0x80 && b1 <= 0x9f) {
        length = 2;
        cp = b1;  // U+0080..U+009F
    } else if (b0 == 0xd8 && b1 == 0x9c) {
        length = 2;
        cp = 0x061c;  // Arabic letter mark
    } else if (b0 == 0xe2 && b1 == 0x80 &&
               (b2 == 0x8e || b2 == 0x8f || (b2 >= 0xa8 && b2 <= 0xae))) {
        length = 3;
        cp = 0x2000 + (b2 & 0x3f);  // U+200E, U+200F, U+2028..U+202E
    } else if (b0 == 0xe2 && b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9) {
        length = 3;
        cp = 0x2040 + (b2 & 0x3f);  // U+2066..U+2069
    }
    return cp;
}

void AppendEscape(std::string& out, const char* format, unsigned value) {
    char escape[8];
    std::snprintf(escape, sizeof(escape), format, value);
    out += escape;
}

/** The length of text[0, length) without an incomplete UTF-8 sequence that truncation left. */
std::size_t WithoutCutSequence(const char* text, std::size_t length) {
    for (std::size_t back = 1; back <= 4 && back <= length; ++back) {
        const auto c = static_cast<unsigned char>(text[length - back]);
        if (c < 0x80)
            return length;
        if (c >= 0xc0) {
            const std::size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            return back < need ? length - back : length;
        }
    }
    return length;
}

/** True when EscapeLogText would change nothing: printable ASCII without a backslash. */
bool IsPlainText(std::string_view text) {
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x7f || c == '\\')
            return false;
    }
    return true;
}

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

std::string EscapeLogText(std::string_view text) {
    const bool utf8 = IsValidUtf8(text);
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
            AppendEscape(out, "\\x%02x", c);
        } else if (std::uint32_t cp = utf8 ? ActiveCodePointAt(text, i, length) : 0; cp != 0) {
            AppendEscape(out, "\\u%04x", cp);
            i += length - 1;
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return out;
}

void LogPrintf(LogLevel level, const char* fmt, ...) {
    if (!LogEnabled(level))
        return;
    char message[1024];
    va_list args;
    va_start(args, fmt);
    const int wanted = std::vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    std::size_t length = wanted < 0 ? 0 : static_cast<std::size_t>(wanted);
    if (length >= sizeof(message))
        length = WithoutCutSequence(message, sizeof(message) - 1);
    std::string_view text(message, length);
    // Most lines are plain ASCII; only the others pay for escaping.
    std::string escaped;
    if (!IsPlainText(text)) {
        escaped = EscapeLogText(text);
        text = escaped;
    }
    timeval tv{};
    gettimeofday(&tv, nullptr);
    tm utc{};
    gmtime_r(&tv.tv_sec, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);
    // One fprintf per line so lines from miner threads never interleave mid-line.
    std::fprintf(stderr, "%s.%03dZ %-5s %.*s\n", stamp, static_cast<int>(tv.tv_usec / 1000),
                 LEVEL_NAMES[static_cast<int>(level)], static_cast<int>(text.size()), text.data());
}

}  // namespace gossipchain
