#include "net/uv_handle.h"

namespace gossipchain::net {

void UvHandleBase::Close() noexcept {
    if (m_closing)
        return;
    m_closing = true;
    uv_close(RawHandle(), &UvHandleBase::OnClose);
}

void UvHandleBase::Release() noexcept {
    m_owner = nullptr;
    m_on_closed = nullptr;
    Close();
}

void UvHandleBase::OnClose(uv_handle_t* handle) {
    auto* self = static_cast<UvHandleBase*>(handle->data);
    std::function<void()> on_closed = std::move(self->m_on_closed);
    delete self;
    if (on_closed)
        CallbackGuard("close", on_closed);
}

}  // namespace gossipchain::net
