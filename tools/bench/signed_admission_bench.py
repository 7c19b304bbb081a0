#!/usr/bin/env python3
"""Mempool admission of signed transfers over HTTP (docs/benchmarks.md, "Signed rules").

A node on --rules signed (header rule, difficulty 1) mines FUNDING blocks through GET /mine, so
its reward account holds FUNDING coins. The reward account then pays SENDERS fresh accounts
FUNDING // SENDERS - 1 coins each (one block confirms it). Each sender then signs its transfers
of 1 coin (nonces 0, 1, ...) ahead of time, with Python's `cryptography` Ed25519 (OpenSSL), and
one client process per sender POSTs them to /transactions/new over one keep-alive connection,
WINDOW requests pipelined at a time (one connection keeps a sender's nonces in order, as the
mempool requires). Reported: 201 answers per second over the whole burst (first request sent to
last answer read), and the answers that were not 201. Every one of them is a signature check, a
ledger check and a durable SQLite commit (group-committed) on the node; the clients share the
machine's cores with it.

With --rules open the same clients post as many tutorial-style transactions ({"sender",
"recipient", "amount"}; the node adds the id) to a node on the open rules, no funding needed:
the side-by-side figure that tells the signature and ledger checks from the HTTP, the store and
the clients themselves.

Usage: tools/bench/signed_admission_bench.py [--node build-release/bin/gossipchain]
       [--funding 4000] [--senders 2] [--window 64] [--rules signed|open]
Needs python3 with python3-cryptography (Debian); every process started here is killed on exit.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_bench import free_port, mine, status, wait_for_status  # noqa: E402

DOMAIN = "gossipchain/tx\n"


def canonical(obj):
    return json.dumps(obj, sort_keys=True)


def address(private):
    return private.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw).hex()


def sign(private, recipient, amount, nonce, network):
    unsigned = {"amount": amount, "nonce": nonce, "recipient": recipient,
                "sender": address(private)}
    signature = private.sign((DOMAIN + network + "\n" + canonical(unsigned)).encode()).hex()
    return dict(unsigned, signature=signature)


def wallet_key(path):
    with open(path, encoding="ascii") as f:
        seed = [line for line in f.read().splitlines() if line and not line.startswith("#")][0]
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed))


def post(port, tx):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/transactions/new", json.dumps(tx),
                       {"Content-Type": "application/json"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status != 201:
        raise RuntimeError(f"funding transfer refused ({response.status}): {body[:200]!r}")


def read_response(stream):
    """Reads one HTTP response from a buffered socket file; returns its status."""
    line = stream.readline()
    status_code = int(line.split()[1])
    length = 0
    while True:
        header = stream.readline()
        if header in (b"\r\n", b""):
            break
        name, _, value = header.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    stream.read(length)
    return status_code


def client(port, bodies, window, ready, results):
    sock = socket.create_connection(("127.0.0.1", port))
    stream = sock.makefile("rb")
    requests = [(f"POST /transactions/new HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(b)}\r\n\r\n").encode()
                + b for b in bodies]
    ready.wait()
    ok = refused = 0
    for first in range(0, len(requests), window):
        chunk = requests[first:first + window]
        sock.sendall(b"".join(chunk))
        for _ in chunk:
            if read_response(stream) == 201:
                ok += 1
            else:
                refused += 1
    results.put((ok, refused, time.perf_counter()))
    sock.close()


def fund_and_sign(port, network, workdir, funding, sender_count, each):
    """Mines `funding` coins, pays `each` to every sender, and signs their transfers."""
    mine(port, funding)
    payer = wallet_key(workdir + "/node/reward_wallet")
    senders = [Ed25519PrivateKey.generate() for _ in range(sender_count)]
    for nonce, sender in enumerate(senders):
        post(port, sign(payer, address(sender), each, nonce, network))
    mine(port, 1)
    sink = address(Ed25519PrivateKey.generate())
    return [[json.dumps(sign(s, sink, 1, n, network)).encode() for n in range(each)]
            for s in senders]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--node", default="build-release/bin/gossipchain")
    parser.add_argument("--funding", type=int, default=4000)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--rules", choices=["signed", "open"], default="signed")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="signed-bench.")
    port = free_port()
    node = subprocess.Popen([args.node, "--port", str(port), "--data-dir", workdir + "/node",
                             "--rules", args.rules, "--difficulty", "1", "--log-level", "warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first = wait_for_status(port, node)
        each = args.funding // args.senders - 1
        if args.rules == "open":
            bodies = [[json.dumps({"sender": f"s{s}", "recipient": "sink", "amount": n + 1})
                       .encode() for n in range(each)] for s in range(args.senders)]
        else:
            bodies = fund_and_sign(port, first["network"], workdir, args.funding, args.senders,
                                   each)
        # Every client connects and builds its requests, then all start at once.
        ready = multiprocessing.Barrier(len(bodies) + 1)
        results = multiprocessing.Queue()
        workers = [multiprocessing.Process(target=client,
                                           args=(port, b, args.window, ready, results))
                   for b in bodies]
        for worker in workers:
            worker.start()
        ready.wait()
        began = time.perf_counter()
        answers = [results.get(timeout=600) for _ in workers]
        for worker in workers:
            worker.join()
        elapsed = max(end for _, _, end in answers) - began
        ok = sum(a[0] for a in answers)
        refused = sum(a[1] for a in answers)
        pending = status(port)["mempool"]
        print(json.dumps({"rules": args.rules, "senders": args.senders, "window": args.window,
                          "transfers": ok + refused, "accepted": ok, "refused": refused,
                          "seconds": round(elapsed, 3),
                          "accepted_per_second": round(ok / elapsed),
                          "mempool_after": pending}))
    finally:
        node.kill()
        node.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
