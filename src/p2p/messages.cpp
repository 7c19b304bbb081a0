#include "p2p/messages.h"

namespace gossipchain {

std::string_view MessageTypeName(MessageType type) {
    switch (type) {
        case MessageType::Hello:
            return "Hello";
        case MessageType::Ping:
            return "Ping";
        case MessageType::Pong:
            return "Pong";
        case MessageType::AnnounceBlock:
            return "AnnounceBlock";
        case MessageType::RequestChain:
            return "RequestChain";
        case MessageType::Chain:
            return "Chain";
        case MessageType::RegisterPeer:
            return "RegisterPeer";
        case MessageType::Peers:
            return "Peers";
        case MessageType::NewTransactions:
            return "NewTransactions";
        case MessageType::Reject:
            return "Reject";
        case MessageType::TxInventory:
            return "TxInventory";
        case MessageType::GetTransactions:
            return "GetTransactions";
        case MessageType::BlockInventory:
            return "BlockInventory";
        case MessageType::GetBlock:
            return "GetBlock";
        case MessageType::CompactBlock:
            return "CompactBlock";
        case MessageType::GetBlockTxs:
            return "GetBlockTxs";
        case MessageType::BlockTxs:
            return "BlockTxs";
    }
    return "Unknown";
}

MessageType TypeOf(const Message& message) {
    return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::TYPE; }, message);
}

}  // namespace gossipchain
