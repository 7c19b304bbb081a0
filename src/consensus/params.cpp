#include "consensus/params.h"

#include <vector>

namespace gossipchain {

std::string_view PowRuleName(PowRule rule) {
    switch (rule) {
        case PowRule::Seed:
            return "seed";
        case PowRule::Linked:
            return "linked";
        case PowRule::Header:
            return "header";
    }
    return "unknown";
}

std::optional<PowRule> ParsePowRule(std::string_view name) {
    for (PowRule rule : {PowRule::Seed, PowRule::Linked, PowRule::Header}) {
        if (name == PowRuleName(rule))
            return rule;
    }
    return std::nullopt;
}

std::string_view RuleSetName(RuleSet rules) {
    return rules == RuleSet::Signed ? "signed" : "open";
}

std::optional<RuleSet> ParseRuleSet(std::string_view name) {
    if (name == "open")
        return RuleSet::Open;
    if (name == "signed")
        return RuleSet::Signed;
    return std::nullopt;
}

Block MakeGenesis(const ConsensusParams& params) {
    Block genesis;
    genesis.index = 1;
    genesis.timestamp = params.genesis_timestamp;
    genesis.proof = GENESIS_PROOF;
    genesis.previous_hash = std::int64_t{1};
    return genesis;
}

std::string NetworkId(const ConsensusParams& params) {
    std::string id = BlockHash(MakeGenesis(params)) + "/" +
                     std::string(PowRuleName(params.pow_rule)) + "/" +
                     std::to_string(params.difficulty);
    if (params.rules != RuleSet::Open)
        id += "/" + std::string(RuleSetName(params.rules));
    return id;
}

namespace {
/** The parts of a network id: genesis hash, pow rule, difficulty, rules ("open" when absent). */
std::vector<std::string_view> NetworkIdParts(std::string_view id) {
    std::vector<std::string_view> parts;
    while (parts.size() < 5) {
        std::size_t slash = id.find('/');
        parts.push_back(id.substr(0, slash));
        if (slash == std::string_view::npos)
            break;
        id.remove_prefix(slash + 1);
    }
    if (parts.size() == 3)
        parts.push_back("open");
    return parts;
}
}  // namespace

std::string NetworkIdDifference(std::string_view theirs, std::string_view ours) {
    static constexpr const char* NAMES[] = {"genesis", "pow", "difficulty", "rules"};
    std::vector<std::string_view> a = NetworkIdParts(theirs);
    std::vector<std::string_view> b = NetworkIdParts(ours);
    if (a.size() != 4 || b.size() != 4)
        return "network " + std::string(theirs) + ", ours " + std::string(ours);
    std::string text;
    for (std::size_t i = 0; i < 4; ++i) {
        if (a[i] == b[i])
            continue;
        if (!text.empty())
            text += "; ";
        text += std::string(NAMES[i]) + " " + std::string(a[i]) + ", ours " + std::string(b[i]);
    }
    return text;
}

}  // namespace gossipchain
