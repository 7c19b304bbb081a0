// A Links that records what the protocol core does, for tests and fuzz targets that drive the
// real PeerManager without sockets or a loop: sends are kept per link (decodable on demand),
// closes and dials are recorded, and each link's queued bytes are whatever the test sets.
#pragma once

#include "p2p/codec.h"
#include "p2p/links.h"
#include "p2p/messages.h"

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace gossipchain::test {

/** The node key made from a seed of 32 bytes `c`: tests name peers by a character. */
inline const NodeKey& TestKey(char c) {
    static std::map<char, NodeKey> keys;
    auto found = keys.find(c);
    if (found == keys.end()) {
        NodeKeySeed seed{};
        seed.fill(static_cast<std::uint8_t>(c));
        found = keys.emplace(c, NodeKey::FromSeed(seed)).first;
    }
    return found->second;
}

/** What NetLinks tells the core of a link whose peer proved TestKey(key). */
inline LinkInfo TestLinkInfo(std::string remote, char key, bool outbound = false,
                             std::string dialed = {}) {
    LinkInfo info;
    info.remote = std::move(remote);
    info.outbound = outbound;
    info.dialed = std::move(dialed);
    info.peer_key = TestKey(key).PublicKey();
    info.session_id = "00112233445566" + std::string(2, key);
    return info;
}

class FakeLinks : public Links {
public:
    void Send(LinkId link, std::string_view payload) override {
        sent[link].emplace_back(payload);
        ++sends;
    }
    void Close(LinkId link, DropReason reason, std::string_view detail) override {
        closed[link] = reason;
        close_detail[link] = std::string(detail);
    }
    void Dial(const PeerAddress& address) override { dials.push_back(address); }
    std::size_t QueuedBytes(LinkId link) const override {
        auto found = queued.find(link);
        return found == queued.end() ? 0 : found->second;
    }

    /** Every message sent on `link` so far, decoded (an undecodable one is a test failure the
     * caller sees as a missing message). */
    std::vector<Message> Messages(LinkId link) const {
        std::vector<Message> out;
        auto found = sent.find(link);
        if (found == sent.end())
            return out;
        for (const std::string& payload : found->second) {
            DecodeResult decoded = DecodeMessage(payload);
            if (decoded.Ok())
                out.push_back(std::move(decoded.Value()));
        }
        return out;
    }
    template <typename T>
    std::vector<T> Sent(LinkId link) const {
        std::vector<T> out;
        for (Message& message : Messages(link)) {
            if (auto* body = std::get_if<T>(&message))
                out.push_back(std::move(*body));
        }
        return out;
    }
    /** Forgets what was sent on `link`. */
    void ClearSent(LinkId link) { sent.erase(link); }
    bool IsClosed(LinkId link) const { return closed.count(link) != 0; }

    std::map<LinkId, std::vector<std::string>> sent;
    std::size_t sends = 0;
    std::map<LinkId, DropReason> closed;
    std::map<LinkId, std::string> close_detail;
    std::vector<PeerAddress> dials;
    std::map<LinkId, std::size_t> queued;
};

}  // namespace gossipchain::test
