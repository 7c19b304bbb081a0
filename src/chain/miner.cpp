#include "chain/miner.h"

#include "consensus/pow.h"

#include <algorithm>
#include <limits>

namespace gossipchain {
namespace {

/** Marks "no valid proof found yet"; above MAX_PROOF, so never a real proof. */
constexpr std::uint64_t NO_PROOF = std::numeric_limits<std::uint64_t>::max();

bool Cancelled(const std::atomic<bool>* cancel) {
    return cancel != nullptr && cancel->load(std::memory_order_relaxed);
}

/**
 * The state threads share while searching one job. Threads claim chunks of the proof space in
 * increasing order from `next`; `best` is the lowest valid proof found. Since chunks are claimed
 * in order and no chunk starting above `best` is begun, every proof below `best` has been tried
 * once all threads stop, which makes the result independent of the thread count.
 */
struct ProofSearch {
    explicit ProofSearch(std::uint64_t first_proof) : next(first_proof) {}

    void Found(std::uint64_t proof) {
        std::uint64_t current = best.load();
        while (proof < current && !best.compare_exchange_weak(current, proof)) {
        }
    }

    std::optional<std::uint64_t> Result(const std::atomic<bool>* cancel) const {
        // A cancelled search may have skipped lower proofs, so its partial answer is dropped.
        const std::uint64_t proof = best.load();
        if (Cancelled(cancel) || proof == NO_PROOF)
            return std::nullopt;
        return proof;
    }

