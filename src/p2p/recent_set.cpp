#include "p2p/recent_set.h"

namespace gossipchain {

bool RecentSet::Insert(const std::string& key) {
    if (!m_set.insert(key).second)
        return false;
    m_order.push_back(key);
    if (m_order.size() > m_capacity) {
        m_set.erase(m_order.front());
        m_order.pop_front();
    }
    return true;
}

}  // namespace gossipchain
