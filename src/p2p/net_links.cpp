#include "p2p/net_links.h"

#include "p2p/address_book.h"

namespace gossipchain {

NetLinks::~NetLinks() = default;

void NetLinks::Start(net::Transport& transport, std::uint64_t tick_ms) {
    m_transport = &transport;
    m_tick = std::make_unique<net::Timer>(m_loop);
    m_tick->Start(0, tick_ms, [this] { m_events->Tick(m_loop.NowMs()); });
}

void NetLinks::Stop() {
    if (m_tick)
        m_tick->Stop();
}

net::Connection* NetLinks::Find(LinkId link) const {
    auto found = m_links.find(link);
    return found == m_links.end() ? nullptr : found->second;
}

void NetLinks::Send(LinkId link, std::string_view payload) {
    if (net::Connection* conn = Find(link); conn != nullptr && !conn->IsClosing())
        conn->SendFrame(payload);
}

void NetLinks::Close(LinkId link, DropReason reason, std::string_view detail) {
    net::Connection* conn = Find(link);
    if (conn == nullptr)
        return;
    if (reason == DropReason::Rejected)
        conn->CloseAfterWrites(detail);
    else
        conn->Close(detail);
}

void NetLinks::Dial(const PeerAddress& address) {
    std::string key = AddressBook::Key(address.host, address.port);
    m_transport->Connect(
        address.host, address.port, [this, key](net::Connection* conn, int status) {
            if (conn != nullptr) {
                m_dialed[conn->Id()] = key;
                return;
            }
            m_events->OnDialFailed(key, net::Transport::ErrorName(status), m_loop.NowMs());
        });
}

std::size_t NetLinks::QueuedBytes(LinkId link) const {
    net::Connection* conn = Find(link);
    return conn == nullptr ? 0 : conn->QueuedBytes();
}

void NetLinks::OnOpen(net::Connection& conn) {
    LinkInfo info;
    info.remote = conn.RemoteAddress();
    auto dialed = m_dialed.find(conn.Id());
    if (dialed != m_dialed.end()) {
        info.outbound = true;
        info.dialed = std::move(dialed->second);
        m_dialed.erase(dialed);
    }
    m_links[conn.Id()] = &conn;
    m_events->OnLinkOpened(conn.Id(), info, m_loop.NowMs());
}

void NetLinks::OnFrame(net::Connection& conn, std::string_view payload) {
    if (!conn.IsClosing())
        m_events->OnPayload(conn.Id(), payload, m_loop.NowMs());
}

void NetLinks::OnWritable(net::Connection& conn) {
    m_events->OnWritable(conn.Id(), m_loop.NowMs());
}

void NetLinks::OnClose(net::Connection& conn, std::string_view reason) {
    auto dialed = m_dialed.find(conn.Id());
    if (dialed != m_dialed.end()) {
        // Connected, then closed before the magic went out: a dial that failed.
        std::string key = std::move(dialed->second);
        m_dialed.erase(dialed);
        m_events->OnDialFailed(key, reason, m_loop.NowMs());
        return;
    }
    if (m_links.erase(conn.Id()) == 0)
        return;
    m_events->OnLinkClosed(conn.Id(), conn.CloseCode(), reason, m_loop.NowMs());
}

}  // namespace gossipchain
