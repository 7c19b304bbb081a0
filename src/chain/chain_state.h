// The node's ledger: every valid block it knows as a tree, the main chain chosen from it, the
// mempool and the orphan pool, kept consistent with each other.
//
// Fork choice is the most work, which with one fixed difficulty per network is the greatest height;
// on equal height the block seen first stays. A better branch is connected block by block (checking
// that no txid repeats within the chain); when a block on it fails, the branch is marked invalid
// and the old main chain is restored. Transactions of abandoned blocks go back to the mempool
// unless the new chain holds them; confirmed ones leave it.
//
// Under the signed rules (SPEC §6.7) the chain also keeps the accounts (consensus/ledger.h),
// through three calls only: Ledger::Connect when a block joins the main chain (a block whose
// transfers do not apply is invalid, like one that repeats a txid), Ledger::Disconnect when it
// leaves it, and Ledger::CheckPending when a transfer asks to enter the mempool. After every
// change of the main chain the pending transfers of each account it touched are checked again in
// nonce order; those that no longer fit (their nonce was spent, a nonce before them is gone, the
// balance no longer covers them) leave the mempool with the reason logged, so a block template
// never holds a transfer that cannot apply.
//
// Not thread-safe: owned and used by the loop thread only.
#pragma once

#include "chain/mempool.h"
#include "chain/orphan_pool.h"
#include "consensus/ledger.h"
#include "consensus/params.h"
#include "consensus/validation.h"
#include "crypto/sha256.h"
#include "primitives/block.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace gossipchain {

/** A block's content with the id of each of its transactions, in order. */
struct BlockBody {
    Block block;
    std::vector<std::string> txids;
};

/**
 * One block in the tree: fixed-size, with what fork choice, validation of its children and the
 * indexes need (Bitcoin Core's CBlockIndex is the model). Its content is a BlockBody that the
 * chain hands out through ChainState::Body; its canonical JSON (the bytes that were hashed) is
 * not kept: it is BlockJson(body), handed to the storage hook once and written again where it is
 * served.
 */
struct BlockEntry {
    Hash256 hash{};
    const BlockEntry* parent = nullptr;
    /** The block's index: its height, genesis 1. */
    std::uint64_t height = 0;
    std::uint64_t proof = 0;
    double timestamp = 0.0;
    /** Size of the canonical JSON, for batch and budget accounting. */
    std::uint32_t json_size = 0;
    std::uint32_t tx_count = 0;
    /** Arrival order: the block's row in the store (genesis, never stored, is 0). */
    std::uint64_t seq = 0;
    bool invalid = false;
    /** Durable in the store, so `body` may be let go (ChainState::MarkStored). */
    bool stored = false;
    /** The content while it is kept in memory (null once let go); read it through
     * ChainState::Body, which reads it back from the store. */
    std::shared_ptr<const BlockBody> body;

    std::uint64_t Height() const { return height; }
    std::string HashHex() const { return DigestHex(hash); }
};

/**
 * Where the content of blocks that the chain no longer keeps in memory is read back from: the
 * store. Reads happen on the chain's thread.
 */
class BodySource {
public:
    virtual ~BodySource() = default;
    /** The content of stored block `entry`, or null (with the reason logged) when it cannot be
     * read or does not hash to the entry's hash. */
    virtual std::shared_ptr<const BlockBody> ReadBody(const BlockEntry& entry) = 0;
    /** Appends stored block `entry`'s canonical JSON to `out`; false (with the reason logged)
     * when it cannot be read. */
    virtual bool AppendCanonical(const BlockEntry& entry, std::string& out) = 0;
    /** Many reads follow until EndReads (nested pairs count once): a source may serve them
     * from one snapshot instead of paying for one each. */
    virtual void BeginReads() {}
    virtual void EndReads() {}
};

/** JSON bytes of stored blocks whose content stays in memory, most recently stored first; the
 * rest is read back from the store when needed. */
inline constexpr std::size_t DEFAULT_RESIDENT_BODY_BYTES = 2 * 1024 * 1024;

