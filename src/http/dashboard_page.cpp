// The dashboard page and its script, compiled into the binary so a node serves them with nothing
// installed beside it. The script sets every value with textContent (never innerHTML): node ids,
// addresses and transaction fields come from peers and clients.
#include "http/dashboard_api.h"

namespace gossipchain {

std::string_view DashboardHtml() {
    return R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gossipchain dashboard</title>
<style>
:root { color-scheme: dark; --bg: #11151c; --card: #1a2029; --line: #2a3340; --text: #d8dee9;
        --dim: #7b8794; --accent: #5fb3f9; --good: #7ccf7a; --bad: #f07178; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--text); }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 20px;
         border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; }
header .id { color: var(--dim); font-family: ui-monospace, monospace; }
#live { margin-left: auto; font-weight: 600; }
#live.on { color: var(--good); } #live.off { color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px;
         padding: 16px 20px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .label { color: var(--dim); font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
.card .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums;
               overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.card .value.hash { font-family: ui-monospace, monospace; font-size: 18px; padding-top: 5px; }
.flash { animation: flash 1s ease-out; }
@keyframes flash { from { color: var(--accent); } to { color: inherit; } }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px;
       padding: 0 20px 20px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
          min-width: 0; }
section h2 { font-size: 14px; margin: 0 0 8px; color: var(--dim); text-transform: uppercase;
             letter-spacing: .05em; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line);
         overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
th { color: var(--dim); font-weight: 500; font-size: 12px; }
td.mono { font-family: ui-monospace, monospace; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.empty { color: var(--dim); font-style: italic; }
#log li { font-family: ui-monospace, monospace; font-size: 12px; white-space: nowrap; overflow: hidden;
          text-overflow: ellipsis; }
#log { list-style: none; margin: 0; padding: 0; }
.ev-block { color: var(--accent); } .ev-tx { color: var(--dim); } .ev-reorg { color: var(--bad); }
.ev-peer { color: var(--good); }
</style>
</head>
<body>
<header>
  <h1>gossipchain</h1>
  <span>node <span class="id" id="node-id">…</span></span>
  <span class="id" id="network"></span>
  <span id="live" class="off">connecting…</span>
</header>
<div class="cards">
  <div class="card"><div class="label">height</div><div class="value" id="height">…</div></div>
  <div class="card"><div class="label">tip</div><div class="value hash" id="tip">…</div></div>
  <div class="card"><div class="label">rule / difficulty</div><div class="value" id="rule">…</div></div>
  <div class="card"><div class="label">peers</div><div class="value" id="peers-count">…</div></div>
  <div class="card"><div class="label">mempool</div><div class="value" id="mempool-size">…</div></div>
  <div class="card"><div class="label">events seen</div><div class="value" id="event-count">0</div></div>
</div>
<main>
  <section>
    <h2>last blocks</h2>
    <table><colgroup><col style="width:14%"><col style="width:30%"><col style="width:10%">
      <col style="width:28%"><col style="width:18%"></colgroup>
      <thead><tr><th>index</th><th>hash</th><th>txs</th><th>from</th><th>when</th></tr></thead>
      <tbody id="blocks"></tbody></table>
  </section>
  <section>
    <h2>linked peers</h2>
    <table><colgroup><col style="width:24%"><col style="width:26%"><col style="width:15%">
      <col style="width:11%"><col style="width:11%"><col style="width:13%"></colgroup>
      <thead><tr><th>node id</th><th>address</th><th>direction</th><th>state</th><th>height</th>
      <th>round trip</th></tr></thead>
      <tbody id="peers"></tbody></table>
  </section>
  <section>
    <h2>mempool</h2>
    <table><colgroup><col style="width:30%"><col style="width:30%"><col style="width:15%">
      <col style="width:25%"></colgroup>
      <thead><tr><th>sender</th><th>recipient</th><th>amount</th><th>id</th></tr></thead>
      <tbody id="mempool"></tbody></table>
  </section>
  <section>
    <h2>live events</h2>
    <ul id="log"></ul>
  </section>
</main>
<script src="/dashboard.js"></script>
</body>
</html>
)html";
}

