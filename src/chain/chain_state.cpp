#include "chain/chain_state.h"

#include "consensus/signed_tx.h"
#include "crypto/sha256.h"
#include "primitives/canonical_json.h"
#include "util/log.h"

#include <algorithm>
#include <map>
#include <unordered_set>

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
    : m_options(options),
      m_mempool(options.mempool),
      m_orphans(options.orphans),
      m_network_id(NetworkId(options.params)) {
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
        result.validation =
            CheckBlockContextFree(block, json.size(), txids, m_options.params.rules);
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
    result.validation = CheckBlockContextFree(block, json.size(), txids, m_options.params.rules);
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
    // Signatures cost the most of all checks: only for blocks that are kept. A pending
    // transfer's signature was verified when it entered the mempool.
    if (m_options.params.rules == RuleSet::Signed) {
        auto verified = std::make_unique<bool[]>(txids.size());
        for (std::size_t i = 0; i < txids.size(); ++i)
            verified[i] = m_mempool.Contains(txids[i]);
        result.validation = CheckSignatures(block.transactions, {verified.get(), txids.size()},
                                            m_network_id, m_options.verify_threads);
        if (!result.validation.Ok()) {
            result.status = BlockStatus::Invalid;
            return result;
        }
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
    ValidationResult failure;
    for (; connected < branch.size(); ++connected) {
        failure = ConnectTip(branch[connected], taken);
        if (!failure.Ok())
            break;
    }
    std::vector<const BlockEntry*> moved(abandoned);
    moved.insert(moved.end(), branch.begin(), branch.end());
    if (connected < branch.size()) {
        // A transaction repeats within the branch, or a transfer does not apply: the branch is
        // invalid from that block on. Restore.
        BlockEntry* bad = branch[connected];
        result.validation = bad == candidate
                                ? failure
                                : ValidationResult::Fail(ValidationReason::InvalidAncestor,
                                                         "block " + bad->hash.substr(0, 16) + ": " +
                                                             failure.ToString());
        for (std::size_t i = connected; i < branch.size(); ++i)
            MarkInvalid(branch[i]);
        std::vector<Transaction> branch_txs;
        while (m_main.back() != fork)
            DisconnectTip(branch_txs);
        std::vector<TakenTx> retaken;
        for (auto it = abandoned.rbegin(); it != abandoned.rend(); ++it)
            (void)ConnectTip(const_cast<BlockEntry*>(*it), retaken);
        // What the failed branch took from the mempool is pending again with the origin it had:
        // nothing a client was promised may vanish with a branch that did not hold. The rest of
        // its connected blocks' transactions return like those of any abandoned block.
        for (const TakenTx& item : taken) {
            if (!m_txid_height.count(item.txid))
                m_mempool.Add(*item.tx, item.txid, item.origin);
        }
        ReturnToMempool(branch_txs, moved);
        result.status = BlockStatus::Invalid;
        return;
    }
    ReturnToMempool(returned, moved);
    result.status = BlockStatus::Connected;
    result.connected.assign(branch.begin(), branch.end());
    result.reorg_depth = abandoned.size();
    if (!abandoned.empty()) {
        result.old_tip = old_tip->hash;
        ++m_reorgs;
    }
}

void ChainState::ReturnToMempool(const std::vector<Transaction>& txs,
                                 const std::vector<const BlockEntry*>& moved) {
    if (m_options.params.rules == RuleSet::Signed) {
        RecheckPending(moved, txs);
        return;
    }
    for (const Transaction& tx : txs) {
        std::string txid = TxId(tx);
        if (!m_txid_height.count(txid))
            m_mempool.Add(tx, txid, TxOrigin::Reorg);
    }
}

void ChainState::DropPending(const std::string& txid, const ValidationResult& why) {
    LOG_INFO("pending transaction %.16s dropped: %s", txid.c_str(), why.ToString().c_str());
    m_mempool.Remove(txid);
    ++m_dropped_pending;
    if (m_hooks.on_tx_evicted)
        m_hooks.on_tx_evicted(txid);
}

void ChainState::RecheckPending(const std::vector<const BlockEntry*>& blocks,
                                const std::vector<Transaction>& returned) {
    std::unordered_set<std::string> accounts;
    for (const BlockEntry* entry : blocks) {
        for (const Transaction& tx : entry->block.transactions) {
            accounts.insert(tx.recipient);
            if (!tx.IsReward())
                accounts.insert(tx.sender);
        }
    }
    // One account's candidates: what it has pending (in the pool) and what abandoned blocks
    // return, in nonce order; at one nonce the pending one comes first.
    struct Candidate {
        std::uint64_t nonce;
        bool in_pool;
        const Transaction* tx;
        std::string txid;
    };
    std::unordered_map<std::string, std::vector<Candidate>> candidates;
    for (const Transaction& tx : returned) {
        std::string txid = TxId(tx);
        if (!tx.IsSigned() || m_txid_height.count(txid) || m_mempool.Contains(txid))
            continue;
        accounts.insert(tx.sender);
        candidates[tx.sender].push_back(Candidate{*tx.nonce, false, &tx, std::move(txid)});
    }
    for (const std::string& account : accounts) {
        std::vector<Candidate>& list = candidates[account];
        for (auto& [nonce, txid] : m_mempool.PendingNonces(account))
            list.push_back(Candidate{nonce, true, m_mempool.Find(txid)->tx, txid});
        std::stable_sort(list.begin(), list.end(), [](const Candidate& a, const Candidate& b) {
            return a.nonce != b.nonce ? a.nonce < b.nonce : a.in_pool > b.in_pool;
        });
        PendingSpend running;
        for (const Candidate& candidate : list) {
            ValidationResult fits = m_ledger.CheckPending(*candidate.tx, running);
            if (fits.Ok()) {
                running.last_nonce = candidate.nonce;
                running.amount += candidate.tx->amount;
                if (!candidate.in_pool)
                    m_mempool.Add(*candidate.tx, candidate.txid, TxOrigin::Reorg);
            } else if (candidate.in_pool) {
                DropPending(candidate.txid, fits);
            } else {
                // Stored as pending again when its block was disconnected: drop that row too.
                LOG_INFO("transaction %.16s of an abandoned block not returned: %s",
                         candidate.txid.c_str(), fits.ToString().c_str());
                ++m_dropped_pending;
                if (m_hooks.on_tx_evicted)
                    m_hooks.on_tx_evicted(candidate.txid);
            }
        }
    }
}

ValidationResult ChainState::ConnectTip(BlockEntry* entry, std::vector<TakenTx>& taken) {
    // One lookup per txid: a txid already in the chain fails the insert.
    for (std::size_t i = 0; i < entry->txids.size(); ++i) {
        if (!m_txid_height.emplace(entry->txids[i], entry->Height()).second) {
            // Undo the txids of this block added so far.
            for (std::size_t j = 0; j < i; ++j)
                m_txid_height.erase(entry->txids[j]);
            return ValidationResult::Fail(ValidationReason::TransactionAlreadyInChain,
                                          "block " + entry->hash.substr(0, 16) +
                                              " repeats a transaction already in the chain");
        }
    }
    if (m_options.params.rules == RuleSet::Signed) {
        ValidationResult applied = m_ledger.Connect(entry->block);
        if (!applied.Ok()) {
            for (const std::string& txid : entry->txids)
                m_txid_height.erase(txid);
            applied.detail = "block " + entry->hash.substr(0, 16) + ": " + applied.detail;
            return applied;
        }
    }
    m_main.push_back(entry);
    for (std::size_t i = 0; i < entry->txids.size(); ++i) {
        if (std::optional<TxOrigin> origin = m_mempool.Remove(entry->txids[i]))
            taken.push_back(TakenTx{&entry->block.transactions[i], entry->txids[i], *origin});
    }
    if (m_hooks.on_tip_moved)
        m_hooks.on_tip_moved(*entry, true);
    return {};
}

void ChainState::DisconnectTip(std::vector<Transaction>& returned) {
    const BlockEntry* tip = m_main.back();
    m_main.pop_back();
    if (m_options.params.rules == RuleSet::Signed)
        m_ledger.Disconnect(tip->block);
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
    result.validation = CheckTransaction(tx, m_options.params.rules);
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
    if (m_options.params.rules == RuleSet::Signed && !m_mempool.Contains(result.txid)) {
        result.validation = m_ledger.CheckPending(tx, m_mempool.PendingOf(tx.sender));
        if (result.validation.Ok() && !VerifyTransferSignature(tx, m_network_id)) {
            result.validation = ValidationResult::Fail(
                ValidationReason::BadSignature,
                "the signature is not the sender's over this transfer on network " + m_network_id);
        }
        if (!result.validation.Ok()) {
            result.status = TxStatus::Invalid;
            return result;
        }
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
    std::vector<Transaction> candidates = m_mempool.Oldest(MAX_BLOCK_TRANSACTIONS - 1);
    if (m_options.params.rules == RuleSet::Signed) {
        block.transactions = ApplicableTransfers(std::move(candidates), budget);
    } else {
        std::string json;
        for (Transaction& tx : candidates) {
            json.clear();
            AppendTransactionJson(json, tx);
            if (json.size() + 2 > budget)
                break;
            budget -= json.size() + 2;
            block.transactions.push_back(std::move(tx));
        }
    }
    block.transactions.push_back(
        Transaction{REWARD_SENDER, reward_recipient, REWARD_AMOUNT, reward_id});
    return block;
}

std::vector<Transaction> ChainState::ApplicableTransfers(std::vector<Transaction> candidates,
                                                         std::size_t budget) const {
    // A reorg can return an account's earlier nonces after later ones arrived: each account's
    // transfers take the places its transfers hold in arrival order, in nonce order.
    std::unordered_map<std::string, std::vector<std::size_t>> places;
    for (std::size_t i = 0; i < candidates.size(); ++i)
        places[candidates[i].sender].push_back(i);
    std::vector<Transaction> ordered(candidates.size());
    for (auto& [sender, at] : places) {
        std::vector<std::size_t> by_nonce = at;
        std::sort(by_nonce.begin(), by_nonce.end(), [&](std::size_t a, std::size_t b) {
            return candidates[a].nonce < candidates[b].nonce;
        });
        for (std::size_t k = 0; k < at.size(); ++k)
            ordered[at[k]] = std::move(candidates[by_nonce[k]]);
    }
    // Every pending transfer is covered by its sender's confirmed balance (CheckPending), so one
    // pass in this order applies them all; the check is kept so a template can never be invalid.
    std::unordered_map<std::string, Account> touched;
    auto account = [&](const std::string& address) -> Account& {
        auto [it, inserted] = touched.try_emplace(address);
        if (inserted)
            it->second = m_ledger.Get(address);
        return it->second;
    };
    std::vector<Transaction> chosen;
    std::string json;
    for (Transaction& tx : ordered) {
        Account& sender = account(tx.sender);
        if (!tx.nonce || *tx.nonce != sender.nonce || sender.balance < tx.amount)
            continue;
        json.clear();
        AppendTransactionJson(json, tx);
        if (json.size() + 2 > budget)
            break;
        budget -= json.size() + 2;
        sender.balance -= tx.amount;
        sender.nonce += 1;
        account(tx.recipient).balance += tx.amount;
        chosen.push_back(std::move(tx));
    }
    return chosen;
}

}  // namespace gossipchain
