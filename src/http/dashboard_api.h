// The node's dashboard: GET /dashboard (one self-contained page: HTML and CSS, its script at
// GET /dashboard.js; nothing is fetched from anywhere but this node), GET /dashboard/state (a
// bounded JSON snapshot the page renders: chain, last blocks with who sent them, mempool, peers)
// and GET /events (the live EventHub stream the page listens to). Every string the page shows
// that a peer or client chose (node ids, addresses, transaction fields) is JSON-escaped here and
// set as text by the page, and the page's Content-Security-Policy allows no inline script, so a
// hostile string cannot become markup or code.
#pragma once

#include "http/event_hub.h"
#include "http/node_control.h"
#include "http/router.h"

#include <cstddef>

namespace gossipchain {

/** Main-chain blocks /dashboard/state lists, newest first, a count. */
inline constexpr std::size_t DASHBOARD_BLOCKS = 12;
/** Pending transactions /dashboard/state lists, oldest first, a count (the size is exact). */
inline constexpr std::size_t DASHBOARD_MEMPOOL_TXS = 20;

/** Adds /dashboard, /dashboard.js, /dashboard/state and /events; both must outlive `router`. */
void RegisterDashboardRoutes(Router& router, NodeControl& node, EventHub& hub);

/** The body of GET /dashboard/state. */
nlohmann::json DashboardState(NodeControl& node, const EventHub& hub);

/** The page and its script, as served. */
std::string_view DashboardHtml();
std::string_view DashboardScript();

}  // namespace gossipchain
