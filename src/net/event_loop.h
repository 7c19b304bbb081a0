// The one libuv loop every network component runs on. Everything in src/net is single-threaded
// on the loop thread; Post() is the only entry point other threads (miners) may call.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

struct uv_loop_s;
struct uv_async_s;

namespace gossipchain::net {

/** How often RunUntil re-checks its condition when no loop event wakes it, in ms. */
inline constexpr uint64_t DEFAULT_RUN_UNTIL_POLL_MS = 5;

class EventLoop {
public:
    EventLoop();
    /** Calls Close() if nobody did. */
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    /** Runs until Stop() (or until nothing is left to wait for). */
    void Run();

    /**
     * Runs the loop until `done()` holds or `timeout_ms` passed; returns whether `done()` held.
     * For tests and shutdown: `done` is re-checked after every loop iteration and at least every
     * DEFAULT_RUN_UNTIL_POLL_MS, so conditions outside the loop (other threads) are seen too.
     */
    bool RunUntil(const std::function<bool()>& done, uint64_t timeout_ms);

    /** Makes Run() return after the current iteration. */
    void Stop();

    /** Thread-safe: queues `fn` to run on the loop thread. Dropped after Close(). */
    void Post(std::function<void()> fn);

    /** The loop's cached monotonic time, in ms. */
    uint64_t NowMs() const;

    /**
     * Closes the loop's own handles, runs until every close callback ran, and returns
     * uv_loop_close(): 0, or UV_EBUSY when some owner (Transport, Timer, ...) still has a live
     * handle, which is then logged and leaked rather than hung on. Idempotent.
     */
    int Close();

private:
    friend uv_loop_s* LoopOf(EventLoop& loop);
    struct Impl;

    static void OnAsync(uv_async_s* async);
    void RunPosted();

    std::unique_ptr<Impl> m_impl;
};

}  // namespace gossipchain::net
