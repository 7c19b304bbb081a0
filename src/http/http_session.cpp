#include "http/http_session.h"

#include "util/clock.h"
#include "util/log.h"

#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

namespace gossipchain {

namespace {

/** One response position in the connection's request order. */
struct Slot {
    bool ready = false;
    bool close_after = false;
    std::string bytes;
    /** A streamed response: on_stream gets the connection after these bytes. */
    HttpStreamHandler* stream = nullptr;
};

}  // namespace

// Shared with every Responder through a weak_ptr, so an answer arriving after the connection
// is gone finds no state and does nothing.
struct HttpSession::State : std::enable_shared_from_this<HttpSession::State> {
    State(const Router& r, Output o, Options opts)
        : router(r), output(std::move(o)), options(opts), parser(opts.parser) {}

    /** Writes out every ready slot at the front. The caller holds a shared_ptr to this. */
    void Flush();
    /**
     * Queues a response that is already known (parse errors, overload) and closes after it;
     * `head` when it answers a HEAD request, so it goes without its body.
     */
    void QueueFinal(const HttpResponse& response, bool head);
    /** QueueFinal once the held-back requests before it have been dispatched. */
    void QueueFinalAfterWaiting(const HttpResponse& response, bool head);
    /** Dispatches held-back requests in order while may_dispatch allows. */
    void DispatchWaiting();
    void Dispatch(HttpRequest& request);

    const Router& router;
    Output output;
    Options options;
    RequestParser parser;

