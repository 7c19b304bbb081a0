// Test helper: a NodeControl over an in-memory chain with genesis only, no miner, no peers and no
// sockets, for driving the HTTP endpoints through a Router. Tests override what they need.
#pragma once

#include "http/node_control.h"

#include <functional>
#include <string>
#include <vector>

namespace gossipchain::test {

class FakeNodeControl : public NodeControl {
public:
    FakeNodeControl() : m_chain(ChainState::Options{}) {}

    const ChainState& Chain() const override { return m_chain; }
    const std::string& NodeId() const override { return m_node_id; }
    double UptimeSeconds() const override { return 1.0; }
    TxResult SubmitTransaction(const Transaction& tx) override {
        return m_chain.SubmitTransaction(tx, TxOrigin::Local);
    }
    void MineOne(std::function<void(Result<const BlockEntry*>)> done) override {
        done(Status::Error("no mining here"));
    }
    Result<std::vector<std::string>> RegisterNodes(const std::vector<PeerAddress>&) override {
        return std::vector<std::string>{};
    }
    void Resolve(std::function<void(ResolveOutcome)> done) override { done({}); }
    std::vector<PeerView> Peers() const override { return {}; }
    std::string MetricsText() const override { return {}; }

private:
    ChainState m_chain;
    std::string m_node_id = std::string(32, '0');
};

}  // namespace gossipchain::test
