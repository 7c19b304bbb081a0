#include "net/event_loop.h"

#include "net/timer.h"
#include "net/uv_handle.h"
#include "util/log.h"

#include <mutex>
#include <vector>

namespace gossipchain::net {

struct EventLoop::Impl {
    uv_loop_t loop{};
    UvHandle<uv_async_t>* async = nullptr;
    std::mutex mutex;  // guards `posted` and `closed` against Post() from other threads
    std::vector<std::function<void()>> posted;
    bool closed = false;
    int close_result = 0;
};

uv_loop_t* LoopOf(EventLoop& loop) {
    return &loop.m_impl->loop;
}

EventLoop::EventLoop() : m_impl(std::make_unique<Impl>()) {
    uv_loop_init(&m_impl->loop);
    m_impl->async = UvHandle<uv_async_t>::Create(
        this, [&](uv_async_t* h) { return uv_async_init(&m_impl->loop, h, &EventLoop::OnAsync); });
    // The wake-up handle alone must not keep Run() going once everything else has finished.
    if (m_impl->async != nullptr)
        uv_unref(reinterpret_cast<uv_handle_t*>(m_impl->async->Get()));
}

EventLoop::~EventLoop() {
    Close();
}

void EventLoop::Run() {
    uv_run(&m_impl->loop, UV_RUN_DEFAULT);
}

bool EventLoop::RunUntil(const std::function<bool()>& done, uint64_t timeout_ms) {
    uv_update_time(&m_impl->loop);
    const uint64_t deadline = NowMs() + timeout_ms;
    // The ticking timer bounds each UV_RUN_ONCE wait, so the deadline and outside conditions are
    // noticed even when no I/O arrives.
    Timer tick(*this);
    tick.Start(DEFAULT_RUN_UNTIL_POLL_MS, DEFAULT_RUN_UNTIL_POLL_MS, [] {});
    bool held = done();
    while (!held && NowMs() < deadline) {
        uv_run(&m_impl->loop, UV_RUN_ONCE);
        held = done();
    }
    return held;
}

void EventLoop::Stop() {
    uv_stop(&m_impl->loop);
}

void EventLoop::Post(std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    if (m_impl->closed || m_impl->async == nullptr)
        return;
    m_impl->posted.push_back(std::move(fn));
    uv_async_send(m_impl->async->Get());
}

uint64_t EventLoop::NowMs() const {
    return uv_now(&m_impl->loop);
}

void EventLoop::OnAsync(uv_async_s* async) {
    auto* self = UvHandleBase::OwnerOf<EventLoop>(async);
    if (self != nullptr)
        self->RunPosted();
}

void EventLoop::RunPosted() {
    std::vector<std::function<void()>> batch;
    {
        std::lock_guard<std::mutex> lock(m_impl->mutex);
        batch.swap(m_impl->posted);
    }
    for (auto& fn : batch)
        CallbackGuard("posted", fn);
}

namespace {

void CountOpenHandle(uv_handle_t* handle, void* arg) {
    if (uv_is_closing(handle))
        return;
    ++*static_cast<size_t*>(arg);
    LOG_WARN("net: handle of type %s still open at EventLoop::Close",
             uv_handle_type_name(handle->type));
}

}  // namespace

int EventLoop::Close() {
    if (m_impl == nullptr)
        return UV_EBUSY;  // an earlier Close() failed and leaked the loop
    {
        std::lock_guard<std::mutex> lock(m_impl->mutex);
        if (m_impl->closed)
            return m_impl->close_result;
        m_impl->closed = true;
        m_impl->posted.clear();
    }
    if (m_impl->async != nullptr) {
        m_impl->async->Release();
        m_impl->async = nullptr;
    }
    size_t open = 0;
    uv_walk(&m_impl->loop, &CountOpenHandle, &open);
    if (open == 0) {
        // Only closing handles and finishing requests remain, so this returns.
        uv_run(&m_impl->loop, UV_RUN_DEFAULT);
    } else {
        uv_run(&m_impl->loop, UV_RUN_NOWAIT);
    }
    const int result = uv_loop_close(&m_impl->loop);
    m_impl->close_result = result;
    if (result != 0) {
        LOG_ERROR("net: uv_loop_close failed: %s", uv_strerror(result));
        // The loop memory must outlive the leaked handles that still point into it.
        static_cast<void>(m_impl.release());
    }
    return result;
}

}  // namespace gossipchain::net
