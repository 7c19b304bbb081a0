#!/usr/bin/env python3
"""Chain engine at scale (issue 15): sync, memory and start-up of a node holding 100,000 and
1,000,000 blocks, side by side with the tutorial's way in the same run.

The chains are not mined through GET /mine (about 1,300 blocks per second: 13 minutes for a
million) but written by `gossipchain_bench make-chain` (tools/bench/make_chain.cpp): every block
is built from the node's own block template (one reward transaction with a fresh id, as /mine
makes it), gets a valid linked proof at difficulty 1, and passes ChainState::ProcessBlock, the
full validation a peer's block gets, before it is stored; one second between timestamps. So a
data directory holds exactly what a node that mined the chain would hold, and the syncing node
below validates every block again as it arrives.

Measured, each --runs times (every run printed; the best counts, since other processes on a
shared machine only ever slow a run down):
1. start-up: a node on each data directory, from exec until /status answers with the full
   height, and the node's own "loaded in X s"; its resident set (VmRSS) once loaded.
2. sync: node A on the 100,000-block directory; a fresh node B with --peer A, timed from spawn
   until B's /status shows A's height (start-up, handshake, locator sync, validation, storage);
   B's peak resident set (VmHWM) when it got there. The tutorial's way in the same run:
   GET A's /chain, json.loads, valid_chain (sync_bench.time_tutorial_sync).
3. GET /chain of each directory's node over one connection: MB/s and the node's VmHWM growth.
4. idle: a fresh node on an empty directory, VmRSS 3 s after its first /status answer (as
   http_bench.sh measures it).

Usage: tools/bench/scale_bench.py --node build-release/bin/gossipchain
           --bench build-release/bin/gossipchain_bench [--runs 3] [--big-blocks 1000000]
           [--work DIR (keep the data directories there and reuse them on the next run)]
Every process started here is stopped on exit.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from python_compare import CHAIN_DIFFICULTY  # noqa: E402
from sync_bench import Nodes, free_port, time_tutorial_sync, wait_height  # noqa: E402

LOADED_RE = re.compile(r"(\d+) blocks, \d+ pending transactions, \d+ peers loaded in ([0-9.]+) s")
# Idle resident set is read this long after the first /status answer (http_bench.sh does so).
IDLE_SETTLE_SECONDS = 3.0
# Bytes read per call while timing GET /chain.
READ_CHUNK_BYTES = 1 << 20


class DirNodes(Nodes):
    """sync_bench's Nodes, on a data directory the caller names."""

    def start(self, name, port, extra, data_dir=None):
        log = open(os.path.join(self.workdir, f"{name}.log"), "w")
        process = subprocess.Popen(
            [self.binary, "--port", str(port), "--data-dir",
             data_dir or os.path.join(self.workdir, name), "--difficulty", str(CHAIN_DIFFICULTY)]
            + extra, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.processes.append(process)
        return process


def proc_kib(pid, field):
    """VmRSS, VmHWM, ... of a process in KiB, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def make_chain(bench, data_dir, blocks):
    """The data directory of `blocks` blocks after genesis (reused when it already has them)."""
    marker = data_dir + ".done"
    if os.path.exists(marker):
        print(f"reusing {data_dir} ({blocks} blocks)")
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    start = time.perf_counter()
    out = subprocess.run([bench, "make-chain", "--dir", data_dir, "--blocks", str(blocks)],
                         check=True, capture_output=True, text=True).stdout.strip()
    print(f"{out}\n  (wall {time.perf_counter() - start:.1f} s, database "
          f"{os.path.getsize(os.path.join(data_dir, 'chain.sqlite')) / 1e6:.0f} MB)")
    open(marker, "w").close()


def start_on(nodes, name, data_dir, height):
    """A node on `data_dir`: (process, port, seconds to a full /status, node's loaded-in)."""
    port = free_port()
    start = time.perf_counter()
    process = nodes.start(name, port, ["--log-level", "info"], data_dir)
    seconds = wait_height(port, process, height, start)
    with open(os.path.join(nodes.workdir, f"{name}.log")) as f:
        match = LOADED_RE.search(f.read())
    return process, port, seconds, float(match.group(2)) if match else float("nan")


def get_chain(port, pid):
    """(MB/s, bytes, node VmHWM growth in KiB) of one GET /chain, read as it arrives."""
    before = proc_kib(pid, "VmHWM")
    start = time.perf_counter()
    size = 0
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/chain", timeout=300) as response:
        while True:
            piece = response.read(READ_CHUNK_BYTES)
            if not piece:
                break
            size += len(piece)
    seconds = time.perf_counter() - start
    return size / seconds / 1e6, size, proc_kib(pid, "VmHWM") - before


def bench_directory(nodes, label, data_dir, height, runs):
    """Start-up and GET /chain of one data directory."""
    for run in range(runs):
        process, port, seconds, loaded = start_on(nodes, f"{label}-start{run}", data_dir, height)
        rss = proc_kib(process.pid, "VmRSS")
        try:
            rate, size, growth = get_chain(port, process.pid)
            chain = (f"GET /chain {size / 1e6:.1f} MB at {rate:.0f} MB/s, "
                     f"VmHWM +{growth / 1024:.1f} MiB")
        except OSError as error:
            # Today's node drops a /chain answer above its per-connection write queue (256 MiB).
            chain = f"GET /chain FAILED ({error!r}), VmHWM {proc_kib(process.pid, 'VmHWM') // 1024} MiB"
        nodes.stop(process)
        print(f"{label} start {run + 1}: exec to /status at height {height} {seconds:.3f} s "
              f"(node: loaded in {loaded:.3f} s); RSS loaded {rss / 1024:.1f} MiB; {chain}")


def bench_sync(nodes, data_dir, height, runs, workdir):
    """A fresh node syncing `data_dir`'s chain from one peer, and the tutorial's way."""
    source, port_a, _, _ = start_on(nodes, "sync-source", data_dir, height)
    try:
        for run in range(runs):
            port = free_port()
            start = time.perf_counter()
            process = nodes.start(f"sync{run}", port,
                                  ["--peer", f"127.0.0.1:{port_a}", "--log-level", "warn"])
            seconds = wait_height(port, process, height, start)
            peak = proc_kib(process.pid, "VmHWM")
            nodes.stop(process)
            shutil.rmtree(os.path.join(workdir, f"sync{run}"), ignore_errors=True)
            print(f"sync {run + 1}: fresh node reached height {height} from one peer in "
                  f"{seconds:.3f} s; its peak RSS {peak / 1024:.1f} MiB")
        for run in range(runs):
            download, parse, validate = time_tutorial_sync(port_a)
            print(f"tutorial {run + 1}: GET /chain {download:.3f} + json.loads {parse:.3f} + "
                  f"valid_chain {validate:.3f} = {download + parse + validate:.3f} s")
    finally:
        nodes.stop(source)


def bench_idle(nodes, runs, workdir):
    for run in range(runs):
        port = free_port()
        process = nodes.start(f"idle{run}", port, ["--log-level", "warn"])
        wait_height(port, process, 1, time.perf_counter())
        time.sleep(IDLE_SETTLE_SECONDS)
        rss = proc_kib(process.pid, "VmRSS")
        nodes.stop(process)
        shutil.rmtree(os.path.join(workdir, f"idle{run}"), ignore_errors=True)
        print(f"idle {run + 1}: RSS {rss} KiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", default="build-release/bin/gossipchain")
    parser.add_argument("--bench", default="build-release/bin/gossipchain_bench")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--blocks", type=int, default=100_000, help="the synced chain")
    parser.add_argument("--big-blocks", type=int, default=1_000_000,
                        help="the large chain (0: skip it)")
    parser.add_argument("--work", help="keep data directories here (default: a temporary one)")
    parser.add_argument("--skip", default="", help="comma list of: sync,idle,small,big")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    work = args.work or tempfile.mkdtemp(prefix="scale_bench.")
    os.makedirs(work, exist_ok=True)
    small = os.path.join(work, f"chain{args.blocks}")
    big = os.path.join(work, f"chain{args.big_blocks}")
    print(f"node {args.node}, load average {os.getloadavg()[0]:.2f}")
    nodes = DirNodes(args.node, work)
    try:
        make_chain(args.bench, small, args.blocks)
        if "idle" not in skip:
            bench_idle(nodes, args.runs, work)
        if "sync" not in skip:
            bench_sync(nodes, small, args.blocks + 1, args.runs, work)
        if "small" not in skip:
            bench_directory(nodes, f"{args.blocks}", small, args.blocks + 1, args.runs)
        if args.big_blocks and "big" not in skip:
            make_chain(args.bench, big, args.big_blocks)
            bench_directory(nodes, f"{args.big_blocks}", big, args.big_blocks + 1, args.runs)
    finally:
        nodes.stop_all()
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