    /** Slots for sequence numbers first_seq, first_seq + 1, ...; the front is written next. */
    std::deque<Slot> slots;
    std::uint64_t first_seq = 0;
    /** Parsed requests not yet dispatched (held back by may_dispatch), in order. */
    std::deque<HttpRequest> waiting;
    /** A final error answer that goes after the waiting requests. */
    std::optional<std::pair<HttpResponse, bool>> waiting_final;
    /** Set when a close_after request or slot is queued: nothing after it will be read. */
    bool input_done = false;
    /** Set when the close_after bytes went out, or the session was destroyed. */
    bool output_done = false;
};

namespace {

std::optional<std::int64_t> DateSeconds(bool enabled) {
    if (!enabled)
        return std::nullopt;
    return static_cast<std::int64_t>(WallSeconds());
}

}  // namespace

HttpSession::HttpSession(const Router& router, Output output)
    : HttpSession(router, std::move(output), Options{}) {}

HttpSession::HttpSession(const Router& router, Output output, Options options)
    : m_state(std::make_shared<State>(router, std::move(output), options)) {}

HttpSession::~HttpSession() {
    m_state->output_done = true;
}

bool HttpSession::Closing() const {
    return m_state->input_done;
}

bool HttpSession::InRequest() const {
    return !m_state->input_done && m_state->parser.InRequest();
}

void HttpSession::TimeOut() {
    std::shared_ptr<State> state = m_state;
    if (state->input_done || state->output_done)
        return;
    state->QueueFinalAfterWaiting(
        JsonErrorResponse(408, "request timeout: the request was not completed in time"),
        state->parser.InHeadRequest());
    state->Flush();
}

std::size_t HttpSession::PendingResponses() const {
    return m_state->slots.size();
}

std::size_t HttpSession::WaitingRequests() const {
    return m_state->waiting.size();
}

void HttpSession::Resume() {
    std::shared_ptr<State> state = m_state;
    state->DispatchWaiting();
    state->Flush();
}

void HttpSession::State::QueueFinalAfterWaiting(const HttpResponse& response, bool head) {
    input_done = true;
    if (waiting.empty())
        QueueFinal(response, head);
    else
        waiting_final.emplace(response, head);
}

void HttpSession::State::DispatchWaiting() {
    while (!output_done && !waiting.empty() && (!options.may_dispatch || options.may_dispatch())) {
        HttpRequest request = std::move(waiting.front());
        waiting.pop_front();
        Dispatch(request);
    }
    if (waiting.empty() && waiting_final && !output_done) {
        auto [response, head] = std::move(*waiting_final);
        waiting_final.reset();
        QueueFinal(response, head);
    }
}

void HttpSession::State::QueueFinal(const HttpResponse& response, bool head) {
    Slot slot;
    slot.ready = true;
    slot.close_after = true;
    slot.bytes = SerializeResponse(response, false, DateSeconds(options.date_header), head);
    slots.push_back(std::move(slot));
    input_done = true;
}

void HttpSession::State::Flush() {
    while (!output_done && !slots.empty() && slots.front().ready) {
        Slot slot = std::move(slots.front());
        slots.pop_front();
        ++first_seq;
        if (slot.close_after || slot.stream != nullptr) {
            output_done = true;
            input_done = true;
            slots.clear();
        }
        // The callback may destroy the session; the caller's shared_ptr keeps this State alive
        // and output_done (set by the destructor) stops the loop. A stream ends the connection
        // itself, also for a client that asked for Connection: close.
        output(std::move(slot.bytes), slot.close_after && slot.stream == nullptr);
        if (slot.stream != nullptr)
            options.on_stream(*slot.stream);
    }
}

void HttpSession::State::Dispatch(HttpRequest& request) {
    const bool head = request.method == "HEAD";
    const std::uint64_t seq = first_seq + slots.size();
    const bool close_after = !request.keep_alive;
    slots.emplace_back();
    auto answered = std::make_shared<bool>(false);
    std::weak_ptr<State> weak = shared_from_this();
    Responder respond = [weak, seq, close_after, head, answered](HttpResponse response) {
        std::shared_ptr<State> s = weak.lock();
        if (*answered || !s || s->output_done || seq < s->first_seq ||
            seq - s->first_seq >= s->slots.size()) {
            return;
        }
        *answered = true;
        Slot& slot = s->slots[seq - s->first_seq];
        slot.ready = true;
        // A stream is the connection's last response: without a taker (or for HEAD) it is its
        // header section, then the connection closes.
        const bool streamed = response.stream != nullptr;
        if (streamed && (head || !s->options.on_stream))
            response.stream = nullptr;
        slot.stream = response.stream;
        slot.close_after = close_after || (streamed && slot.stream == nullptr);
        slot.bytes = SerializeResponse(response, !close_after && slot.stream == nullptr,
                                       DateSeconds(s->options.date_header), head);
        s->Flush();
    };
    // Handlers are C++ code called from a libuv callback; no exception may escape to it.
    try {
        router.Dispatch(request, respond);
    } catch (const std::exception& e) {
        LOG_ERROR("http handler for %s %s threw: %s", request.method.c_str(), request.path.c_str(),
                  e.what());
        respond(JsonErrorResponse(500, "internal error"));
    } catch (...) {
        LOG_ERROR("http handler for %s %s threw", request.method.c_str(), request.path.c_str());
        respond(JsonErrorResponse(500, "internal error"));
    }
}

void HttpSession::OnData(std::string_view bytes) {
    std::shared_ptr<State> state = m_state;
    if (state->input_done || state->output_done)
        return;
    HttpFeedResult fed = state->parser.Feed(bytes);
    for (HttpRequest& request : fed.requests) {
        if (state->slots.size() + state->waiting.size() >= state->options.max_pipeline_depth) {
            state->QueueFinalAfterWaiting(JsonErrorResponse(503, "too many pipelined requests"),
                                          request.method == "HEAD");
            break;
        }
        const bool close_after = !request.keep_alive;
        state->waiting.push_back(std::move(request));
        if (close_after) {
            state->input_done = true;
            break;
        }
    }
    state->DispatchWaiting();
    if (state->output_done)
        return;
    // "100 Continue" is an interim response outside the ordering of final ones, so it is only
    // sent when nothing is queued ahead of it; otherwise the client's own timeout sends the body.
    if (fed.expect_continue && state->slots.empty() && state->waiting.empty() &&
        !state->input_done && !state->output_done) {
        state->output("HTTP/1.1 100 Continue\r\n\r\n", false);
        if (state->output_done)
            return;
    }
    if (fed.error && !state->input_done && !state->output_done) {
        state->QueueFinalAfterWaiting(JsonErrorResponse(fed.error->status, fed.error->message),
                                      fed.error->head);
    }
    state->Flush();
}

}  // namespace gossipchain