    std::atomic<std::uint64_t> next;
    std::atomic<std::uint64_t> best{NO_PROOF};
};

/**
 * Judges the pair (proof, proof + 1) of a chunk [first, end), proof before proof + 1 so the first
 * valid one is the lowest: the attempts the chunk made when its search ends here, else 0.
 */
std::uint64_t JudgePair(const Sha256State& even, const Sha256State& odd, std::uint64_t proof,
                        std::uint64_t first, std::uint64_t end, int difficulty,
                        ProofSearch& search) {
    if (StateMeetsDifficulty(even, difficulty)) {
        search.Found(proof);
        return proof - first + 1;
    }
    if (proof + 1 == end)
        return proof + 1 - first;
    if (StateMeetsDifficulty(odd, difficulty)) {
        search.Found(proof + 1);
        return proof + 2 - first;
    }
    return 0;
}

/**
 * Tries the proofs of [first, end) in order and stops at the first valid one, or early when the
 * search is cancelled or a lower proof is already known. Returns the number of attempts made.
 * Proofs are hashed in pairs (p, p + 1) on the two-lane kernel; p is judged before p + 1, so the
 * first valid proof is still the lowest.
 */
std::uint64_t SearchChunk(const MiningJob& job, std::uint64_t first, std::uint64_t end,
                          Sha256Kernel kernel, ProofSearch& search,
                          const std::atomic<bool>* cancel) {
    const Sha256CompressFn compress = Sha256CompressFunction(kernel);
    const Sha256CompressTwoFn compress_two = Sha256CompressTwoFunction(kernel);
    ProofPreimage even(job.rule, job.last_proof, job.last_hash, first);
    ProofPreimage odd(job.rule, job.last_proof, job.last_hash, first + 1);
    std::uint64_t proof = first;
    while (proof < end) {
        if (Cancelled(cancel) || proof > search.best.load(std::memory_order_relaxed))
            break;
        const std::uint64_t batch_end = std::min(end, proof + MINER_CHECK_INTERVAL);
        for (; proof < batch_end; proof += 2) {
            Sha256State even_state = SHA256_INITIAL_STATE;
            Sha256State odd_state = SHA256_INITIAL_STATE;
            if (even.BlockCount() == odd.BlockCount()) {
                compress_two(even_state, even.Blocks(), odd_state, odd.Blocks(), even.BlockCount());
            } else {
                // p + 1 gained a digit that pushed the padding into another block.
                compress(even_state, even.Blocks(), even.BlockCount());
                compress(odd_state, odd.Blocks(), odd.BlockCount());
            }
            if (std::uint64_t done =
                    JudgePair(even_state, odd_state, proof, first, end, job.difficulty, search))
                return done;
            even.Increment();
            even.Increment();
            odd.Increment();
            odd.Increment();
        }
    }
    return proof - first;
}

/**
 * The header rule's SearchChunk: the compression of the header's first 64 bytes (parent hash and
 * content digest) is shared by every attempt; each pair of proofs costs one two-lane compression
 * of the last block (both proofs as big-endian integers, then the padding).
 */
std::uint64_t SearchHeaderChunk(const MiningJob& job, std::uint64_t first, std::uint64_t end,
                                Sha256Kernel kernel, ProofSearch& search,
                                const std::atomic<bool>* cancel) {
    const Sha256CompressFn compress = Sha256CompressFunction(kernel);
    const Sha256CompressTwoFn compress_two = Sha256CompressTwoFunction(kernel);
    const HeaderPreimage header =
        MakeHeaderPreimage(job.last_hash, job.content_digest, job.last_proof, 0);
    std::vector<std::uint8_t> padded(Sha256PaddedSize(header.size()), 0);
    std::copy(header.begin(), header.end(), padded.begin());
    Sha256WritePadding(padded, header.size());
    Sha256State midstate = SHA256_INITIAL_STATE;
    compress(midstate, padded.data(), 1);
    std::array<std::uint8_t, SHA256_BLOCK_BYTES> even{};
    std::array<std::uint8_t, SHA256_BLOCK_BYTES> odd{};
    std::copy(padded.begin() + SHA256_BLOCK_BYTES, padded.end(), even.begin());
    odd = even;
    // The proof's 8 bytes sit right after the parent's proof in the last block.
    constexpr std::size_t PROOF_AT = HEADER_PREIMAGE_BYTES - 8 - SHA256_BLOCK_BYTES;
    auto put = [](std::array<std::uint8_t, SHA256_BLOCK_BYTES>& block, std::uint64_t proof) {
        for (int i = 7; i >= 0; --i, proof >>= 8)
            block[PROOF_AT + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(proof);
    };
    std::uint64_t proof = first;
    while (proof < end) {
        if (Cancelled(cancel) || proof > search.best.load(std::memory_order_relaxed))
            break;
        const std::uint64_t batch_end = std::min(end, proof + MINER_CHECK_INTERVAL);
        for (; proof < batch_end; proof += 2) {
            put(even, proof);
            put(odd, proof + 1);
            Sha256State even_state = midstate;
            Sha256State odd_state = midstate;
            compress_two(even_state, even.data(), odd_state, odd.data(), 1);
            if (std::uint64_t done =
                    JudgePair(even_state, odd_state, proof, first, end, job.difficulty, search))
                return done;
        }
    }
    return proof - first;
}

/** One thread's share of a search: claims chunks until the search is over. */
void SearchChunks(const MiningJob& job, ProofSearch& search, const std::atomic<bool>* cancel,
                  std::atomic<std::uint64_t>* hashes) {
    const Sha256Kernel kernel = FastestSha256Kernel();
    while (!Cancelled(cancel)) {
        const std::uint64_t first = search.next.fetch_add(MINER_CHUNK_PROOFS);
        if (first > MAX_PROOF || first > search.best.load())
            break;
        const std::uint64_t end = std::min(first + MINER_CHUNK_PROOFS, MAX_PROOF + 1);
        const std::uint64_t attempts =
            PowCommitsToContent(job.rule)
                ? SearchHeaderChunk(job, first, end, kernel, search, cancel)
                : SearchChunk(job, first, end, kernel, search, cancel);
        if (hashes != nullptr)
            hashes->fetch_add(attempts, std::memory_order_relaxed);
    }
}

}  // namespace

ProofPreimage::ProofPreimage(PowRule rule, std::uint64_t last_proof, std::string_view last_hash,
                             std::uint64_t proof)
    : m_rule(rule),
      m_last_proof(last_proof),
      m_last_hash(last_hash),
      m_proof(proof),
      m_digits_begin(std::to_string(last_proof).size()) {
    Layout();
}

void ProofPreimage::Layout() {
    // The consensus code formats the text, so the miner cannot drift from what validators hash.
    const std::string text = PowPreimage(m_rule, m_last_proof, m_proof, m_last_hash);
    m_text_bytes = text.size();
    m_digit_count = std::to_string(m_proof).size();
    m_buffer.assign(Sha256PaddedSize(text.size()), 0);
    std::copy(text.begin(), text.end(), m_buffer.begin());
    Sha256WritePadding(m_buffer, text.size());
}

void ProofPreimage::Increment() {
    ++m_proof;
    std::uint8_t* const first_digit = m_buffer.data() + m_digits_begin;
    for (std::uint8_t* digit = first_digit + m_digit_count; digit != first_digit;) {
        --digit;
        if (*digit != '9') {
            ++*digit;
            return;
        }
        *digit = '0';
    }
    // Every digit was 9: the proof gains a digit, which moves the suffix and the padding.
    Layout();
}

std::string_view ProofPreimage::Text() const {
    return {reinterpret_cast<const char*>(m_buffer.data()), m_text_bytes};
}

bool StateMeetsDifficulty(const Sha256State& state, int difficulty) {
    // Each state word is eight hex digits of the digest, most significant first.
    if (difficulty > 8 * static_cast<int>(state.size()))
        return false;
    std::size_t word = 0;
    for (; difficulty >= 8; difficulty -= 8, ++word) {
        if (state[word] != 0)
            return false;
    }
    return difficulty <= 0 || (state[word] >> (32 - 4 * difficulty)) == 0;
}

std::optional<std::uint64_t> FindProof(const MiningJob& job, unsigned threads,
                                       const std::atomic<bool>* cancel,
                                       std::atomic<std::uint64_t>* hashes) {
    ProofSearch search(job.first_proof);
    {
        std::vector<std::jthread> helpers;
        for (unsigned i = 1; i < threads; ++i) {
            helpers.emplace_back([&] { SearchChunks(job, search, cancel, hashes); });
        }
        SearchChunks(job, search, cancel, hashes);
    }
    return search.Result(cancel);
}

struct Miner::Job {
    Job(std::uint64_t job_id, MiningJob mining_job, DoneCallback callback)
        : id(job_id),
          job(std::move(mining_job)),
          done(std::move(callback)),
          search(job.first_proof) {}

