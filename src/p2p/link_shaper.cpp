#include "p2p/link_shaper.h"

#include "util/log.h"

#include <algorithm>

namespace gossipchain {

LinkShaper::LinkShaper(Links& inner, net::EventLoop& loop) : m_inner(inner), m_loop(loop) {}

void LinkShaper::SetDelay(std::uint64_t delay_ms, std::uint64_t jitter_ms) {
    m_delay_ms = delay_ms;
    m_jitter_ms = std::min(jitter_ms, delay_ms);
    LOG_INFO("link shaping: delay %llu ms, jitter %llu ms",
             static_cast<unsigned long long>(m_delay_ms),
             static_cast<unsigned long long>(m_jitter_ms));
}

void LinkShaper::Send(LinkId link, std::string_view payload) {
    auto held = m_held.find(link);
    // Frames held from before the delay was switched off still go first, to keep the order.
    if (m_delay_ms == 0 && m_jitter_ms == 0 && held == m_held.end()) {
        m_inner.Send(link, payload);
        return;
    }
    std::uint64_t now = m_loop.NowMs();
    std::uint64_t due = now + m_delay_ms - m_jitter_ms;
    if (m_jitter_ms != 0)
        due += m_rng() % (2 * m_jitter_ms + 1);
    Held& queue = held == m_held.end() ? m_held[link] : held->second;
    // Never before the frame queued ahead of it: jitter must not reorder one link's frames.
    if (!queue.frames.empty())
        due = std::max(due, queue.frames.back().first);
    queue.frames.emplace_back(due, std::string(payload));
    queue.bytes += payload.size();
    if (!m_timer)
        m_timer = std::make_unique<net::Timer>(m_loop);
    if (queue.frames.size() == 1)
        Flush();
}

void LinkShaper::Close(LinkId link, DropReason reason, std::string_view detail) {
    m_held.erase(link);
    m_inner.Close(link, reason, detail);
}

std::size_t LinkShaper::QueuedBytes(LinkId link) const {
    auto held = m_held.find(link);
    return m_inner.QueuedBytes(link) + (held == m_held.end() ? 0 : held->second.bytes);
}

void LinkShaper::Flush() {
    std::uint64_t now = m_loop.NowMs();
    std::uint64_t next = UINT64_MAX;
    for (auto it = m_held.begin(); it != m_held.end();) {
        Held& queue = it->second;
        while (!queue.frames.empty() && queue.frames.front().first <= now) {
            m_inner.Send(it->first, queue.frames.front().second);
            queue.bytes -= queue.frames.front().second.size();
            queue.frames.pop_front();
        }
        if (queue.frames.empty()) {
            it = m_held.erase(it);
            continue;
        }
        next = std::min(next, queue.frames.front().first);
        ++it;
    }
    if (next != UINT64_MAX)
        m_timer->Start(next - now, 0, [this] { Flush(); });
}

}  // namespace gossipchain
