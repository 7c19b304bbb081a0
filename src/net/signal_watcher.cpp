#include "net/signal_watcher.h"

#include "net/event_loop.h"
#include "net/uv_handle.h"

namespace gossipchain::net {

SignalWatcher::SignalWatcher(EventLoop& loop, int signum, std::function<void()> cb)
    : m_handle(UvHandle<uv_signal_t>::Create(
          this, [&](uv_signal_t* s) { return uv_signal_init(LoopOf(loop), s); })),
      m_cb(std::move(cb)) {
    if (m_handle == nullptr)
        return;
    const int rc = uv_signal_start(m_handle->Get(), &SignalWatcher::OnSignal, signum);
    if (rc != 0)
        LOG_ERROR("net: cannot watch signal %d: %s", signum, uv_strerror(rc));
    // A signal watcher alone must not keep the loop running.
    uv_unref(reinterpret_cast<uv_handle_t*>(m_handle->Get()));
}

SignalWatcher::~SignalWatcher() {
    if (m_handle != nullptr)
        m_handle->Release();
}

void SignalWatcher::OnSignal(uv_signal_s* signal, int /*signum*/) {
    auto* self = UvHandleBase::OwnerOf<SignalWatcher>(signal);
    if (self != nullptr && self->m_cb)
        CallbackGuard("signal", self->m_cb);
}

}  // namespace gossipchain::net
