// Proof-of-work search: finds the lowest proof the tutorial's proof_of_work loop would return, on
// worker threads and at SHA-NI speed. The preimage lives in one padded SHA-256 buffer whose
// decimal digits are incremented in place, so an attempt costs one or two compressions and no
// formatting. Under the header rule the first 64 of the 80 header bytes never change during a
// search: their compression is done once, and an attempt costs one compression from there. The
// search is deterministic: whatever the thread count, the answer is the lowest valid proof at or
// above the job's first proof, exactly as consensus/pow.h's CheckProof judges.
#pragma once

#include "consensus/params.h"
#include "crypto/sha256.h"
#include "crypto/sha256_kernel.h"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace gossipchain {

/** Worker threads a Miner runs by default; the node's loop thread needs the other core. */
inline constexpr unsigned DEFAULT_MINER_THREADS = 1;
/** Proofs a worker claims at once from the shared counter, in attempts. */
inline constexpr std::uint64_t MINER_CHUNK_PROOFS = std::uint64_t{1} << 14;
/** Attempts between two looks at the cancel flag and the best proof found so far. */
inline constexpr std::uint64_t MINER_CHECK_INTERVAL = 1024;

/** What to mine: the inputs of the tutorial's valid_proof under one network's rules. */
struct MiningJob {
    PowRule rule = PowRule::Linked;
    int difficulty = DEFAULT_DIFFICULTY;
    std::uint64_t last_proof = 0;
    /** Hash of the last block; the linked and header rules hash it. */
    std::string last_hash;
    /** Header rule only: BlockContentDigest of the block being mined. */
    Hash256 content_digest{};
    /** Lowest proof to try; the tutorial starts at 0. */
    std::uint64_t first_proof = 0;
};

/**
 * The padded SHA-256 input for one proof attempt: "{last_proof}{proof}" (plus last_hash under the
 * linked rule), the 0x80 terminator and the bit length. Increment() moves to the next proof by
 * editing the ASCII digits in place; only when the digit count grows is the buffer laid out again.
 */
class ProofPreimage {
public:
    ProofPreimage(PowRule rule, std::uint64_t last_proof, std::string_view last_hash,
                  std::uint64_t proof);

    /** Moves to proof + 1. */
    void Increment();

    std::uint64_t Proof() const { return m_proof; }
    /** The unpadded text, the same bytes as PowPreimage(). */
    std::string_view Text() const;
    const std::uint8_t* Blocks() const { return m_buffer.data(); }
    std::size_t BlockCount() const { return m_buffer.size() / SHA256_BLOCK_BYTES; }

private:
    /** Writes the whole preimage and its padding for m_proof. */
    void Layout();

    const PowRule m_rule;
    const std::uint64_t m_last_proof;
    const std::string m_last_hash;
    std::uint64_t m_proof;
    /** Where the proof's digits start in m_buffer: right after "{last_proof}". */
    const std::size_t m_digits_begin;
    std::size_t m_digit_count = 0;
    std::size_t m_text_bytes = 0;
    std::vector<std::uint8_t> m_buffer;
};

/** True when the digest `state` stands for starts with `difficulty` hex zeros. */
bool StateMeetsDifficulty(const Sha256State& state, int difficulty);

/**
 * The lowest valid proof >= job.first_proof, searched by `threads` threads (the caller's among
 * them). Returns nullopt when `cancel` becomes true or no proof up to MAX_PROOF is valid. Every
 * attempt made is added to `hashes` when it is not null.
 */
std::optional<std::uint64_t> FindProof(const MiningJob& job, unsigned threads,
                                       const std::atomic<bool>* cancel,
                                       std::atomic<std::uint64_t>* hashes = nullptr);

/**
 * A pool of worker threads, created once, that runs mining jobs one after another in submission
 * order, each on all threads. Every job's callback runs exactly once, on a miner thread, with the
 * proof or with nullopt when the job was cancelled (or no proof exists). Callbacks run one at a
 * time, in job order, and may call Submit() or CancelAll().
 */
class Miner {
public:
    using DoneCallback = std::function<void(std::uint64_t job_id, std::optional<std::uint64_t>)>;

    struct Options {
        unsigned threads = DEFAULT_MINER_THREADS;
    };

    explicit Miner(Options options);
    /** Cancels every job, runs their callbacks with nullopt, and joins the threads. */
    ~Miner();
    Miner(const Miner&) = delete;
    Miner& operator=(const Miner&) = delete;

    /** Queues `job`; returns its id (ids start at 1 and increase). */
    std::uint64_t Submit(MiningJob job, DoneCallback done);
    /** Cancels the running job and every queued one; their callbacks get nullopt. */
    void CancelAll();
    /** Proof attempts made since construction. */
    std::uint64_t HashesTried() const { return m_hashes.load(std::memory_order_relaxed); }

private:
    struct Job;

    void WorkerLoop();
    void CancelAllLocked();
    /** Moves the next queued job, if any, to m_running and wakes the workers. */
    void StartNextLocked();

    const unsigned m_thread_count;
    std::atomic<std::uint64_t> m_hashes{0};
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<std::unique_ptr<Job>> m_queue;
    std::unique_ptr<Job> m_running;
    /** Bumped each time a job starts, so a worker joins each job exactly once. */
    std::uint64_t m_generation = 0;
    std::uint64_t m_next_id = 1;
    /** Jobs with an id up to this one were cancelled by CancelAll(). */
    std::uint64_t m_cancelled_through = 0;
    bool m_stopping = false;
    /** Last, so the threads start after, and are joined before, everything they use. */
    std::vector<std::jthread> m_workers;
};

}  // namespace gossipchain
