// The seam between the gossip protocol and the network. The protocol core (PeerManager) acts only
// through `Links` (send a payload, close a link, dial an address, ask how much waits to be sent)
// and hears only `LinkEvents` (a link opened, a payload arrived, a link drained or closed, a dial
// failed, time passed), each with the loop time `now_ms` it happened at. So the core has no
// sockets, timers or clock of its own: NetLinks implements both sides over src/net, and unit
// tests and fuzz targets drive the real core with a fake and no event loop (Bitcoin Core's
// PeerManager and its process_message fuzz target; rust-libp2p's transport/behaviour split).
//
// Contract for implementations of Links:
// - No call re-enters the core: Close and Dial report back later, through LinkEvents.
// - A link is opened to the core only once its handshake proved the peer's key (LinkInfo).
// - Every link the core heard OnLinkOpened for gets exactly one OnLinkClosed, also when the core
//   closed it; until then its id stays valid for Send and QueuedBytes (a closed link ignores them).
// - Every Dial ends in exactly one OnLinkOpened (outbound, with `dialed` set to the address) or
//   one OnDialFailed.
#pragma once

#include "crypto/node_key.h"
#include "net/constants.h"
#include "p2p/peer_address.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gossipchain {

/** A link's id, unique for the life of the process. */
using LinkId = std::uint64_t;

/** What is known of a link when it opens: it has passed the handshake of SPEC §7.2, so the
 * peer's key is proven. */
struct LinkInfo {
    /** The remote end, "host:port" (IPv6 in brackets). */
    std::string remote;
    bool outbound = false;
    /** Outbound only: the address that was dialled, as AddressBook::Key spells it. */
    std::string dialed;
    /** The node key the peer proved, and the session id both ends show (16 hex). */
    NodePublicKey peer_key{};
    std::string session_id;
};

/** Why a Dial ended without a link. */
enum class DialFailure {
    /** Refused, unreachable, timed out, closed before the handshake ended. */
    Unreachable,
    /** The port answered in HTTP: a plain tutorial node (or a gossipchain node older than
     * protocol 3, which takes our magic for HTTP). */
    AnsweredHttp,
    /** A gossip node that failed the handshake (SPEC §7.2). */
    HandshakeFailed,
};

/** Why the protocol core ends a link. */
enum class DropReason {
    /** A Reject was just queued: close once it is written. */
    Rejected,
    /** The other end refused us with a Reject. */
    RejectedByPeer,
    /** A second link to a node we are already linked with (SPEC §7). */
    Duplicate,
    /** We dialled ourselves. */
    Self,
    /** Link shaping (netsim) keeps no link with that peer. */
    Blocked,
};

/** A short English name of `reason`, for logs. */
std::string_view DropReasonName(DropReason reason);

class Links {
public:
    virtual ~Links() = default;
    /** Queues one frame's payload on the link. */
    virtual void Send(LinkId link, std::string_view payload) = 0;
    /** Ends the link; `detail` is for the log. Rejected waits for queued frames, the rest not. */
    virtual void Close(LinkId link, DropReason reason, std::string_view detail) = 0;
    /** Opens an outbound link to `address` (SPEC §1: the magic first). */
    virtual void Dial(const PeerAddress& address) = 0;
    /** Bytes queued on the link that the peer has not taken yet. */
    virtual std::size_t QueuedBytes(LinkId link) const = 0;
};

/** What the protocol core hears from the network; all on the loop thread. */
class LinkEvents {
public:
    virtual ~LinkEvents() = default;
    virtual void OnLinkOpened(LinkId link, const LinkInfo& info, std::uint64_t now_ms) = 0;
    virtual void OnPayload(LinkId link, std::string_view payload, std::uint64_t now_ms) = 0;
    /** The link's queue drained below the transport's low-water mark. */
    virtual void OnWritable(LinkId link, std::uint64_t now_ms) = 0;
    /** `reason` says who ended it (net::CloseReason::ByHandler: the core itself). */
    virtual void OnLinkClosed(LinkId link, net::CloseReason reason, std::string_view detail,
                              std::uint64_t now_ms) = 0;
    /** A Dial ended without a link; `detail` says why, for the log. */
    virtual void OnDialFailed(const std::string& address_key, DialFailure cause,
                              std::string_view detail, std::uint64_t now_ms) = 0;
    /** Housekeeping: called every PEER_TICK_MS. */
    virtual void Tick(std::uint64_t now_ms) = 0;
};

}  // namespace gossipchain