/** What happened to a block handed to ProcessBlock. */
enum class BlockStatus {
    /**
     * Stored, and this call changed the main chain: the block extended the tip or caused a
     * reorg, or blocks waiting for it did (`connected` lists them).
     */
    Connected,
    /** Stored on a side branch that is not (yet) better than the main chain. */
    SideBranch,
    /**
     * Valid, its parent known, but its branch has no more work than the main chain and neither
     * the caller's claim nor blocks waiting for it say it will: not stored (SPEC §8, "Blocks that
     * cannot become the best chain"). Under proof rules that do not commit to a block's content
     * such blocks cost nothing to make, so storing them would let anyone fill memory and disk.
     */
    Stale,
    /** Already known (in the tree or the orphan pool). */
    Duplicate,
    /** Parent unknown; kept in the orphan pool. Ask a peer for `missing_parent`. */
    Orphan,
    /** Breaks a rule; `validation` says which. */
    Invalid,
};

std::string_view BlockStatusName(BlockStatus status);

struct BlockResult {
    BlockStatus status = BlockStatus::Invalid;
    ValidationResult validation;
    std::string hash;
    /** For Orphan: the hash to request. */
    std::string missing_parent;
    /** Main-chain blocks this call connected, in order (includes resolved orphans). */
    std::vector<const BlockEntry*> connected;
    /** How many main-chain blocks this call disconnected (the deepest reorg depth). */
    std::size_t reorg_depth = 0;
    /** The tip before this call, when a reorg happened. */
    std::string old_tip;
};

/** A block read back from storage: it was valid when stored, so only its links are rebuilt. */
struct TrustedBlock {
    Block block;
    Hash256 hash{};
    /** Its row in the store. */
    std::uint64_t seq = 0;
    /** Size of its canonical JSON. */
    std::size_t json_size = 0;
};

/**
 * Storage hooks (src/store), called synchronously from ProcessBlock so the caller can make a
 * block durable before anyone relays it.
 */
struct ChainHooks {
    /** A valid block entered the tree, with its canonical JSON; fork choice for it has already
     * run. */
    std::function<void(const BlockEntry&, std::string_view canonical)> on_block_added;
    /** `entry`, whose content is `body`, became the main-chain tip (connected) or stopped being
     * it (disconnected). */
    std::function<void(const BlockEntry&, const BlockBody& body, bool connected)> on_tip_moved;
    /** A pending transaction was evicted from the full mempool. */
    std::function<void(const std::string& txid)> on_tx_evicted = {};
};

enum class TxStatus { Accepted, Duplicate, AlreadyConfirmed, MempoolFull, Invalid };

struct TxResult {
    TxStatus status = TxStatus::Invalid;
    ValidationResult validation;
    std::string txid;
};

/** Threads that verify the signatures of one block by default (both cores of a small machine).
 */
inline constexpr unsigned DEFAULT_VERIFY_THREADS = 2;

class ChainState {
public:
    struct Options {
        ConsensusParams params;
        Mempool::Options mempool;
        OrphanPool::Options orphans;
        unsigned verify_threads = DEFAULT_VERIFY_THREADS;
    };

    explicit ChainState(Options options);
    ChainState(const ChainState&) = delete;
    ChainState& operator=(const ChainState&) = delete;

    /**
     * Validates and stores a block, resolves orphans it unlocks, and moves to the best chain.
     * `claimed_height` is how high the sender says this block's branch goes (the end of a sync
     * answer): a block that would land on a side branch no higher than the tip is stored only when
     * that claim, or orphans waiting for it, go above the tip; otherwise it is Stale. The
     * default trusts the caller completely (blocks this node mined or was handed by its operator).
     */
    BlockResult ProcessBlock(Block block, double now,
                             std::uint64_t claimed_height = UNLIMITED_CLAIM);
    /** A claimed height that admits every side-branch block. */
    static constexpr std::uint64_t UNLIMITED_CLAIM = UINT64_MAX;
    TxResult SubmitTransaction(const Transaction& tx, TxOrigin origin);
    /** Drops a pending transaction that could not be made durable (its client got an error). */
    void ForgetTransaction(const std::string& txid) { m_mempool.Remove(txid); }
    /** Holds a pending transaction back from relay (until its commit is durable), or releases
     * it (Mempool::SetRelayHeld). */
    void HoldRelay(const std::string& txid, bool held) { m_mempool.SetRelayHeld(txid, held); }

