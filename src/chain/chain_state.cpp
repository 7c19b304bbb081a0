#include "chain/chain_state.h"

#include "crypto/sha256.h"
#include "primitives/canonical_json.h"

#include <algorithm>

namespace gossipchain {
namespace {

/** TxId of every transaction of `block`, in order. */
std::vector<std::string> TxIds(const Block& block) {
    std::vector<std::string> txids;
    txids.reserve(block.transactions.size());
    for (const auto& tx : block.transactions)
        txids.push_back(TxId(tx));
    return txids;
}

}  // namespace

std::string_view BlockStatusName(BlockStatus status) {
    switch (status) {
        case BlockStatus::Connected:
            return "connected";
        case BlockStatus::SideBranch:
            return "side-branch";
        case BlockStatus::Stale:
            return "stale";
        case BlockStatus::Duplicate:
            return "duplicate";
        case BlockStatus::Orphan:
            return "orphan";
        case BlockStatus::Invalid:
            return "invalid";
    }
    return "unknown";
}

ChainState::ChainState(Options options)
    : m_options(options), m_mempool(options.mempool), m_orphans(options.orphans) {
    auto genesis = std::make_unique<BlockEntry>();
    genesis->block = MakeGenesis(m_options.params);
    const std::string json = BlockJson(genesis->block);
    genesis->hash = Sha256Hex(json);
    genesis->json_size = static_cast<std::uint32_t>(json.size());
    m_main.push_back(genesis.get());
    std::string_view key = genesis->hash;
    m_index.emplace(key, std::move(genesis));
}

const BlockEntry* ChainState::AtHeight(std::uint64_t height) const {
    if (height == 0 || height > m_main.size())
        return nullptr;
    return m_main[height - 1];
}

const BlockEntry* ChainState::Find(const std::string& hash) const {
    auto found = m_index.find(hash);
    return found == m_index.end() ? nullptr : found->second.get();
}

bool ChainState::IsOnMainChain(const BlockEntry& entry) const {
    return AtHeight(entry.Height()) == &entry;
}

bool ChainState::Knows(const std::string& hash) const {
    return m_index.count(hash) != 0 || m_orphans.Contains(hash);
}

std::optional<std::uint64_t> ChainState::ConfirmedHeight(const std::string& txid) const {
    auto found = m_txid_height.find(txid);
    if (found == m_txid_height.end())
        return std::nullopt;
    return found->second;
}

double ChainState::MedianTimePast(const BlockEntry& entry) {
    double times[MEDIAN_TIME_SPAN];
    std::size_t n = 0;
    for (const BlockEntry* e = &entry; e && n < MEDIAN_TIME_SPAN; e = e->parent) {
        times[n++] = e->block.timestamp;
    }
    std::sort(times, times + n);
    return times[n / 2];
}

BlockResult ChainState::ProcessBlock(Block block, double now, std::uint64_t claimed_height) {
    std::string json = BlockJson(block);
    std::string hash = Sha256Hex(json);
    BlockResult result;
    result.hash = hash;
    if (const BlockEntry* known = Find(hash)) {
        result.status = known->invalid ? BlockStatus::Invalid : BlockStatus::Duplicate;
        if (known->invalid) {
            result.validation = ValidationResult::Fail(ValidationReason::InvalidAncestor,
                                                       "block was rejected before");
        }
        return result;
    }
    if (m_orphans.Contains(hash)) {
        result.status = BlockStatus::Duplicate;
        return result;
    }
    const BlockEntry* parent = Find(block.ParentHash());
    if (!parent) {
        // Check what can be checked alone before spending orphan-pool space on it.
        std::vector<std::string> txids = TxIds(block);
        result.validation = CheckBlockContextFree(block, json.size(), txids);
        if (!result.validation.Ok()) {
            result.status = BlockStatus::Invalid;
            return result;
        }
        result.status = BlockStatus::Orphan;
        m_orphans.Add(std::move(block), hash, json.size());
        result.missing_parent = m_orphans.MissingAncestor(hash);
        return result;
    }
    result = AcceptConnectable(std::move(block), hash, std::move(json), now, claimed_height);
    if (result.status == BlockStatus::Invalid || result.status == BlockStatus::Stale)
        return result;

    // Blocks that were waiting for this one (and their children, breadth first).
    std::vector<std::string> unlocked{hash};
    while (!unlocked.empty()) {
        std::string parent_hash = std::move(unlocked.back());
        unlocked.pop_back();
        for (auto& [child_hash, child] : m_orphans.TakeChildren(parent_hash)) {
            std::string child_json = BlockJson(child);
            BlockResult child_result = AcceptConnectable(
                std::move(child), child_hash, std::move(child_json), now, claimed_height);
            if (child_result.status == BlockStatus::Invalid ||
                child_result.status == BlockStatus::Stale)
                continue;
            result.connected.insert(result.connected.end(), child_result.connected.begin(),
                                    child_result.connected.end());
            if (child_result.reorg_depth > result.reorg_depth) {
                result.reorg_depth = child_result.reorg_depth;
                result.old_tip = child_result.old_tip;
            }
            unlocked.push_back(child_hash);
        }
    }
    // A side-branch block can unlock orphans that make its branch the main chain.
    if (!result.connected.empty())
        result.status = BlockStatus::Connected;
    return result;
}

BlockResult ChainState::AcceptConnectable(Block block, std::string hash, std::string json,
                                          double now, std::uint64_t claimed_height) {
    BlockResult result;
    result.hash = hash;
    const BlockEntry* parent = Find(block.ParentHash());
    if (parent->invalid) {
        result.status = BlockStatus::Invalid;
        result.validation = ValidationResult::Fail(ValidationReason::InvalidAncestor,
                                                   "the parent block was rejected");
        return result;
    }
    std::vector<std::string> txids = TxIds(block);
    result.validation = CheckBlockContextFree(block, json.size(), txids);
    if (result.validation.Ok()) {
        BlockContext context{parent->block.index, parent->block.proof, parent->hash,
                             MedianTimePast(*parent), now};
        result.validation = CheckBlockContextual(block, context, m_options.params);
    }
    if (!result.validation.Ok()) {
        result.status = BlockStatus::Invalid;
        return result;
    }
    // Most work wins, and work is height: a block no higher than the tip off the main chain can
    // only matter once a descendant goes higher. Without one in sight it is not kept.
    std::uint64_t tip_height = Height();
    if (block.index <= tip_height && claimed_height <= tip_height &&
        m_orphans.HighestDescendant(hash) <= tip_height) {
        result.status = BlockStatus::Stale;
        return result;
    }
    auto entry = std::make_unique<BlockEntry>();
    entry->block = std::move(block);
    entry->hash = hash;
    entry->json_size = static_cast<std::uint32_t>(json.size());
    entry->txids = std::move(txids);
    entry->parent = parent;
    BlockEntry* raw = entry.get();
    m_index.emplace(std::string_view(raw->hash), std::move(entry));
    ActivateBestChain(raw, result);
    if (m_hooks.on_block_added && !raw->invalid)
        m_hooks.on_block_added(*raw, json);
    return result;
}

void ChainState::Reserve(std::size_t blocks, std::size_t txs) {
    m_index.reserve(m_index.size() + blocks);
    m_txid_height.reserve(m_txid_height.size() + txs);
}

bool ChainState::LoadTrusted(TrustedBlock stored) {
    // Stored in arrival order, a block's parent is most often the one loaded just before it.
    const BlockEntry* parent =
        m_last_loaded != nullptr && m_last_loaded->hash == stored.block.ParentHash()
            ? m_last_loaded
            : Find(stored.block.ParentHash());
    if (!parent || parent->invalid)
        return false;
    auto entry = std::make_unique<BlockEntry>();
    entry->txids = TxIds(stored.block);
    entry->block = std::move(stored.block);
    entry->hash = std::move(stored.hash);
    entry->json_size = static_cast<std::uint32_t>(stored.json_size);
    entry->parent = parent;
    BlockEntry* raw = entry.get();
    // A stored duplicate (same key) is skipped: try_emplace leaves `entry` alone then.
    if (!m_index.try_emplace(std::string_view(raw->hash), std::move(entry)).second)
        return false;
    m_last_loaded = raw;
    BlockResult ignored;
    ActivateBestChain(raw, ignored);
    return true;
}

void ChainState::ActivateBestChain(BlockEntry* candidate, BlockResult& result) {
    const BlockEntry* old_tip = m_main.back();
    // Most work wins; with one difficulty per network that is height. Equal height: first seen.
    if (candidate->Height() <= old_tip->Height()) {
        result.status = BlockStatus::SideBranch;
        return;
    }
    // The branch from the fork point (exclusive) up to the candidate, oldest first.
    std::vector<BlockEntry*> branch;
    const BlockEntry* walk = candidate;
    while (!IsOnMainChain(*walk)) {
        branch.push_back(const_cast<BlockEntry*>(walk));
        walk = walk->parent;
    }
    std::reverse(branch.begin(), branch.end());
    const BlockEntry* fork = walk;

    std::vector<const BlockEntry*> abandoned;
    std::vector<Transaction> returned;
    while (m_main.back() != fork) {
        abandoned.push_back(m_main.back());
        DisconnectTip(returned);
    }
    std::size_t connected = 0;
    std::vector<TakenTx> taken;
    for (; connected < branch.size(); ++connected) {
        if (!ConnectTip(branch[connected], taken))
            break;
    }
    if (connected < branch.size()) {
        // A transaction repeats within the branch: it is invalid from that block on. Restore.
        BlockEntry* bad = branch[connected];
        result.validation = ValidationResult::Fail(
            bad == candidate ? ValidationReason::TransactionAlreadyInChain
                             : ValidationReason::InvalidAncestor,
            "block " + bad->hash.substr(0, 16) + " repeats a transaction already in the chain");
        for (std::size_t i = connected; i < branch.size(); ++i)
            MarkInvalid(branch[i]);
        std::vector<Transaction> branch_txs;
        while (m_main.back() != fork)
            DisconnectTip(branch_txs);
        std::vector<TakenTx> retaken;
        for (auto it = abandoned.rbegin(); it != abandoned.rend(); ++it)
            ConnectTip(const_cast<BlockEntry*>(*it), retaken);
        // What the failed branch took from the mempool is pending again with the origin it had:
        // nothing a client was promised may vanish with a branch that did not hold. The rest of
        // its connected blocks' transactions return like those of any abandoned block.
        for (const TakenTx& item : taken) {
            if (!m_txid_height.count(item.txid))
                m_mempool.Add(*item.tx, item.txid, item.origin);
        }
        ReturnToMempool(branch_txs);
        result.status = BlockStatus::Invalid;
        return;
    }
    ReturnToMempool(returned);
    result.status = BlockStatus::Connected;
    result.connected.assign(branch.begin(), branch.end());
    result.reorg_depth = abandoned.size();
    if (!abandoned.empty()) {
        result.old_tip = old_tip->hash;
        ++m_reorgs;
    }
}

void ChainState::ReturnToMempool(const std::vector<Transaction>& txs) {
    for (const Transaction& tx : txs) {
        std::string txid = TxId(tx);
        if (!m_txid_height.count(txid))
            m_mempool.Add(tx, txid, TxOrigin::Reorg);
    }
}

bool ChainState::ConnectTip(BlockEntry* entry, std::vector<TakenTx>& taken) {
    // One lookup per txid: a txid already in the chain fails the insert.
    for (std::size_t i = 0; i < entry->txids.size(); ++i) {
        if (!m_txid_height.emplace(entry->txids[i], entry->Height()).second) {
            // Undo the txids of this block added so far.
            for (std::size_t j = 0; j < i; ++j)
                m_txid_height.erase(entry->txids[j]);
            return false;
        }
    }
    m_main.push_back(entry);
    for (std::size_t i = 0; i < entry->txids.size(); ++i) {
        if (std::optional<TxOrigin> origin = m_mempool.Remove(entry->txids[i]))
            taken.push_back(TakenTx{&entry->block.transactions[i], entry->txids[i], *origin});
    }
    if (m_hooks.on_tip_moved)
        m_hooks.on_tip_moved(*entry, true);
    return true;
}

void ChainState::DisconnectTip(std::vector<Transaction>& returned) {
    const BlockEntry* tip = m_main.back();
    m_main.pop_back();
    if (m_hooks.on_tip_moved)
        m_hooks.on_tip_moved(*tip, false);
    for (const std::string& txid : tip->txids)
        m_txid_height.erase(txid);
    for (const Transaction& tx : tip->block.transactions) {
        // A reward belongs to the block that minted it; it never goes back to the mempool.
        if (!tx.IsReward())
            returned.push_back(tx);
    }
}

void ChainState::MarkInvalid(BlockEntry* entry) {
    entry->invalid = true;
}

TxResult ChainState::SubmitTransaction(const Transaction& tx, TxOrigin origin) {
    TxResult result;
    result.validation = CheckTransaction(tx);
    if (result.validation.Ok() && tx.IsReward()) {
        result.validation = ValidationResult::Fail(ValidationReason::BadReward,
                                                   "sender \"0\" is reserved for mining rewards");
    }
    if (!result.validation.Ok()) {
        result.status = TxStatus::Invalid;
        return result;
    }
    result.txid = TxId(tx);
    if (m_txid_height.count(result.txid)) {
        result.status = TxStatus::AlreadyConfirmed;
        return result;
    }
    switch (m_mempool.Add(tx, result.txid, origin)) {
        case Mempool::AddResult::Added:
            result.status = TxStatus::Accepted;
            break;
        case Mempool::AddResult::Duplicate:
            result.status = TxStatus::Duplicate;
            break;
        case Mempool::AddResult::Full:
            result.status = TxStatus::MempoolFull;
            break;
    }
    return result;
}

std::vector<std::string> ChainState::Locator() const {
    std::vector<std::string> locator;
    std::uint64_t height = Height();
    std::uint64_t step = 1;
    while (true) {
        locator.push_back(m_main[height - 1]->hash);
        if (height == 1)
            break;
        if (locator.size() >= 10)
            step *= 2;
        height = height > step ? height - step : 1;
    }
    return locator;
}

std::vector<const BlockEntry*> ChainState::BlocksAfterLocator(
    const std::vector<std::string>& locator, std::size_t limit) const {
    std::uint64_t start = 1;  // Nothing in common but genesis: send from block 2.
    for (const std::string& hash : locator) {
        const BlockEntry* entry = Find(hash);
        if (entry && IsOnMainChain(*entry)) {
            start = entry->Height();
            break;
        }
    }
    std::vector<const BlockEntry*> blocks;
    for (std::uint64_t h = start + 1; h <= Height() && blocks.size() < limit; ++h) {
        blocks.push_back(m_main[h - 1]);
    }
    return blocks;
}

Block ChainState::BlockTemplate(const std::string& reward_recipient, const std::string& reward_id,
                                double now) const {
    const BlockEntry& tip = Tip();
    Block block;
    block.index = tip.Height() + 1;
    block.timestamp = std::max(now, MedianTimePast(tip));
    block.previous_hash = tip.hash;
    // Leave room for the block's own fields and the reward within the size limit.
    std::size_t budget = MAX_BLOCK_BYTES - 4096;
    std::string json;
    for (Transaction& tx : m_mempool.Oldest(MAX_BLOCK_TRANSACTIONS - 1)) {
        json.clear();
        AppendTransactionJson(json, tx);
        if (json.size() + 2 > budget)
            break;
        budget -= json.size() + 2;
        block.transactions.push_back(std::move(tx));
    }
    block.transactions.push_back(
        Transaction{REWARD_SENDER, reward_recipient, REWARD_AMOUNT, reward_id});
    return block;
}

}  // namespace gossipchain
