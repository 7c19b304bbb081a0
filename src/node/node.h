// The node: wires the event loop, transport, ledger, miner, gossip and HTTP shim together, owns
// their lifetimes, and implements what the HTTP shim may ask (NodeControl). Startup, mining
// coordination (restart on every new tip, one block per /mine caller), /nodes/resolve across
// gossip peers and plain tutorial nodes, metrics, and an orderly shutdown live here.
#pragma once

#include "chain/chain_state.h"
#include "chain/miner.h"
#include "http/http_server.h"
#include "http/node_control.h"
#include "http/router.h"
#include "http/tutorial_api.h"
#include "net/event_loop.h"
#include "net/signal_watcher.h"
#include "net/timer.h"
#include "net/transport.h"
#include "node/events.h"
#include "node/resolver.h"
#include "p2p/link_shaper.h"
#include "p2p/net_links.h"
#include "p2p/peer_events.h"
#include "p2p/peer_manager.h"
#include "store/store.h"

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gossipchain {

/** Port the node listens on when none is given, as in the tutorial's app.run(port=5000). */
inline constexpr std::uint16_t DEFAULT_PORT = 5000;
/** Parent of the default data directories, relative to the working directory: data/<port>. */
inline constexpr const char* DEFAULT_DATA_ROOT = "data";
/** How long shutdown waits for links to close, in milliseconds. */
inline constexpr std::uint64_t SHUTDOWN_GRACE_MS = 2'000;
/** How often a node whose storage failed tries a write again, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_STORE_RETRY_MS = 1'000;
/** How often the peer table is written to storage, in milliseconds. */
inline constexpr std::uint64_t DEFAULT_PEER_SAVE_MS = 30'000;
/** JSON bytes of blocks waiting for their commit past which a sync's next stretch waits
 * (PeerEvents::HoldSync): a long sync holds this backlog in memory, not the whole chain. */
inline constexpr std::size_t DEFAULT_SYNC_STORE_BACKLOG_BYTES = 4u << 20;

struct NodeOptions {
    std::string bind = "127.0.0.1";
    std::uint16_t port = DEFAULT_PORT;
    /** SQLite store directory; empty keeps everything in memory (unit tests). */
    std::string data_dir;
    /**
     * Use DEFAULT_DATA_ROOT/<port> as data_dir, with the port the listener actually bound: two
     * nodes started with --port 0 get two directories instead of sharing data/0.
     */
    bool data_dir_by_port = false;
    Durability durability = Durability::Normal;
    /** Test-only: caps the database at this many pages to act out a full disk (0: no cap). */
    std::int64_t store_max_pages = 0;
    /** JSON bytes of stored blocks whose content stays in memory (ChainState::SetBodySource). */
    std::size_t resident_body_bytes = DEFAULT_RESIDENT_BODY_BYTES;
    /**
     * Test-only: when not 0, every timeout a peer or client can run into (sniff, handshake, ping,
     * idle link, HTTP request and keep-alive) is this many milliseconds, with a ping every half
     * of it, so tests of slow and idle peers finish in seconds.
     */
    std::uint64_t test_timeout_ms = 0;
    /** Test-only (hidden flag): a small mempool, so a test can fill it with a few hundred. */
    std::size_t mempool_max_txs = DEFAULT_MEMPOOL_MAX_TXS;
    std::vector<PeerAddress> peers;
    ConsensusParams params;
    /** Mine continuously in the background, restarting on every new tip. */
    bool mine = false;
    unsigned threads = DEFAULT_MINER_THREADS;
    /** Outbound links kept beyond --peer ones; 0 pins the mesh to --peer links (netsim). */
    std::size_t target_outbound = DEFAULT_TARGET_OUTBOUND;
    /** Test and measurement: JSON-lines event log path (empty: off) and POST /admin/links. */
    std::string events_path;
    bool admin = false;
    /** Node keys (64 hex) allowed to link (--trust, --trust-file); empty: any key. */
    std::vector<std::string> trusted;
    /**
     * Signed rules: the account address block rewards go to (--reward-address). Empty: the
     * address of <data_dir>/reward_wallet, made on first start (an in-memory key without a
     * data directory).
     */
    std::string reward_address;
};

class Node : public NodeControl, private PeerEvents {
public:
    explicit Node(NodeOptions options);
    ~Node() override;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    /** Opens the data directory and the listener; Ok, or why the node cannot run. */
    Status Start();
    /** Runs the loop until a signal or Shutdown(). */
    void Run();
    /** Closes links and stops the loop (loop thread only). */
    void Shutdown();
    std::uint16_t Port() const { return m_transport.Port(); }

    // NodeControl
    const ChainState& Chain() const override { return m_chain; }
    const std::string& NodeId() const override { return m_node_id; }
    std::string NodeKeyHex() const override { return KeyHex(m_key.PublicKey()); }
    const std::string& RewardRecipient() const override { return m_reward_recipient; }
    double UptimeSeconds() const override;
    TxResult SubmitTransaction(const Transaction& tx) override;
    void SubmitTransactionDurably(const Transaction& tx,
                                  std::function<void(Result<TxResult>)> done) override;
    void MineOne(std::function<void(Result<const BlockEntry*>)> done) override;
    Result<std::vector<std::string>> RegisterNodes(
        const std::vector<PeerAddress>& addresses) override;
    void Resolve(std::function<void(ResolveOutcome)> done) override;
    std::vector<PeerView> Peers() const override { return m_peers.Peers(); }
    std::string MetricsText() const override;
    ChainStreamer* ChainStream() override { return &m_chain_streamer; }

private:
    using MineCallback = std::function<void(Result<const BlockEntry*>)>;

    // PeerEvents
    void OnTipChanged(const BlockResult& change) override;
    void OnTransaction(const Transaction& tx, const std::string& txid,
                       const std::string& from) override;
    void OnBanned() override { SaveBans(); }
    bool HoldRelayUntilStored(const BlockEntry& entry) override;
    bool HoldSync() override;
    void OnBlockSeen(const std::string& hash, std::uint64_t height,
                     const std::string& from) override;
    void OnReorg(std::size_t depth, const std::string& old_tip,
                 const std::string& new_tip) override;
    void OnPeerLink(const std::string& address, bool up, std::string_view reason) override;
    void OnPeerSynced(LinkId link) override;

    void StartMining();
    void OnMined(std::uint64_t job_id, std::optional<std::uint64_t> proof);
    void OnTipChanged();
    /** Opens the store and rebuilds chain, mempool, peers and node id from it. */
    Status OpenStore();
    /** Signed rules: the reward account (--reward-address, or the data directory's wallet). */
    Status ChooseRewardAccount();
    /**
     * Hands queued writes to the store's writer thread; FinishCommit answers and relays what
     * waited for them once the commit is done.
     */
    void CommitStore();
    /**
     * Commits at the end of this loop turn, so a burst of transactions, or the blocks of one
     * Chain batch, share one commit.
     */
    void ScheduleCommit();
    struct CommitWaiters;
    /** Answers, or relays, what waited for a commit that ended `committed`. */
    void FinishCommit(CommitWaiters& waiters, const Status& committed);
    /** Relays a block once the commit holding it succeeded (at once without a store). */
    void RelayWhenStored(const BlockEntry& entry);
    void OnStorageFailed(const Status& failed);
    void RetryStorage();
    void SavePeers();
    /** Writes every running ban (called when a peer is banned). */
    void SaveBans();

    NodeOptions m_options;
    /** The node's identity: a fresh key until the data directory's is loaded (OpenStore). */
    NodeKey m_key = NodeKey::Generate();
    std::string m_node_id;
    /** Who block rewards go to: the node id under the open rules, an account when signed. */
    std::string m_reward_recipient;
    std::uint64_t m_started_ns;
    /** Cleared first in the destructor: work posted from other threads checks it. */
    std::shared_ptr<std::atomic<bool>> m_alive;
    /** Before m_peers, whose observers write to it. */
    EventLog m_events;

    // Declaration order is destruction order reversed: the loop outlives everything on it.
    net::EventLoop m_loop;
    ChainState m_chain;
    // Before m_http: streams it serves end (OnStreamClosed) before it goes.
    ChainStreamer m_chain_streamer{m_chain};
    /** The gossip links over m_transport, and netsim's delays over them (test-only). */
    NetLinks m_links{m_loop, m_key};
    LinkShaper m_shaper;
    PeerManager m_peers;
    Router m_router;
    HttpMetrics m_http_metrics;
    HttpServer m_http;
    net::Transport m_transport;
    std::unique_ptr<net::SignalWatcher> m_sigint;
    std::unique_ptr<net::SignalWatcher> m_sigterm;
    std::unique_ptr<net::Timer> m_shutdown_timer;
    std::unique_ptr<net::Timer> m_traffic_timer;
    bool m_shutting_down = false;

    struct PendingTx {
        Transaction tx;
        TxResult result;
        std::function<void(Result<TxResult>)> done;
    };
    /** What waits for the next commit: told, or relayed, only once that commit is durable. */
    struct CommitWaiters {
        std::vector<PendingTx> txs;
        /** Hashes of blocks to relay (from peers, mined here, fetched from tutorial nodes). */
        std::vector<std::string> blocks;
        /** /mine callers with the hash of the block mined for each. */
        std::vector<std::pair<std::string, MineCallback>> mined;
        /** Blocks this commit writes, whose content may leave memory once it is durable, and
         * their JSON bytes. */
        std::vector<Hash256> stored;
        std::size_t stored_bytes = 0;
    };
    Store m_store;
    CommitWaiters m_waiting;
    /** JSON bytes of blocks added to the chain whose commit is not yet durable. */
    std::size_t m_unstored_bytes = 0;
    bool m_commit_scheduled = false;
    /** Ok while storage works; else why the last commit failed, and writes are refused. */
    Status m_store_status;
    std::unique_ptr<net::Timer> m_store_timer;
    /** A ProbeAsync is in flight (RetryStorage sends one at a time). */
    bool m_probing = false;
    std::unique_ptr<net::Timer> m_peer_save_timer;

    Miner m_miner;
    std::deque<MineCallback> m_mine_waiters;
    std::uint64_t m_mining_job = 0;
    Block m_template;
    std::uint64_t m_blocks_mined = 0;

    /** /nodes/resolve, made on its first call; last, so it goes (joining its threads) first. */
    std::unique_ptr<Resolver> m_resolver;
};

}  // namespace gossipchain