    void SetHooks(ChainHooks hooks) {
        m_hooks = std::move(hooks);
        m_mempool.SetEvictionHook(m_hooks.on_tx_evicted);
    }
    /**
     * Startup from storage, one block at a time in their original arrival order: adds a block
     * without checking its proof, timestamp or size again, and runs fork choice for it as
     * ProcessBlock did, so the same main chain (first seen wins ties) comes back. A block whose
     * parent is unknown or invalid is skipped (false). Hooks fire as usual; set them afterwards.
     */
    bool LoadTrusted(TrustedBlock stored);
    /** Room for `blocks` more blocks holding `txs` transactions (before LoadTrusted calls:
     * growing the maps one rehash at a time costs more than all the inserts at 100k blocks). */
    void Reserve(std::size_t blocks, std::size_t txs);

    const ConsensusParams& Params() const { return m_options.params; }
    const BlockEntry& Tip() const { return *m_main.back(); }
    std::uint64_t Height() const { return m_main.size(); }
    const BlockEntry& Genesis() const { return *m_main.front(); }
    /** Main-chain block at `height` (1-based, as block indexes are), or null. */
    const BlockEntry* AtHeight(std::uint64_t height) const;
    /** The block with this hash (64 lowercase hex characters, as on the wire), or null. */
    const BlockEntry* Find(std::string_view hash) const;
    const BlockEntry* Find(const Hash256& hash) const;
    /**
     * The content of a block of the tree: kept in memory, or read back from the body source.
     * Null only when the source cannot read it (a storage fault, logged).
     */
    std::shared_ptr<const BlockBody> Body(const BlockEntry& entry) const;
    /** Appends the block's canonical JSON (the bytes that were hashed) to `out`; false as Body.
     */
    bool AppendBlockJson(const BlockEntry& entry, std::string& out) const;
    /** While one lives, Body and AppendBlockJson read from one snapshot of the source (many
     * reads in a row cost one read transaction). Keep it within one synchronous piece of work. */
    class ReadScope {
    public:
        explicit ReadScope(BodySource* source) : m_source(source) {
            if (m_source)
                m_source->BeginReads();
        }
        ~ReadScope() {
            if (m_source)
                m_source->EndReads();
        }
        ReadScope(const ReadScope&) = delete;
        ReadScope& operator=(const ReadScope&) = delete;

    private:
        BodySource* m_source;
    };
    [[nodiscard]] ReadScope Reads() const { return ReadScope(m_source); }
    /**
     * Lets blocks' content go once it is durable: with a source set, stored blocks keep their
     * content in memory only while the most recently stored ones' JSON stays within
     * `resident_bytes`. Without one (no store), everything stays in memory.
     */
    void SetBodySource(BodySource* source,
                       std::size_t resident_bytes = DEFAULT_RESIDENT_BODY_BYTES);
    /** `entry` is durable in the store: its content may be let go (see SetBodySource). */
    void MarkStored(const BlockEntry& entry);
    /** Blocks whose content is kept in memory although stored (within the resident bytes). */
    std::size_t ResidentStoredBodies() const { return m_resident.size(); }
    bool IsOnMainChain(const BlockEntry& entry) const;
    /** True when the block is in the tree or waiting in the orphan pool. */
    bool Knows(const std::string& hash) const;
    /** Height of the main-chain block holding `txid`, if any. */
    std::optional<std::uint64_t> ConfirmedHeight(std::string_view txid) const;

    /** Hashes at heights tip, tip-1, tip-2, tip-4, ... genesis (newest first). */
    std::vector<std::string> Locator() const;
    /** Main-chain blocks after the first locator hash found on the main chain, up to `limit`. */
    std::vector<const BlockEntry*> BlocksAfterLocator(const std::vector<std::string>& locator,
                                                      std::size_t limit) const;

    /** Median timestamp of `entry` and up to 10 of its ancestors. */
    static double MedianTimePast(const BlockEntry& entry);
    /**
     * A block to mine on the tip: up to MAX_BLOCK_TRANSACTIONS - 1 pending transactions and the
     * reward to `reward_recipient`; the proof is left 0 for the miner.
     */
    Block BlockTemplate(const std::string& reward_recipient, const std::string& reward_id,
                        double now) const;

