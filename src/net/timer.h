// A one-shot or repeating timer on an EventLoop, for p2p pings, reconnect backoff and the like.
#pragma once

#include <cstdint>
#include <functional>

struct uv_timer_s;

namespace gossipchain::net {

class EventLoop;
template <typename T>
class UvHandle;

class Timer {
public:
    explicit Timer(EventLoop& loop);
    /** Stops the timer; the callback never runs after this. */
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    /** (Re)starts: `cb` runs after `timeout_ms`, then every `repeat_ms` when that is non-zero. */
    void Start(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> cb);
    void Stop();

private:
    static void OnTimer(uv_timer_s* timer);

    UvHandle<uv_timer_s>* m_handle;
    std::function<void()> m_cb;
};

}  // namespace gossipchain::net
