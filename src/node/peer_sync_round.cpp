#include "node/peer_sync_round.h"

#include <utility>

namespace gossipchain {

void PeerSyncRound::Start(std::function<void()> done) {
    m_done = std::move(done);
    m_asked = false;
    m_pending.clear();
    std::uint64_t now = m_loop.NowMs();
    m_deadline_ms = now + m_options.settle_ms;
    // Plain HTTP nodes are asked for gossip again, and what was registered a moment ago is
    // dialled now, so the tutorial's register-then-resolve works.
    m_peers.RedialHttpOnly();
    m_peers.Tick(now);
    if (!m_timer)
        m_timer = std::make_unique<net::Timer>(m_loop);
    m_timer->Start(0, RESOLVE_STEP_MS, [this] { Step(); });
}

void PeerSyncRound::Step() {
    if (!m_done)
        return;
    std::uint64_t now = m_loop.NowMs();
    if (m_asked) {
        if (now >= m_deadline_ms)
            Finish();
        return;
    }
    if (m_peers.LinksUnsettled() && now < m_deadline_ms)
        return;
    m_asked = true;
    m_deadline_ms = now + m_options.timeout_ms;
    for (LinkId link : m_peers.SyncEveryPeer(now))
        m_pending.insert(link);
    if (m_pending.empty())
        Finish();
}

void PeerSyncRound::OnPeerSynced(LinkId link) {
    if (m_done && m_asked && m_pending.erase(link) != 0 && m_pending.empty())
        Finish();
}

void PeerSyncRound::Cancel() {
    if (m_timer)
        m_timer->Stop();
    m_done = nullptr;
    m_pending.clear();
}

void PeerSyncRound::Finish() {
    std::function<void()> done = std::exchange(m_done, nullptr);
    m_pending.clear();
    m_timer->Stop();
    done();
}

}  // namespace gossipchain
