// An HttpStream without a connection: what a stream handler wrote, and what its client has not
// read yet, for tests of EventHub and ChainStreamer.
#pragma once

#include "http/http_stream.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace gossipchain::test {

/** A stream whose client reads every write at once, or (reads = false) nothing until the test
 * drains `pending` by hand. */
class FakeStream final : public HttpStream {
public:
    explicit FakeStream(bool reads = true) : m_reads(reads) {}
    std::size_t PendingBytes() const override { return pending; }
    bool Write(std::string bytes) override {
        if (closed)
            return false;
        if (!m_reads)
            pending += bytes.size();
        written += bytes;
        ++writes;
        return true;
    }
    void Close(std::string_view why) override {
        closed = true;
        reason = std::string(why);
    }
    void Finish(std::string_view why) override {
        finished = true;
        reason = std::string(why);
    }
    const std::string& Peer() const override { return m_peer; }

    std::string written;
    std::size_t pending = 0;
    std::size_t writes = 0;
    bool closed = false;
    /** Finish was called: the connection closes once `pending` is read. */
    bool finished = false;
    std::string reason;

private:
    bool m_reads;
    std::string m_peer = "127.0.0.1:1";
};

}  // namespace gossipchain::test
