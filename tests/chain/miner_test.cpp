#include "chain/miner.h"

#include "consensus/pow.h"
#include "util/hex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>

namespace gossipchain {
namespace {

/** The tutorial's proof_of_work loop, one CheckProof per proof: the reference the miner must match.
 */
std::uint64_t BruteForceProof(const MiningJob& job) {
    ConsensusParams params;
    params.pow_rule = job.rule;
    params.difficulty = job.difficulty;
    std::uint64_t proof = job.first_proof;
    while (!CheckProof(params, job.last_proof, proof, job.last_hash))
        ++proof;
    return proof;
}

std::string RandomHash(std::mt19937_64& rng) {
    Hash256 bytes;
    for (std::uint8_t& b : bytes)
        b = static_cast<std::uint8_t>(rng());
    return HexEncode(bytes);
}

MiningJob SeedJob(int difficulty, std::uint64_t last_proof) {
    MiningJob job;
    job.rule = PowRule::Seed;
    job.difficulty = difficulty;
    job.last_proof = last_proof;
    return job;
}

/** Collects Miner callbacks and lets the test wait for them under a deadline. */
class CallbackLog {
public:
    Miner::DoneCallback Callback() {
        return [this](std::uint64_t id, std::optional<std::uint64_t> proof) {
            std::lock_guard lock(m_mutex);
            m_order.push_back(id);
            m_results[id] = proof;
            m_changed.notify_all();
        };
    }

    bool WaitFor(std::size_t count) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, std::chrono::seconds(60),
                                  [&] { return m_order.size() >= count; });
    }

    std::vector<std::uint64_t> Order() {
        std::lock_guard lock(m_mutex);
        return m_order;
    }

