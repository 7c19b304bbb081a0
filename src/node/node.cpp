#include "node/node.h"

#include "consensus/pow.h"
#include "consensus/signed_tx.h"
#include "crypto/random.h"
#include "http/admin_api.h"
#include "http/dashboard_api.h"
#include "node/wallet_file.h"
#include "store/data_dir.h"
#include "util/clock.h"
#include "util/hex.h"
#include "util/log.h"

#include <sodium.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <utility>

namespace gossipchain {
namespace {

std::string Short(const std::string& hash) {
    return hash.substr(0, 12);
}

/** Why a write (a transaction, a mined block) is refused while storage fails. */
Status Unavailable(const Status& storage) {
    return Status::Error("storage unavailable: " + storage.Message());
}

/** Wall clock in ms: stored bans must outlast a restart, which the loop's clock does not. */
std::int64_t WallMs() {
    return static_cast<std::int64_t>(WallSeconds() * 1000.0);
}

PeerManagerOptions PeerOptions(const NodeOptions& options, const std::string& node_id) {
    PeerManagerOptions peer;
    peer.params = options.params;
    peer.node_id = node_id;
    peer.trusted.insert(options.trusted.begin(), options.trusted.end());
    peer.listen_port = options.port;
    peer.target_outbound = options.target_outbound;
    if (options.test_timeout_ms != 0) {
        peer.handshake_timeout_ms = options.test_timeout_ms;
        peer.ping_interval_ms = options.test_timeout_ms / 2;
        peer.ping_timeout_ms = options.test_timeout_ms;
    }
    return peer;
}

net::TransportOptions TransportOptionsFor(const NodeOptions& options) {
    net::TransportOptions transport;
    transport.bind = options.bind;
    transport.port = options.port;
    // A /chain answer of a long chain is one write; let it through.
    transport.max_write_queue_bytes = 256u << 20;
    if (options.test_timeout_ms != 0) {
        transport.sniff_timeout_ms = options.test_timeout_ms;
        transport.idle_timeout_ms = options.test_timeout_ms;
        transport.http_idle_timeout_ms = options.test_timeout_ms;
    }
    return transport;
}

}  // namespace

Node::Node(NodeOptions options)
    : m_options(std::move(options)),
      m_node_id(m_key.NodeId()),
      m_started_ns(MonotonicNs()),
      m_alive(std::make_shared<std::atomic<bool>>(true)),
      m_chain(ChainState::Options{m_options.params, {.max_txs = m_options.mempool_max_txs}, {}}),
      m_shaper(m_links, m_loop),
      m_peers(m_shaper, m_chain, PeerOptions(m_options, m_node_id), *this),
      m_http(m_loop, m_router, m_http_metrics,
             m_options.test_timeout_ms != 0 ? m_options.test_timeout_ms
                                            : DEFAULT_HTTP_REQUEST_TIMEOUT_MS),
      m_transport(m_loop, TransportOptionsFor(m_options), m_links, m_http),
      m_miner(Miner::Options{m_options.threads}) {
    m_links.SetEvents(m_peers);
    RegisterTutorialRoutes(m_router, *this, m_http_metrics);
    RegisterDashboardRoutes(m_router, *this, m_events.Hub());
    if (m_options.admin) {
        RegisterAdminRoutes(m_router, [this](const LinkShaping& shaping) {
            m_shaper.SetDelay(shaping.delay_ms, shaping.jitter_ms);
            m_peers.SetBlocked(shaping.blocked, m_loop.NowMs());
        });
    }
}

void Node::OnTipChanged(const BlockResult& /*change*/) {
    OnTipChanged();
}

void Node::OnTransaction(const Transaction& tx, const std::string& txid, const std::string& from) {
    m_events.TxSeen(txid, from);
    // Relayed transactions are kept too, but were not acknowledged here: nothing waits for this
    // commit.
    if (m_store.IsOpen() && m_store_status.Ok()) {
        m_store.PutTransaction(txid, tx, TxOrigin::Relay);
        ScheduleCommit();
    }
}

bool Node::HoldRelayUntilStored(const BlockEntry& entry) {
    // A peer's block travels on before its commit while storage works: the sender holds it, no
    // answer here waits for it, and a wait for the writer thread at every hop would add up
    // across the mesh. While storage fails it is held: the next successful commit relays it.
    if (!m_store.IsOpen() || m_store_status.Ok())
        return false;
    RelayWhenStored(entry);
    return true;
}

bool Node::HoldSync() {
    return m_unstored_bytes >= DEFAULT_SYNC_STORE_BACKLOG_BYTES;
}

void Node::OnBlockSeen(const std::string& hash, std::uint64_t height, const std::string& from) {
    m_events.BlockSeen(hash, height, from);
}

void Node::OnReorg(std::size_t depth, const std::string& old_tip, const std::string& new_tip) {
    m_events.Reorg(depth, old_tip, new_tip);
}

void Node::OnPeerLink(const std::string& address, bool up, std::string_view reason) {
    m_events.PeerLink(address, up, reason);
}

void Node::OnPeerSynced(LinkId link) {
    if (m_resolver)
        m_resolver->OnPeerSynced(link);
}

Node::~Node() {
    m_alive->store(false);
}

Status Node::Start() {
    if (sodium_init() < 0)
        return Status::Error("libsodium failed to initialise");
    // Bound before the store is opened, so the default data directory can be named after the
    // port (nothing is accepted until the loop runs).
    int rc = m_transport.Listen();
    if (rc != 0) {
        return Status::Error("cannot listen on " + m_options.bind + ":" +
                             std::to_string(m_options.port) + ": " + net::Transport::ErrorName(rc));
    }
    m_options.port = m_transport.Port();
    if (m_options.data_dir_by_port)
        m_options.data_dir = std::string(DEFAULT_DATA_ROOT) + "/" + std::to_string(m_options.port);
    if (!m_options.data_dir.empty()) {
        Status opened = OpenStore();
        if (!opened.Ok())
            return opened;
    }
    if (Status chosen = ChooseRewardAccount(); !chosen.Ok())
        return chosen;
    if (!m_options.events_path.empty()) {
        Status opened = m_events.Open(m_options.events_path, m_node_id, m_options.port);
        if (!opened.Ok())
            return opened;
        m_traffic_timer = std::make_unique<net::Timer>(m_loop);
        m_traffic_timer->Start(DEFAULT_TRAFFIC_EVENT_MS, DEFAULT_TRAFFIC_EVENT_MS,
                               [this] { m_events.Traffic(m_peers.Metrics()); });
    }
    // The peer manager was built before the stored id and the bound port were known.
    m_peers.SetIdentity(m_node_id, m_options.port);
    for (const PeerAddress& peer : m_options.peers) {
        // A seed always gets its place: neither learned nor registered addresses can take it.
        static_cast<void>(m_peers.AddAddress(peer, AddressOrigin::Seed));
        m_peers.MarkGossipCapable(peer);
    }
    m_links.Start(
        m_transport, PEER_TICK_MS,
        m_options.test_timeout_ms != 0 ? m_options.test_timeout_ms : DEFAULT_AUTH_TIMEOUT_MS);
    m_sigint = std::make_unique<net::SignalWatcher>(m_loop, SIGINT, [this] { Shutdown(); });
    m_sigterm = std::make_unique<net::SignalWatcher>(m_loop, SIGTERM, [this] { Shutdown(); });
    LOG_INFO("gossipchain node %s listening on %s:%u (gossip and HTTP), network %s",
             m_node_id.c_str(), m_options.bind.c_str(), m_transport.Port(),
             NetworkId(m_options.params).c_str());
    const std::string kept_in =
        m_options.data_dir.empty()
            ? std::string(" (in memory only: no data directory)")
            : ", kept in " + m_options.data_dir + "/" + NODE_KEY_FILE_NAME + " and the database";
    LOG_INFO("node key %s%s", KeyHex(m_key.PublicKey()).c_str(), kept_in.c_str());
    if (!m_options.trusted.empty())
        LOG_INFO("trust list: only %zu keys may link", m_options.trusted.size());
    LOG_INFO("chain height %llu, tip %s; pow %s, difficulty %d%s",
             static_cast<unsigned long long>(m_chain.Height()),
             Short(m_chain.Tip().HashHex()).c_str(),
             std::string(PowRuleName(m_options.params.pow_rule)).c_str(),
             m_options.params.difficulty, m_options.mine ? ", mining" : "");
    if (m_options.mine)
        StartMining();
    return {};
}

void Node::Run() {
    m_loop.Run();
}

void Node::Shutdown() {
    if (m_shutting_down)
        return;
    m_shutting_down = true;
    if (m_store.IsOpen()) {
        SavePeers();
        CommitStore();
        m_store_timer.reset();
        m_peer_save_timer.reset();
    }
    if (m_traffic_timer)
        m_traffic_timer->Stop();
    m_events.Traffic(m_peers.Metrics());
    LOG_INFO("shutting down: closing %zu connections", m_transport.ConnectionCount());
    m_peers.Stop();
    m_links.Stop();
    if (m_resolver)
        m_resolver->Stop();
    m_miner.CancelAll();
    m_mine_waiters.clear();
    m_transport.CloseAll("node shutting down");
    std::uint64_t deadline = m_loop.NowMs() + SHUTDOWN_GRACE_MS;
    m_shutdown_timer = std::make_unique<net::Timer>(m_loop);
    m_shutdown_timer->Start(0, 10, [this, deadline] {
        if (m_transport.ConnectionCount() == 0 || m_loop.NowMs() >= deadline) {
            m_shutdown_timer->Stop();
            m_sigint.reset();
            m_sigterm.reset();
            m_loop.Stop();
        }
    });
}

double Node::UptimeSeconds() const {
    return static_cast<double>(MonotonicNs() - m_started_ns) / 1e9;
}

TxResult Node::SubmitTransaction(const Transaction& tx) {
    TxResult result = m_chain.SubmitTransaction(tx, TxOrigin::Local);
    if (result.status == TxStatus::Accepted) {
        LOG_INFO("transaction %s accepted (%s -> %s, %lld)", Short(result.txid).c_str(),
                 tx.sender.c_str(), tx.recipient.c_str(), static_cast<long long>(tx.amount));
        m_events.TxSeen(result.txid, "self");
        m_peers.RelayTransactions(m_loop.NowMs());
    }
    return result;
}

void Node::SubmitTransactionDurably(const Transaction& tx,
                                    std::function<void(Result<TxResult>)> done) {
    if (!m_store.IsOpen())
        return done(SubmitTransaction(tx));
    TxResult result = m_chain.SubmitTransaction(tx, TxOrigin::Local);
    if (result.status != TxStatus::Accepted && result.status != TxStatus::Duplicate)
        return done(result);
    // Pending now, but not offered to peers before its commit is durable.
    if (result.status == TxStatus::Accepted)
        m_chain.HoldRelay(result.txid, true);
    if (!m_store_status.Ok()) {
        if (result.status == TxStatus::Accepted)
            m_chain.ForgetTransaction(result.txid);
        return done(m_store_status);
    }
    // A duplicate may still sit in the uncommitted batch: it is answered after that commit too,
    // and written again (a no-op for a stored row) in case it came by relay and that write was
    // lost; the row then counts as acknowledged here.
    m_store.PutTransaction(result.txid, tx, TxOrigin::Local);
    m_waiting.txs.push_back(PendingTx{tx, result, std::move(done)});
    ScheduleCommit();
}

Status Node::ChooseRewardAccount() {
    m_reward_recipient = m_node_id;
    if (m_options.params.rules != RuleSet::Signed)
        return {};
    if (!m_options.reward_address.empty()) {
        m_reward_recipient = m_options.reward_address;
        return {};
    }
    if (m_options.data_dir.empty()) {
        m_reward_recipient = AddressOf(NodeKey::Generate().PublicKey());
        return {};
    }
    const std::string path = m_options.data_dir + "/" + REWARD_WALLET_FILE_NAME;
    if (InspectPath(path).exists) {
        Result<NodeKey> key = ReadWalletFile(path);
        if (!key.Ok())
            return key.GetStatus();
        m_reward_recipient = AddressOf(key->PublicKey());
        return {};
    }
    NodeKey key = NodeKey::Generate();
    if (Status created = CreateWalletFile(path, key); !created.Ok())
        return created;
    SyncDirectory(m_options.data_dir);
    m_reward_recipient = AddressOf(key.PublicKey());
    LOG_INFO("rewards go to account %s (key in %s)", m_reward_recipient.c_str(), path.c_str());
    return {};
}

Status Node::OpenStore() {
    StoreOptions options;
    options.dir = m_options.data_dir;
    options.network_id = NetworkId(m_options.params);
    options.durability = m_options.durability;
    options.new_node_id = m_node_id;
    options.new_key_seed = m_key.Seed();
    options.max_pages = m_options.store_max_pages;
    Status opened = m_store.Open(options);
    if (!opened.Ok())
        return opened;
    m_key = NodeKey::FromSeed(m_store.KeySeed());
    m_node_id = m_key.NodeId();
    // Stored blocks keep their content on disk, the most recent within a bound in memory.
    m_chain.SetBodySource(&m_store, m_options.resident_body_bytes);
    std::vector<StoredPeer> peers;
    StoreLoadStats stats;
    Status loaded = m_store.LoadInto(m_chain, peers, stats);
    if (!loaded.Ok())
        return loaded;
    for (const StoredPeer& stored : peers) {
        PeerAddress address;
        if (!ParseHostPort(stored.address, address))
            continue;
        // Learned ones come back under one source: who told us is not stored.
        m_peers.AddAddress(address,
                           stored.origin == StoredPeerOrigin::Registered ? AddressOrigin::Registered
                                                                         : AddressOrigin::Learned,
                           "store");
        m_peers.SetLastSeen(stored.address, stored.last_seen_s);
    }
    std::int64_t now_ms = WallMs();
    Result<std::vector<StoredBan>> bans = m_store.LoadBans(now_ms);
    if (!bans.Ok())
        return bans.GetStatus();
    for (const StoredBan& ban : bans.Value())
        m_peers.RestoreBan(ban.key, static_cast<std::uint64_t>(ban.until_ms - now_ms),
                           m_loop.NowMs());
    if (!bans->empty())
        LOG_INFO("store: %zu bans still running restored", bans->size());
    LOG_INFO(
        "store %s: %zu blocks, %zu pending transactions, %zu peers loaded in %.3f s "
        "(%s durability)",
        m_options.data_dir.c_str(), stats.blocks, stats.mempool, stats.peers, stats.seconds,
        m_options.durability == Durability::Full ? "full" : "normal");
    // Blocks are committed at the end of the loop turn, all of one Chain batch together; whoever
    // would relay one (the peer manager, the miner) hands it to RelayWhenStored meanwhile.
    m_chain.SetHooks(ChainHooks{
        [this](const BlockEntry& entry, std::string_view canonical) {
            m_store.PutBlock(entry, canonical);
            m_waiting.stored.push_back(entry.hash);
            m_waiting.stored_bytes += canonical.size();
            m_unstored_bytes += canonical.size();
            ScheduleCommit();
        },
        [this](const BlockEntry& entry, const BlockBody& body, bool connected) {
            m_store.MoveTip(entry, body, connected);
        },
        // Evicted in memory, gone on disk too: a restart brings back the mempool the node had.
        [this](const std::string& txid) {
            m_store.DropTransaction(txid);
            ScheduleCommit();
        }});
    m_store_timer = std::make_unique<net::Timer>(m_loop);
    m_peer_save_timer = std::make_unique<net::Timer>(m_loop);
    m_peer_save_timer->Start(DEFAULT_PEER_SAVE_MS, DEFAULT_PEER_SAVE_MS, [this] { SavePeers(); });
    // Loading may have queued deletes (stored transactions not taken back, ended bans).
    if (m_store.PendingWrites() > 0)
        ScheduleCommit();
    // From here on commits run on the store's writer thread; their completions come back to
    // the loop (not after the node is gone).
    m_store.StartWriter([loop = &m_loop, alive = m_alive](std::function<void()> completion) {
        loop->Post([alive, completion = std::move(completion)] {
            if (alive->load())
                completion();
        });
    });
    return {};
}

void Node::ScheduleCommit() {
    if (m_commit_scheduled)
        return;
    m_commit_scheduled = true;
    auto alive = m_alive;
    m_loop.Post([this, alive] {
        if (!alive->load())
            return;
        m_commit_scheduled = false;
        CommitStore();
    });
}

void Node::CommitStore() {
    auto waiters = std::make_shared<CommitWaiters>(std::exchange(m_waiting, {}));
    m_store.CommitAsync(
        [this, waiters](const Status& committed) { FinishCommit(*waiters, committed); });
}

void Node::FinishCommit(CommitWaiters& waiters, const Status& committed) {
    if (!committed.Ok())
        OnStorageFailed(committed);
    bool relay = false;
    for (PendingTx& waiting : waiters.txs) {
        if (!committed.Ok()) {
            if (waiting.result.status == TxStatus::Accepted)
                m_chain.ForgetTransaction(waiting.result.txid);
            waiting.done(committed);
            continue;
        }
        if (waiting.result.status == TxStatus::Accepted) {
            LOG_INFO("transaction %s accepted (%s -> %s, %lld)", Short(waiting.result.txid).c_str(),
                     waiting.tx.sender.c_str(), waiting.tx.recipient.c_str(),
                     static_cast<long long>(waiting.tx.amount));
            m_events.TxSeen(waiting.result.txid, "self");
            m_chain.HoldRelay(waiting.result.txid, false);
            relay = true;
        } else if (!m_chain.GetMempool().Contains(waiting.result.txid) &&
                   !m_chain.ConfirmedHeight(waiting.result.txid)) {
            // A duplicate of one whose earlier commit failed (and was dropped from the mempool):
            // this commit stored it again, so it is pending after all.
            m_chain.SubmitTransaction(waiting.tx, TxOrigin::Local);
        }
        waiting.done(waiting.result);
    }
    // A block whose commit failed stays queued for the next one and is not relayed: peers get
    // it by sync once it is stored.
    if (committed.Ok() && !m_shutting_down) {
        if (relay)
            m_peers.RelayTransactions(m_loop.NowMs());
        for (const std::string& hash : waiters.blocks) {
            if (const BlockEntry* entry = m_chain.Find(hash))
                m_peers.BroadcastBlock(*entry, m_loop.NowMs());
        }
    }
    for (auto& [hash, waiter] : waiters.mined) {
        const BlockEntry* entry = m_chain.Find(hash);
        if (committed.Ok() && entry)
            waiter(entry);
        else
            waiter(Unavailable(committed));
    }
    // Durable now, so their content may leave memory; after a failed commit they wait for the
    // next one, which retries their writes first.
    if (committed.Ok()) {
        for (const Hash256& hash : waiters.stored) {
            if (const BlockEntry* entry = m_chain.Find(hash))
                m_chain.MarkStored(*entry);
        }
        m_unstored_bytes -= waiters.stored_bytes;
        if (!m_shutting_down && !HoldSync())
            m_peers.ResumeSync(m_loop.NowMs());
    } else {
        m_waiting.stored.insert(m_waiting.stored.end(), waiters.stored.begin(),
                                waiters.stored.end());
        m_waiting.stored_bytes += waiters.stored_bytes;
    }
}

void Node::RelayWhenStored(const BlockEntry& entry) {
    if (!m_store.IsOpen())
        return m_peers.BroadcastBlock(entry, m_loop.NowMs());
    m_waiting.blocks.push_back(entry.HashHex());
    ScheduleCommit();
}

void Node::OnStorageFailed(const Status& failed) {
    if (m_store_status.Ok()) {
        LOG_ERROR("storage failed, refusing writes until it recovers: %s",
                  failed.Message().c_str());
        // Gone after Shutdown(): nothing is retried while the node stops.
        if (m_store_timer)
            m_store_timer->Start(DEFAULT_STORE_RETRY_MS, DEFAULT_STORE_RETRY_MS,
                                 [this] { RetryStorage(); });
    }
    m_store_status = failed;
    std::deque<MineCallback> waiters = std::move(m_mine_waiters);
    m_mine_waiters.clear();
    for (MineCallback& waiter : waiters)
        waiter(Unavailable(failed));
}

void Node::RetryStorage() {
    if (m_probing)
        return;
    m_probing = true;
    m_store.ProbeAsync([this](const Status& probed) {
        m_probing = false;
        if (!probed.Ok()) {
            m_store_status = probed;
            return;
        }
        if (m_store_status.Ok() || m_shutting_down)
            return;
        LOG_INFO("storage recovered: accepting writes again");
        m_store_status = Status();
        m_store_timer->Stop();
        // Blocks the failed commits carried were written by the probe; a commit marks them
        // stored, which lets a sync held for them go on.
        if (!m_waiting.stored.empty())
            ScheduleCommit();
        StartMining();
    });
}

void Node::SavePeers() {
    if (!m_store.IsOpen() || !m_store_status.Ok())
        return;
    // The table is written anew: addresses it dropped (dead, evicted) are dropped on disk too.
    m_store.ClearPeers();
    for (const PeerManager::StoredAddress& entry : m_peers.StoredAddresses()) {
        m_store.PutPeer(entry.address, entry.last_seen_s,
                        entry.origin == AddressOrigin::Learned ? StoredPeerOrigin::Learned
                                                               : StoredPeerOrigin::Registered);
    }
    ScheduleCommit();
}

void Node::SaveBans() {
    if (!m_store.IsOpen())
        return;
    std::int64_t now_ms = WallMs();
    for (const BanList::Ban& ban : m_peers.Bans(m_loop.NowMs()))
        m_store.PutBan(ban.key, now_ms + static_cast<std::int64_t>(ban.remaining_ms));
    // Ban writes stay queued while storage fails; the retry that finds it working commits them.
    if (m_store_status.Ok())
        ScheduleCommit();
}

void Node::MineOne(MineCallback done) {
    if (m_shutting_down)
        return done(Status::Error("the node is shutting down"));
    if (!m_store_status.Ok())
        return done(Unavailable(m_store_status));
    m_mine_waiters.push_back(std::move(done));
    StartMining();
}

void Node::StartMining() {
    // A mined block must be stored before it is relayed: no mining while storage fails.
    if (m_mining_job != 0 || m_shutting_down || !m_store_status.Ok())
        return;
    if (m_mine_waiters.empty() && !m_options.mine)
        return;
    m_template = m_chain.BlockTemplate(m_reward_recipient, RandomHex(16), WallSeconds());
    const BlockEntry& tip = m_chain.Tip();
    MiningJob job;
    job.rule = m_options.params.pow_rule;
    job.difficulty = m_options.params.difficulty;
    job.last_proof = tip.proof;
    job.last_hash = tip.HashHex();
    if (PowCommitsToContent(job.rule))
        job.content_digest = BlockContentDigest(m_template);
    auto alive = m_alive;
    m_mining_job =
        m_miner.Submit(job, [this, alive](std::uint64_t id, std::optional<std::uint64_t> proof) {
            if (!alive->load())
                return;
            m_loop.Post([this, alive, id, proof] {
                if (alive->load())
                    OnMined(id, proof);
            });
        });
}

void Node::OnMined(std::uint64_t job_id, std::optional<std::uint64_t> proof) {
    if (job_id != m_mining_job)
        return;
    m_mining_job = 0;
    if (m_shutting_down)
        return;
    if (!proof) {
        // Cancelled because the tip moved: mine again on the new tip.
        StartMining();
        return;
    }
    Block block = m_template;
    block.proof = *proof;
    BlockResult result = m_chain.ProcessBlock(std::move(block), WallSeconds());
    if (result.status == BlockStatus::Connected) {
        const BlockEntry* entry = result.connected.front();
        ++m_blocks_mined;
        const std::string hash = entry->HashHex();
        LOG_INFO("block %llu %s mined (%u transactions, proof %llu)",
                 static_cast<unsigned long long>(entry->Height()), Short(hash).c_str(),
                 entry->tx_count, static_cast<unsigned long long>(entry->proof));
        m_events.BlockMined(hash, entry->Height(), entry->tx_count);
        m_events.BlockSeen(hash, entry->Height(), "self");
        for (const BlockEntry* connected : result.connected)
            RelayWhenStored(*connected);
        if (!m_mine_waiters.empty()) {
            MineCallback waiter = std::move(m_mine_waiters.front());
            m_mine_waiters.pop_front();
            // Answered once the block is stored.
            if (m_store.IsOpen())
                m_waiting.mined.emplace_back(hash, std::move(waiter));
            else
                waiter(entry);
        }
    } else {
        LOG_WARN("mined block %s not connected: %s %s", Short(result.hash).c_str(),
                 std::string(BlockStatusName(result.status)).c_str(),
                 result.validation.ToString().c_str());
    }
    StartMining();
}

void Node::OnTipChanged() {
    // The block being mined no longer extends the tip: abandon it; OnMined restarts the work.
    if (m_mining_job != 0)
        m_miner.CancelAll();
}

Result<std::vector<std::string>> Node::RegisterNodes(const std::vector<PeerAddress>& addresses) {
    // All or nothing: first make sure every new one has a place.
    std::size_t fresh = m_peers.NewOperatorAddresses(addresses);
    if (fresh > m_peers.OperatorRoom()) {
        return Status::Error(
            "the peer table has room for " + std::to_string(m_peers.OperatorRoom()) +
            " more registered nodes (at most " + std::to_string(MAX_OPERATOR_ADDRESSES) +
            "); none of these " + std::to_string(fresh) + " was added");
    }
    for (const PeerAddress& address : addresses) {
        LOG_INFO("registered node %s", FormatHostPort(address).c_str());
        m_peers.AddAddress(address, AddressOrigin::Registered);
    }
    SavePeers();
    return m_peers.KnownAddresses();
}

void Node::Resolve(std::function<void(ResolveOutcome)> done) {
    if (m_shutting_down)
        return;
    if (!m_resolver) {
        Resolver::Options options;
        options.params = m_options.params;
        m_resolver = std::make_unique<Resolver>(m_loop, m_chain, m_peers, options, [this] {
            RelayWhenStored(m_chain.Tip());
            OnTipChanged();
        });
    }
    m_resolver->Resolve(std::move(done));
}

std::string Node::MetricsText() const {
    const P2pMetrics& p2p = m_peers.Metrics();
    std::string out;
    auto gauge = [&out](const char* name, const char* help, double value) {
        char number[32];
        std::snprintf(number, sizeof(number), "%.15g", value);
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name +
               " " + number + "\n";
    };
    auto counter = [&out](const char* name, const char* help, std::uint64_t value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" +
               name + " " + std::to_string(value) + "\n";
    };
    gauge("gossipchain_height", "Height of the main chain.", static_cast<double>(m_chain.Height()));
    gauge("gossipchain_peers", "Gossip links that completed the handshake.",
          static_cast<double>(m_peers.ReadyPeerCount()));
    gauge("gossipchain_mempool_transactions", "Pending transactions.",
          static_cast<double>(m_chain.GetMempool().Size()));
    gauge("gossipchain_orphan_blocks", "Blocks waiting for their parent.",
          static_cast<double>(m_chain.Orphans().Size()));
    gauge("gossipchain_uptime_seconds", "Seconds since start.", UptimeSeconds());
    gauge("gossipchain_store_ok", "1 while storage takes writes, 0 while it fails.",
          m_store_status.Ok() ? 1.0 : 0.0);
    counter("gossipchain_store_commits_total", "SQLite commits.", m_store.Commits());
    counter("gossipchain_blocks_received_total", "Blocks received from peers.",
            p2p.blocks_received);
    counter("gossipchain_blocks_relayed_total", "Block announcements sent to peers.",
            p2p.blocks_relayed);
    counter("gossipchain_blocks_mined_total", "Blocks this node mined.", m_blocks_mined);
    counter("gossipchain_invalid_blocks_total", "Invalid blocks received.", p2p.invalid_blocks);
    counter("gossipchain_txs_received_total", "Transactions received from peers.",
            p2p.txs_received);
    counter("gossipchain_txs_relayed_total", "Transactions sent to peers.", p2p.txs_relayed);
    counter("gossipchain_reorgs_total", "Reorganisations of the main chain.", m_chain.Reorgs());
    counter("gossipchain_pending_dropped_total",
            "Signed transfers that left the mempool (or were not returned to it) because the "
            "chain moved under them: nonce spent, a nonce before them gone, balance short.",
            m_chain.DroppedPending());
    counter("gossipchain_bans_total", "Peers banned for misbehaviour.", p2p.bans);
    counter("gossipchain_handshake_failures_total",
            "Gossip connections closed in their key exchange or authentication (not scored).",
            m_links.HandshakeFailures());
    counter("gossipchain_link_authentication_failures_total",
            "Links closed on a frame that failed authentication: changed, dropped or replayed on "
            "the way (not scored).",
            m_links.AuthenticationFailures());
    counter("gossipchain_legacy_peers_refused_total",
            "Peers of the plaintext protocol 2 refused with a Reject.",
            m_links.LegacyPeersRefused());
    counter("gossipchain_flood_drops_total", "Messages dropped: sender over a rate limit.",
            p2p.flood_drops);
    counter("gossipchain_txs_announced_total",
            "Transactions announced to peers by txid (TxInventory).", p2p.txs_announced);
    counter("gossipchain_txs_requested_total",
            "Transactions asked of peers that announced them (GetTransactions).",
            p2p.txs_requested);
    counter("gossipchain_txs_wanted_dropped_total",
            "Announced transactions not queued to be asked for: the queue was full.",
            p2p.txs_wanted_dropped);
    counter("gossipchain_compact_blocks_rebuilt_total",
            "CompactBlocks rebuilt from the mempool (SPEC 8).", p2p.compact_blocks_rebuilt);
    counter("gossipchain_compact_blocks_fetched_total",
            "CompactBlocks that needed a GetBlockTxs for missing transactions.",
            p2p.compact_blocks_fetched);
    counter("gossipchain_compact_blocks_unscanned_total",
            "CompactBlocks rebuilt without reading the mempool: rebuilds were over their "
            "node-wide rate (SPEC 8).",
            p2p.compact_blocks_unscanned);
    counter("gossipchain_inbound_evictions_total",
            "Inbound gossip links closed to make room for a new peer.", p2p.inbound_evictions);
    counter("gossipchain_connection_evictions_total",
            "Idle inbound connections closed to make room at a connection cap.",
            m_transport.Evictions());
    gauge("gossipchain_write_queue_bytes", "Bytes waiting for the kernel on all connections.",
          static_cast<double>(m_transport.QueuedBytes()));
    // Every family gets HELP and TYPE even while it has no sample yet, so `promtool check
    // metrics` stays quiet on a fresh node and on a busy one alike.
    out +=
        "# HELP gossipchain_bytes_in_total Gossip bytes received by message type, frame "
        "header included.\n# TYPE gossipchain_bytes_in_total counter\n";
    for (const auto& [type, bytes] : p2p.bytes_in_by_type) {
        out +=
            "gossipchain_bytes_in_total{message=\"" + type + "\"} " + std::to_string(bytes) + "\n";
    }
    out +=
        "# HELP gossipchain_bytes_out_total Gossip bytes sent by message type, frame header "
        "included.\n# TYPE gossipchain_bytes_out_total counter\n";
    for (const auto& [type, bytes] : p2p.bytes_out_by_type) {
        out +=
            "gossipchain_bytes_out_total{message=\"" + type + "\"} " + std::to_string(bytes) + "\n";
    }
    out += m_events.Hub().MetricsText();
    return out;
}

}  // namespace gossipchain
