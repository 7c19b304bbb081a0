#!/usr/bin/env python3
"""netsim: launch a mesh of real gossipchain processes on loopback, run a scenario, report.

  python3 tools/netsim/netsim.py run SCENARIO.toml --out DIR   run a scenario, write DIR/report.json
  python3 tools/netsim/netsim.py up --nodes N --topology KIND  start a mesh, print URLs, wait for ^C

Nodes record events (--events, one JSON line each, CLOCK_REALTIME nanoseconds); one machine means
one clock, so first-seen times across nodes subtract to exact propagation delays. Latency and
partitions are applied by the nodes themselves through their loopback-only admin endpoint
(--admin, POST /admin/links), since the kernel here has no netem. See docs/netsim.md.

Exit status: 0 every check held; 1 a check failed, a step failed, a node crashed or the mesh did
not come up; 2 a bad scenario file or command line; 77 the scenario cannot run here (no toolchain
to build the node, no loopback, Python older than 3.11); 130 interrupted.
Python standard library only; plots are drawn by netsim_plots.py under an interpreter that has
matplotlib (this one, else Debian's /usr/bin/python3), and skipped with the reason otherwise.
"""

import argparse
import bisect
import concurrent.futures
import csv
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

def free_ports(count):
    """Ports the kernel hands out now; all sockets are held until every port is picked."""
    socks, ports = [], []
    try:
        for _ in range(count):
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


def request(port, method, path, body=None, timeout=10.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
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
    """Reads a node's event file as it grows and keeps the highest block height in it."""

    def __init__(self, incarnation, path):
        self.incarnation = incarnation
        self.path = path
        self.file = None
        self.highest = 0
        self.partial = b""  # a line still being written

    def height(self):
        if self.file is None:
            try:
                self.file = open(self.path, "rb")
            except OSError:
                return self.highest
        lines = (self.partial + self.file.read()).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            if b'"ev":"block_' not in line:
                continue
            try:
                self.highest = max(self.highest, int(json.loads(line).get("height", 0)))
            except (ValueError, TypeError):
                continue
        return self.highest

    def close(self):
        if self.file is not None:
            self.file.close()


class Node:
    def __init__(self, index, port, workdir, binary, args):
        self.index = index
        self.port = port
        self.dir = workdir / f"node-{index:03d}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.binary = binary
        self.args = args  # extra flags (difficulty, --peer ...)
        self.proc = None
        self.incarnation = -1
        self.tail = None  # EventTail of the current incarnation's event file
        self.down_since = None
        self.crashes = []  # exit_story() of each incarnation that ended by itself

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def seen_height(self):
        """Highest block height in this incarnation's event file so far (read incrementally)."""
        if self.tail is None or self.tail.incarnation != self.incarnation:
            if self.tail is not None:
                self.tail.close()
            self.tail = EventTail(self.incarnation,
                                  self.dir / f"events-{self.incarnation}.ndjson")
        return self.tail.height()

    def start(self):
        if self.crashed():
            self.crashes.append(self.exit_story())
        self.incarnation += 1
        cmd = [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1",
               "--data-dir", str(self.dir / "data"), "--admin", "--target-outbound", "0",
               "--events", str(self.dir / f"events-{self.incarnation}.ndjson"),
               "--log-level", "warn"] + self.args
        out = open(self.dir / f"node-{self.incarnation}.log", "wb")
        # Own process group: cleanup kills the group, and ^C in the terminal reaches only us.
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self.down_since = None

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

    def kill9(self):
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.down_since = time.time_ns()

    def stop(self, grace_s=3.0):
        if not self.alive():
            return
        self.down_since = time.time_ns()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=grace_s)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def status(self):
        try:
            code, body = request(self.port, "GET", "/status", timeout=5)
            return body if code == 200 and isinstance(body, dict) else None
        except OSError:
            return None


