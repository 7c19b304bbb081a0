#include "net/timer.h"

#include "net/event_loop.h"
#include "net/uv_handle.h"

namespace gossipchain::net {

Timer::Timer(EventLoop& loop)
    : m_handle(UvHandle<uv_timer_t>::Create(
          this, [&](uv_timer_t* t) { return uv_timer_init(LoopOf(loop), t); })) {}

Timer::~Timer() {
    if (m_handle != nullptr)
        m_handle->Release();
}

void Timer::Start(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> cb) {
    if (m_handle == nullptr)
        return;
    m_cb = std::move(cb);
    // From now, not from the loop's cached clock, which a long synchronous piece of work leaves
    // behind (see Connection::StartConnect).
    uv_update_time(m_handle->Get()->loop);
    uv_timer_start(m_handle->Get(), &Timer::OnTimer, timeout_ms, repeat_ms);
}

void Timer::Stop() {
    if (m_handle != nullptr)
        uv_timer_stop(m_handle->Get());
}

void Timer::OnTimer(uv_timer_s* timer) {
    auto* self = UvHandleBase::OwnerOf<Timer>(timer);
    if (self == nullptr || !self->m_cb)
        return;
    // Copy first: the callback may Start() this timer again, replacing m_cb while it runs.
    std::function<void()> cb = self->m_cb;
    CallbackGuard("timer", cb);
}

}  // namespace gossipchain::net