    std::optional<std::uint64_t> Result(std::uint64_t id) {
        std::lock_guard lock(m_mutex);
        return m_results.at(id);
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::vector<std::uint64_t> m_order;
    std::map<std::uint64_t, std::optional<std::uint64_t>> m_results;
};

TEST(Miner, SeedRuleKnownAnswer) {
    const MiningJob job = SeedJob(4, 100);
    EXPECT_EQ(BruteForceProof(job), 35293U);
    EXPECT_EQ(FindProof(job, 1, nullptr), 35293U);
    EXPECT_EQ(FindProof(job, 2, nullptr), 35293U);
}

TEST(Miner, LinkedRuleMatchesBruteForce) {
    std::mt19937_64 rng(7);
    for (int trial = 0; trial < 3; ++trial) {
        for (int difficulty = 1; difficulty <= 4; ++difficulty) {
            MiningJob job;
            job.rule = PowRule::Linked;
            job.difficulty = difficulty;
            job.last_proof = rng() % 1000000;
            job.last_hash = RandomHash(rng);
            const std::uint64_t expected = BruteForceProof(job);
            for (unsigned threads : {1U, 3U}) {
                EXPECT_EQ(FindProof(job, threads, nullptr), expected)
                    << "difficulty " << difficulty << " threads " << threads;
            }
        }
    }
}

TEST(Miner, HeaderRuleFindsTheLowestProofCheckBlockProofAccepts) {
    ConsensusParams params;
    params.pow_rule = PowRule::Header;
    params.difficulty = 3;
    Block block;
    block.index = 2;
    block.timestamp = 1700000001.5;
    block.previous_hash = std::string(64, 'c');
    block.transactions.push_back(Transaction{"0", "miner", 1, std::string(32, 'd')});
    MiningJob job;
    job.rule = PowRule::Header;
    job.difficulty = params.difficulty;
    job.last_proof = 77;
    job.last_hash = block.ParentHash();
    job.content_digest = BlockContentDigest(block);
    for (std::uint64_t first : {std::uint64_t{0}, std::uint64_t{5}}) {
        job.first_proof = first;
        Block expected = block;
        for (expected.proof = first;
             !CheckBlockProof(params, expected, job.last_proof, job.last_hash);)
            ++expected.proof;
        EXPECT_EQ(FindProof(job, 1, nullptr), expected.proof);
        EXPECT_EQ(FindProof(job, 2, nullptr), expected.proof);
    }
    // The proof covers the content: another transaction id needs other work.
    Block changed = block;
    changed.transactions[0].id = std::string(32, 'e');
    changed.proof = *FindProof(job, 1, nullptr);
    block.proof = changed.proof;
    EXPECT_TRUE(CheckBlockProof(params, block, job.last_proof, job.last_hash));
}

TEST(Miner, CountsEveryAttempt) {
    // One thread tries exactly the proofs from 0 through the answer.
    std::atomic<std::uint64_t> hashes{0};
    EXPECT_EQ(FindProof(SeedJob(4, 100), 1, nullptr, &hashes), 35293U);
    EXPECT_EQ(hashes.load(), 35294U);
}

TEST(Miner, PreimageIncrementCarriesAcrossDigitCounts) {
    const std::string last_hash = std::string(64, 'a');
    for (PowRule rule : {PowRule::Seed, PowRule::Linked}) {
        for (std::uint64_t start : {std::uint64_t{0}, std::uint64_t{7}, std::uint64_t{97},
                                    std::uint64_t{999997}, std::uint64_t{9999999999999999997U}}) {
            ProofPreimage preimage(rule, 12345, last_hash, start);
            for (std::uint64_t proof = start; proof < start + 6; ++proof, preimage.Increment()) {
                ASSERT_EQ(preimage.Proof(), proof);
                const std::string expected = PowPreimage(rule, 12345, proof, last_hash);
                ASSERT_EQ(preimage.Text(), expected);
                Sha256State state = SHA256_INITIAL_STATE;
                Sha256Compress(state, preimage.Blocks(), preimage.BlockCount());
                ASSERT_EQ(Sha256StateDigest(state), Sha256Reference(expected)) << proof;
            }
        }
    }
}

TEST(Miner, SearchCrossesDigitBoundary) {
    for (std::uint64_t boundary : {std::uint64_t{10}, std::uint64_t{100}, std::uint64_t{1000000}}) {
        MiningJob job = SeedJob(3, 42);
        job.first_proof = boundary - 3;
        const std::uint64_t expected = BruteForceProof(job);
        // The inputs are fixed, so this holds every run; it makes sure the boundary is crossed.
        ASSERT_GE(expected, boundary);
        EXPECT_EQ(FindProof(job, 1, nullptr), expected);
        EXPECT_EQ(FindProof(job, 2, nullptr), expected);
    }
}

TEST(Miner, SearchCrossesIntoAnotherBlock) {
    // "100" + proof + 47 characters is 55 bytes (one block) for a five-digit proof and 56 bytes
    // (two blocks) for a six-digit one, so the pair (99999, 100000) needs different block counts.
    MiningJob job;
    job.rule = PowRule::Linked;
    job.difficulty = 3;
    job.last_proof = 100;
    job.last_hash = std::string(47, 'f');
    job.first_proof = 99991;
    EXPECT_EQ(ProofPreimage(job.rule, 100, job.last_hash, 99999).BlockCount(), 1U);
    EXPECT_EQ(ProofPreimage(job.rule, 100, job.last_hash, 100000).BlockCount(), 2U);
    const std::uint64_t expected = BruteForceProof(job);
    ASSERT_GE(expected, 100000U);
    EXPECT_EQ(FindProof(job, 1, nullptr), expected);
}

TEST(Miner, ProofSpaceEndsAtMaxProof) {
    MiningJob every_proof_valid = SeedJob(0, 1);
    every_proof_valid.first_proof = MAX_PROOF;
    EXPECT_EQ(FindProof(every_proof_valid, 2, nullptr), MAX_PROOF);
    every_proof_valid.first_proof = MAX_PROOF + 1;
    EXPECT_EQ(FindProof(every_proof_valid, 2, nullptr), std::nullopt);

    MiningJob impossible = SeedJob(MAX_DIFFICULTY, 1);
    impossible.first_proof = MAX_PROOF - 5000;
    std::atomic<std::uint64_t> hashes{0};
    EXPECT_EQ(FindProof(impossible, 2, nullptr, &hashes), std::nullopt);
    EXPECT_EQ(hashes.load(), 5001U);
}

TEST(Miner, StateDifficultyMatchesHexDigest) {
    std::mt19937_64 rng(11);
    for (int trial = 0; trial < 2000; ++trial) {
        Sha256State state;
        for (std::uint32_t& word : state)
            word = static_cast<std::uint32_t>(rng());
        // Zero a random number of leading nibbles so that high difficulties are reached.
        const int zero_nibbles = static_cast<int>(rng() % 20);
        for (int nibble = 0; nibble < zero_nibbles; ++nibble) {
            state[nibble / 8] &= ~(0xF0000000U >> (4 * (nibble % 8)));
        }
        const Hash256 digest = Sha256StateDigest(state);
        for (int difficulty = 0; difficulty <= MAX_DIFFICULTY + 2; ++difficulty) {
            ASSERT_EQ(StateMeetsDifficulty(state, difficulty),
                      HasLeadingHexZeros(digest, difficulty))
                << "difficulty " << difficulty << " zeros " << zero_nibbles;
        }
    }
}

TEST(Miner, CancelStopsSearch) {
    std::atomic<bool> cancel{false};
    std::atomic<std::uint64_t> hashes{0};
    std::optional<std::uint64_t> result = 0;
    std::jthread searcher(
        [&] { result = FindProof(SeedJob(MAX_DIFFICULTY, 1), 2, &cancel, &hashes); });
    // Wait until the search has visibly started, so the cancel interrupts real work.
    while (hashes.load() == 0)
        std::this_thread::yield();
    cancel.store(true);
    searcher.join();
    EXPECT_EQ(result, std::nullopt);
}

TEST(Miner, RunsQueuedJobsInOrder) {
    CallbackLog log;
    std::vector<MiningJob> jobs = {SeedJob(4, 100), SeedJob(3, 7), SeedJob(4, 35293)};
    std::vector<std::uint64_t> ids;
    {
        Miner miner(Miner::Options{.threads = 2});
        for (const MiningJob& job : jobs)
            ids.push_back(miner.Submit(job, log.Callback()));
        ASSERT_TRUE(log.WaitFor(jobs.size()));
        EXPECT_GT(miner.HashesTried(), 35293U);
    }
    EXPECT_EQ(log.Order(), ids);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        EXPECT_EQ(log.Result(ids[i]), BruteForceProof(jobs[i])) << "job " << i;
    }
}

