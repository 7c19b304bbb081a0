#include "p2p/address_book.h"

#include <algorithm>
#include <tuple>

namespace gossipchain {

std::string AddressBook::Key(const std::string& host, std::uint16_t port) {
    return FormatHostPort(PeerAddress{host, port});
}

void AddressBook::Count(const AddressEntry& entry, int delta) {
    switch (entry.origin) {
        case AddressOrigin::Seed:
            // Bounded by the command line: a --peer always gets its place.
            break;
        case AddressOrigin::Registered:
            m_registered += static_cast<std::size_t>(delta);
            break;
        case AddressOrigin::Learned: {
            m_learned += static_cast<std::size_t>(delta);
            std::size_t& bucket = m_per_source[entry.source];
            bucket += static_cast<std::size_t>(delta);
            if (bucket == 0)
                m_per_source.erase(entry.source);
            break;
        }
    }
}

AddressBook::AddResult AddressBook::Add(const PeerAddress& address, AddressOrigin origin,
                                        const std::string& source) {
    std::string key = Key(address.host, address.port);
    if (AddressEntry* known = Find(key)) {
        // The operator's word outranks gossip: a learned address the operator registers becomes
        // theirs (if there is a place), and any address given with --peer a seed.
        if (origin == AddressOrigin::Learned || !(origin < known->origin))
            return AddResult::Known;
        if (origin == AddressOrigin::Registered && m_registered >= m_options.max_operator)
            return AddResult::Full;
        Count(*known, -1);
        known->origin = origin;
        known->source.clear();
        Count(*known, +1);
        known->next_try_ms = 0;
        return AddResult::Known;
    }
    if (origin == AddressOrigin::Learned) {
        if (m_per_source[source] >= m_options.max_per_source && !EvictLearned(&source))
            return AddResult::Full;
        if (m_learned >= m_options.max_learned && !EvictLearned(nullptr))
            return AddResult::Full;
    } else if (origin == AddressOrigin::Registered && m_registered >= m_options.max_operator) {
        return AddResult::Full;
    }
    AddressEntry entry;
    entry.key = key;
    entry.host = address.host;
    entry.port = address.port;
    entry.origin = origin;
    if (origin == AddressOrigin::Learned)
        entry.source = source;
    Count(entry, +1);
    auto [it, inserted] = m_entries.emplace(std::move(key), std::move(entry));
    m_order.push_back(&it->second);
    return AddResult::Added;
}

std::size_t AddressBook::OperatorRoom() const {
    return m_options.max_operator - std::min(m_registered, m_options.max_operator);
}

AddressEntry* AddressBook::Find(const std::string& key) {
    auto found = m_entries.find(key);
    return found == m_entries.end() ? nullptr : &found->second;
}

const AddressEntry* AddressBook::Find(const std::string& key) const {
    auto found = m_entries.find(key);
    return found == m_entries.end() ? nullptr : &found->second;
}

void AddressBook::OnAnswered(const std::string& key) {
    if (AddressEntry* entry = Find(key)) {
        entry->ever_connected = true;
        entry->failing_since_ms = 0;
    }
}

bool AddressBook::OnDialFailed(const std::string& key, std::uint64_t now_ms) {
    AddressEntry* entry = Find(key);
    if (entry == nullptr)
        return false;
    if (entry->failing_since_ms == 0)
        entry->failing_since_ms = now_ms;
    bool dead = false;
    switch (entry->origin) {
        case AddressOrigin::Seed:
            break;
        case AddressOrigin::Registered:
            // A tutorial node answers in HTTP: that is alive, however its gossip dials end.
            dead = !entry->http_only &&
                   now_ms - entry->failing_since_ms >= m_options.registered_dead_ms;
            break;
        case AddressOrigin::Learned: {
            std::uint32_t allowed =
                m_options.learned_max_failures * (entry->ever_connected ? 10 : 1);
            dead = entry->failures >= allowed;
            break;
        }
    }
    if (dead)
        Erase(key);
    return dead;
}

bool AddressBook::EvictLearned(const std::string* source) {
    // The least promising goes: never answered before one that did, then the most failures,
    // then the oldest.
    const AddressEntry* victim = nullptr;
    auto rank = [](const AddressEntry& e) {
        return std::make_tuple(!e.ever_connected, e.failures);
    };
    for (const AddressEntry* entry : m_order) {
        if (entry->Operator() || entry->dialing || (source && entry->source != *source))
            continue;
        if (victim == nullptr || rank(*entry) > rank(*victim))
            victim = entry;
    }
    if (victim == nullptr)
        return false;
    Erase(std::string(victim->key));
    return true;
}

void AddressBook::Erase(const std::string& key) {
    auto found = m_entries.find(key);
    if (found == m_entries.end())
        return;
    Count(found->second, -1);
    m_order.erase(std::find(m_order.begin(), m_order.end(), &found->second));
    m_entries.erase(found);
}

void AddressBook::ScheduleRetry(AddressEntry& entry, bool was_ready, std::uint64_t now_ms,
                                std::uint64_t random) const {
    entry.failures = was_ready ? 0 : entry.failures + 1;
    std::uint64_t delay = m_options.reconnect_min_ms;
    for (std::uint32_t i = 1; i < entry.failures && delay < m_options.reconnect_max_ms; ++i)
        delay *= 2;
    delay = std::min(delay, m_options.reconnect_max_ms);
    delay += random % (delay / 2 + 1);
    entry.next_try_ms = now_ms + delay;
}

}  // namespace gossipchain
