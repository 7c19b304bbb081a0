// Fuzz target: the bytes an HTTP client sends, through llhttp, the session's pipelining and the
// real endpoints (RegisterTutorialRoutes) on a fake node with a fresh chain. Properties: nothing
// is emitted after a response that closes the connection, every dispatched request is answered
// once the input is cut off, and a wrong request never changes the chain.
#include "chain/chain_state.h"
#include "fuzz/fuzz_check.h"
#include "http/http_session.h"
#include "http/node_control.h"
#include "http/router.h"
#include "http/tutorial_api.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace gossipchain;
using gossipchain::fuzz::Check;

/** A node that answers at once: no miner threads, no peers, no sockets. */
class FakeNode final : public NodeControl {
public:
    FakeNode() : m_chain(ChainState::Options{}) {}

    const ChainState& Chain() const override { return m_chain; }
    const std::string& NodeId() const override { return m_node_id; }
    double UptimeSeconds() const override { return 1.0; }
    TxResult SubmitTransaction(const Transaction& tx) override {
        return m_chain.SubmitTransaction(tx, TxOrigin::Local);
    }
    void MineOne(std::function<void(Result<const BlockEntry*>)> done) override {
        done(Status::Error("mining is off in the fuzzer"));
    }
    Result<std::vector<std::string>> RegisterNodes(
        const std::vector<PeerAddress>& addresses) override {
        std::vector<std::string> known;
        for (const PeerAddress& address : addresses)
            known.push_back(FormatHostPort(address));
        return known;
    }
    void Resolve(std::function<void(ResolveOutcome)> done) override { done(ResolveOutcome{}); }
    std::vector<PeerView> Peers() const override { return {}; }
    std::string MetricsText() const override { return "fuzz_metric 1\n"; }

private:
    ChainState m_chain;
    std::string m_node_id = "0123456789abcdef0123456789abcdef";
};

/** Parser limits for fuzzing: small, so limit paths are reachable with short inputs. */
HttpSession::Options SmallLimits() {
    HttpSession::Options options;
    options.parser.max_body_bytes = 4096;
    options.parser.max_header_bytes = 2048;
    options.parser.max_header_count = 16;
    options.parser.max_target_bytes = 512;
    options.max_pipeline_depth = 8;
    return options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::ChunkedInput input(data, size);
    FakeNode node;
    HttpMetrics metrics;
    Router router;
    RegisterTutorialRoutes(router, node, metrics);

    bool closed = false;
    std::size_t responses = 0;
    HttpSession session(
        router,
        [&](std::string bytes, bool close_after) {
            Check(!closed, "nothing is emitted after a closing response");
            Check(bytes.rfind("HTTP/1.1 ", 0) == 0, "output starts with a status line");
            ++responses;
            closed = close_after;
        },
        SmallLimits());
    input.ForEachChunk([&](std::string_view chunk) {
        session.OnData(chunk);
        return true;
    });
    if (session.InRequest())
        session.TimeOut();
    Check(session.PendingResponses() == 0, "the fake node answers every request at once");
    Check(node.Chain().Height() == 1, "no request mines or changes the chain");
    Check(node.Chain().GetMempool().Size() <= responses, "at most one transaction per request");
    return 0;
}