TEST(Miner, CancelAllEndsRunningAndQueuedJobs) {
    CallbackLog log;
    Miner miner(Miner::Options{.threads = 2});
    const std::uint64_t first = miner.Submit(SeedJob(MAX_DIFFICULTY, 1), log.Callback());
    const std::uint64_t second = miner.Submit(SeedJob(MAX_DIFFICULTY, 2), log.Callback());
    miner.CancelAll();
    ASSERT_TRUE(log.WaitFor(2));
    EXPECT_EQ(log.Result(first), std::nullopt);
    EXPECT_EQ(log.Result(second), std::nullopt);

    // The miner keeps working after a cancel.
    const std::uint64_t third = miner.Submit(SeedJob(4, 100), log.Callback());
    ASSERT_TRUE(log.WaitFor(3));
    EXPECT_EQ(log.Result(third), 35293U);
    EXPECT_EQ(log.Order(), (std::vector<std::uint64_t>{first, second, third}));
}

TEST(Miner, DestructorCancelsAndReportsEveryJobOnce) {
    CallbackLog log;
    std::vector<std::uint64_t> ids;
    {
        Miner miner(Miner::Options{.threads = 2});
        ids.push_back(miner.Submit(SeedJob(MAX_DIFFICULTY, 1), log.Callback()));
        ids.push_back(miner.Submit(SeedJob(MAX_DIFFICULTY, 2), log.Callback()));
    }
    // The destructor joined the workers, so every callback has already run.
    EXPECT_EQ(log.Order(), ids);
    EXPECT_EQ(log.Result(ids[0]), std::nullopt);
    EXPECT_EQ(log.Result(ids[1]), std::nullopt);
}

}  // namespace
}  // namespace gossipchain