    const std::uint64_t id;
    const MiningJob job;
    DoneCallback done;
    ProofSearch search;
    std::atomic<bool> cancel{false};
    /** Workers that have not yet finished their share; guarded by m_mutex. */
    unsigned workers_left = 0;
};

Miner::Miner(Options options) : m_thread_count(std::max(1U, options.threads)) {
    m_workers.reserve(m_thread_count);
    for (unsigned i = 0; i < m_thread_count; ++i) {
        m_workers.emplace_back([this] { WorkerLoop(); });
    }
}

Miner::~Miner() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        CancelAllLocked();
        m_wake.notify_all();
    }
    // Workers drain the queue (each job ends at once, cancelled) and then exit.
    m_workers.clear();
}

std::uint64_t Miner::Submit(MiningJob job, DoneCallback done) {
    std::lock_guard lock(m_mutex);
    const std::uint64_t id = m_next_id++;
    m_queue.push_back(std::make_unique<Job>(id, std::move(job), std::move(done)));
    if (!m_running)
        StartNextLocked();
    return id;
}

void Miner::CancelAll() {
    std::lock_guard lock(m_mutex);
    CancelAllLocked();
}

void Miner::CancelAllLocked() {
    m_cancelled_through = m_next_id - 1;
    if (m_running)
        m_running->cancel.store(true);
}

void Miner::StartNextLocked() {
    if (!m_queue.empty()) {
        m_running = std::move(m_queue.front());
        m_queue.pop_front();
        m_running->workers_left = m_thread_count;
        // Queued jobs cancelled earlier still run, so that their callbacks come from a miner
        // thread in order; the set flag makes their search end at once.
        if (m_stopping || m_running->id <= m_cancelled_through)
            m_running->cancel.store(true);
        ++m_generation;
    }
    m_wake.notify_all();
}

void Miner::WorkerLoop() {
    std::unique_lock lock(m_mutex);
    std::uint64_t joined_generation = 0;
    while (true) {
        m_wake.wait(lock, [&] {
            return (m_running && m_generation != joined_generation) || (m_stopping && !m_running);
        });
        // m_running is only empty when the queue is, so a stopping miner with neither is done.
        if (!m_running)
            return;
        joined_generation = m_generation;
        // The job stays in m_running until every worker, this one included, has finished it.
        Job& job = *m_running;
        lock.unlock();
        SearchChunks(job.job, job.search, &job.cancel, &m_hashes);
        lock.lock();
        if (--job.workers_left > 0)
            continue;

        // The last worker out reports the job and starts the next one first, so the other
        // workers mine while the callback runs.
        std::unique_ptr<Job> finished = std::move(m_running);
        StartNextLocked();
        lock.unlock();
        finished->done(finished->id, finished->search.Result(&finished->cancel));
        finished.reset();
        lock.lock();
    }
}

}  // namespace gossipchain
