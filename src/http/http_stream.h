// A response that goes on after its header section (Server-Sent Events on GET /events). The
// endpoint answers with an HttpResponse whose `stream` names an HttpStreamHandler; HttpSession
// sends the header section and stops reading requests on that connection, and HttpServer hands
// the handler an HttpStream over the connection until it closes. Socket-free on both sides, so
// the handler (EventHub) is tested with a fake stream. Everything runs on the loop thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gossipchain {

/** What a stream handler may do with its connection. */
class HttpStream {
public:
    /** Bytes handed to the connection that the client has not taken yet. */
    virtual std::size_t PendingBytes() const = 0;
    /** Queues `bytes`; false when the connection is closing (the bytes are dropped). */
    virtual bool Write(std::string bytes) = 0;
    /** Closes the connection; OnStreamClosed follows. */
    virtual void Close(std::string_view reason) = 0;
    /** Closes the connection once everything written reached the client (the end of a body
     * delimited by the close); OnStreamClosed follows. */
    virtual void Finish(std::string_view reason) = 0;
    /** The client's "ip:port". */
    virtual const std::string& Peer() const = 0;

protected:
    ~HttpStream() = default;
};

/** The owner of streamed responses; it must outlive every connection it streams to. */
class HttpStreamHandler {
public:
    /** The header section went out: `stream` may be written until OnStreamClosed. */
    virtual void OnStreamOpen(HttpStream& stream) = 0;
    /** Bytes written to `stream` reached the kernel: it may take more (for pacing). */
    virtual void OnStreamWritable(HttpStream& /*stream*/) {}
    /** The connection is gone (also when the server shuts down); `stream` is invalid after. */
    virtual void OnStreamClosed(HttpStream& stream) = 0;

protected:
    ~HttpStreamHandler() = default;
};

}  // namespace gossipchain
