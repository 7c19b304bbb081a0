#include "p2p/net_links.h"

#include "p2p/address_book.h"
#include "p2p/codec.h"
#include "p2p/messages.h"
#include "util/log.h"

namespace gossipchain {

NetLinks::~NetLinks() = default;

void NetLinks::Start(net::Transport& transport, std::uint64_t tick_ms,
                     std::uint64_t auth_timeout_ms) {
    m_transport = &transport;
    m_auth_timeout_ms = auth_timeout_ms;
    m_tick = std::make_unique<net::Timer>(m_loop);
    m_tick->Start(0, tick_ms, [this] {
        ExpireHandshakes();
        m_events->Tick(m_loop.NowMs());
    });
}

void NetLinks::Stop() {
    if (m_tick)
        m_tick->Stop();
}

NetLinks::Channel* NetLinks::Find(LinkId link) {
    auto found = m_channels.find(link);
    return found == m_channels.end() || !found->second.opened ? nullptr : &found->second;
}

const NetLinks::Channel* NetLinks::Find(LinkId link) const {
    auto found = m_channels.find(link);
    return found == m_channels.end() || !found->second.opened ? nullptr : &found->second;
}

void NetLinks::Send(LinkId link, std::string_view payload) {
    Channel* channel = Find(link);
    if (channel == nullptr || channel->conn->IsClosing())
        return;
    // Sealing counts the message: one that is then not sent would desynchronise the peer's
    // counter, so what cannot be sent is refused before it is sealed.
    if (payload.size() > MAX_MESSAGE_BYTES) {
        LOG_WARN("p2p: refusing to send a %zu-byte message to %s", payload.size(),
                 channel->conn->RemoteAddress().c_str());
        return;
    }
    channel->conn->SendFrame(channel->secure->Seal(payload));
}

void NetLinks::Close(LinkId link, DropReason reason, std::string_view detail) {
    Channel* channel = Find(link);
    if (channel == nullptr)
        return;
    if (reason == DropReason::Rejected)
        channel->conn->CloseAfterWrites(detail);
    else
        channel->conn->Close(detail);
}

void NetLinks::Dial(const PeerAddress& address) {
    std::string key = AddressBook::Key(address.host, address.port);
    m_transport->Connect(
        address.host, address.port, [this, key](net::Connection* conn, int status) {
            if (conn != nullptr) {
                m_dialed[conn->Id()] = key;
                return;
            }
            m_events->OnDialFailed(key, DialFailure::Unreachable, net::Transport::ErrorName(status),
                                   m_loop.NowMs());
        });
}

std::size_t NetLinks::QueuedBytes(LinkId link) const {
    const Channel* channel = Find(link);
    return channel == nullptr ? 0 : channel->conn->QueuedBytes();
}

void NetLinks::RefuseLegacy(net::Connection& conn) {
    ++m_legacy_refused;
    LOG_INFO("peer %s speaks the plaintext protocol 2: refused", conn.RemoteAddress().c_str());
    Reject reject{static_cast<std::uint32_t>(RejectCode::ProtocolVersion),
                  "plaintext protocol version 2 is not spoken here: this node speaks version " +
                      std::to_string(PROTOCOL_VERSION) + ", authenticated and encrypted links"};
    conn.SendFrame(EncodeMessage(reject));
    conn.CloseAfterWrites("plaintext protocol 2 refused");
}

void NetLinks::OnOpen(net::Connection& conn) {
    if (conn.LegacyMagic()) {
        RefuseLegacy(conn);
        return;
    }
    Channel& channel = m_channels[conn.Id()];
    channel.conn = &conn;
    channel.started_ms = m_loop.NowMs();
    auto dialed = m_dialed.find(conn.Id());
    if (dialed != m_dialed.end()) {
        channel.dialed = std::move(dialed->second);
        m_dialed.erase(dialed);
    }
    channel.secure = std::make_unique<SecureChannel>(
        *m_identity, conn.Inbound() ? ChannelRole::Responder : ChannelRole::Initiator);
    conn.SendFrame(channel.secure->KeyFrame());
}

void NetLinks::HandshakeFrame(Channel& channel, std::string_view payload) {
    std::string to_send;
    ChannelEvent event = channel.secure->Receive(payload, m_plaintext, to_send);
    if (!to_send.empty())
        channel.conn->SendFrame(to_send);
    if (event == ChannelEvent::Failed) {
        ++m_handshake_failures;
        LOG_INFO("peer %s failed the handshake: %s", channel.conn->RemoteAddress().c_str(),
                 channel.secure->FailureText().c_str());
        channel.conn->Close(net::CloseReason::AuthenticationFailed,
                            "handshake failed: " + channel.secure->FailureText());
        return;
    }
    if (event != ChannelEvent::Established)
        return;
    channel.opened = true;
    LinkInfo info;
    info.remote = channel.conn->RemoteAddress();
    info.outbound = !channel.conn->Inbound();
    info.dialed = channel.dialed;
    info.peer_key = channel.secure->PeerKey();
    info.session_id = channel.secure->SessionId();
    m_events->OnLinkOpened(channel.conn->Id(), info, m_loop.NowMs());
}

void NetLinks::OnFrame(net::Connection& conn, std::string_view payload) {
    if (conn.IsClosing())
        return;
    auto found = m_channels.find(conn.Id());
    if (found == m_channels.end())
        return;
    Channel& channel = found->second;
    if (!channel.opened) {
        HandshakeFrame(channel, payload);
        return;
    }
    std::string unused;
    if (channel.secure->Receive(payload, m_plaintext, unused) != ChannelEvent::Delivered) {
        ++m_auth_failures;
        LOG_WARN("peer %s: %s; link closed, the peer is not blamed", conn.RemoteAddress().c_str(),
                 channel.secure->FailureText().c_str());
        conn.Close(net::CloseReason::AuthenticationFailed, channel.secure->FailureText());
        return;
    }
    m_events->OnPayload(conn.Id(), m_plaintext, m_loop.NowMs());
}

void NetLinks::OnWritable(net::Connection& conn) {
    if (Find(conn.Id()) != nullptr)
        m_events->OnWritable(conn.Id(), m_loop.NowMs());
}

void NetLinks::ExpireHandshakes() {
    const std::uint64_t now = m_loop.NowMs();
    for (auto& [id, channel] : m_channels) {
        if (!channel.opened && !channel.conn->IsClosing() &&
            now - channel.started_ms >= m_auth_timeout_ms) {
            ++m_handshake_failures;
            channel.conn->Close(net::CloseReason::AuthenticationFailed, "handshake timeout");
        }
    }
}

void NetLinks::OnClose(net::Connection& conn, std::string_view reason) {
    auto dialed = m_dialed.find(conn.Id());
    if (dialed != m_dialed.end()) {
        // Connected, then closed before the magic went out: a dial that failed.
        std::string key = std::move(dialed->second);
        m_dialed.erase(dialed);
        m_events->OnDialFailed(key, DialFailure::Unreachable, reason, m_loop.NowMs());
        return;
    }
    auto found = m_channels.find(conn.Id());
    if (found == m_channels.end())
        return;
    Channel channel = std::move(found->second);
    m_channels.erase(found);
    const std::uint64_t now = m_loop.NowMs();
    if (channel.opened) {
        m_events->OnLinkClosed(conn.Id(), conn.CloseCode(), reason, now);
        return;
    }
    if (channel.dialed.empty())
        return;
    // An HTTP server answers our magic with a status line, or, as Python's http.server (the
    // tutorial's Flask) does, with a bare HTML page read as an oversized frame.
    DialFailure cause = DialFailure::Unreachable;
    if (conn.CloseCode() == net::CloseReason::PeerSpeaksHttp ||
        conn.CloseCode() == net::CloseReason::FrameTooLarge)
        cause = DialFailure::AnsweredHttp;
    else if (conn.CloseCode() == net::CloseReason::AuthenticationFailed)
        cause = DialFailure::HandshakeFailed;
    m_events->OnDialFailed(channel.dialed, cause, reason, now);
}

}  // namespace gossipchain
