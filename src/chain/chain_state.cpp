#include "chain/chain_state.h"

#include "consensus/signed_tx.h"
#include "crypto/sha256.h"
#include "primitives/canonical_json.h"
#include "util/hex.h"
#include "util/log.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <unordered_set>

namespace gossipchain {
namespace {

/** The digest a txid spells; every txid is TxId's 64 lowercase hex characters. */
Hash256 TxidDigest(std::string_view txid) {
    Hash256 digest{};
    HexDecodeTo(txid, digest);
    return digest;
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
    Block genesis = MakeGenesis(m_options.params);
    const std::string json = BlockJson(genesis);
    BlockBody body{genesis, TxIds(genesis)};
    m_main.push_back(AddEntry(Sha256(json), std::move(body), nullptr, json.size(), 0));
}

BlockEntry* ChainState::AddEntry(const Hash256& hash, BlockBody body, const BlockEntry* parent,
                                 std::size_t json_size, std::uint64_t seq) {
    BlockEntry& entry = m_entries.emplace_back();
    entry.hash = hash;
    entry.seq = seq;
    m_last_seq = std::max(m_last_seq, seq);
    entry.parent = parent;
    entry.height = body.block.index;
    entry.proof = body.block.proof;
    entry.timestamp = body.block.timestamp;
    entry.json_size = static_cast<std::uint32_t>(json_size);
    entry.tx_count = static_cast<std::uint32_t>(body.block.transactions.size());
    entry.body = std::make_shared<const BlockBody>(std::move(body));
    m_index.emplace(hash, &entry);
    return &entry;
}

std::shared_ptr<const BlockBody> ChainState::Body(const BlockEntry& entry) const {
    if (entry.body || m_source == nullptr)
        return entry.body;
    return m_source->ReadBody(entry);
}

bool ChainState::AppendBlockJson(const BlockEntry& entry, std::string& out) const {
    if (entry.body || m_source == nullptr) {
        gossipchain::AppendBlockJson(out, entry.body->block);
        return true;
    }
    return m_source->AppendCanonical(entry, out);
}

std::shared_ptr<const BlockBody> ChainState::RequireBody(const BlockEntry& entry) const {
    std::shared_ptr<const BlockBody> body = Body(entry);
    if (!body) {
        // The main chain cannot move past a block whose transactions it cannot see, and going
        // on without them would leave the txid index and the mempool wrong. Nothing is lost by
        // stopping: every stored block is still on disk, and the next start rebuilds from it.
        LOG_ERROR("block %s cannot be read back from storage: stopping", entry.HashHex().c_str());
        std::_Exit(EXIT_FAILURE);
    }
    return body;
}

void ChainState::SetBodySource(BodySource* source, std::size_t resident_bytes) {
    m_source = source;
    m_resident_limit = resident_bytes;
}

void ChainState::MarkStored(const BlockEntry& stored) {
    // Entries are this chain's own (non-const) objects; callers only see them const.
    auto& entry = const_cast<BlockEntry&>(stored);
    if (entry.stored || m_source == nullptr)
        return;
    entry.stored = true;
    m_resident.push_back(&entry);
    m_resident_bytes += entry.json_size;
    while (m_resident_bytes > m_resident_limit && !m_resident.empty()) {
        BlockEntry* oldest = m_resident.front();
        m_resident.pop_front();
        m_resident_bytes -= oldest->json_size;
        // Whoever still holds the shared body keeps it alive until done with it.
        oldest->body.reset();
    }
}

const BlockEntry* ChainState::AtHeight(std::uint64_t height) const {
    if (height == 0 || height > m_main.size())
        return nullptr;
    return m_main[height - 1];
}

const BlockEntry* ChainState::Find(const Hash256& hash) const {
    auto found = m_index.find(hash);
    return found == m_index.end() ? nullptr : found->second;
}

const BlockEntry* ChainState::Find(std::string_view hash) const {
    std::optional<Hash256> digest = ParseDigestHex(hash);
    return digest ? Find(*digest) : nullptr;
}

bool ChainState::IsOnMainChain(const BlockEntry& entry) const {
    return AtHeight(entry.Height()) == &entry;
}

bool ChainState::Knows(const std::string& hash) const {
    return Find(hash) != nullptr || m_orphans.Contains(hash);
}

std::optional<std::uint64_t> ChainState::ConfirmedHeight(std::string_view txid) const {
    std::optional<Hash256> digest = ParseDigestHex(txid);
    if (!digest)
        return std::nullopt;
    auto found = m_txid_height.find(*digest);
    if (found == m_txid_height.end())
        return std::nullopt;
    return found->second;
}

double ChainState::MedianTimePast(const BlockEntry& entry) {
    double times[MEDIAN_TIME_SPAN];
    std::size_t n = 0;
    for (const BlockEntry* e = &entry; e && n < MEDIAN_TIME_SPAN; e = e->parent) {
        times[n++] = e->timestamp;
    }
    std::sort(times, times + n);
    return times[n / 2];
}

BlockResult ChainState::ProcessBlock(Block block, double now, std::uint64_t claimed_height) {
    std::string json = BlockJson(block);
    const Hash256 digest = Sha256(json);
    std::string hash = DigestHex(digest);
    BlockResult result;
    result.hash = hash;
    if (const BlockEntry* known = Find(digest)) {
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
    result = AcceptConnectable(std::move(block), digest, std::move(json), now, claimed_height);
    if (result.status == BlockStatus::Invalid || result.status == BlockStatus::Stale)
        return result;

    // Blocks that were waiting for this one (and their children, breadth first).
    std::vector<std::string> unlocked{hash};
    while (!unlocked.empty()) {
        std::string parent_hash = std::move(unlocked.back());
        unlocked.pop_back();
        for (auto& [child_hash, child] : m_orphans.TakeChildren(parent_hash)) {
            std::string child_json = BlockJson(child);
            std::optional<Hash256> child_digest = ParseDigestHex(child_hash);
            if (!child_digest)
                continue;  // The pool keys blocks by the hex of their hash: never happens.
            BlockResult child_result = AcceptConnectable(
                std::move(child), *child_digest, std::move(child_json), now, claimed_height);
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

BlockResult ChainState::AcceptConnectable(Block block, const Hash256& hash, std::string json,
                                          double now, std::uint64_t claimed_height) {
    BlockResult result;
    result.hash = DigestHex(hash);
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
        const std::string parent_hash = parent->HashHex();
        BlockContext context{parent->height, parent->proof, parent_hash, MedianTimePast(*parent),
                             now};
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
        m_orphans.HighestDescendant(result.hash) <= tip_height) {
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
    BlockEntry* raw = AddEntry(hash, BlockBody{std::move(block), std::move(txids)}, parent,
                               json.size(), m_last_seq + 1);
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
    // Even a row skipped here holds its seq: a new block must never be given it.
    m_last_seq = std::max(m_last_seq, stored.seq);
    // Stored in arrival order, a block's parent is most often the one loaded just before it.
    const std::optional<Hash256> parent_hash = ParseDigestHex(stored.block.ParentHash());
    if (!parent_hash)
        return false;
    const BlockEntry* parent = m_last_loaded != nullptr && m_last_loaded->hash == *parent_hash
                                   ? m_last_loaded
                                   : Find(*parent_hash);
    if (!parent || parent->invalid || m_index.count(stored.hash) != 0)
        return false;  // A stored duplicate (same key) is skipped too.
    std::vector<std::string> txids = TxIds(stored.block);
    BlockEntry* raw = AddEntry(stored.hash, BlockBody{std::move(stored.block), std::move(txids)},
                               parent, stored.json_size, stored.seq);
    m_last_loaded = raw;
    BlockResult ignored;
    ActivateBestChain(raw, ignored);
    MarkStored(*raw);
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
                                                         "block " + bad->HashHex().substr(0, 16) +
                                                             ": " + failure.ToString());
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
            if (!m_txid_height.count(TxidDigest(item.txid)))
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
        result.old_tip = old_tip->HashHex();
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
        if (!m_txid_height.count(TxidDigest(txid)))
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
        const std::shared_ptr<const BlockBody> body = RequireBody(*entry);
        for (const Transaction& tx : body->block.transactions) {
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
        if (!tx.IsSigned() || m_txid_height.count(TxidDigest(txid)) || m_mempool.Contains(txid))
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
    const std::shared_ptr<const BlockBody> body = RequireBody(*entry);
    const std::vector<std::string>& txids = body->txids;
    // One lookup per txid: a txid already in the chain fails the insert.
    for (std::size_t i = 0; i < txids.size(); ++i) {
        if (!m_txid_height.emplace(TxidDigest(txids[i]), entry->Height()).second) {
            // Undo the txids of this block added so far.
            for (std::size_t j = 0; j < i; ++j)
                m_txid_height.erase(TxidDigest(txids[j]));
            return ValidationResult::Fail(ValidationReason::TransactionAlreadyInChain,
                                          "block " + entry->HashHex().substr(0, 16) +
                                              " repeats a transaction already in the chain");
        }
    }
    if (m_options.params.rules == RuleSet::Signed) {
        ValidationResult applied = m_ledger.Connect(body->block);
        if (!applied.Ok()) {
            for (const std::string& txid : txids)
                m_txid_height.erase(TxidDigest(txid));
            applied.detail = "block " + entry->HashHex().substr(0, 16) + ": " + applied.detail;
            return applied;
        }
    }
    m_main.push_back(entry);
    for (std::size_t i = 0; i < txids.size(); ++i) {
        if (std::optional<TxOrigin> origin = m_mempool.Remove(txids[i]))
            taken.push_back(TakenTx{body, &body->block.transactions[i], txids[i], *origin});
    }
    if (m_hooks.on_tip_moved)
        m_hooks.on_tip_moved(*entry, *body, true);
    return {};
}

void ChainState::DisconnectTip(std::vector<Transaction>& returned) {
    const BlockEntry* tip = m_main.back();
    m_main.pop_back();
    const std::shared_ptr<const BlockBody> body = RequireBody(*tip);
    if (m_options.params.rules == RuleSet::Signed)
        m_ledger.Disconnect(body->block);
    if (m_hooks.on_tip_moved)
        m_hooks.on_tip_moved(*tip, *body, false);
    for (const std::string& txid : body->txids)
        m_txid_height.erase(TxidDigest(txid));
    for (const Transaction& tx : body->block.transactions) {
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
    if (m_txid_height.count(TxidDigest(result.txid))) {
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
        locator.push_back(m_main[height - 1]->HashHex());
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
    block.previous_hash = tip.HashHex();
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
