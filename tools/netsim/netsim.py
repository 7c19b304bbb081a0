#!/usr/bin/env python3
"""netsim: launch a mesh of real gossipchain processes, run a scenario, report.

  python3 tools/netsim/netsim.py run SCENARIO.toml --out DIR   run a scenario, write DIR/report.json
  python3 tools/netsim/netsim.py up --nodes N --topology KIND  start a mesh, print URLs, wait for ^C
  python3 tools/netsim/netsim.py up --nodes 5 --base-port 5000 the tutorial's ports (a classroom)
  ... --netns                                                  every node in its own namespace (root)
  python3 tools/netsim/netsim.py clean                         remove what crashed --netns runs left

Nodes record events (--events, one JSON line each, CLOCK_REALTIME nanoseconds); one machine means
one clock, so first-seen times across nodes subtract to exact propagation delays. netsim follows
those files for start-up, links and tips instead of polling the nodes. On loopback, latency and
partitions are applied by the nodes themselves through their loopback-only admin endpoint
(--admin, POST /admin/links), since the kernel here has no netem; with --netns (netsim_netns.py)
partitions and bandwidth are the kernel's. See docs/netsim.md.

Exit status: 0 every check held; 1 a check failed, a step failed, a node crashed or the mesh did
not come up; 2 a bad scenario file or command line; 77 the scenario cannot run here (no toolchain
to build the node, no loopback, Python older than 3.11, --netns without root, a machine limit
too low for the mesh); 130 interrupted.
Python standard library only; plots are drawn by netsim_plots.py under an interpreter that has
matplotlib (this one, else Debian's /usr/bin/python3), and skipped with the reason otherwise.
"""

import argparse
import bisect
import collections
import concurrent.futures
import csv
import errno
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from netsim_dashboard import MeshDashboard
from netsim_netns import NODE_PORT, Netns, NetnsError, NetnsUnavailable, inside
from netsim_proc import (LimitHit, cgroup_pids_room, check_room, machine_cpu_s, mem_available_kb,
                         proc_usage, raise_open_files, self_cpu_s, self_peak_rss_kb, threads_room)
from netsim_report import write_report_html

try:
    import tomllib
except ImportError:  # Python < 3.11: the environment lacks what netsim needs, not a failure.
    print("netsim: cannot run here: Python 3.11+ is needed for tomllib", file=sys.stderr)
    sys.exit(77)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_NODE = ROOT / "build-release" / "bin" / "gossipchain"
PLOTTER = Path(__file__).resolve().parent / "netsim_plots.py"
# Debian's interpreter, where python3-matplotlib installs (a pyenv or venv python3 lacks it).
SYSTEM_PYTHON = Path("/usr/bin/python3")
SCHEMA = "netsim-report/1"
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_SKIP = 0, 1, 2, 77
TOPOLOGIES = ("line", "ring", "star", "full", "random-k")
# A node accepts at most this many inbound links (DEFAULT_MAX_INBOUND in peer_manager.h).
MAX_INBOUND = 125


class CannotRun(Exception):
    """The scenario cannot run on this machine (exit 77): something the environment lacks."""


class Failed(RuntimeError):
    """The run failed (exit 1): a node crashed, the mesh did not come up, a step failed."""


class UsageError(ValueError):
    """A bad command line or scenario file (exit 2)."""


def log(msg):
    print(f"netsim: {msg}", flush=True)


