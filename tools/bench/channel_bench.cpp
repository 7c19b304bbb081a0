// Benchmarks of a link's secure channel (SPEC §7): a whole handshake (both ends: two key
// exchanges, two signatures, two verifications) on one core, and sealing and opening messages
// of the sizes gossip sends (a ping, a compact block, a Chain batch), beside a plain copy of the
// same bytes, which is what a plaintext link costs for them.
#include "crypto/node_key.h"
#include "p2p/secure_channel.h"

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <string>

namespace gossipchain {
namespace {

const NodeKey& KeyA() {
    static const NodeKey key = NodeKey::Generate();
    return key;
}
const NodeKey& KeyB() {
    static const NodeKey key = NodeKey::Generate();
    return key;
}

/** Runs the handshake of two fresh channels to the end; true when both are open. */
bool Handshake(SecureChannel& initiator, SecureChannel& responder) {
    std::string plain;
    std::string auth_i;
    std::string auth_r;
    initiator.Receive(responder.KeyFrame(), plain, auth_i);
    responder.Receive(initiator.KeyFrame(), plain, auth_r);
    initiator.Receive(auth_r, plain, auth_i);
    responder.Receive(auth_i, plain, auth_r);
    return initiator.Open() && responder.Open();
}

void BM_ChannelHandshake(benchmark::State& state) {
    if (sodium_init() < 0)
        state.SkipWithError("sodium_init failed");
    for (auto _ : state) {
        SecureChannel initiator(KeyA(), ChannelRole::Initiator);
        SecureChannel responder(KeyB(), ChannelRole::Responder);
        bool open = Handshake(initiator, responder);
        benchmark::DoNotOptimize(open);
    }
    state.counters["handshakes_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ChannelHandshake);

void BM_ChannelSealAndOpen(benchmark::State& state) {
    SecureChannel initiator(KeyA(), ChannelRole::Initiator);
    SecureChannel responder(KeyB(), ChannelRole::Responder);
    if (!Handshake(initiator, responder))
        state.SkipWithError("handshake failed");
    const std::string message(static_cast<std::size_t>(state.range(0)), 'm');
    std::string plain;
    std::string unused;
    for (auto _ : state) {
        std::string frame = initiator.Seal(message);
        responder.Receive(frame, plain, unused);
        benchmark::DoNotOptimize(plain.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ChannelSealAndOpen)->Arg(16)->Arg(600)->Arg(64 << 10)->Arg(1 << 20);

/** The plaintext link's cost for the same bytes: one copy out, one copy in. */
void BM_PlainCopy(benchmark::State& state) {
    const std::string message(static_cast<std::size_t>(state.range(0)), 'm');
    std::string plain;
    for (auto _ : state) {
        std::string frame = message;
        plain.assign(frame);
        benchmark::DoNotOptimize(plain.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_PlainCopy)->Arg(16)->Arg(600)->Arg(64 << 10)->Arg(1 << 20);

}  // namespace
}  // namespace gossipchain
