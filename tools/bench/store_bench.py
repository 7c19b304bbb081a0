#!/usr/bin/env python3
"""Storage benchmarks of a gossipchain node (docs/benchmarks.md, "Storage").

1. Start-up with a large stored chain: a node mines BLOCKS blocks at difficulty 1 through GET /mine
   (one keep-alive connection), stops with SIGTERM, then is started RUNS times on that data
   directory; reported are the node's own "loaded in X s" figure (open + quick_check + reading,
   hashing and parsing every block + rebuilding the tree and mempool) and the wall time from exec
   to the first answered GET /status.
2. Sustained accepted transactions per second: a fresh node per durability (normal, full) takes
   POST /transactions/new from wrk (-t1 -cCONNECTIONS -dSECONDS, a Lua script; the node assigns
   each transaction a random id, so every request is a new transaction). Reported: 201 answers
   per second, non-201 answers, and transactions per SQLite commit (from /metrics).
3. With --sync-blocks N: a fresh node per durability syncs N blocks from a peer (time until its
   /status height reaches the peer's, and until all N are in its database).

Usage: tools/bench/store_bench.py [--node build-store/bin/gossipchain] [--blocks 100000]
       [--runs 3] [--seconds 3] [--connections 16] [--skip-startup] [--sync-blocks 2000]
Needs wrk and python3; every process started here is killed on exit.
"""

import argparse
import http.client
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_bench import free_port, mine, status  # noqa: E402

LOADED_RE = re.compile(r"(\d+) blocks, (\d+) pending transactions, \d+ peers loaded in ([0-9.]+) s")
WRK_LUA = """
wrk.method = "POST"
wrk.body = '{"sender": "alice", "recipient": "bob", "amount": 5}'
wrk.headers["Content-Type"] = "application/json"
"""


class Node:
    """One gossipchain process with its log file; stopped (SIGKILL if need be) by close()."""

    def __init__(self, binary, data_dir, log_path, extra):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.started = time.perf_counter()
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--data-dir", data_dir, "--difficulty", "1"] +
            extra, stdout=self.log, stderr=subprocess.STDOUT)
        self.listen_seconds = 0.0
        deadline = time.time() + 60
        while time.time() < deadline and self.process.poll() is None:
            # The node listens before it loads its store: ready means /status answered.
            if status(self.port) is not None:
                self.listen_seconds = time.perf_counter() - self.started
                return
            time.sleep(0.002)
        raise RuntimeError(f"node did not start: {self.text()[-2000:]}")

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def close(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def metric(port, name):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    match = re.search(rf"^{name} (\d+)", text, re.M)
    return int(match.group(1)) if match else 0


def startup(args, work):
    data_dir = os.path.join(work, "big")
    node = Node(args.node, data_dir, os.path.join(work, "mine.log"), [])
    start = time.perf_counter()
    try:
        mine(node.port, args.blocks)
    finally:
        node.close()
    print(f"mined {args.blocks} blocks in {time.perf_counter() - start:.1f} s; "
          f"database {os.path.getsize(os.path.join(data_dir, 'chain.sqlite')) / 1e6:.1f} MB")
    for run in range(args.runs):
        node = Node(args.node, data_dir, os.path.join(work, f"start{run}.log"), [])
        match = LOADED_RE.search(node.text())
        node.close()
        print(f"start {run + 1}: {match.group(1)} blocks loaded in {match.group(3)} s; "
              f"exec to answering /status {node.listen_seconds:.3f} s")


def throughput(args, work):
    script = os.path.join(work, "post.lua")
    with open(script, "w") as f:
        f.write(WRK_LUA)
    for durability in ("normal", "full"):
        data_dir = os.path.join(work, f"tx-{durability}")
        # Logging every accepted transaction at info level would measure the log file instead.
        node = Node(args.node, data_dir, os.path.join(work, f"tx-{durability}.log"),
                    ["--durability", durability, "--log-level", "warn"])
        try:
            out = subprocess.run(
                ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "-s", script,
                 f"http://127.0.0.1:{node.port}/transactions/new"],
                capture_output=True, text=True, check=True).stdout
            requests = int(re.search(r"(\d+) requests in", out).group(1))
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            non2xx = int(non2xx.group(1)) if non2xx else 0
            commits = metric(node.port, "gossipchain_store_commits_total")
            accepted = requests - non2xx
            print(f"{durability}: {accepted / args.seconds:,.0f} accepted tx/s "
                  f"({requests} requests, {non2xx} not 201, {commits} commits, "
                  f"{accepted / max(commits, 1):.1f} tx per commit)")
        finally:
            node.close()


def stored_blocks(data_dir):
    """Main-chain rows in a node's database, read while it runs (WAL lets a reader in)."""
    db = sqlite3.connect(f"file:{os.path.join(data_dir, 'chain.sqlite')}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM main_chain").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        db.close()


def sync_cost(args, work):
    """A fresh node syncs SYNC_BLOCKS blocks from a peer, once per durability."""
    source = Node(args.node, os.path.join(work, "sync-source"), os.path.join(work, "src.log"),
                  ["--log-level", "warn"])
    try:
        mine(source.port, args.sync_blocks)
        for durability in ("normal", "full"):
            data_dir = os.path.join(work, f"sync-{durability}")
            node = Node(args.node, data_dir, os.path.join(work, f"sync-{durability}.log"),
                        ["--log-level", "warn", "--durability", durability,
                         "--peer", f"127.0.0.1:{source.port}"])
            start = time.perf_counter()
            while (status(node.port) or {}).get("height", 0) < args.sync_blocks + 1:
                time.sleep(0.005)
            reached = time.perf_counter() - start
            # The node may answer the new height before its commit is done: time that too.
            while stored_blocks(data_dir) < args.sync_blocks:
                time.sleep(0.005)
            print(f"sync {args.sync_blocks} blocks, {durability}: height reached in "
                  f"{reached:.3f} s, all stored in {time.perf_counter() - start:.3f} s")
            node.close()
    finally:
        source.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", default="build-store/bin/gossipchain")
    parser.add_argument("--blocks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--sync-blocks", type=int, default=0,
                        help="also time a fresh node syncing this many blocks (0: skip)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("store_bench.py: wrk is missing (apt-get install wrk)")
    work = tempfile.mkdtemp(prefix="store_bench.")
    try:
        if not args.skip_startup:
            startup(args, work)
        throughput(args, work)
        if args.sync_blocks:
            sync_cost(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
