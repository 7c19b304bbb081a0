#!/usr/bin/env python3
"""Measures what one new block costs a mesh in received gossip bytes (issue 14's figure): N nodes
on loopback with default peer exchange (each dials two earlier nodes with --peer and fills its
outbound target from what peers tell it), 200 transactions submitted to node 0 and awaited until
every node holds them in its mempool, then one block mined on node 0 and awaited on every node.
For each node the growth of gossipchain_bytes_in_total over the block's message types (whole
blocks, compact blocks, announcements, requests and answers for missing transactions, sync
answers) is divided by the size of the block's canonical JSON. Repeated --blocks times; the
mean and the worst node are printed, with the time from the /mine call (mining included) until
the last node had the block.

Give several --node binaries to measure them side by side in one run (each on its own fresh
mesh, one after the other, --rounds times in turn).

Usage: tools/bench/block_relay_bench.py --node A/bin/gossipchain [--node B/bin/gossipchain]
           [--nodes 32] [--blocks 5] [--txs 200] [--rounds 1]
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_bench import free_port, status  # noqa: E402

# Message types that carry or fetch blocks.
BLOCK_TYPES = ("AnnounceBlock", "CompactBlock", "BlockInventory", "GetBlock", "GetBlockTxs",
               "BlockTxs", "RequestChain", "Chain")
# How long the mesh may take to link up, the transactions to spread, a block to arrive (s).
DEADLINE_S = 60.0
METRIC = re.compile(r'^gossipchain_bytes_in_total\{message="([A-Za-z]+)"\} (\d+)$')


def get(port, path, timeout=10):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.read()


def post(port, path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.status


def bytes_in(port):
    out = {}
    for line in get(port, "/metrics").decode().splitlines():
        m = METRIC.match(line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def wait(condition, what):
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {what}")


def run_mesh(binary, n, blocks, txs, seed):
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="block-relay-bench-")
    procs, ports = [], []
    try:
        for i in range(n):
            port = free_port()
            args = [binary, "--port", str(port), "--data-dir", f"{work}/{i}", "--difficulty", "2",
                    "--log-level", "warn"]
            for peer in rng.sample(ports, min(2, len(ports))):
                args += ["--peer", f"127.0.0.1:{peer}"]
            procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                          stderr=open(f"{work}/{i}.log", "w")))
            ports.append(port)
        wait(lambda: all(status(p) for p in ports), "every node to answer")
        # Links settle: every node has filled its outbound target or knows no more addresses.
        wait(lambda: all(status(p)["peers"] >= min(8, n - 1) for p in ports), "the mesh")
        time.sleep(1.0)
        ratios, reach = [], []
        by_type = {}
        for b in range(blocks):
            for t in range(txs):
                post(ports[0], "/transactions/new",
                     {"sender": f"s{b}", "recipient": "r", "amount": t + 1})
            wait(lambda: all(len(json.loads(get(p, "/transactions/pending"))["transactions"])
                             >= txs for p in ports), "the transactions everywhere")
            before = [bytes_in(p) for p in ports]
            height = status(ports[0])["height"] + 1
            t0 = time.monotonic()
            get(ports[0], "/mine")
            wait(lambda: all(status(p)["height"] >= height for p in ports), "the block")
            reach.append((time.monotonic() - t0) * 1000)
            shown = json.loads(get(ports[0], f"/blocks/{height}"))
            block = {k: shown[k] for k in ("index", "timestamp", "transactions", "proof",
                                           "previous_hash")}
            size = len(json.dumps(block, sort_keys=True).encode())
            time.sleep(0.3)  # late announcements and duplicates count too
            after = [bytes_in(p) for p in ports]
            for i in range(1, n):
                got = 0
                for t in BLOCK_TYPES:
                    delta = after[i].get(t, 0) - before[i].get(t, 0)
                    got += delta
                    by_type[t] = by_type.get(t, 0) + delta
                ratios.append(got / size)
        per = (n - 1) * blocks
        print("  per node per block, bytes by message: " +
              ", ".join(f"{t} {b / per:.0f}" for t, b in sorted(by_type.items()) if b), flush=True)
        return ratios, reach, size
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--node", action="append", required=True)
    ap.add_argument("--nodes", type=int, default=32)
    ap.add_argument("--blocks", type=int, default=5)
    ap.add_argument("--txs", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--seed", type=int, default=32)
    args = ap.parse_args()
    results = {node: ([], [], 0) for node in args.node}
    for r in range(args.rounds):
        for node in args.node:
            ratios, reach, size = run_mesh(node, args.nodes, args.blocks, args.txs, args.seed + r)
            results[node][0].extend(ratios)
            results[node][1].extend(reach)
            results[node] = (results[node][0], results[node][1], size)
            print(f"round {r + 1} {node}: mean {statistics.mean(ratios):.2f} block sizes, "
                  f"worst node {max(ratios):.2f}, last node after "
                  f"{statistics.median(reach):.0f} ms (median)", flush=True)
    print(f"\n{args.nodes} nodes, {args.txs}-transaction blocks already in every mempool, "
          f"{args.blocks * args.rounds} blocks per binary")
    print("| binary | block size (B) | received per node (block sizes) mean | worst node | "
          "/mine to last node (ms, median) |")
    print("|---|---:|---:|---:|---:|")
    for node, (ratios, reach, size) in results.items():
        print(f"| {node} | {size} | {statistics.mean(ratios):.2f} | {max(ratios):.2f} | "
              f"{statistics.median(reach):.0f} |")


if __name__ == "__main__":
    main()
