#!/usr/bin/env python3
"""Times a fresh gossipchain node syncing a long chain from one peer over loopback, against the
tutorial's way of getting the same chain (download /chain as JSON, run valid_chain over it).

Node A starts empty at difficulty 1 and mines --blocks blocks through GET /mine on one keep-alive
connection (afresh in every run of this script). Then, --runs
times, a fresh node B starts with --peer A; the sync time is from just before B's process is
spawned until B's GET /status reports A's height, polled every 10 ms. The tutorial side, also
--runs times: urllib GET A's /chain, json.loads, and python_compare.py's valid_chain (the
tutorial's loop, linked rule, difficulty 1, as A's network uses). The best run of each counts,
because other processes on a shared machine only ever slow a run down; every run is printed.

mine() is also used by http_bench.sh; mine(), status() and free_port() by store_bench.py;
Nodes, wait_height() and time_tutorial_sync() by scale_bench.py.

Usage: tools/bench/sync_bench.py [--node build-bench-rel/bin/gossipchain] [--blocks 100000]
                                 [--runs 3] [--log-level info]
"""

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from python_compare import CHAIN_DIFFICULTY, chain_proof_linked, valid_chain  # noqa: E402

# How often B's /status is polled while it syncs, in seconds.
POLL_INTERVAL_SECONDS = 0.010
# How long a node may take to answer its first /status, in seconds.
START_DEADLINE_SECONDS = 10.0
# How long one sync may take before the run is reported as failed, in seconds.
SYNC_DEADLINE_SECONDS = 120.0
# The target for a 100,000-block sync, in seconds.
SYNC_TARGET_SECONDS = 2.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status(port: int) -> Optional[dict]:
    """The node's /status, or None while it does not answer yet."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=1) as response:
            return json.load(response)
    except OSError:
        return None


def wait_for_status(port: int, process: subprocess.Popen) -> dict:
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"node on port {port} exited with {process.returncode}")
        answer = status(port)
        if answer is not None:
            return answer
        time.sleep(POLL_INTERVAL_SECONDS)
    raise RuntimeError(f"node on port {port} did not answer /status")


def mine(port: int, count: int) -> float:
    """Mines `count` blocks with GET /mine over one keep-alive connection; returns the seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start = time.perf_counter()
    for _ in range(count):
        connection.request("GET", "/mine")
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"/mine answered {response.status}: {body[:200]!r}")
    connection.close()
    return time.perf_counter() - start


class Nodes:
    """Starts gossipchain processes and always stops them, even when a run fails."""

    def __init__(self, binary: str, workdir: str):
        self.binary = binary
        self.workdir = workdir
        self.processes: List[subprocess.Popen] = []

    def start(self, name: str, port: int, extra: List[str]) -> subprocess.Popen:
        log = open(os.path.join(self.workdir, f"{name}.log"), "w")
        process = subprocess.Popen(
            [self.binary, "--port", str(port), "--data-dir", os.path.join(self.workdir, name),
             "--difficulty", str(CHAIN_DIFFICULTY)] + extra,
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.remove(process)

    def stop_all(self) -> None:
        for process in list(self.processes):
            self.stop(process)


def wait_height(port: int, process: subprocess.Popen, height: int, start: float,
                deadline: float = SYNC_DEADLINE_SECONDS) -> float:
    """Seconds from `start` until the node's /status height equals `height`."""
    while time.perf_counter() - start < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"node on port {port} exited with {process.returncode}")
        answer = status(port)
        if answer is not None and answer["height"] == height:
            return time.perf_counter() - start
        time.sleep(POLL_INTERVAL_SECONDS)
    raise RuntimeError(f"node on port {port} did not reach height {height} in {deadline} s")


def time_sync(nodes: Nodes, run: int, peer_port: int, height: int, log_level: str) -> float:
    """Seconds from spawning a fresh B until B's /status height equals `height`."""
    port = free_port()
    start = time.perf_counter()
    process = nodes.start(f"b{run}", port, ["--peer", f"127.0.0.1:{peer_port}",
                                            "--log-level", log_level])
    try:
        return wait_height(port, process, height, start)
    finally:
        nodes.stop(process)


def time_tutorial_sync(peer_port: int) -> List[float]:
    """[download, parse, validate] seconds of the tutorial's resolve_conflicts work for one peer."""
    start = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{peer_port}/chain", timeout=60) as response:
        body = response.read()
    downloaded = time.perf_counter()
    chain = json.loads(body)["chain"]
    parsed = time.perf_counter()
    if not valid_chain(chain, chain_proof_linked):
        raise RuntimeError("the tutorial's valid_chain rejected A's chain")
    return [downloaded - start, parsed - downloaded, time.perf_counter() - parsed]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", default="build-bench-rel/bin/gossipchain",
                        help="path to the gossipchain binary (a Release build)")
    parser.add_argument("--blocks", type=int, default=100000, help="blocks A mines")
    parser.add_argument("--runs", type=int, default=3, help="syncs of each kind; the best counts")
    parser.add_argument("--log-level", default="info",
                        help="B's --log-level (info, the default, logs one line per block)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sync_bench.") as workdir:
        nodes = Nodes(args.node, workdir)
        try:
            port_a = free_port()
            node_a = nodes.start("a", port_a, ["--log-level", "warn"])
            wait_for_status(port_a, node_a)
            seconds = mine(port_a, args.blocks)
            height = status(port_a)["height"]
            print(f"A mined {args.blocks} blocks in {seconds:.1f} s "
                  f"({args.blocks / seconds:,.0f} /mine per second); height {height}")

            syncs = [time_sync(nodes, run, port_a, height, args.log_level)
                     for run in range(args.runs)]
            tutorial = [time_tutorial_sync(port_a) for _ in range(args.runs)]
        finally:
            nodes.stop_all()

    print(f"gossipchain B (--log-level {args.log_level}) synced {height - 1} blocks in: "
          + ", ".join(f"{s:.3f}" for s in syncs) + " s")
    best = min(syncs)
    print(f"  best {best:.3f} s (target < {SYNC_TARGET_SECONDS:g} s: "
          f"{'meets' if best < SYNC_TARGET_SECONDS else 'MISSES'})")
    print("tutorial (urllib GET /chain + json.loads + valid_chain), download/parse/validate:")
    for download, parse, validate in tutorial:
        print(f"  {download:.3f} + {parse:.3f} + {validate:.3f} = "
              f"{download + parse + validate:.3f} s")
    best_tutorial = min(sum(run) for run in tutorial)
    print(f"  best {best_tutorial:.3f} s; gossipchain is {best_tutorial / best:.1f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
