// libuv handle and request lifetime for all of src/net. Internal: only src/net .cpp files include
// this header, so <uv.h> never reaches p2p or http.
//
// Ownership story.
//  * A libuv handle must stay at a fixed address from uv_*_init until its close callback has run,
//    which is one loop iteration after uv_close(). Its owner (a Connection, a Timer, ...) may be
//    destroyed earlier than that, so the owner cannot hold the handle by value.
//  * UvHandle<T> therefore holds the uv handle by value, is heap-allocated by Create(), is never
//    moved or copied, and deletes itself in its close callback (OnClose) and nowhere else. The
//    handle's `data` points at the UvHandle; the UvHandle points at its owner.
//  * The owner keeps a raw pointer. Close() (idempotent) starts closing; once the close callback
//    ran, the optional on-closed hook tells the owner, which must drop its pointer then. An owner
//    that dies first calls Release(): the UvHandle forgets the owner and its hook, and closes. From
//    then on every callback that recovers the owner gets nullptr and must do nothing.
//  * Nothing but UvHandleBase::Close() calls uv_close().
//  * Requests (write, connect, shutdown, getaddrinfo) are plain heap structs owned by libuv while
//  in
//    flight: each is freed in its callback, or at once when the call that starts it fails
//    synchronously. Write, connect and shutdown callbacks still run (with UV_ECANCELED) when their
//    stream closes, before the stream's close callback; they find the owner through the stream.
//  * Every C callback is a static On<Event> member with libuv's exact signature. Exceptions never
//    cross into libuv: callback bodies run inside CallbackGuard.
#pragma once

#include "net/constants.h"
#include "util/log.h"

#include <uv.h>

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace gossipchain::net {

class EventLoop;

/** The raw loop behind an EventLoop (defined in event_loop.cpp). */
uv_loop_t* LoopOf(EventLoop& loop);

/**
 * Runs `fn`, logging and swallowing any exception so that none unwinds through a C frame.
 * Returns false when `fn` threw, so the caller can close the connection that caused it.
 */
template <typename Fn>
bool CallbackGuard(const char* where, Fn&& fn) noexcept {
    try {
        std::forward<Fn>(fn)();
        return true;
    } catch (const std::exception& e) {
        LOG_ERROR("net: exception in %s callback: %s", where, e.what());
    } catch (...) {
        LOG_ERROR("net: unknown exception in %s callback", where);
    }
    return false;
}

class UvHandleBase {
public:
    UvHandleBase(const UvHandleBase&) = delete;
    UvHandleBase& operator=(const UvHandleBase&) = delete;

    /** Starts closing the handle; idempotent. The memory is freed in the close callback. */
    void Close() noexcept;

    /** For an owner that is being destroyed: forget owner and hook, then Close(). */
    void Release() noexcept;

    /** Called after the close callback freed this object; the owner drops its pointer there. */
    void SetOnClosed(std::function<void()> on_closed) { m_on_closed = std::move(on_closed); }

    bool IsClosing() const { return m_closing; }
    void* Owner() const { return m_owner; }

    /** Recovers the owner from any uv handle whose `data` a UvHandle set; nullptr once released. */
    template <typename Owner>
    static Owner* OwnerOf(const void* uv_handle) {
        const auto* handle = static_cast<const uv_handle_t*>(uv_handle);
        const auto* self = static_cast<const UvHandleBase*>(handle->data);
        return self == nullptr ? nullptr : static_cast<Owner*>(self->m_owner);
    }

protected:
    explicit UvHandleBase(void* owner) : m_owner(owner) {}
    virtual ~UvHandleBase() = default;
    virtual uv_handle_t* RawHandle() = 0;

private:
    static void OnClose(uv_handle_t* handle);

    void* m_owner;
    std::function<void()> m_on_closed;
    bool m_closing = false;
};

template <typename T>
class UvHandle final : public UvHandleBase {
public:
    /**
     * Allocates the wrapper and runs `init(T*)` (e.g. uv_tcp_init). Returns nullptr and sets
     * `status` when init fails; an uninitialised handle must not be uv_close()d, so it is deleted.
     */
    template <typename Init>
    static UvHandle* Create(void* owner, Init&& init, int* status = nullptr) {
        auto* self = new UvHandle(owner);
        const int rc = std::forward<Init>(init)(&self->m_handle);
        if (status != nullptr)
            *status = rc;
        if (rc != 0) {
            delete self;
            return nullptr;
        }
        self->m_handle.data = static_cast<UvHandleBase*>(self);
        return self;
    }

    T* Get() { return &m_handle; }
    uv_stream_t* Stream() { return reinterpret_cast<uv_stream_t*>(&m_handle); }

private:
    explicit UvHandle(void* owner) : UvHandleBase(owner) {}
    ~UvHandle() override = default;
    uv_handle_t* RawHandle() override { return reinterpret_cast<uv_handle_t*>(&m_handle); }

    T m_handle{};
};

/** One uv_write: owns its bytes until libuv calls back, and gives them back to the budget. */
struct WriteRequest {
    uv_write_t req{};
    std::string bytes;
    std::shared_ptr<WriteBudget> budget;

    ~WriteRequest() {
        if (budget)
            budget->queued -= bytes.size();
    }
};

}  // namespace gossipchain::net