    const Mempool& GetMempool() const { return m_mempool; }
    /** The confirmed account at `address` under the signed rules (all zero otherwise). */
    Account AccountOf(const std::string& address) const { return m_ledger.Get(address); }
    /** Pending transfers dropped because the chain moved under them (SPEC §6.7). */
    std::uint64_t DroppedPending() const { return m_dropped_pending; }
    const OrphanPool& Orphans() const { return m_orphans; }
    std::size_t BlockCount() const { return m_index.size(); }
    std::uint64_t Reorgs() const { return m_reorgs; }

private:
    /** Adds one block whose parent is in the tree; returns its status. */
    BlockResult AcceptConnectable(Block block, const Hash256& hash, std::string json, double now,
                                  std::uint64_t claimed_height);
    /** A new entry for `body` under `parent`, in the index (not yet on any chain). */
    BlockEntry* AddEntry(const Hash256& hash, BlockBody body, const BlockEntry* parent,
                         std::size_t json_size, std::uint64_t seq);
    /** Body(), for moving the main chain: a block that cannot be read back stops the node. */
    std::shared_ptr<const BlockBody> RequireBody(const BlockEntry& entry) const;
    /** Moves the main chain to `candidate` if it has more work; fills `result`. */
    void ActivateBestChain(BlockEntry* candidate, BlockResult& result);
    /** A pending transaction a block took out of the mempool, with the origin it had there. */
    struct TakenTx {
        std::shared_ptr<const BlockBody> body;
        const Transaction* tx;
        std::string txid;
        TxOrigin origin;
    };
    /** Connects `entry` on the tip; fails when one of its txids is already in the chain or, under
     * the signed rules, a transfer does not apply. The transactions it takes from the mempool are
     * appended to `taken`. */
    ValidationResult ConnectTip(BlockEntry* entry, std::vector<TakenTx>& taken);
    void DisconnectTip(std::vector<Transaction>& returned);
    /** Puts transactions of disconnected blocks that the chain does not hold back in the mempool
     * (signed rules: those that still apply, RecheckPending); `moved` are the blocks that left
     * or joined the main chain. */
    void ReturnToMempool(const std::vector<Transaction>& txs,
                         const std::vector<const BlockEntry*>& moved);
    /** Signed rules: checks the pending transfers of every account `blocks` touch against the
     * accounts again, with `returned` (transfers of abandoned blocks) merged in by nonce. */
    void RecheckPending(const std::vector<const BlockEntry*>& blocks,
                        const std::vector<Transaction>& returned);
    /** Drops a pending transfer that no longer fits, saying why. */
    void DropPending(const std::string& txid, const ValidationResult& why);
    /** Signed rules: the template's transfers, in an order in which each applies. */
    std::vector<Transaction> ApplicableTransfers(std::vector<Transaction> candidates,
                                                 std::size_t budget) const;
    void MarkInvalid(BlockEntry* entry);

    Options m_options;
    ChainHooks m_hooks;
    Mempool m_mempool;
    OrphanPool m_orphans;
    /** Every entry of the tree; a deque, so entries never move and need no allocation each. */
    std::deque<BlockEntry> m_entries;
    std::unordered_map<Hash256, BlockEntry*, DigestHasher> m_index;
    std::vector<const BlockEntry*> m_main;
    /** Height of the main-chain block holding each txid (the digest its hex spells). */
    std::unordered_map<Hash256, std::uint64_t, DigestHasher> m_txid_height;
    BodySource* m_source = nullptr;
    std::size_t m_resident_limit = DEFAULT_RESIDENT_BODY_BYTES;
    /** Stored blocks still holding their content, oldest stored first, and their JSON bytes. */
    std::deque<BlockEntry*> m_resident;
    std::size_t m_resident_bytes = 0;
    std::uint64_t m_last_seq = 0;
    /** The accounts of the main chain (signed rules; empty otherwise). */
    Ledger m_ledger;
    /** NetworkId(params), which signatures cover. */
    std::string m_network_id;
    std::uint64_t m_dropped_pending = 0;
    /** The block LoadTrusted added last (most often the next one's parent). */
    const BlockEntry* m_last_loaded = nullptr;
    std::uint64_t m_reorgs = 0;
};

}  // namespace gossipchain
