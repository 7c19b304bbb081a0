#include "node/fetched_chain.h"

#include "consensus/pow.h"
#include "consensus/validation.h"
#include "crypto/sha256.h"
#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"

#include <algorithm>
#include <utility>

namespace gossipchain {
namespace {

using Json = nlohmann::json;

std::string PythonFloat(double value) {
    std::string out;
    AppendJsonDouble(out, value);
    return out;
}

PowRule OtherRule(PowRule rule) {
    return rule == PowRule::Linked ? PowRule::Seed : PowRule::Linked;
}

std::string RuleName(PowRule rule) {
    return std::string(PowRuleName(rule));
}

/**
 * `text` cut to MAX_RESOLVE_REASON_BYTES, with every byte that is not printable ASCII shown as
 * '?': parser messages quote the input, which may hold control bytes or invalid UTF-8.
 */
std::string Printable(std::string text) {
    if (text.size() > MAX_RESOLVE_REASON_BYTES) {
        text.resize(MAX_RESOLVE_REASON_BYTES - 3);
        text += "...";
    }
    for (char& c : text) {
        if (c < 0x20 || c > 0x7e)
            c = '?';
    }
    return text;
}

/** The median of `times` (not empty), as ChainState::MedianTimePast takes it. */
double Median(std::deque<double> times) {
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

}  // namespace

FetchedChain::FetchedChain(const ConsensusParams& params, double now)
    : m_params(params),
      m_now(now),
      m_genesis_hash(BlockHash(MakeGenesis(params))),
      m_reader([this](std::string_view text) { return OnBlock(text); }) {}

bool FetchedChain::OnHead(int status, std::optional<std::uint64_t> /*content_length*/) {
    // Over-long answers are refused by the fetch itself (FetchOptions::max_body_bytes).
    if (status == 200)
        return true;
    Reason(0, "GET /chain answered " + std::to_string(status));
    return false;
}

bool FetchedChain::OnBody(std::string_view bytes) {
    if (m_reader.Feed(bytes))
        return true;
    Reason(0, m_reader.Error());
    return false;
}

void FetchedChain::Finish(const FetchResult& fetch) {
    switch (fetch.error) {
        case FetchError::None:
            break;
        case FetchError::Stopped:
            return;  // OnHead or OnBody said why.
        case FetchError::TooLarge:
            return Reason(0, "its /chain answer is longer than we read (" + fetch.detail + ")");
        default:
            return Reason(0, "not fetched: " + fetch.detail);
    }
    if (!m_reader.Finish())
        return Reason(0, m_reader.Error());
    m_complete = true;
    if (m_reader.Length() != m_position) {
        Reason(0, "\"length\" is " + std::to_string(*m_reader.Length()) + " but \"chain\" has " +
                      std::to_string(m_position) + " blocks");
    }
    if (m_position == 0)
        Reason(0, "its chain is empty (no genesis block)");
}

bool FetchedChain::OnBlock(std::string_view text) {
    ++m_position;
    Result<Json> parsed = ParseJson(text, MAX_CHAIN_BLOCK_DEPTH);
    if (!parsed.Ok()) {
        Reason(m_position, "not JSON: " + parsed.Message());
        m_prev_hash.clear();
        m_prev_proof.reset();
        m_times.clear();
        return true;
    }
    const Json& json = parsed.Value();
    // What Python's hash(block) gives, whatever the block holds (a transaction without "id"
    // included), so the next block's link can be checked like valid_chain does.
    std::string canonical = CanonicalJson(json);
    std::string hash = Sha256Hex(canonical);
    std::optional<std::uint64_t> proof;
    auto found = json.find("proof");
    if (found != json.end() && found->is_number_unsigned() &&
        found->get<std::uint64_t>() <= MAX_PROOF)
        proof = found->get<std::uint64_t>();
    bool tutorial_ok = CheckLikeTheTutorial(hash, proof, json);
    Result<Block> block = BlockFromJson(json);
    if (block.Ok()) {
        CheckOurRules(block.Value(), canonical.size(), tutorial_ok);
    } else {
        Reason(m_position, block.Message());
    }
    m_prev_hash = std::move(hash);
    m_prev_proof = proof;
    if (!block.Ok()) {
        m_times.clear();
        return true;
    }
    m_times.push_back(block->timestamp);
    if (m_times.size() > MEDIAN_TIME_SPAN)
        m_times.pop_front();
    if (m_groups.empty() && m_more == 0)
        m_blocks.push_back(std::move(block).Value());
    return true;
}

bool FetchedChain::CheckLikeTheTutorial(const std::string& hash, std::optional<std::uint64_t> proof,
                                        const Json& block) {
    bool ok = true;
    if (m_position == 1) {
        if (hash != m_genesis_hash) {
            ok = false;
            auto timestamp = block.find("timestamp");
            std::string detail = timestamp != block.end() && timestamp->is_number()
                                     ? " (timestamp " + PythonFloat(timestamp->get<double>()) +
                                           ", ours " + PythonFloat(m_params.genesis_timestamp) + ")"
                                     : "";
            Reason(1, "different genesis" + detail + ": another network");
        }
    } else if (!m_prev_hash.empty()) {
        auto previous = block.find("previous_hash");
        if (previous == block.end() || !previous->is_string() ||
            previous->get_ref<const std::string&>() != m_prev_hash) {
            ok = false;
            Reason(m_position, "previous_hash is not the hash of the block before it");
        }
        if (proof && m_prev_proof && !CheckProof(m_params, *m_prev_proof, *proof, m_prev_hash)) {
            ok = false;
            ConsensusParams other = m_params;
            other.pow_rule = OtherRule(m_params.pow_rule);
            bool other_ok = CheckProof(other, *m_prev_proof, *proof, m_prev_hash);
            Reason(m_position, "proof not valid under our " + RuleName(m_params.pow_rule) +
                                   " rule at difficulty " + std::to_string(m_params.difficulty) +
                                   (other_ok ? " (valid under the " + RuleName(other.pow_rule) +
                                                   " rule: that node uses --pow " +
                                                   RuleName(other.pow_rule) + ")"
                                             : ""));
        }
    }
    return ok;
}

void FetchedChain::CheckOurRules(const Block& block, std::size_t encoded_bytes, bool tutorial_ok) {
    if (block.index != m_position) {
        Reason(m_position, "index does not match the block's place in the chain");
        return;
    }
    if (m_position == 1)
        return;  // Genesis is compared whole.
    const std::vector<std::string> txids = TxIds(block);
    ValidationResult alone = CheckBlockContextFree(block, encoded_bytes, txids, m_params.rules);
    if (!alone.Ok())
        Reason(m_position, alone.ToString());
    // Links and proof were judged above; what is left is the timestamp against the blocks
    // before it and our clock, which needs those blocks read in a row.
    if (!tutorial_ok || m_times.empty() || !m_prev_proof)
        return;
    BlockContext context{m_position - 1, *m_prev_proof, block.ParentHash(), Median(m_times), m_now};
    ValidationResult linked = CheckBlockContextual(block, context, m_params);
    if (!linked.Ok())
        Reason(m_position, linked.ToString());
}

void FetchedChain::Reason(std::uint64_t block, std::string text) {
    // A chain with any reason against it is not adopted: its blocks need not be kept.
    m_blocks.clear();
    m_blocks.shrink_to_fit();
    text = Printable(std::move(text));
    for (Group& group : m_groups) {
        if (group.text == text && (group.first == 0) == (block == 0)) {
            ++group.count;
            group.last = block;
            return;
        }
    }
    if (m_groups.size() == MAX_RESOLVE_REASONS_PER_PEER) {
        ++m_more;
        return;
    }
    m_groups.push_back(Group{std::move(text), block, block, 1});
}

std::vector<std::string> FetchedChain::Reasons() const {
    std::vector<std::string> out;
    for (const Group& group : m_groups) {
        std::string where;
        if (group.first == 0) {
            where = "";
        } else if (group.count == 1) {
            where = "block " + std::to_string(group.first) + ": ";
        } else if (group.last - group.first + 1 == group.count) {
            where =
                "blocks " + std::to_string(group.first) + "-" + std::to_string(group.last) + ": ";
        } else {
            where = std::to_string(group.count) + " blocks from block " +
                    std::to_string(group.first) + " on: ";
        }
        out.push_back(where + group.text);
    }
    if (m_more > 0)
        out.push_back("and " + std::to_string(m_more) + " more problems");
    return out;
}

}  // namespace gossipchain
