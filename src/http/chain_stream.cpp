#include "http/chain_stream.h"

#include "primitives/canonical_json.h"

#include <algorithm>
#include <string>

namespace gossipchain {

std::string ChainResponseHead(std::string_view chain_key, std::string_view prefix) {
    std::string head = "{";
    head += prefix;
    head += "\"";
    head += chain_key;
    head += "\":[";
    return head;
}

void AppendChainResponseTail(std::string& out, std::uint64_t length) {
    out += "],\"length\":";
    out += std::to_string(length);
    out += "}\n";
}

bool ChainStreamer::ShouldStream() const {
    std::size_t bytes = 0;
    for (std::uint64_t h = m_chain.Height(); h >= 1; --h) {
        bytes += m_chain.AtHeight(h)->json_size + 1;
        if (bytes >= CHAIN_STREAM_MIN_BYTES)
            return true;
    }
    return false;
}

HttpResponse ChainStreamer::Respond(std::string head) {
    if (m_streams.size() >= MAX_CHAIN_STREAMS)
        return JsonErrorResponse(503, "too many /chain answers streaming; try again");
    HttpResponse response;
    // Sent with the header section (not for HEAD), before the stream opens.
    response.body = std::move(head);
    response.stream = this;
    return response;
}

void ChainStreamer::OnStreamOpen(HttpStream& stream) {
    Cursor& cursor = m_streams[&stream];
    cursor.tip = &m_chain.Tip();
    Pump(stream, cursor);
}

void ChainStreamer::OnStreamWritable(HttpStream& stream) {
    auto found = m_streams.find(&stream);
    if (found != m_streams.end())
        Pump(stream, found->second);
}

void ChainStreamer::OnStreamClosed(HttpStream& stream) {
    m_streams.erase(&stream);
}

const BlockEntry* ChainStreamer::At(Cursor& cursor, std::uint64_t height) const {
    if (cursor.path.empty()) {
        // While the snapshot's tip is on the main chain, so is every block below it.
        if (m_chain.AtHeight(cursor.tip->Height()) == cursor.tip)
            return m_chain.AtHeight(height);
        // A reorg took it off: the rest of its branch, collected once by parent links.
        cursor.path_from = height;
        for (const BlockEntry* e = cursor.tip; e != nullptr && e->Height() >= height; e = e->parent)
            cursor.path.push_back(e);
        std::reverse(cursor.path.begin(), cursor.path.end());
    }
    return cursor.path[height - cursor.path_from];
}

void ChainStreamer::Pump(HttpStream& stream, Cursor& cursor) {
    if (cursor.finished)
        return;
    const std::uint64_t height = cursor.tip->Height();
    while (cursor.next <= height && stream.PendingBytes() < CHAIN_STREAM_LOW_WATER_BYTES) {
        std::string piece;
        const ChainState::ReadScope reads = m_chain.Reads();
        const std::uint64_t end =
            std::min<std::uint64_t>(height, cursor.next + CHAIN_STREAM_PIECE_BLOCKS - 1);
        for (; cursor.next <= end; ++cursor.next) {
            if (cursor.next > 1)
                piece += ',';
            if (!m_chain.AppendBlockJson(*At(cursor, cursor.next), piece)) {
                // A storage fault (logged): the client sees a cut answer, never a wrong one.
                cursor.finished = true;
                stream.Close("a block could not be read back from storage");
                return;
            }
        }
        if (cursor.next > height)
            AppendChainResponseTail(piece, height);
        if (!stream.Write(std::move(piece)))
            return;
    }
    if (cursor.next > height) {
        cursor.finished = true;
        stream.Finish("chain sent");
    }
}

}  // namespace gossipchain
