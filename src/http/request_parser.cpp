#include "http/request_parser.h"

#include "http/http_text.h"
#include "util/hex.h"

#include <llhttp.h>

#include <algorithm>
#include <cstdint>

namespace gossipchain {

namespace {

/** True for a version text of the well-formed shape DIGIT "." DIGIT (RFC 9112 section 2.3). */
bool IsVersionNumber(std::string_view version) {
    return version.size() == 3 && version[0] >= '0' && version[0] <= '9' && version[1] == '.' &&
           version[2] >= '0' && version[2] <= '9';
}

// Maps llhttp's own grammar errors to a status. Everything it rejects is the client's fault
// (400), a Transfer-Encoding whose final coding is not chunked included (RFC 9112 section 6.3
// makes that a 400, not the 501 of a coding we merely cannot decode), except a well-formed
// version llhttp does not speak (HTTP/1.2, HTTP/3.0), which is 505.
HttpError ErrorFromLlhttp(llhttp_errno_t err, const char* reason, std::string_view version) {
    std::string message = reason != nullptr ? reason : llhttp_errno_name(err);
    if (err == HPE_INVALID_VERSION && IsVersionNumber(version))
        return {505, "HTTP version not supported: HTTP/" + std::string(version)};
    return {400, "malformed request: " + message};
}

/** True when `scheme` is http or https, in any case (RFC 9110 section 4.2.3). */
bool IsHttpScheme(std::string_view scheme) {
    return EqualsIgnoreCase(scheme, "http") || EqualsIgnoreCase(scheme, "https");
}

/**
 * Fills req.path and req.query from req.target, which takes one of the forms RFC 9112
 * section 3.2 gives a server: origin-form "/path?query"; absolute-form "http://host/path?query",
 * which a server must accept although clients send it only to proxies; and asterisk-form "*",
 * for OPTIONS only. The authority-form is CONNECT's, which the router never routes.
 */
std::optional<HttpError> SplitTarget(HttpRequest& req) {
    std::string_view target = req.target;
    target = target.substr(0, target.find('#'));
    if (target == "*") {
        if (req.method != "OPTIONS")
            return HttpError{400, "the request target * is for OPTIONS only"};
        req.path = "*";
        return std::nullopt;
    }
    bool absolute = false;
    if (std::size_t scheme_end = target.find("://"); !target.empty() && target.front() != '/' &&
                                                     scheme_end != std::string_view::npos &&
                                                     IsHttpScheme(target.substr(0, scheme_end))) {
        target.remove_prefix(scheme_end + 3);
        const std::size_t path_start = std::min(target.find_first_of("/?"), target.size());
        if (path_start == 0)
            return HttpError{400, "the request target's URL has no host"};
        target.remove_prefix(path_start);
        absolute = true;
    }
    const std::size_t question = target.find('?');
    std::string_view path = target.substr(0, question);
    if (question != std::string_view::npos)
        req.query = std::string(target.substr(question + 1));
    if (absolute && path.empty())
        path = "/";
    if (path.empty() || path.front() != '/')
        return HttpError{400, "request target must be an absolute path"};
    if (!DecodePercentPath(path, req.path))
        return HttpError{400, "invalid percent-encoding in path"};
    return std::nullopt;
}

}  // namespace

const std::string* HttpRequest::Header(std::string_view lowercase_name) const {
    for (const auto& [name, value] : headers) {
        if (name == lowercase_name)
            return &value;
    }
    return nullptr;
}

bool DecodePercentPath(std::string_view encoded, std::string& decoded) {
    decoded.clear();
    decoded.reserve(encoded.size());
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        char c = encoded[i];
        if (c == '%') {
            if (i + 2 >= encoded.size())
                return false;
            int hi = HexDigitValue(encoded[i + 1]);
            int lo = HexDigitValue(encoded[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0')
            return false;
        decoded.push_back(c);
    }
    return IsValidUtf8(decoded);
}

// Owns the llhttp parser. The callbacks are static members with llhttp's exact C signatures;
// they recover `this` from parser.data, never throw (llhttp frames are C), and report our own
// limit violations by storing m_error and returning an error code that stops llhttp.
class RequestParser::Impl {
public:
    explicit Impl(Options options) : m_options(options) {
        llhttp_settings_init(&m_settings);
        m_settings.on_message_begin = OnMessageBegin;
        m_settings.on_method_complete = OnMethodComplete;
        m_settings.on_url = OnUrl;
        m_settings.on_version = OnVersion;
        m_settings.on_header_field = OnHeaderField;
        m_settings.on_header_value = OnHeaderValue;
        m_settings.on_header_value_complete = OnHeaderValueComplete;
        m_settings.on_headers_complete = OnHeadersComplete;
        m_settings.on_body = OnBody;
        m_settings.on_message_complete = OnMessageComplete;
        llhttp_init(&m_parser, HTTP_REQUEST, &m_settings);
        m_parser.data = this;
    }

    HttpFeedResult Feed(std::string_view bytes);
    bool Finished() const { return m_finished; }
    bool InRequest() const { return m_in_message; }
    bool InHeadRequest() const { return m_in_message && m_head; }

private:
    static int OnMessageBegin(llhttp_t* parser);
    static int OnMethodComplete(llhttp_t* parser);
    static int OnUrl(llhttp_t* parser, const char* at, size_t length);
    static int OnVersion(llhttp_t* parser, const char* at, size_t length);
    static int OnHeaderField(llhttp_t* parser, const char* at, size_t length);
    static int OnHeaderValue(llhttp_t* parser, const char* at, size_t length);
    static int OnHeaderValueComplete(llhttp_t* parser);
    static int OnHeadersComplete(llhttp_t* parser);
    static int OnBody(llhttp_t* parser, const char* at, size_t length);
    static int OnMessageComplete(llhttp_t* parser);

    static Impl& From(llhttp_t* parser) { return *static_cast<Impl*>(parser->data); }

    /** Records our own error; the return value is what the callback hands back to llhttp. */
    int Fail(int status, std::string message);
    /** Counts header-section bytes seen by callbacks so one huge field fails before buffering. */
    int CountHeaderBytes(std::size_t length);
    int FinishHeaders();

    Options m_options;
    llhttp_settings_t m_settings{};
    llhttp_t m_parser{};

    HttpRequest m_current;
    /** The current request's method is HEAD (known from the end of its method token). */
    bool m_head = false;
    /** The current request line's version text ("1.1"), at most a few bytes, for the 505. */
    std::string m_version;
    bool m_last_was_value = false;
    /** True from the end of one message until the end of the next one's header section. */
    bool m_in_header_section = true;
    /** Every byte fed while in the header section, whitespace included (exact bound). */
    std::size_t m_header_section_bytes = 0;
    /** Bytes handed to span callbacks in the current header section (early bound). */
    std::size_t m_header_span_bytes = 0;

    std::vector<HttpRequest> m_completed;
    std::optional<HttpError> m_error;
    bool m_error_reported = false;
    /** The request being read asked for "100 Continue" and has not been told yet. */
    bool m_expect_continue = false;
    bool m_finished = false;
    /** Between on_message_begin and on_message_complete. */
    bool m_in_message = false;
};

int RequestParser::Impl::Fail(int status, std::string message) {
    if (!m_error)
        m_error = HttpError{status, std::move(message)};
    return HPE_USER;
}

int RequestParser::Impl::CountHeaderBytes(std::size_t length) {
    m_header_span_bytes += length;
    if (m_header_span_bytes > m_options.max_header_bytes) {
        return Fail(431, "request header fields too large");
    }
    return 0;
}

int RequestParser::Impl::OnMessageBegin(llhttp_t* parser) {
    Impl& self = From(parser);
    self.m_in_message = true;
    self.m_current = HttpRequest{};
    self.m_head = false;
    self.m_version.clear();
    self.m_last_was_value = false;
    self.m_header_span_bytes = 0;
    return 0;
}

int RequestParser::Impl::OnMethodComplete(llhttp_t* parser) {
    From(parser).m_head = llhttp_get_method(parser) == HTTP_HEAD;
    return 0;
}

int RequestParser::Impl::OnVersion(llhttp_t* parser, const char* at, size_t length) {
    // Only the shape DIGIT.DIGIT matters, so a longer version is kept cut at four bytes.
    std::string& version = From(parser).m_version;
    if (version.size() < 4)
        version.append(at, std::min<std::size_t>(length, 4 - version.size()));
    return 0;
}

int RequestParser::Impl::OnUrl(llhttp_t* parser, const char* at, size_t length) {
    Impl& self = From(parser);
    if (self.m_current.target.size() + length > self.m_options.max_target_bytes) {
        return self.Fail(414, "request target too long");
    }
    self.m_current.target.append(at, length);
    return self.CountHeaderBytes(length);
}

int RequestParser::Impl::OnHeaderField(llhttp_t* parser, const char* at, size_t length) {
    Impl& self = From(parser);
    if (int rc = self.CountHeaderBytes(length); rc != 0)
        return rc;
    auto& headers = self.m_current.headers;
    if (headers.empty() || self.m_last_was_value) {
        if (headers.size() >= self.m_options.max_header_count) {
            return self.Fail(431, "too many header fields");
        }
        headers.emplace_back();
        self.m_last_was_value = false;
    }
    std::string& name = headers.back().first;
    for (size_t i = 0; i < length; ++i)
        name.push_back(AsciiLower(at[i]));
    return 0;
}

int RequestParser::Impl::OnHeaderValue(llhttp_t* parser, const char* at, size_t length) {
    Impl& self = From(parser);
    if (int rc = self.CountHeaderBytes(length); rc != 0)
        return rc;
    self.m_last_was_value = true;
    self.m_current.headers.back().second.append(at, length);
    return 0;
}

int RequestParser::Impl::OnHeaderValueComplete(llhttp_t* parser) {
    Impl& self = From(parser);
    // A field with an empty value produces no value span, but it is still a complete field.
    self.m_last_was_value = true;
    if (self.m_current.headers.empty())
        return 0;
    std::string& value = self.m_current.headers.back().second;
    value = std::string(TrimBlanks(value));
    return 0;
}

int RequestParser::Impl::FinishHeaders() {
    HttpRequest& req = m_current;
    req.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(&m_parser)));
    req.http_minor = llhttp_get_http_minor(&m_parser);
    // llhttp also takes "HTTP/2.0" and "HTTP/0.9" request lines; only HTTP/1.x is spoken here.
    if (const int major = llhttp_get_http_major(&m_parser); major != 1) {
        return Fail(505, "HTTP version not supported: HTTP/" + std::to_string(major) + "." +
                             std::to_string(req.http_minor));
    }
    if (std::optional<HttpError> bad_target = SplitTarget(req))
        return Fail(bad_target->status, std::move(bad_target->message));

    const uint16_t flags = m_parser.flags;
    if ((flags & F_TRANSFER_ENCODING) != 0) {
        // RFC 9112 section 6.1: HTTP/1.0 has no transfer codings, so such a message's framing is
        // faulty. Section 6.3: unless chunked is the final coding the body's end is unknowable,
        // which is a 400 and a close. Only a single "chunked" coding is decodable here; gzip and
        // friends before it would hand the handlers compressed bytes, so they get 501 instead of
        // being half-understood.
        if (req.http_minor == 0)
            return Fail(400, "Transfer-Encoding in an HTTP/1.0 request");
        std::size_t codings = 0;
        bool last_chunked = false;
        for (const auto& [name, value] : req.headers) {
            if (name != "transfer-encoding")
                continue;
            std::string_view list = value;
            while (true) {
                std::size_t comma = list.find(',');
                std::string_view coding = TrimBlanks(list.substr(0, comma));
                ++codings;
                last_chunked = EqualsIgnoreCase(coding, "chunked");
                if (comma == std::string_view::npos)
                    break;
                list.remove_prefix(comma + 1);
            }
        }
        if (!last_chunked)
            return Fail(400, "the final transfer coding must be chunked");
        if (codings != 1)
            return Fail(501, "unsupported transfer encoding");
    }
    // With neither Content-Length nor Transfer-Encoding a request has no content (RFC 9112
    // section 6.3, rule 7): llhttp completes it right after the header section, and a bodiless
    // POST reaches its handler with an empty body rather than a 411.
    const bool has_length = (flags & F_CONTENT_LENGTH) != 0;
    if (has_length && m_parser.content_length > m_options.max_body_bytes) {
        return Fail(413, "request body too large");
    }
    if (has_length)
        req.body.reserve(static_cast<std::size_t>(m_parser.content_length));
    const std::string* expect = req.Header("expect");
    m_expect_continue =
        expect != nullptr && EqualsIgnoreCase(*expect, "100-continue") && req.http_minor >= 1;
    return 0;
}

int RequestParser::Impl::OnHeadersComplete(llhttp_t* parser) {
    Impl& self = From(parser);
    if (self.FinishHeaders() != 0)
        return -1;
    self.m_in_header_section = false;
    // Pausing marks where the header section ends inside the chunk, for exact byte counting.
    return HPE_PAUSED;
}

int RequestParser::Impl::OnBody(llhttp_t* parser, const char* at, size_t length) {
    Impl& self = From(parser);
    // Content-Length bodies were bounded up front; this catches chunked bodies as they stream.
    if (self.m_current.body.size() + length > self.m_options.max_body_bytes) {
        return self.Fail(413, "request body too large");
    }
    self.m_current.body.append(at, length);
    return 0;
}

int RequestParser::Impl::OnMessageComplete(llhttp_t* parser) {
    Impl& self = From(parser);
    HttpRequest& req = self.m_current;
    // An Upgrade request is answered as plain HTTP and the connection closed afterwards,
    // because llhttp stops parsing HTTP after it.
    req.keep_alive = llhttp_should_keep_alive(parser) != 0 && llhttp_get_upgrade(parser) == 0;
    if (!req.keep_alive)
        self.m_finished = true;
    self.m_completed.push_back(std::move(req));
    self.m_in_message = false;
    self.m_current = HttpRequest{};
    self.m_in_header_section = true;
    self.m_expect_continue = false;
    self.m_header_section_bytes = 0;
    self.m_header_span_bytes = 0;
    // Pausing marks where the next message starts inside the chunk.
    return HPE_PAUSED;
}

HttpFeedResult RequestParser::Impl::Feed(std::string_view bytes) {
    HttpFeedResult result;
    const char* data = bytes.data();
    std::size_t remaining = bytes.size();
    // After a pause llhttp runs again even with no bytes left: a message without a body
    // completes right after its header section, without consuming input.
    bool resumed = false;
    while (!m_finished && (remaining > 0 || resumed)) {
        resumed = false;
        const bool segment_in_headers = m_in_header_section;
        const llhttp_errno_t err = llhttp_execute(&m_parser, data, remaining);
        std::size_t consumed = remaining;
        if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
            consumed = static_cast<std::size_t>(llhttp_get_error_pos(&m_parser) - data);
        }
        if (segment_in_headers)
            m_header_section_bytes += consumed;
        data += consumed;
        remaining -= consumed;

        if (err == HPE_OK || err == HPE_PAUSED) {
            if (segment_in_headers && m_header_section_bytes > m_options.max_header_bytes) {
                Fail(431, "request header fields too large");
            }
        } else if (err != HPE_PAUSED_UPGRADE && !m_error) {
            m_error = ErrorFromLlhttp(err, llhttp_get_error_reason(&m_parser), m_version);
        }
        if (m_error) {
            m_finished = true;
            break;
        }
        if (err == HPE_PAUSED) {
            llhttp_resume(&m_parser);
            resumed = true;
        }
        if (err == HPE_PAUSED_UPGRADE)
            m_finished = true;
    }
    if (m_expect_continue && !m_finished) {
        result.expect_continue = true;
        m_expect_continue = false;
    }
    result.requests = std::move(m_completed);
    m_completed.clear();
    if (m_error && !m_error_reported) {
        result.error = m_error;
        result.error->head = m_in_message && m_head;
        m_error_reported = true;
    }
    return result;
}

RequestParser::RequestParser() : RequestParser(Options{}) {}
RequestParser::RequestParser(Options options) : m_impl(std::make_unique<Impl>(options)) {}
RequestParser::~RequestParser() = default;

HttpFeedResult RequestParser::Feed(std::string_view bytes) {
    return m_impl->Feed(bytes);
}
bool RequestParser::Finished() const {
    return m_impl->Finished();
}

bool RequestParser::InRequest() const {
    return m_impl->InRequest();
}

bool RequestParser::InHeadRequest() const {
    return m_impl->InHeadRequest();
}

}  // namespace gossipchain