std::string_view DashboardScript() {
    return R"js('use strict';
// gossipchain dashboard: renders GET /dashboard/state and follows GET /events (Server-Sent
// Events). Values are only ever set with textContent: node ids, addresses and transaction
// fields come from peers and clients and must not become markup.
const BLOCK_ROWS = 12;
const LOG_ROWS = 16;
const REFRESH_MS = 2000;
const $ = (id) => document.getElementById(id);
const view = { height: 0, blocks: [], events: 0, refreshTimer: null, drawPending: false };

function short(hash) { return typeof hash === 'string' ? hash.slice(0, 12) : ''; }
function setText(id, value, flash) {
  const el = $(id);
  const text = String(value);
  if (el.textContent === text) return;
  el.textContent = text;
  if (flash) { el.classList.remove('flash'); void el.offsetWidth; el.classList.add('flash'); }
}
function when(seconds) {
  if (typeof seconds !== 'number') return '';
  const age = Date.now() / 1000 - seconds;
  if (age < 1) return 'just now';
  if (age < 120) return Math.round(age) + ' s ago';
  if (age < 7200) return Math.round(age / 60) + ' min ago';
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}
function row(cells) {
  const tr = document.createElement('tr');
  for (const [value, cls, title] of cells) {
    const td = document.createElement('td');
    td.textContent = value === undefined || value === null ? '' : String(value);
    if (cls) td.className = cls;
    if (title) td.title = String(title);
    tr.appendChild(td);
  }
  return tr;
}
function fill(id, rows, emptyText, columns) {
  const body = $(id);
  body.replaceChildren(...rows);
  if (rows.length === 0) {
    const tr = row([[emptyText, 'empty']]);
    tr.firstChild.colSpan = columns;
    body.appendChild(tr);
  }
}

function drawBlocks() {
  fill('blocks', view.blocks.map((b) => row([
    [b.index, 'num'], [short(b.hash), 'mono', b.hash],
    [b.transactions === undefined ? '' : b.transactions, 'num'],
    [b.source === undefined ? 'stored' : b.source, '', b.source],
    [when(b.received !== undefined ? b.received : b.timestamp)]])), 'no blocks', 5);
}
function scheduleDraw() {
  if (view.drawPending) return;
  view.drawPending = true;
  requestAnimationFrame(() => { view.drawPending = false; drawBlocks(); });
}
function showTip(index, hash) {
  if (index < view.height) return;
  view.height = index;
  setText('height', index, true);
  setText('tip', short(hash), true);
  $('tip').title = hash;
}

function render(state) {
  setText('node-id', state.node_id);
  setText('network', 'network ' + short(state.network));
  setText('rule', state.pow + ' / ' + state.difficulty);
  view.height = 0;
  showTip(state.height, state.tip);
  const ready = state.peers.filter((p) => p.state === 'ready').length;
  setText('peers-count', ready);
  setText('mempool-size', state.mempool.size);
  view.blocks = state.blocks;
  drawBlocks();
  fill('peers', state.peers.map((p) => row([
    [short(p.node_id), 'mono', p.node_id], [p.address, 'mono', p.address], [p.direction],
    [p.state], [p.height, 'num'], [p.rtt_ms ? p.rtt_ms + ' ms' : '', 'num']])), 'no peers', 6);
  fill('mempool', state.mempool.transactions.map((t) => row([
    [t.sender, '', t.sender], [t.recipient, '', t.recipient], [t.amount, 'num'],
    [short(t.id), 'mono', t.id]])), 'empty', 4);
}

async function refresh() {
  try {
    const response = await fetch('/dashboard/state', { cache: 'no-store' });
    if (response.ok) render(await response.json());
  } catch (e) { /* the node is away; the next refresh retries */ }
}
function scheduleRefresh(ms) {
  if (view.refreshTimer !== null) return;
  view.refreshTimer = setTimeout(() => { view.refreshTimer = null; refresh(); }, ms);
}

function log(type, text) {
  const li = document.createElement('li');
  li.className = 'ev-' + type;
  li.textContent = new Date().toISOString().slice(11, 23) + ' ' + type + ' ' + text;
  const list = $('log');
  list.prepend(li);
  while (list.children.length > LOG_ROWS) list.lastChild.remove();
  view.events += 1;
  setText('event-count', view.events);
}

const handlers = {
  block(d) {
    showTip(d.index, d.hash);
    if (!view.blocks.some((b) => b.hash === d.hash)) {
      view.blocks.unshift({ index: d.index, hash: d.hash, transactions: d.transactions,
                            source: d.source, received: d.time });
      view.blocks.sort((a, b) => b.index - a.index);
      view.blocks.length = Math.min(view.blocks.length, BLOCK_ROWS);
      scheduleDraw();
    }
    log('block', d.index + ' ' + short(d.hash) + ' from ' + d.source);
    scheduleRefresh(250);
  },
  tx(d) { log('tx', short(d.txid) + ' from ' + d.source); scheduleRefresh(500); },
  reorg(d) {
    log('reorg', 'depth ' + d.depth + ' ' + short(d.old_tip) + ' -> ' + short(d.new_tip));
    scheduleRefresh(0);
  },
  peer(d) {
    log('peer', d.peer + (d.up ? ' up' : ' down' + (d.reason ? ' (' + d.reason + ')' : '')));
    scheduleRefresh(100);
  },
};

function connect() {
  const source = new EventSource('/events');
  source.onopen = () => { $('live').className = 'on'; $('live').textContent = 'live'; refresh(); };
  source.onerror = () => { $('live').className = 'off'; $('live').textContent = 'reconnecting…'; };
  for (const [type, handle] of Object.entries(handlers)) {
    source.addEventListener(type, (e) => {
      try { handle(JSON.parse(e.data)); } catch (err) { /* a malformed event is skipped */ }
    });
  }
}

refresh();
connect();
setInterval(refresh, REFRESH_MS);
setInterval(drawBlocks, 1000);
)js";
}

}  // namespace gossipchain