def percentiles(values):
    if not values:
        return {"count": 0, "p50": None, "p90": None, "p95": None, "p99": None, "max": None}
    s = sorted(values)

    def pick(q):  # nearest-rank percentile
        return round(s[min(len(s) - 1, max(0, int(-(-q * len(s) // 100)) - 1))], 3)

    return {"count": len(s), "p50": pick(50), "p90": pick(90), "p95": pick(95), "p99": pick(99),
            "max": round(s[-1], 3)}


# ---------------------------------------------------------------- topology

def build_topology(kind, n, k, rng):
    """Directed dial edges (a dials b); the undirected graph is connected."""
    if kind not in TOPOLOGIES:
        raise ValueError(f"unknown topology {kind!r} (one of {', '.join(TOPOLOGIES)})")
    if n < 2:
        return []
    if kind == "line":
        return [(i, i + 1) for i in range(n - 1)]
    if kind == "ring":
        return [(i, (i + 1) % n) for i in range(n)] if n > 2 else [(0, 1)]
    if kind == "star":
        if n - 1 > MAX_INBOUND:
            raise ValueError(f"star with {n} nodes exceeds the hub's {MAX_INBOUND} inbound links")
        return [(i, 0) for i in range(1, n)]
    if kind == "full":
        if n - 1 > MAX_INBOUND:
            raise ValueError(f"full mesh of {n} nodes exceeds {MAX_INBOUND} inbound links")
        return [(a, b) for a in range(n) for b in range(a + 1, n)]
    k = max(1, min(k, n - 1))
    # Each node in turn dials k others it is not linked with yet (fewer when fewer are left:
    # with k > (n - 1) / 2 not every node can dial k). Redrawn until the graph is connected and,
    # when k <= (n - 1) / 2, every node got its k. Near k = (n - 1) / 2 that rarely happens at
    # random, so after 200 draws a circulant over a random order (each dials the k next) does.
    exact = 2 * k <= n - 1
    for _ in range(200):
        linked = set()
        edges = []
        for a in range(n):
            others = [b for b in range(n) if b != a and frozenset((a, b)) not in linked]
            for b in rng.sample(others, min(k, len(others))):
                linked.add(frozenset((a, b)))
                edges.append((a, b))
        if (not exact or len(edges) == n * k) and connected(n, edges):
            return edges
    if not exact:
        raise ValueError(f"random-k with k={k} gave no connected graph in 200 tries")
    order = rng.sample(range(n), n)
    return [(order[i], order[(i + j) % n]) for i in range(n) for j in range(1, k + 1)]


def connected(n, edges):
    adj = {i: set() for i in range(n)}
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    seen, todo = {0}, [0]
    while todo:
        for b in adj[todo.pop()]:
            if b not in seen:
                seen.add(b)
                todo.append(b)
    return len(seen) == n


# ---------------------------------------------------------------- processes

def ephemeral_range():
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_ports(count):
    """Loopback ports free now, all held until every one is picked. They come from below the
    kernel's ephemeral range when it has room: a port from inside it could be taken as the local
    end of some link's connection between this check and the node's bind (at 1,000 nodes with 8
    links each, thousands of such connections open while the later nodes start)."""
    low, _ = ephemeral_range()
    first = 10000
    candidates = []
    if low - first >= 2 * count:
        start = random.randrange(first, low - count)
        candidates = list(range(start, low)) + list(range(first, start))
    socks, ports = [], []
    try:
        for port in candidates:
            if len(ports) == count:
                break
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            socks.append(s)
            ports.append(port)
        while len(ports) < count:  # no room below the range: let the kernel pick
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    except OSError as e:
        raise CannotRun(f"cannot bind {count} loopback ports: {e}") from e
    finally:
        for s in socks:
            s.close()
    return ports


def ports_in_use(ports):
    """Those of `ports` that something on loopback already holds."""
    taken = []
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                taken.append(port)
    return taken


def request(port, method, path, body=None, timeout=10.0, host="127.0.0.1"):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw.decode(errors="replace")
    finally:
        conn.close()


class EventTail:
    """Follows one node process's event file as it grows: whether it has started (its listener
    is bound), how many ready links it has, and its tip, so netsim waits on the nodes' own
    events instead of polling hundreds of them over HTTP.

    The tip is the first block seen at the greatest height: with a fixed difficulty the longest
    chain has the most work and, on equal length, the first seen stays (DESIGN.md). A reorg
    names its new tip, which is taken as it is. Until a block arrives the tip is None: for a
    fresh node the genesis block; a restarted node's stored tip is given by seed_tip()."""

    # Events that change what is followed; traffic and tx_seen lines are skipped unparsed.
    FOLLOWED = (b'"ev":"block_', b'"ev":"peer_', b'"ev":"reorg"', b'"ev":"start"')

    def __init__(self, incarnation, path):
        self.incarnation = incarnation
        self.path = path
        self.file = None
        self.partial = b""  # a line still being written
        self.started = False
        self.pid = None
        self.links = 0  # peer_up minus peer_down: ready links
        self.ups = collections.Counter()  # peer label ("host:port") -> its peer_up events
        self.downs = collections.Counter()
        self.highest = 0  # greatest block height seen, side branches too
        self.tip = None  # (height, hash)

    def poll(self):
        """Reads what was appended since the last poll; returns self."""
        if self.file is None:
            try:
                self.file = open(self.path, "rb")
            except OSError:
                return self
        lines = (self.partial + self.file.read()).split(b"\n")
        self.partial = lines.pop()
        self.feed(lines)
        return self

    def feed(self, lines):
        for line in lines:
            if not any(tag in line for tag in self.FOLLOWED):
                continue
            try:
                ev = json.loads(line)
                kind = ev["ev"]
                if kind == "start":
                    self.started, self.pid = True, ev.get("pid")
                elif kind == "peer_up":
                    self.links += 1
                    self.ups[ev.get("peer")] += 1
                elif kind == "peer_down":
                    self.links -= 1
                    self.downs[ev.get("peer")] += 1
                elif kind == "block_seen":
                    height = int(ev["height"])
                    self.highest = max(self.highest, height)
                    if self.tip is None or height > self.tip[0]:
                        self.tip = (height, ev["hash"])
                elif kind == "block_mined":
                    self.highest = max(self.highest, int(ev["height"]))
                elif kind == "reorg":
                    self.tip = (self.tip[0] if self.tip else self.highest, ev["new_tip"])
            except (ValueError, TypeError, KeyError):
                continue

    def tip_hash(self):
        return self.tip[1] if self.tip else None

    def seed_tip(self, height, tip):
        """The tip a restarted node loaded from its data directory (from one /status), unless
        its events already show a higher block."""
        if self.tip is None or height > self.tip[0]:
            self.tip = (height, tip)

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None


class Node:
    def __init__(self, index, host, port, workdir, binary, args, launcher=(), admin=True):
        self.index = index
        self.host = host
        self.port = port
        self.dir = workdir / f"node-{index:03d}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.binary = binary
        self.args = args  # extra flags (difficulty, --peer ...)
        self.launcher = list(launcher)  # e.g. ip netns exec NAME
        self.admin = admin
        self.proc = None
        self.incarnation = -1
        self.tail = None  # EventTail of the current incarnation's event file
        self.down_since = None
        self.crashes = []  # exit_story() of each incarnation that ended by itself
        self.cpu_ended_s = 0.0  # CPU seconds of incarnations that have ended
        self.usage = None  # the last proc_usage() of the current incarnation

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def follow(self):
        """This incarnation's EventTail, brought up to date."""
        if self.tail is None or self.tail.incarnation != self.incarnation:
            if self.tail is not None:
                self.tail.close()
            self.tail = EventTail(self.incarnation,
                                  self.dir / f"events-{self.incarnation}.ndjson")
        return self.tail.poll()

    def start(self):
        if self.crashed():
            self.crashes.append(self.exit_story())
        self.incarnation += 1
        cmd = self.launcher + [
            str(self.binary), "--port", str(self.port), "--bind", self.host,
            "--data-dir", str(self.dir / "data"), "--target-outbound", "0",
            "--events", str(self.dir / f"events-{self.incarnation}.ndjson"),
            "--log-level", "warn"] + (["--admin"] if self.admin else []) + self.args
        out = open(self.dir / f"node-{self.incarnation}.log", "wb")
        try:
            # Own process group: cleanup kills the group, and ^C in the terminal reaches only us.
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as e:
            if e.errno in (errno.EMFILE, errno.ENFILE):
                raise LimitHit(f"open files: starting node {self.index}: {e}") from e
            if e.errno in (errno.EAGAIN, errno.ENOMEM):
                raise LimitHit(f"processes or memory: starting node {self.index}: {e} (see "
                               "ulimit -u, the cgroup's pids.max, free memory)") from e
            raise
        finally:
            out.close()
        self.down_since = None
        self.usage = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def log_path(self):
        return self.dir / f"node-{self.incarnation}.log"

    def crashed(self):
        """The process ended although netsim did not kill or stop it."""
        return self.proc is not None and self.proc.poll() is not None and self.down_since is None

    def exit_story(self):
        """How the process ended and the end of its log, for an error message."""
        code = self.proc.returncode
        how = (f"was killed by {signal.Signals(-code).name}" if code < 0
               else f"exited with status {code}")
        try:
            tail = self.log_path.read_text(errors="replace").strip()[-600:]
        except OSError:
            tail = ""
        return f"node {self.index} {how}; log {self.log_path}" + (f":\n{tail}" if tail else "")

    def sample(self):
        """Reads the process's CPU time and memory from /proc (kept for the report)."""
        if self.alive():
            self.usage = proc_usage(self.proc.pid) or self.usage
        return self.usage

    def end_incarnation(self):
        self.sample()
        if self.usage:
            self.cpu_ended_s += self.usage["cpu_s"]
        self.usage = None

    def cpu_s(self):
        return round(self.cpu_ended_s + (self.usage["cpu_s"] if self.usage else 0.0), 3)

    def kill9(self):
        if self.alive():
            self.end_incarnation()
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.down_since = time.time_ns()

    def terminate(self):
        """SIGTERM to the node's process group (see wait_or_kill)."""
        if not self.alive():
            return
        self.down_since = time.time_ns()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def wait_or_kill(self, deadline):
        """Waits for a terminated node until `deadline` (monotonic), then SIGKILLs it."""
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


    def request(self, method, path, body=None, timeout=10.0):
        return request(self.port, method, path, body, timeout, self.host)

    def status(self):
        try:
            code, body = self.request("GET", "/status", timeout=5)
            return body if code == 200 and isinstance(body, dict) else None
        except OSError:
            return None


class LoopbackNet:
    """Every node on 127.0.0.1 with a port of its own; partitions and latency through the
    nodes' admin endpoint (allowed on a loopback bind only)."""

    admin = True
    kind = "loopback"

    def __init__(self, n, base_port=None):
        if base_port is None:
            self.ports = free_ports(n)
        else:
            self.ports = list(range(base_port, base_port + n))
            taken = ports_in_use(self.ports)
            if taken:
                raise CannotRun(f"ports {base_port}-{base_port + n - 1} on 127.0.0.1: "
                                f"{', '.join(map(str, taken))} in use (stop what holds them, or "
                                "pick another --base-port)")

    def host(self, i):
        return "127.0.0.1"

    def port(self, i):
        return self.ports[i]

    def launcher(self, i):
        return []

    def prepare(self, edges):
        pass

    def cut(self, i, j, node_i, node_j):
        """Drops the link between nodes i and j once; both redial as they would after a fault.
        Loopback: a block and an unblock of each other (the admin endpoint redials at once)."""
        for me, other in ((node_i, node_j), (node_j, node_i)):
            for blocked in ([other.address], []):
                code, answer = me.request("POST", "/admin/links", {"blocked": blocked})
                if code != 200:
                    raise Failed(f"admin/links on node {me.index}: HTTP {code} {answer}")

    def describe(self):
        return {"kind": self.kind}

    def close(self):
        return []


class NetnsNet:
    """Every node in a network namespace of its own with its own address on one bridge
    (netsim_netns.py); partitions are routes, so no admin endpoint is needed (nor allowed:
    the node refuses --admin off loopback)."""

    admin = False
    kind = "netns"

    def __init__(self, n, bandwidth_mbit=None):
        try:
            Netns.check_available()
            self.netns = Netns(n, bandwidth_mbit)
            started = time.monotonic()
            self.layout = self.netns.setup()
        except NetnsUnavailable as e:
            raise CannotRun(str(e)) from e
        except NetnsError as e:
            raise Failed(f"netns set-up: {e}") from e
        self.setup_s = round(time.monotonic() - started, 3)
        self.bandwidth_mbit = bandwidth_mbit
        log(f"netns: {n} namespaces {self.layout.ns(0)}..{self.layout.ns(n - 1)} on bridge "
            f"{self.layout.bridge} ({self.layout.bridge_address}/16) in {self.setup_s:.2f} s")

    def host(self, i):
        return self.layout.address(i)

    def port(self, i):
        return NODE_PORT

    def launcher(self, i):
        return inside(self.layout.ns(i), [])

    def prepare(self, edges):
        """Before the nodes start: room in the kernel's neighbour table for every link, and
        the MACs of each link's ends written into it."""
        try:
            self.netns.link_neighbours(edges)
        except NetnsUnavailable as e:
            raise CannotRun(str(e)) from e
        except NetnsError as e:
            raise Failed(f"netns: {e}") from e

    def partition(self, blocked):
        self.netns.partition(blocked)

    def cut(self, i, j, node_i, node_j):
        """Drops the link between nodes i and j once (their sockets destroyed, no route
        changed); both redial as they would after a fault."""
        self.netns.cut(i, j)

    def heal(self):
        self.netns.heal()

    def describe(self):
        return {"kind": self.kind, "bridge": self.layout.bridge,
                "subnet": f"10.{self.layout.subnet}.0.0/16", "setup_s": self.setup_s,
                "bandwidth_mbit": self.bandwidth_mbit}

    def close(self):
        left = self.netns.close()
        if left:
            log(f"netns: still present after the tear-down: {', '.join(left)} "
                "(the next --netns run removes them)")
        return left


class Mesh:
    """N node processes with a fixed dial topology on a network (LoopbackNet, NetnsNet);
    always torn down by close()."""

    # Nodes started at once: each batch's listeners are up before the next starts, so a
    # thousand processes do not initialise at the same moment.
    START_BATCH = 50

    def __init__(self, binary, n, kind, k, rng, workdir, difficulty, pow_rule, net):
        self.kind, self.k = kind, (k if kind == "random-k" else None)
        self.edges = build_topology(kind, n, k, rng)
        self.degree = [0] * n
        for a, b in self.edges:
            self.degree[a] += 1
            self.degree[b] += 1
        self.net = net
        net.prepare(self.edges)
        self.nodes = []
        for i in range(n):
            peers = []
            for a, b in self.edges:
                if a == i:
                    peers += ["--peer", f"{net.host(b)}:{net.port(b)}"]
            args = ["--difficulty", str(difficulty), "--pow", pow_rule, "--threads", "1"] + peers
            self.nodes.append(Node(i, net.host(i), net.port(i), workdir, binary, args,
                                   net.launcher(i), net.admin))
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(32, max(4, n)))

    def start(self, timeout_s):
        """Starts every node, START_BATCH at a time, and waits until each has its links. Fills
        self.startup (seconds: spawning, all listening, all linked) for the report."""
        began = time.monotonic()
        deadline = began + timeout_s
        spawn_s = 0.0
        mem_start_kb = mem_available_kb()
        rooms = {"the cgroup's pids.max": cgroup_pids_room(),
                 "kernel.threads-max": threads_room()}
        for first in range(0, len(self.nodes), self.START_BATCH):
            batch = self.nodes[first:first + self.START_BATCH]
            t = time.monotonic()
            for node in batch:
                node.start()
            spawn_s += time.monotonic() - t
            self.wait_started(batch, deadline, timeout_s)
            if first == 0:
                check_room(len(batch), len(self.nodes), [nd.sample() for nd in batch],
                           mem_start_kb, rooms)
        listening = time.monotonic()
        nudged = self.redial_refused() if self.net.admin else 0
        self.wait_ready(self.nodes, max(1.0, deadline - time.monotonic()))
        self.startup = {"spawn_s": round(spawn_s, 3), "all_listening_s": round(listening - began, 3),
                        "redials_nudged": nudged, "all_linked_s": round(time.monotonic() - began, 3)}

    def redial_refused(self):
        """Once every node listens: each node still without a link to a peer it dials, because
        that peer was not listening yet when it first tried, is made to dial it now. Its backoff
        (250 ms doubling to 30 s) would otherwise keep the first nodes of a 1,000-node start
        waiting seconds after everyone is up. Blocking and at once unblocking an address through
        the admin endpoint is the node's documented way to redial it at once; the addresses are
        not linked, so nothing is cut. Returns how many nodes were nudged."""
        missing = {}
        for a, b in self.edges:
            tail, target = self.nodes[a].follow(), self.nodes[b].address
            if tail.ups[target] <= tail.downs[target]:
                missing.setdefault(a, []).append(target)

        def nudge(item):
            node = self.nodes[item[0]]
            for blocked in (item[1], []):
                try:
                    node.request("POST", "/admin/links", {"blocked": blocked})
                except OSError:
                    return  # the wait for links that follows names a node that is not there

        list(self.pool.map(nudge, missing.items()))
        return len(missing)

    def wait_started(self, nodes, deadline, timeout_s):
        pending = list(nodes)
        while pending:
            for node in pending:
                if not node.alive():
                    raise Failed(f"a node crashed while starting: {node.exit_story()}")
            pending = [nd for nd in pending if not nd.follow().started]
            if pending and time.monotonic() > deadline:
                self.not_up(pending, timeout_s)
            if pending:
                time.sleep(0.01)

    def wait_ready(self, nodes, timeout_s):
        """Until each node's events show it started and has a ready link for every topology
        edge to a live node."""
        deadline = time.monotonic() + timeout_s
        pending = list(nodes)
        while pending:
            for node in pending:
                if not node.alive():
                    raise Failed(f"a node crashed while starting: {node.exit_story()}")
            pending = [nd for nd in pending
                       if not (nd.follow().started and nd.tail.links >= self.live_degree(nd))]
            if pending and time.monotonic() > deadline:
                self.not_up(pending, timeout_s)
            if pending:
                time.sleep(0.02)

    def wait_links(self, timeout_s):
        """Milliseconds until every live node has its links again, or None at the timeout."""
        start = time.monotonic()
        while True:
            if all(nd.follow().links >= self.live_degree(nd) for nd in self.live()):
                return (time.monotonic() - start) * 1000.0
            if time.monotonic() - start > timeout_s:
                return None
            time.sleep(0.02)

    def not_up(self, pending, timeout_s):
        nd = pending[0]
        st = nd.status()
        if st is None:
            why = "does not answer /status" + ("" if nd.tail.started else
                                               " and wrote no start event")
        else:
            why = f"has {st.get('peers', 0)} of {self.live_degree(nd)} links ready"
        raise Failed(f"the mesh did not come up: {len(pending)} nodes not ready after "
                     f"{timeout_s:.0f} s (node {nd.index} {why}; log {nd.log_path})")

    def live_degree(self, node):
        i = node.index
        return sum(1 for a, b in self.edges
                   if (a == i and self.nodes[b].alive()) or (b == i and self.nodes[a].alive()))

    def live(self):
        return [n for n in self.nodes if n.alive()]

    def statuses(self, nodes=None):
        nodes = nodes if nodes is not None else self.live()
        return list(self.pool.map(lambda nd: nd.status(), nodes))

    def seed_tips(self, nodes):
        """A restarted node's tip is what it loaded, which its events do not show: one /status."""
        for node, st in zip(nodes, self.statuses(nodes)):
            if st:
                node.follow().seed_tip(int(st["height"]), st["tip"])

    def wait_converged(self, timeout_s, height=None):
        """Milliseconds until every live node's events show one tip (at `height` or above when
        given), or None at the timeout. Reading the event files costs the nodes nothing, where
        polling /status of every node every few milliseconds competes with the propagation it
        waits for (at 1,000 nodes on 2 cores one poll round is 1,000 HTTP requests)."""
        start = time.monotonic()
        while True:
            tails = [nd.follow() for nd in self.live()]
            tips = {t.tip_hash() for t in tails}
            low = min((t.tip[0] if t.tip else 1 for t in tails), default=0)
            if len(tips) == 1 and (height is None or low >= height):
                return (time.monotonic() - start) * 1000.0
            if time.monotonic() - start > timeout_s:
                return None
            time.sleep(0.005)

    def sample(self):
        for node in self.nodes:
            node.sample()

    def close(self, grace_s=3.0):
        """SIGTERM to every node at once, SIGKILL to those still running after grace_s."""
        self.sample()
        live = [n for n in self.nodes if n.alive()]
        for n in live:
            n.terminate()
        deadline = time.monotonic() + grace_s
        for n in live:
            n.wait_or_kill(deadline)
        for n in self.nodes:
            if n.tail:
                n.tail.close()
        self.pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------- node binary

def find_node(path):
    """The node binary: --node PATH as given, else build-release brought up to date."""
    if path:
        p = Path(path)
        if not p.is_file() or not os.access(p, os.X_OK):
            raise UsageError(f"--node {path}: not an executable file")
        return p
    return build_node()


def build_node():
    """Runs the incremental Release build of the node, so the binary always matches the source
    (a stale one may lack the flags netsim passes). Up to date, it takes about a second.

    No cmake, or a configure step that fails (no C++ compiler, a missing library), means the
    node cannot be built here: CannotRun. A compile or link error in the source is a failure.
    """
    if shutil.which("cmake") is None:
        raise CannotRun("cannot build the node: cmake not found (install a toolchain, or pass "
                        "--node PATH)")
    build_dir = DEFAULT_NODE.parent.parent
    log(f"building the node (incremental) in {build_dir} ...")
    started = time.monotonic()
    env = dict(os.environ, BUILD_TARGET="gossipchain")
    proc = subprocess.run([str(ROOT / "tools" / "build.sh"), str(build_dir), "Release",
                           "-DGOSSIPCHAIN_BENCH=OFF"], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace")
    if proc.returncode != 0 or not DEFAULT_NODE.is_file():
        tail = "\n".join(proc.stdout.strip().splitlines()[-25:])
        print(tail, file=sys.stderr)
        if "Configuring incomplete" in proc.stdout or "CMake Error" in proc.stdout:
            raise CannotRun(f"cannot configure the node build in {build_dir} (see above; "
                            "a missing dependency?), or pass --node PATH")
        raise Failed(f"the node did not build in {build_dir} (exit {proc.returncode}, see above)")
    log(f"node up to date: {DEFAULT_NODE} ({time.monotonic() - started:.1f} s)")
    return DEFAULT_NODE


def git_revision():
    try:
        return subprocess.check_output(["git", "-C", str(ROOT), "rev-parse", "HEAD"],
                                       stderr=subprocess.DEVNULL, text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return None


# ---------------------------------------------------------------- scenario steps

def select(spec, mesh, rng):
    """Node indices named by a step: a list, "all", "random", or {"group": i} of a partition."""
    if spec is None or spec == "all":
        return [n.index for n in mesh.nodes]
    if spec == "random":
        return [rng.choice([n.index for n in mesh.live()])]
    if isinstance(spec, int):
        return [spec]
    return list(spec)


def halves(n):
    return [list(range(n // 2)), list(range(n // 2, n))]


# A peer that opens a gossip link and declares a 4 GiB frame where the key exchange belongs: the
# node closes it before allocating, and blames nobody (SPEC §2, §12: a length travels in the clear,
# so a man in the middle could have written it; bans are of proven keys, and this peer proved
# none). Run as its own process so that with --netns it can run inside the namespace of the node
# whose address it attacks from. Prints how it ended.
ATTACK = """
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(bytes([0xF0, 0x9F, 0x94, 0x90, 0x0A]) + b"\\xff\\xff\\xff\\xff")
try:
    while s.recv(4096):
        pass
    print("closed")
except ConnectionResetError:
    print("closed")
except socket.timeout:
    print("open")
"""


def bans_of(node):
    """gossipchain_bans_total from the node's /metrics, or None."""
    try:
        code, body = node.request("GET", "/metrics", timeout=5)
    except OSError:
        return None
    for line in (body if code == 200 and isinstance(body, str) else "").splitlines():
        if line.startswith("gossipchain_bans_total "):
            return int(float(line.split()[1]))
    return None


class Run:
    def __init__(self, scenario, mesh, rng, out):
        self.scenario = scenario
        self.mesh = mesh
        self.rng = rng
        self.out = out
        self.markers = []  # (t_ns, kind, detail): who could reach whom when, and plots
        self.first_groups = []  # the first partition's groups, to colour the plot by side
        self.convergence = []
        self.txs = []  # (txid, node index, t_ns, incarnation) of accepted submissions
        self.mined_by_step = []  # (step, node, hash)
        self.background = []
        self.stop_background = threading.Event()
        self.shaping = {"delay_ms": 0, "jitter_ms": 0}
        self.lock = threading.Lock()
        self.errors = []
        self.warnings = []
        self.dashboard = None  # a MeshDashboard with --dashboard
        self.hostile = []  # what each hostile step saw

    def mark(self, kind, detail=""):
        with self.lock:
            self.markers.append((time.time_ns(), kind, detail))
        if self.dashboard:
            self.dashboard.mark(kind, detail)

    def mine(self, index):
        node = self.mesh.nodes[index]
        try:
            code, body = node.request("GET", "/mine", timeout=60)
        except OSError as e:
            if not node.alive():
                return None  # background mining raced a kill step
            with self.lock:
                self.errors.append(f"mine on node {index}: {e}")
            return None
        if code != 200:
            with self.lock:
                self.errors.append(f"mine on node {index}: HTTP {code} {body}")
            return None
        return body

    def submit_tx(self, index, rng):
        tx = {"sender": f"netsim-{index}", "recipient": f"r{rng.randrange(1000)}",
              "amount": rng.randrange(1, 100), "id": "%032x" % rng.getrandbits(128)}
        txid = hashlib.sha256(json.dumps(tx, sort_keys=True).encode()).hexdigest()
        node = self.mesh.nodes[index]
        try:
            code, _ = node.request("POST", "/transactions/new", tx, timeout=10)
        except OSError:
            return
        if code in (200, 201):
            with self.lock:
                self.txs.append((txid, index, time.time_ns(), node.incarnation))

    def set_links(self, index, body):
        node = self.mesh.nodes[index]
        if not node.alive():
            return
        try:
            code, answer = node.request("POST", "/admin/links", body)
        except OSError as e:
            story = node.exit_story() if node.crashed() else "it is still running"
            raise Failed(f"admin/links on node {index}: {e}; {story}") from e
        if code != 200:
            raise Failed(f"admin/links on node {index}: HTTP {code} {answer}")

    def step(self, i, step):
        action = step["action"]
        mesh = self.mesh
        if action == "sleep":
            time.sleep(float(step["seconds"]))
        elif action == "mine":
            for _ in range(int(step.get("count", 1))):
                for idx in select(step.get("nodes", "random"), mesh, self.rng):
                    block = self.mine(idx)
                    if block:
                        self.mined_by_step.append((i, idx))
                    # Without a convergence wait (inside a partition), a pause lets the block
                    # spread before the next one is mined on top of it.
                    time.sleep(float(step.get("pause_s", 0)))
                    if step.get("converge", True):
                        height = block.get("index") if isinstance(block, dict) else None
                        ms = mesh.wait_converged(float(step.get("timeout_s", 10)), height)
                        self.convergence.append({"after": "mine", "step": i, "node": idx,
                                                 "ms": None if ms is None else round(ms, 3)})
        elif action in ("mine_poisson", "tx_load"):
            self.start_background(i, step)
        elif action == "join":
            self.join_background()
        elif action == "partition":
            groups = step.get("groups", "halves")
            groups = halves(len(mesh.nodes)) if groups == "halves" else groups
            self.mark("partition", json.dumps(groups))
            self.first_groups = self.first_groups or groups
            group_of = {m: g for g, members in enumerate(groups) for m in members}
            for g, members in enumerate(groups):
                inside = [(a, b) for a, b in mesh.edges if a in members and b in members]
                index = {m: j for j, m in enumerate(members)}
                if not connected(len(members), [(index[a], index[b]) for a, b in inside]):
                    with self.lock:
                        self.warnings.append(f"step {i}: partition group {g} is not connected "
                                             "inside itself; it will fork within the group")
            blocked = {node.index: [o.index for o in mesh.nodes
                                    if o is not node and group_of.get(o.index) !=
                                    group_of.get(node.index)] for node in mesh.nodes}
            if mesh.net.admin:
                for node in mesh.nodes:
                    self.set_links(node.index, {"blocked": [mesh.nodes[j].address
                                                            for j in blocked[node.index]]})
            else:  # the network's own partition: routes and destroyed sockets
                mesh.net.partition(blocked)
        elif action == "heal":
            t0 = time.monotonic()
            self.mark("heal")
            if mesh.net.admin:
                for node in mesh.nodes:
                    self.set_links(node.index, {"blocked": []})
            else:
                mesh.net.heal()
            self.record_convergence(i, "heal", t0, step)
            if not mesh.net.admin:
                # The network's partition made the nodes' redials fail, so their links come
                # back on their own backoff (up to 30 s plus jitter): how long, is worth knowing.
                ms = mesh.wait_links(float(step.get("relink_timeout_s", 10)))
                self.convergence.append({"after": "relink", "step": i,
                                         "ms": None if ms is None else
                                         round((time.monotonic() - t0) * 1000.0, 3)})
        elif action == "latency":
            body = {"delay_ms": int(step.get("delay_ms", 0)),
                    "jitter_ms": int(step.get("jitter_ms", 0))}
            self.shaping = body
            self.mark("latency", json.dumps(body))
            for idx in select(step.get("nodes", "all"), mesh, self.rng):
                self.set_links(idx, body)
        elif action == "kill":
            for idx in select(step.get("nodes", "random"), mesh, self.rng):
                self.mark("kill", str(idx))
                mesh.nodes[idx].kill9()
        elif action == "restart":
            t0 = time.monotonic()
            targets = [mesh.nodes[idx] for idx in select(step.get("nodes"), mesh, self.rng)
                       if not mesh.nodes[idx].alive()]
            for node in targets:
                self.mark("restart", str(node.index))
                node.start()
            mesh.wait_ready(targets, float(step.get("timeout_s", 20)))
            mesh.seed_tips(targets)
            for node in targets:  # a restarted node starts without shaping
                if self.shaping["delay_ms"]:
                    self.set_links(node.index, self.shaping)
            self.record_convergence(i, "restart", t0, step)
        elif action == "hostile":
            self.attack(i, int(step["from"]), int(step["target"]),
                        float(step.get("relink_timeout_s", 5)))
        elif action == "wait_converged":
            self.record_convergence(i, "wait", time.monotonic(), step)
        else:
            raise ValueError(f"step {i}: unknown action {action!r}")

    def attack(self, i, attacker, target, relink_timeout_s):
        """From node `attacker`'s address, a peer that declares a 4 GiB frame to `target`; then
        whether the target blamed anyone for it (it must not: nothing was proven), and whether
        the attacker's honest node, its link to the target cut, gets back in (it must, on
        loopback and with --netns alike: bans are of keys, never of the shared address)."""
        mesh = self.mesh
        a, t = mesh.nodes[attacker], mesh.nodes[target]
        before = bans_of(t)
        proc = subprocess.run(mesh.net.launcher(attacker) + [sys.executable, "-c", ATTACK,
                                                              t.host, str(t.port)],
                              capture_output=True, text=True, timeout=30)
        ended = proc.stdout.strip() or f"error: {proc.stderr.strip()[-200:]}"
        # A score is given before the close it causes, so the count is final once closed.
        after = bans_of(t)
        seen = {"step": i, "from": attacker, "target": target, "network": mesh.net.kind,
                "connection": ended, "bans_before": before, "bans_after": after}
        dials = [(x, y) for x, y in mesh.edges if {x, y} == {attacker, target}]
        if dials:
            # Cut the honest link and see whether a new one comes up (the attacker's node
            # labels its peer by the target's advertised address, whichever side dialled).
            ups, downs = a.follow().ups[t.address], a.tail.downs[t.address]
            started = time.monotonic()
            mesh.net.cut(attacker, target, a, t)
            back = None
            while time.monotonic() - started < relink_timeout_s:
                tail = a.follow()
                if tail.downs[t.address] > downs and tail.ups[t.address] > ups:
                    back = (time.monotonic() - started) * 1000.0
                    break
                time.sleep(0.01)
            seen.update({"link": f"{dials[0][0]} dials {dials[0][1]}",
                         "link_dropped": a.tail.downs[t.address] > downs,
                         "relinked_ms": None if back is None else round(back, 3)})
        with self.lock:
            self.hostile.append(seen)
        self.mark("hostile", json.dumps(seen))

    def record_convergence(self, i, after, t0, step):
        ms = self.mesh.wait_converged(float(step.get("timeout_s", 10)))
        total = None if ms is None else round((time.monotonic() - t0) * 1000.0, 3)
        self.convergence.append({"after": after, "step": i, "ms": total})

    def start_background(self, i, step):
        rng = random.Random(self.rng.getrandbits(64))
        duration = float(step.get("duration_s", 10))
        spec = step.get("nodes", "all")

        def targets():
            live = [n.index for n in self.mesh.live()]
            return [x for x in select(spec, self.mesh, rng) if x in live] or live

        def loop():
            end = time.monotonic() + duration
            if step["action"] == "mine_poisson":
                mean = float(step.get("interval_s", 1.0))
                while not self.stop_background.is_set():
                    wait = rng.expovariate(1.0 / mean)
                    if time.monotonic() + wait > end or self.stop_background.wait(wait):
                        break
                    live = targets()
                    if not live:
                        break
                    idx = rng.choice(live)
                    threading.Thread(target=self.mine, args=(idx,), daemon=True).start()
            else:
                rate = float(step.get("rate", 10))
                nxt = time.monotonic()
                while not self.stop_background.is_set() and time.monotonic() < end:
                    live = targets()
                    if not live:
                        break
                    self.submit_tx(rng.choice(live), rng)
                    nxt += 1.0 / rate
                    delay = nxt - time.monotonic()
                    if delay > 0 and self.stop_background.wait(delay):
                        break

        t = threading.Thread(target=loop, daemon=True)
        t.start()
        self.background.append(t)

    def join_background(self):
        for t in self.background:
            t.join()
        self.background = []
        time.sleep(0.2)  # let the last /mine calls answer


# ---------------------------------------------------------------- analysis

def read_events(mesh):
    """Every node's events, each tagged with the node index and incarnation, in time order."""
    events = []
    for node in mesh.nodes:
        for inc in range(node.incarnation + 1):
            path = node.dir / f"events-{inc}.ndjson"
            if not path.exists():
                continue
            for line in path.read_text(errors="replace").splitlines():
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue  # a torn last line of a killed node
                ev["node"] = node.index
                ev["inc"] = inc
                events.append(ev)
    events.sort(key=lambda e: e["t_ns"])
    return events


def components(n, edges, live, group_of):
    """Component id per node of the topology restricted to live nodes and to links inside one
    partition group; None for a node that is down."""
    adj = {i: [] for i in range(n)}
    for a, b in edges:
        if live[a] and live[b] and group_of.get(a) == group_of.get(b):
            adj[a].append(b)
            adj[b].append(a)
    comp = [None] * n
    for start in range(n):
        if not live[start] or comp[start] is not None:
            continue
        comp[start], todo = start, [start]
        while todo:
            for b in adj[todo.pop()]:
                if comp[b] is None:
                    comp[b] = start
                    todo.append(b)
    return comp


def reach_states(n, edges, markers):
    """Who can reach whom over time: [(t_start_ns, kind, comp)], one entry from the start and one
    per partition, heal, kill or restart marker; comp as components() gives it."""
    live, group_of = [True] * n, {}
    states = [(0, "up", components(n, edges, live, group_of))]
    for t, kind, detail in sorted(markers):
        if kind == "partition":
            group_of = {m: g for g, members in enumerate(json.loads(detail)) for m in members}
        elif kind == "heal":
            group_of = {}
        elif kind in ("kill", "restart"):
            live[int(detail)] = kind == "restart"
        else:
            continue
        states.append((t, kind, components(n, edges, live, group_of)))
    return states


def classify_arrival(states, origin, node, t_sent, t_seen):
    """What a first sighting at `node` of a block (or transaction) that `origin` made at t_sent
    measures, as (kind, release, ms):

    * ("propagation", None, t_seen - t_sent): the node was reachable from the origin when it was
      made, through live nodes on the same side of any partition, and saw it before the next
      change.
    * ("held", "heal" or "restart", t_seen - release): the partition or the node's downtime kept
      it away; measured from the change that first made the node reachable from those that could
      have had it.
    * ("excluded", None, None): a change cut across it in flight, or it arrived before its
      release.
    """
    i = bisect.bisect_right([t for t, _, _ in states], t_sent) - 1
    comp = states[i][2]
    nxt = states[i + 1][0] if i + 1 < len(states) else None
    if comp[origin] is not None and comp[origin] == comp[node]:
        if nxt is None or t_seen < nxt:
            return "propagation", None, (t_seen - t_sent) / 1e6
        return "excluded", None, None
    holders = [m for m in range(len(comp)) if comp[origin] is not None and comp[m] == comp[origin]]
    for t, kind, later in states[i + 1:]:
        if later[node] is not None and any(later[m] == later[node] for m in holders):
            return ("held", kind, (t_seen - t) / 1e6) if t_seen >= t else ("excluded", None, None)
    return "excluded", None, None


def analyse(run, events, final, chain_hashes):
    mesh = run.mesh
    n = len(mesh.nodes)
    mined = {}
    first_seen = {}
    for ev in events:
        if ev["ev"] == "block_mined" and ev["hash"] not in mined:
            mined[ev["hash"]] = ev
        elif ev["ev"] == "block_seen":
            first_seen.setdefault((ev["hash"], ev["node"]), ev)
    states = reach_states(n, mesh.edges, run.markers)

    # Link settings in force when each block was mined, for a per-setting breakdown.
    settings = [(t, json.loads(d)) for t, kind, d in sorted(run.markers) if kind == "latency"]

    def link_label(t):
        current = {"delay_ms": 0, "jitter_ms": 0}
        for ts, body in settings:
            if ts <= t:
                current = body
        return f"{current['delay_ms']}+-{current['jitter_ms']}ms"

    by_link, held, excluded = {}, {}, 0
    arrivals, delays, per_block_max = [], [], {}
    for h, m in mined.items():
        reach = []
        for node in range(n):
            seen = first_seen.get((h, node))
            if not seen:
                continue
            d = (seen["t_ns"] - m["t_ns"]) / 1e6
            arrivals.append([h, m["height"], m["node"], node, m["t_ns"], seen["t_ns"], round(d, 3)])
            if node == m["node"]:
                continue
            kind, release, ms = classify_arrival(states, m["node"], node, m["t_ns"], seen["t_ns"])
            if kind == "propagation":
                delays.append(ms)
                reach.append(ms)
                by_link.setdefault(link_label(m["t_ns"]), []).append(ms)
            elif kind == "held":
                held.setdefault(release, []).append(ms)
            else:
                excluded += 1
        if len(reach) == n - 1:  # every other node, none held back
            per_block_max[h] = max(reach)

    tx_origin, tx_delays = {}, []
    for ev in events:
        if ev["ev"] == "tx_seen" and ev["from"] == "self":
            tx_origin.setdefault(ev["txid"], ev)
    tx_first = {}
    for ev in events:
        if ev["ev"] == "tx_seen" and ev["from"] != "self":
            tx_first.setdefault((ev["txid"], ev["node"]), ev["t_ns"])
    for (txid, node), t in tx_first.items():
        o = tx_origin.get(txid)
        if o and node != o["node"]:
            kind, _, ms = classify_arrival(states, o["node"], node, o["t_ns"], t)
            if kind == "propagation":
                tx_delays.append(ms)

    reorgs = [ev for ev in events if ev["ev"] == "reorg"]
    main = sum(1 for h in mined if h in chain_hashes)
    bytes_in, bytes_out = {}, {}
    received = 0
    txs_received = 0
    last_traffic = {}  # (node, incarnation) -> its last (cumulative) traffic event
    for ev in events:
        if ev["ev"] == "traffic":
            last_traffic[(ev["node"], ev["inc"])] = ev
    for last in last_traffic.values():
        for t, b in last["bytes_in"].items():
            bytes_in[t] = bytes_in.get(t, 0) + b
        for t, b in last["bytes_out"].items():
            bytes_out[t] = bytes_out.get(t, 0) + b
        received += last["blocks_received"]
        txs_received += last.get("txs_received", 0)
    firsts_from_peers = sum(1 for (h, nd), ev in first_seen.items() if ev["from"] != "self")
    block_bytes = sum(b for t, b in bytes_in.items() if t in BLOCK_MESSAGE_TYPES)
    receivers = max(len(mesh.nodes) - 1, 1)
    return {
        "arrivals": arrivals,
        "blocks": {
            "mined": len(mined), "main_chain": main, "stale": len(mined) - main,
            "stale_rate": round((len(mined) - main) / len(mined), 4) if mined else 0.0,
            "final_height": max((s["height"] for s in final if s), default=None),
            "reorgs": len(reorgs), "max_reorg_depth": max((r["depth"] for r in reorgs), default=0),
        },
        "delays": delays,
        "held": held,
        "block_propagation_ms": percentiles(delays),
        "block_held_back_ms": {k: percentiles(v) for k, v in sorted(held.items())},
        "block_arrivals_excluded": excluded,
        "block_full_reach_ms": percentiles(list(per_block_max.values())),
        "block_propagation_by_link_ms": {k: percentiles(v) for k, v in sorted(by_link.items())},
        "tx_propagation_ms": percentiles(tx_delays),
        "bandwidth": {
            "bytes_in_by_message": dict(sorted(bytes_in.items())),
            "bytes_out_by_message": dict(sorted(bytes_out.items())),
            "total_bytes_out": sum(bytes_out.values()),
            "blocks_received": received,
            "blocks_first_seen_from_peers": firsts_from_peers,
            "duplicate_block_ratio": round(1 - firsts_from_peers / received, 4) if received else 0,
            # Received bytes of every message that carries or fetches blocks, per main-chain
            # block and receiving node.
            "block_bytes_per_block_per_node":
                round(block_bytes / (main * receivers)) if main else 0,
            "txs_received": txs_received,
            "txs_first_seen_from_peers": len(tx_first),
            "duplicate_tx_ratio":
                round(1 - len(tx_first) / txs_received, 4) if txs_received else 0,
        },
    }


# Messages that carry or fetch blocks (SPEC §4): their received bytes are a block's cost.
BLOCK_MESSAGE_TYPES = ("AnnounceBlock", "CompactBlock", "BlockInventory", "GetBlock",
                       "GetBlockTxs", "BlockTxs", "RequestChain", "Chain")


def chain_hashes_of(node):
    code, body = node.request("GET", "/chain", timeout=30)
    if code != 200:
        return [], []
    hashes = [hashlib.sha256(json.dumps(b, sort_keys=True).encode()).hexdigest()
              for b in body["chain"]]
    txids = {hashlib.sha256(json.dumps(t, sort_keys=True).encode()).hexdigest()
             for b in body["chain"] for t in b["transactions"]}
    return hashes, txids


def mempool_of(node):
    code, body = node.request("GET", "/transactions/pending", timeout=10)
    if code != 200:
        return set()
    return {hashlib.sha256(json.dumps(t, sort_keys=True).encode()).hexdigest()
            for t in body["transactions"]}


def plot_input(res, events, markers, groups, t0_ns, end_ns):
    """What netsim_plots.py draws: delays, best height per node over time, markers."""
    heights = {}
    for ev in events:
        if ev["ev"] == "block_seen":
            series = heights.setdefault(str(ev["node"]), [[0.0, 1]])
            series.append([round((ev["t_ns"] - t0_ns) / 1e9, 6),
                           max(ev["height"], series[-1][1])])
    return {"delays": res["delays"], "held": res["held"], "heights": heights,
            "markers": [[round((t - t0_ns) / 1e9, 6), kind] for t, kind, _ in sorted(markers)],
            "groups": {str(m): g for g, members in enumerate(groups) for m in members},
            "end": round((end_ns - t0_ns) / 1e9, 6)}


def plots(out, data):
    """Runs netsim_plots.py under this interpreter, else Debian's /usr/bin/python3, whichever
    imports matplotlib first. Returns (PNG names, a note on how they were drawn or why not)."""
    interpreters = [sys.executable]
    if SYSTEM_PYTHON.is_file() and SYSTEM_PYTHON.resolve() != Path(sys.executable).resolve():
        interpreters.append(str(SYSTEM_PYTHON))
    lacking = []
    for python in interpreters:
        proc = subprocess.run([python, str(PLOTTER), str(out)], input=json.dumps(data),
                              capture_output=True, text=True, errors="replace")
        if proc.returncode == 0:
            return proc.stdout.split(), f"drawn by {python}"
        if proc.returncode != EXIT_SKIP:
            return [], f"skipped: {PLOTTER.name} failed under {python}: {proc.stderr.strip()[-400:]}"
        lacking.append(python)
    return [], (f"skipped: matplotlib cannot be imported by {' or '.join(lacking)} "
                "(apt-get install python3-matplotlib)")


# ---------------------------------------------------------------- commands

def evaluate_checks(cfg, res, run, final, convergence, tx_check, crashes):
    checks = []

    def check(name, ok, detail):
        checks.append({"name": name, "ok": bool(ok), "detail": detail})

    tips = {s["tip"] for s in final if s}
    check("all_nodes_answer", all(final), f"{sum(1 for s in final if s)}/{len(final)} answered")
    check("no_node_crashed", not crashes, "; ".join(crashes[:3]) or "none")
    if cfg.get("converged", True):
        check("converged", len(tips) == 1, f"{len(tips)} distinct tips at the end")
    if "block_p99_ms_max" in cfg:
        p99 = res["block_propagation_ms"]["p99"]
        check("block_propagation_p99", p99 is not None and p99 < cfg["block_p99_ms_max"],
              f"p99 {p99} ms, limit {cfg['block_p99_ms_max']} ms")
    for after in ("heal", "restart", "mine", "relink"):
        key = f"{after}_converge_ms_max"
        if key in cfg:
            got = [c["ms"] for c in convergence if c["after"] == after]
            ok = bool(got) and all(m is not None and m < cfg[key] for m in got)
            worst = max((m for m in got if m is not None), default=None)
            check(f"{after}_convergence", ok, f"{len(got)} measured, worst {worst} ms "
                  f"({sum(m is None for m in got)} timed out), limit {cfg[key]} ms")
    if "min_blocks_mined" in cfg:
        check("blocks_mined", res["blocks"]["mined"] >= cfg["min_blocks_mined"],
              f"{res['blocks']['mined']} mined, at least {cfg['min_blocks_mined']}")
    if cfg.get("txs_not_lost", False):
        check("txs_not_lost", tx_check["lost"] == 0,
              f"{tx_check['submitted']} submitted: {tx_check['in_chain']} in the chain, "
              f"{tx_check['in_mempool']} back in their node's mempool, {tx_check['lost']} lost")
    if "txs_restored_min" in cfg:
        check("txs_restored", tx_check["in_mempool"] >= cfg["txs_restored_min"],
              f"{tx_check['in_mempool']} transactions of abandoned blocks back in the mempool, "
              f"at least {cfg['txs_restored_min']}")
    if cfg.get("reorg_seen", False):
        check("reorg_seen", res["blocks"]["reorgs"] > 0, f"{res['blocks']['reorgs']} reorgs")
    if cfg.get("hostile_unblamed", False):
        ok = bool(run.hostile) and all(
            h["connection"] == "closed" and h["bans_after"] is not None and
            h["bans_before"] is not None and h["bans_after"] == h["bans_before"]
            for h in run.hostile)
        check("hostile_unblamed", ok, "; ".join(
            f"from {h['from']} to {h['target']}: {h['connection']}, bans {h['bans_before']}"
            f" -> {h['bans_after']}" for h in run.hostile) or "no hostile step")
    expected = cfg.get(f"hostile_relinked_{run.mesh.net.kind}")
    if expected is not None:
        got = [h.get("relinked_ms") is not None for h in run.hostile]
        check("hostile_relinked", got == list(expected), "; ".join(
            f"{h.get('link')}: " + ("back after " + str(h["relinked_ms"]) + " ms"
                                    if h.get("relinked_ms") is not None else "stayed down")
            for h in run.hostile) + f" (expected {expected} on {run.mesh.net.kind})")
    check("no_step_errors", not run.errors, "; ".join(run.errors[:5]) or "none")
    return checks


def peer_hosts_check(mesh, answers):
    """Each answering node lists its ready peers (GET /nodes) at addresses of its live topology
    neighbours, and has at least one: with --netns every node has its own address, so a peer's
    address is where it really is (on loopback they would all be 127.0.0.1). Links still in
    their redial backoff after a partition are missing, not wrong; the detail counts them."""
    wrong, compared, up, links = [], 0, 0, 0
    for nd, body in zip(mesh.nodes, answers):
        if not isinstance(body, dict) or not nd.alive():
            continue
        compared += 1
        expected = {mesh.nodes[b if a == nd.index else a].host for a, b in mesh.edges
                    if nd.index in (a, b) and mesh.nodes[b if a == nd.index else a].alive()}
        seen = {p["address"].rsplit(":", 1)[0] for p in body.get("nodes", [])
                if p.get("state") == "ready"}
        up += len(seen & expected)
        links += len(expected)
        if not seen <= expected or (expected and not seen):
            wrong.append(f"node {nd.index} sees {sorted(seen)}, its links go to "
                         f"{sorted(expected)}")
    return {"name": "peers_at_their_own_addresses", "ok": compared > 0 and not wrong,
            "detail": f"{compared - len(wrong)}/{compared} nodes; {up} of {links} link ends "
                      "up" + (f"; {wrong[0]}" if wrong else "")}


def nodes_answer(node):
    try:
        code, body = node.request("GET", "/nodes", timeout=10)
        return body if code == 200 else None
    except OSError:
        return None


def tips_check(mesh, final, event_tips):
    """Whether the tip each live node's events show is the one its /status reports (None, no
    block in the events: the genesis block, height 1): the convergence waits rely on it."""
    compared = mismatched = 0
    first = None
    for nd, st in zip(mesh.nodes, final):
        if st is None or not nd.alive():
            continue
        compared += 1
        ours = event_tips[nd.index]
        if not (ours == st["tip"] or (ours is None and st["height"] == 1)):
            mismatched += 1
            first = first or f"node {nd.index}: events {ours}, /status {st['tip']}"
    return {"name": "event_tips_match_status", "ok": compared > 0 and mismatched == 0,
            "detail": f"{compared - mismatched}/{compared} nodes" + (f"; {first}" if first else "")}


class PhaseClock:
    """Wall time of each phase of a run, and CPU time (netsim's own, the machine's) at each
    boundary, for report.json's resources."""

    def __init__(self):
        self.t = time.monotonic()
        self.phases = {}
        self.marks = {}

    def lap(self, name):
        now = time.monotonic()
        self.phases[name + "_s"] = round(now - self.t, 3)
        self.t = now
        self.marks[name] = (now, self_cpu_s(), machine_cpu_s())

    def between(self, first, last):
        """(wall, netsim CPU, machine busy CPU, machine softirq CPU) seconds from the end of
        phase `first` to the end of phase `last`; the machine's None when /proc/stat cannot be
        read."""
        (t0, own0, m0), (t1, own1, m1) = self.marks[first], self.marks[last]
        if m0 is None or m1 is None:
            return t1 - t0, own1 - own0, None, None
        return t1 - t0, own1 - own0, m1[0] - m0[0], m1[1] - m0[1]


def make_net(args, n):
    # First of all, since picking n free ports holds n sockets at once: an event file per node
    # stays open for the run, plus a few per HTTP worker and the logs.
    raise_open_files(n + 256)
    bandwidth = getattr(args, "bandwidth_mbit", None)
    if args.netns:
        return NetnsNet(n, bandwidth)
    if bandwidth:
        raise UsageError("--bandwidth-mbit shapes each node's veth, so it needs --netns")
    return LoopbackNet(n, getattr(args, "base_port", None))


def node_resources(nd):
    u = nd.usage or {}
    mb = (lambda kb: round(kb / 1024, 1) if kb is not None else None)
    return {"cpu_s": nd.cpu_s(), "rss_mb": mb(u.get("rss_kb")),
            "peak_rss_mb": mb(u.get("peak_rss_kb")), "threads": u.get("threads")}


def resources(mesh, clock, wall_s):
    """What the run cost and who spent it: the nodes' CPU time and memory (from /proc, last read
    just before they were stopped), netsim's own CPU time, and the rest of the machine's."""
    per_node = [node_resources(nd) for nd in mesh.nodes]
    nodes_cpu = sum(r["cpu_s"] for r in per_node)
    mesh_wall, own, machine, softirq = clock.between("build", "stop")
    cpus = os.cpu_count() or 1
    out = {
        "cpus": cpus,
        "phases_s": clock.phases,
        "startup_s": getattr(mesh, "startup", None),
        "mesh_wall_s": round(mesh_wall, 3),
        "nodes_cpu_s": round(nodes_cpu, 3),
        "node_cpu_s": percentiles([r["cpu_s"] for r in per_node]),
        "node_rss_mb": percentiles([r["rss_mb"] for r in per_node if r["rss_mb"] is not None]),
        "node_peak_rss_mb": percentiles([r["peak_rss_mb"] for r in per_node
                                         if r["peak_rss_mb"] is not None]),
        "node_threads_max": max((r["threads"] or 0 for r in per_node), default=0),
        "netsim_cpu_s_during_mesh": round(own, 3),
        "netsim_cpu_s_total": round(self_cpu_s(), 3),
        "netsim_peak_rss_mb": round(self_peak_rss_kb() / 1024, 1),
        "machine_busy_cpu_s": None if machine is None else round(machine, 3),
        "other_cpu_s": None if machine is None else round(machine - nodes_cpu - own, 3),
        "machine_softirq_cpu_s": None if softirq is None else round(softirq, 3),
        "cpu_busy_fraction": None if machine is None else round(machine / (mesh_wall * cpus), 3),
    }
    if machine is not None:
        out["note"] = (f"during the mesh's {mesh_wall:.1f} s the {cpus} CPUs were "
                       f"{out['cpu_busy_fraction']:.0%} busy: nodes {nodes_cpu:.1f} CPU-s, "
                       f"netsim {own:.1f}, other work {out['other_cpu_s']:.1f} (of which "
                       f"softirq {softirq:.1f})")
    return out


def cmd_run(args):
    scenario_path = Path(args.scenario)
    scenario = tomllib.loads(scenario_path.read_text())
    seed = args.seed if args.seed is not None else scenario.get("seed")
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out / "nodes", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    n = int(scenario.get("nodes", 8))
    topo = scenario.get("topology", {})
    kind, k = topo.get("kind", "random-k"), int(topo.get("k", 3))
    log(f"scenario {scenario.get('name', scenario_path.stem)}: {n} nodes, {kind}"
        f"{f' k={k}' if kind == 'random-k' else ''}, seed {seed} "
        f"(repeat with --seed {seed})")
    if args.netns:
        unsupported = [i for i, st in enumerate(scenario.get("steps", []))
                       if st.get("action") == "latency"]
        if unsupported:
            raise UsageError(f"step {unsupported[0]}: latency steps are the nodes' own link "
                             "shaping (POST /admin/links), which a node refuses off a loopback "
                             "--bind, so they cannot run with --netns (docs/netsim.md)")
    clock = PhaseClock()
    binary = find_node(args.node)
    clock.lap("build")
    started_ns = time.time_ns()
    net = mesh = run = None
    try:
        net = make_net(args, n)
        clock.lap("network_setup")
        mesh = Mesh(binary, n, kind, k, rng, out / "nodes", int(scenario.get("difficulty", 3)),
                    scenario.get("pow", "linked"), net)
        run = Run(scenario, mesh, rng, out)
        mesh.start(float(scenario.get("startup_timeout_s", 15 + n * 0.25)))
        clock.lap("startup")
        if args.dashboard:
            run.dashboard = start_dashboard(mesh, args.dashboard_port)
        up_ns = time.time_ns()
        log(f"mesh up in {(up_ns - started_ns) / 1e9:.2f} s")
        run.mark("up")
        for i, step in enumerate(scenario.get("steps", [])):
            run.step(i, step)
        run.join_background()
        final_wait = run.mesh.wait_converged(float(scenario.get("final_timeout_s", 10)))
        run.convergence.append({"after": "end", "step": None,
                                "ms": None if final_wait is None else round(final_wait, 3)})
        clock.lap("steps")
        final = mesh.statuses(mesh.nodes)
        event_tips = [nd.follow().tip_hash() if nd.alive() else None for nd in mesh.nodes]
        tips = tips_check(mesh, final, event_tips)
        hosts = (peer_hosts_check(mesh, list(mesh.pool.map(nodes_answer, mesh.nodes)))
                 if not net.admin else None)
        crashes = [story for nd in mesh.nodes
                   for story in nd.crashes + ([nd.exit_story()] if nd.crashed() else [])]
        ref = next((nd for nd, st in zip(mesh.nodes, final) if st), None)
        chain_hashes, chain_txids = chain_hashes_of(ref) if ref else ([], set())
        tx_check = {"submitted": len(run.txs), "in_chain": 0, "in_mempool": 0, "lost": 0}
        pools = {}
        for txid, idx, _, _ in run.txs:
            node = mesh.nodes[idx]
            if txid in chain_txids:
                tx_check["in_chain"] += 1
                continue
            # A restarted node keeps its mempool (it is stored before the 201), so it counts too.
            if idx not in pools:
                pools[idx] = mempool_of(node) if node.alive() else set()
            if txid in pools[idx]:
                tx_check["in_mempool"] += 1
            else:
                tx_check["lost"] += 1
        clock.lap("final_queries")
    finally:
        ended_ns = time.time_ns()
        if run:
            run.stop_background.set()
            if run.dashboard:
                run.dashboard.close()
        if mesh:
            mesh.close()
            clock.lap("stop")
        if net:
            left = net.close()
            clock.lap("network_teardown")
    network = dict(net.describe(), left_after_teardown=left)
    events = read_events(mesh)
    with open(out / "events.ndjson", "w") as f:
        for ev in events:
            f.write(json.dumps(ev, separators=(",", ":")) + "\n")
    res = analyse(run, events, final, set(chain_hashes))
    with open(out / "block_arrivals.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["hash", "height", "origin", "node", "t_mined_ns", "t_seen_ns", "delay_ms"])
        w.writerows(res["arrivals"])
    checks = evaluate_checks(scenario.get("checks", {}), res, run, final, run.convergence,
                             tx_check, crashes)
    checks.insert(1, tips)
    if hosts:
        checks.insert(2, hosts)
    passed = all(c["ok"] for c in checks)
    report = {
        "schema": SCHEMA,
        "run": {"seed": seed, "started_ns": started_ns, "duration_s": round((ended_ns - started_ns) / 1e9, 3),
                "git_revision": git_revision(), "node_binary": str(binary),
                "scenario_file": str(scenario_path), "cpus": os.cpu_count()},
        "config": {"nodes": n,
                   "topology": {"kind": kind, "k": mesh.k,
                                "edges": [list(e) for e in mesh.edges], "connected": True},
                   "links": {"final_delay_ms": run.shaping["delay_ms"],
                             "final_jitter_ms": run.shaping["jitter_ms"]},
                   "network": network,
                   "difficulty": int(scenario.get("difficulty", 3)),
                   "pow": scenario.get("pow", "linked"),
                   "scenario": {"name": scenario.get("name", scenario_path.stem),
                                "description": scenario.get("description", ""),
                                "steps": scenario.get("steps", []),
                                "checks": scenario.get("checks", {})}},
        "blocks": res["blocks"],
        "block_propagation_ms": res["block_propagation_ms"],
        "block_held_back_ms": res["block_held_back_ms"],
        "block_arrivals_excluded": res["block_arrivals_excluded"],
        "block_full_reach_ms": res["block_full_reach_ms"],
        "block_propagation_by_link_ms": res["block_propagation_by_link_ms"],
        "tx_propagation_ms": res["tx_propagation_ms"],
        "convergence": run.convergence,
        "transactions": tx_check,
        "bandwidth": res["bandwidth"],
        "nodes": [{"index": nd.index, "url": nd.url, "alive_at_end": st is not None,
                   "restarts": nd.incarnation, "height": st and st["height"],
                   "tip": st and st["tip"], "mempool": st and st["mempool"],
                   "peers": st and st["peers"], "degree": mesh.degree[nd.index],
                   "event_tip": event_tips[nd.index], **node_resources(nd)}
                  for nd, st in zip(mesh.nodes, final)],
        "resources": None,  # filled in last, so netsim's own CPU time includes the analysis
        "hostile": run.hostile,
        "markers": [{"t_ns": t, "kind": kd, "detail": d} for t, kd, d in run.markers],
        "warnings": run.warnings,
        "checks": checks,
        "pass": passed,
    }
    report["plots"], report["plots_note"] = plots(
        out, plot_input(res, events, run.markers, run.first_groups, up_ns, ended_ns))
    clock.lap("analysis")
    report["resources"] = resources(mesh, clock, (ended_ns - started_ns) / 1e9)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    write_report_html(out, report)
    summary(report, out)
    if not args.keep:
        # Data dirs and per-node logs are large at 256 nodes; events.ndjson holds the record.
        shutil.rmtree(out / "nodes", ignore_errors=True)
    return EXIT_OK if passed else EXIT_FAIL


def summary(r, out):
    b, p, t = r["blocks"], r["block_propagation_ms"], r["tx_propagation_ms"]
    print(f"--- {r['config']['scenario']['name']}: {r['config']['nodes']} nodes "
          f"{r['config']['topology']['kind']}, seed {r['run']['seed']}, "
          f"{r['run']['duration_s']} s")
    print(f"blocks: {b['mined']} mined, {b['main_chain']} on the main chain, {b['stale']} stale, "
          f"{b['reorgs']} reorgs (max depth {b['max_reorg_depth']}), final height {b['final_height']}")
    print(f"block propagation ms: p50 {p['p50']} p90 {p['p90']} p99 {p['p99']} max {p['max']} "
          f"({p['count']} arrivals)")
    for release, h in r["block_held_back_ms"].items():
        print(f"blocks held back until the {release}, ms after it: p50 {h['p50']} p99 {h['p99']} "
              f"max {h['max']} ({h['count']} arrivals)")
    print(f"tx propagation ms:    p50 {t['p50']} p99 {t['p99']} ({t['count']} arrivals)")
    w = r["bandwidth"]
    print(f"block bytes received per block per node: {w.get('block_bytes_per_block_per_node')}; "
          f"duplicates: blocks {w['duplicate_block_ratio']}, "
          f"transactions {w.get('duplicate_tx_ratio')}")
    conv = [(c["after"], c["ms"]) for c in r["convergence"] if c["after"] != "mine"]
    if conv:
        print("convergence ms: " + ", ".join(f"{a} {m}" for a, m in conv))
    for c in r["checks"]:
        print(f"  [{'ok' if c['ok'] else 'FAIL'}] {c['name']}: {c['detail']}")
    res = r["resources"]
    print(f"resources: nodes {res['nodes_cpu_s']} CPU-s (per node p50 {res['node_cpu_s']['p50']}"
          f" max {res['node_cpu_s']['max']}), RSS per node p50 {res['node_rss_mb']['p50']} max "
          f"{res['node_rss_mb']['max']} MiB; netsim {res['netsim_cpu_s_total']} CPU-s")
    if res.get("note"):
        print(f"  {res['note']}")
    print("phases s: " + ", ".join(f"{k[:-2]} {v}" for k, v in res["phases_s"].items()))
    print(f"plots: {', '.join(r['plots']) or 'none'} ({r['plots_note']})")
    print(f"{'PASS' if r['pass'] else 'FAIL'}; report in {out / 'report.json'} and "
          f"{out / 'report.html'}")


def start_dashboard(mesh, port):
    dashboard = MeshDashboard(mesh, port)
    log(f"mesh view: {dashboard.url} (each node's own: "
        f"{mesh.nodes[0].url}/dashboard ... {mesh.nodes[-1].url}/dashboard)")
    return dashboard


def tutorial_requests(first, second):
    """The tutorial's requests, as curl lines against two nodes of the mesh (URLs)."""
    tx = ('{"sender": "d4ee26eee15148ee92c6cd394edd974e", "recipient": "someone-other-address", '
          '"amount": 5}')
    post = "curl -s -X POST -H 'Content-Type: application/json' -d"
    return [f"curl -s {first}/mine",
            f"{post} '{tx}' {first}/transactions/new",
            f"curl -s {second}/mine",
            f"curl -s {first}/chain",
            f"{post} '{{\"nodes\": [\"{second}\"]}}' {first}/nodes/register",
            f"curl -s {first}/nodes/resolve"]


def cmd_up(args):
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    if args.base_port is not None and args.netns:
        raise UsageError("--base-port is for loopback; with --netns every node listens on "
                         f"port {NODE_PORT} of its own address")
    if args.base_port is not None and not 1 <= args.base_port <= 65536 - args.nodes:
        raise UsageError(f"--base-port {args.base_port}: ports must lie in 1-65535")
    binary = find_node(args.node)
    workdir = Path(tempfile.mkdtemp(prefix="netsim-up-"))
    log(f"{args.nodes} nodes, {args.topology}, seed {seed}, data in {workdir}")
    net = mesh = dashboard = None
    try:
        net = make_net(args, args.nodes)
        mesh = Mesh(binary, args.nodes, args.topology, args.k, rng, workdir, args.difficulty,
                    "linked", net)
        mesh.start(15 + args.nodes * 0.25)
        for node in mesh.nodes:
            print(f"node {node.index:3d}  {node.url}  events {node.dir}/events-0.ndjson",
                  flush=True)
        print(f"edges: {' '.join(f'{a}-{b}' for a, b in mesh.edges)}", flush=True)
        if len(mesh.nodes) >= 2:
            print("the tutorial's requests (the nodes are already linked by gossip, so a block "
                  "mined on one is in every node's /chain at once):")
            for line in tutorial_requests(mesh.nodes[0].url, mesh.nodes[1].url):
                print(f"  {line}")
        dashboard = start_dashboard(mesh, args.dashboard_port) if args.dashboard else None
        log("mesh up; Ctrl-C stops every node and removes the data")
        while True:
            time.sleep(1)
            dead = [n for n in mesh.nodes if not n.alive()]
            if dead:
                raise Failed("; ".join(n.exit_story() for n in dead))
    finally:
        if dashboard:
            dashboard.close()
        if mesh:
            mesh.close()
        if net:
            net.close()
        shutil.rmtree(workdir, ignore_errors=True)


def cmd_clean(_args):
    """Removes namespaces, veths and bridges that --netns runs which are gone left behind."""
    try:
        Netns.check_available()
        stale = Netns(1).clean_stale()
    except NetnsUnavailable as e:
        raise CannotRun(str(e)) from e
    log(f"removed what {len(stale)} ended runs left ({', '.join(map(str, stale)) or 'none'})")
    return EXIT_OK


def write_stub_report(args, outcome):
    """A run that ended early still replaces DIR/report.json, so no stale report misleads."""
    if args.command == "run" and Path(args.out).is_dir():
        report = {"schema": SCHEMA, "run": {"scenario_file": args.scenario,
                                            "git_revision": git_revision()}, **outcome}
        (Path(args.out) / "report.json").write_text(json.dumps(report, indent=2) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="netsim.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="run a scenario file and write a report")
    run_p.add_argument("scenario")
    run_p.add_argument("--out", required=True, help="directory for report.json and the rest")
    run_p.add_argument("--node", help="gossipchain binary (default: build-release, built if missing)")
    run_p.add_argument("--seed", type=int, help="override the scenario's seed")
    run_p.add_argument("--keep", action="store_true", help="keep per-node data dirs and logs")
    up_p = sub.add_parser("up", help="start a mesh and keep it running until Ctrl-C")
    up_p.add_argument("--nodes", type=int, required=True)
    up_p.add_argument("--topology", choices=TOPOLOGIES, default="random-k")
    up_p.add_argument("--k", type=int, default=3, help="outbound links per node for random-k")
    up_p.add_argument("--difficulty", type=int, default=4)
    up_p.add_argument("--node")
    up_p.add_argument("--seed", type=int)
    up_p.add_argument("--base-port", type=int,
                      help="ports BASE..BASE+N-1 on loopback (the tutorial's: --base-port 5000)")
    sub.add_parser("clean", help="remove what crashed --netns runs left (namespaces, links)")
    for p in (run_p, up_p):
        p.add_argument("--netns", action="store_true",
                       help="every node in its own network namespace and address (root)")
        p.add_argument("--bandwidth-mbit", type=float,
                       help="with --netns: shape each node's link to this rate (tc tbf)")
        p.add_argument("--dashboard", action="store_true",
                       help="serve the mesh view (the nodes' /events aggregated) on loopback")
        p.add_argument("--dashboard-port", type=int, default=0,
                       help="port of the mesh view (default: any free one, printed)")
    args = parser.parse_args(argv)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        commands = {"run": cmd_run, "up": cmd_up, "clean": cmd_clean}
        return commands[args.command](args)
    except (CannotRun, LimitHit) as e:
        log(f"cannot run here: {e}")
        write_stub_report(args, {"pass": None, "skipped": str(e)})
        return EXIT_SKIP
    except KeyboardInterrupt:
        log("interrupted; every node was stopped")
        return 130 if args.command == "run" else EXIT_OK
    except (ValueError, KeyError, TypeError, tomllib.TOMLDecodeError) as e:
        log(f"bad scenario or arguments: {e!r}")
        return EXIT_USAGE
    except RuntimeError as e:  # Failed, and steps that could not be carried out
        log(f"FAILED: {e}")
        write_stub_report(args, {"pass": False, "error": str(e)})
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
