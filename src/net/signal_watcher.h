// Runs a callback on the loop thread when a POSIX signal arrives (SIGINT/SIGTERM shutdown).
#pragma once

#include <functional>

struct uv_signal_s;

namespace gossipchain::net {

class EventLoop;
template <typename T>
class UvHandle;

class SignalWatcher {
public:
    /** Starts watching `signum` at once. */
    SignalWatcher(EventLoop& loop, int signum, std::function<void()> cb);
    ~SignalWatcher();
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

private:
    static void OnSignal(uv_signal_s* signal, int signum);

    UvHandle<uv_signal_s>* m_handle;
    std::function<void()> m_cb;
};

}  // namespace gossipchain::net