class Mesh:
    """N node processes on loopback with a fixed dial topology; always torn down by close()."""

    def __init__(self, binary, n, kind, k, rng, workdir, difficulty, pow_rule):
        self.kind, self.k = kind, (k if kind == "random-k" else None)
        self.edges = build_topology(kind, n, k, rng)
        self.degree = [0] * n
        for a, b in self.edges:
            self.degree[a] += 1
            self.degree[b] += 1
        ports = free_ports(n)
        self.nodes = []
        for i in range(n):
            peers = []
            for a, b in self.edges:
                if a == i:
                    peers += ["--peer", f"127.0.0.1:{ports[b]}"]
            args = ["--difficulty", str(difficulty), "--pow", pow_rule, "--threads", "1"] + peers
            self.nodes.append(Node(i, ports[i], workdir, binary, args))
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(32, max(4, n)))

    def start(self, timeout_s):
        for node in self.nodes:
            node.start()
        self.wait_ready(self.nodes, timeout_s)

    def wait_ready(self, nodes, timeout_s):
        """Until each node answers HTTP and has a ready link for every topology edge."""
        deadline = time.monotonic() + timeout_s
        pending = list(nodes)
        while pending:
            for node in pending:
                if not node.alive():
                    raise Failed(f"a node crashed while starting: {node.exit_story()}")
            states = list(self.pool.map(lambda nd: nd.status(), pending))
            late = [(nd, st) for nd, st in zip(pending, states)
                    if st is None or st.get("peers", 0) < self.live_degree(nd)]
            pending = [nd for nd, _ in late]
            if pending and time.monotonic() > deadline:
                nd, st = late[0]
                why = ("does not answer /status" if st is None else
                       f"has {st.get('peers', 0)} of {self.live_degree(nd)} links ready")
                raise Failed(f"the mesh did not come up: {len(pending)} nodes not ready after "
                             f"{timeout_s:.0f} s (node {nd.index} {why}; log {nd.log_path})")
            if pending:
                time.sleep(0.05)

    def live_degree(self, node):
        i = node.index
        return sum(1 for a, b in self.edges
                   if (a == i and self.nodes[b].alive()) or (b == i and self.nodes[a].alive()))

    def live(self):
        return [n for n in self.nodes if n.alive()]

    def statuses(self, nodes=None):
        nodes = nodes if nodes is not None else self.live()
        return list(self.pool.map(lambda nd: nd.status(), nodes))

    def wait_height_seen(self, height, timeout_s):
        """Until every live node's event file shows a block at `height` or above (or the
        timeout). Reading the files costs the nodes nothing, where polling /status of every node
        every few milliseconds would compete with the propagation it waits for (at 256 nodes on
        2 cores, a poll round is hundreds of HTTP requests)."""
        deadline = time.monotonic() + timeout_s
        pending = self.live()
        while pending and time.monotonic() < deadline:
            pending = [nd for nd in pending if nd.seen_height() < height]
            if pending:
                time.sleep(0.02)

    def wait_converged(self, timeout_s, height=None):
        """Milliseconds until every live node reports one tip, or None at the timeout. With
        `height`, first waits for the nodes' event files to show a block that high."""
        start = time.monotonic()
        if height is not None:
            self.wait_height_seen(height, timeout_s)
        while True:
            states = self.statuses()
            tips = {s["tip"] if s else None for s in states}
            if len(tips) == 1 and None not in tips:
                return (time.monotonic() - start) * 1000.0
            if time.monotonic() - start > timeout_s:
                return None
            time.sleep(0.01)

    def close(self):
        threads = [threading.Thread(target=n.stop) for n in self.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
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

    def mark(self, kind, detail=""):
        with self.lock:
            self.markers.append((time.time_ns(), kind, detail))
        if self.dashboard:
            self.dashboard.mark(kind, detail)

    def mine(self, index):
        node = self.mesh.nodes[index]
        try:
            code, body = request(node.port, "GET", "/mine", timeout=60)
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
            code, _ = request(node.port, "POST", "/transactions/new", tx, timeout=10)
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
            code, answer = request(node.port, "POST", "/admin/links", body)
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
            for node in mesh.nodes:
                g = group_of.get(node.index)
                blocked = [o.address for o in mesh.nodes
                           if o is not node and group_of.get(o.index) != g]
                self.set_links(node.index, {"blocked": blocked})
        elif action == "heal":
            t0 = time.monotonic()
            self.mark("heal")
            for node in mesh.nodes:
                self.set_links(node.index, {"blocked": []})
            self.record_convergence(i, "heal", t0, step)
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
            for node in targets:  # a restarted node starts without shaping
                if self.shaping["delay_ms"]:
                    self.set_links(node.index, self.shaping)
            self.record_convergence(i, "restart", t0, step)
        elif action == "wait_converged":
            self.record_convergence(i, "wait", time.monotonic(), step)
        else:
            raise ValueError(f"step {i}: unknown action {action!r}")

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
    for node in mesh.nodes:
        for inc in range(node.incarnation + 1):
            last = None
            for ev in events:
                if ev["node"] == node.index and ev["inc"] == inc and ev["ev"] == "traffic":
                    last = ev
            if last:
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


def chain_hashes_of(port):
    code, body = request(port, "GET", "/chain", timeout=30)
    if code != 200:
        return [], []
    hashes = [hashlib.sha256(json.dumps(b, sort_keys=True).encode()).hexdigest()
              for b in body["chain"]]
    txids = {hashlib.sha256(json.dumps(t, sort_keys=True).encode()).hexdigest()
             for b in body["chain"] for t in b["transactions"]}
    return hashes, txids


def mempool_of(port):
    code, body = request(port, "GET", "/transactions/pending", timeout=10)
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
    for after in ("heal", "restart", "mine"):
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
    check("no_step_errors", not run.errors, "; ".join(run.errors[:5]) or "none")
    return checks


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
    binary = find_node(args.node)
    mesh = Mesh(binary, n, kind, k, rng, out / "nodes", int(scenario.get("difficulty", 3)),
                scenario.get("pow", "linked"))
    started_ns = time.time_ns()
    run = Run(scenario, mesh, rng, out)
    try:
        mesh.start(float(scenario.get("startup_timeout_s", 15 + n * 0.25)))
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
        final = mesh.statuses(mesh.nodes)
        crashes = [story for nd in mesh.nodes
                   for story in nd.crashes + ([nd.exit_story()] if nd.crashed() else [])]
        ref = next((nd for nd, st in zip(mesh.nodes, final) if st), None)
        chain_hashes, chain_txids = chain_hashes_of(ref.port) if ref else ([], set())
        tx_check = {"submitted": len(run.txs), "in_chain": 0, "in_mempool": 0, "lost": 0}
        pools = {}
        for txid, idx, _, _ in run.txs:
            node = mesh.nodes[idx]
            if txid in chain_txids:
                tx_check["in_chain"] += 1
                continue
            # A restarted node keeps its mempool (it is stored before the 201), so it counts too.
            if idx not in pools:
                pools[idx] = mempool_of(node.port) if node.alive() else set()
            if txid in pools[idx]:
                tx_check["in_mempool"] += 1
            else:
                tx_check["lost"] += 1
    finally:
        ended_ns = time.time_ns()
        run.stop_background.set()
        if run.dashboard:
            run.dashboard.close()
        mesh.close()
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
                   "peers": st and st["peers"], "degree": mesh.degree[nd.index]}
                  for nd, st in zip(mesh.nodes, final)],
        "markers": [{"t_ns": t, "kind": kd, "detail": d} for t, kd, d in run.markers],
        "warnings": run.warnings,
        "checks": checks,
        "pass": passed,
    }
    report["plots"], report["plots_note"] = plots(
        out, plot_input(res, events, run.markers, run.first_groups, up_ns, ended_ns))
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
    print(f"plots: {', '.join(r['plots']) or 'none'} ({r['plots_note']})")
    print(f"{'PASS' if r['pass'] else 'FAIL'}; report in {out / 'report.json'} and "
          f"{out / 'report.html'}")


def start_dashboard(mesh, port):
    dashboard = MeshDashboard(mesh, port)
    log(f"mesh view: {dashboard.url} (each node's own: "
        f"{mesh.nodes[0].url}/dashboard ... {mesh.nodes[-1].url}/dashboard)")
    return dashboard


def cmd_up(args):
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    binary = find_node(args.node)
    workdir = Path(tempfile.mkdtemp(prefix="netsim-up-"))
    log(f"{args.nodes} nodes, {args.topology}, seed {seed}, data in {workdir}")
    mesh = Mesh(binary, args.nodes, args.topology, args.k, rng, workdir, args.difficulty, "linked")
    dashboard = None
    try:
        mesh.start(15 + args.nodes * 0.25)
        for node in mesh.nodes:
            print(f"node {node.index:3d}  {node.url}  events {node.dir}/events-0.ndjson",
                  flush=True)
        print(f"edges: {' '.join(f'{a}-{b}' for a, b in mesh.edges)}", flush=True)
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
        mesh.close()
        shutil.rmtree(workdir, ignore_errors=True)


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
    for p in (run_p, up_p):
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
        return cmd_run(args) if args.command == "run" else cmd_up(args)
    except CannotRun as e:
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
