#include "node/resolver.h"

#include "node/fetched_chain.h"
#include "util/clock.h"
#include "util/log.h"

#include <algorithm>
#include <system_error>
#include <utility>

namespace gossipchain {
namespace {

std::string Join(const std::vector<std::string>& parts, const char* separator) {
    std::string out;
    for (const std::string& part : parts) {
        if (!out.empty())
            out += separator;
        out += part;
    }
    return out;
}

/**
 * Milliseconds of the monotonic clock. Not the loop's cached time: a fetch that timed out at the
 * round's deadline must find the deadline passed when its result is handled.
 */
std::uint64_t NowMs() {
    return MonotonicNs() / 1'000'000;
}

}  // namespace

Resolver::Resolver(net::EventLoop& loop, ChainState& chain, PeerManager& peers, Options options,
                   std::function<void()> on_chain_changed)
    : m_loop(loop),
      m_chain(chain),
      m_peers(peers),
      m_options(std::move(options)),
      m_gossip(loop, peers, m_options.gossip),
      m_on_chain_changed(std::move(on_chain_changed)),
      m_alive(std::make_shared<bool>(true)) {
    m_options.fetch_threads = std::max<std::size_t>(1, m_options.fetch_threads);
}

Resolver::~Resolver() {
    *m_alive = false;
    m_cancel.Cancel();
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_quit = true;
    }
    m_wake.notify_all();
    for (std::thread& worker : m_workers)
        worker.join();
}

void Resolver::Stop() {
    m_stopped = true;
    m_gossip.Cancel();
    m_cancel.Cancel();
    m_next.clear();
    if (m_round)
        m_round->waiters.clear();
}

void Resolver::Resolve(Done done) {
    if (m_stopped)
        return;
    if (m_round) {
        m_next.push_back(std::move(done));
        return;
    }
    std::vector<Done> waiters;
    waiters.push_back(std::move(done));
    StartRound(std::move(waiters));
}

void Resolver::StartRound(std::vector<Done> waiters) {
    ++m_rounds;
    m_round = std::make_unique<Round>();
    m_round->waiters = std::move(waiters);
    m_round->tip_before = m_chain.Tip().HashHex();
    m_gossip.Start([this] {
        if (!m_stopped)
            OnGossipSynced();
    });
}

void Resolver::OnGossipSynced() {
    // Over HTTP like the tutorial's resolve_conflicts: every registered address that did not
    // become a gossip link (plain tutorial nodes).
    std::vector<PeerAddress> targets = m_peers.UnlinkedAddresses();
    m_round->targets.assign(targets.begin(), targets.end());
    m_round->deadline_ms = NowMs() + m_options.http_timeout_ms;
    Dispatch();
}

void Resolver::Dispatch() {
    Round& round = *m_round;
    while (round.in_flight < m_options.fetch_threads && !round.targets.empty()) {
        PeerAddress target = std::move(round.targets.front());
        round.targets.pop_front();
        std::uint64_t now = NowMs();
        if (now >= round.deadline_ms) {
            round.outcome.notes.push_back(FormatHostPort(target) + ": skipped: not asked, " +
                                          std::to_string(m_options.http_timeout_ms) +
                                          " ms for tutorial nodes ran out");
            continue;
        }
        if (!Fetch(target, std::min(m_options.fetch_timeout_ms, round.deadline_ms - now))) {
            round.outcome.notes.push_back(FormatHostPort(target) +
                                          ": skipped: not fetched, no thread to fetch it on");
            continue;
        }
        ++round.in_flight;
    }
    if (round.in_flight == 0 && round.targets.empty())
        FinishRound();
}

bool Resolver::Fetch(const PeerAddress& target, std::uint64_t timeout_ms) {
    FetchOptions fetch;
    fetch.timeout_ms = timeout_ms;
    fetch.max_body_bytes = m_options.max_chain_bytes;
    fetch.cancel = &m_cancel;
    return Submit([this, target, fetch, alive = m_alive, params = m_options.params] {
        auto fetched = std::make_shared<FetchedChain>(params, WallSeconds());
        fetched->Finish(HttpGet(target.host, target.port, "/chain", *fetched, fetch));
        std::string label = FormatHostPort(target);
        // The loop outlives the workers (they are joined first), so Post is safe; `alive` says
        // whether the resolver still exists when the result is run.
        m_loop.Post([this, alive, label, fetched] {
            if (*alive)
                OnFetched(label, *fetched);
        });
    });
}

void Resolver::OnFetched(const std::string& label, FetchedChain& fetched) {
    if (m_stopped || !m_round)
        return;
    --m_round->in_flight;
    std::vector<std::string> reasons = fetched.Reasons();
    const std::uint64_t ours = m_chain.Height();
    const bool longer = fetched.Length() > ours;
    if (fetched.Adoptable() && longer) {
        double now = WallSeconds();
        for (Block& block : fetched.Blocks()) {
            std::uint64_t index = block.index;
            BlockResult result = m_chain.ProcessBlock(std::move(block), now, fetched.Length());
            if (result.status == BlockStatus::Invalid) {
                reasons.push_back("block " + std::to_string(index) + ": " +
                                  result.validation.ToString());
                break;
            }
            for (const BlockEntry* entry : result.connected) {
                LOG_INFO("block %llu %s accepted from tutorial node %s",
                         static_cast<unsigned long long>(entry->Height()),
                         entry->HashHex().substr(0, 12).c_str(), label.c_str());
            }
        }
        fetched.Blocks().clear();
    }
    if (fetched.Complete() && !longer) {
        reasons.push_back("its chain is not longer than ours (" + std::to_string(fetched.Length()) +
                          " blocks, ours " + std::to_string(ours) + ")");
    }
    if (reasons.size() == 1 && !longer && fetched.Adoptable()) {
        m_round->outcome.notes.push_back(label + ": " + reasons.front());
    } else if (!reasons.empty()) {
        m_round->outcome.notes.push_back(label + ": skipped: " + Join(reasons, "; "));
    }
    Dispatch();
}

void Resolver::FinishRound() {
    std::unique_ptr<Round> round = std::move(m_round);
    round->outcome.replaced = m_chain.Tip().HashHex() != round->tip_before;
    LOG_INFO("resolve: %s",
             round->outcome.replaced ? "our chain was replaced" : "our chain is authoritative");
    if (round->outcome.replaced && m_on_chain_changed)
        m_on_chain_changed();
    // Callers that came during this round get the next one.
    if (!m_next.empty())
        StartRound(std::exchange(m_next, {}));
    for (Done& waiter : round->waiters)
        waiter(round->outcome);
}

bool Resolver::Submit(std::function<void()> job) {
    // All workers start with the first fetch; Dispatch keeps at most that many jobs out.
    while (m_workers.size() < m_options.fetch_threads) {
        try {
            m_workers.emplace_back([this] { WorkerLoop(); });
        } catch (const std::system_error& error) {
            // Out of threads: the workers there are take the jobs; with none they cannot run.
            LOG_WARN("resolve: cannot start a fetch thread: %s", error.what());
            if (m_workers.empty())
                return false;
            m_options.fetch_threads = m_workers.size();
        }
    }
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_jobs.push_back(std::move(job));
    }
    m_wake.notify_one();
    return true;
}

void Resolver::WorkerLoop() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_wake.wait(lock, [this] { return m_quit || !m_jobs.empty(); });
            if (m_quit)
                return;
            job = std::move(m_jobs.front());
            m_jobs.pop_front();
        }
        job();
    }
}

}  // namespace gossipchain
