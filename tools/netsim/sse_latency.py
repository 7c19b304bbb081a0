#!/usr/bin/env python3
"""How long a block takes from being accepted by a node to arriving on that node's /events stream.

  python3 tools/netsim/sse_latency.py --node build/bin/gossipchain [--blocks 200]

Starts nodes A and B (B linked to A, difficulty 1), follows B's GET /events, mines blocks on A
one at a time, and for each block takes the time it arrived on the stream (this process's
CLOCK_REALTIME) minus the "time" in the event (B's CLOCK_REALTIME when B accepted it; same
machine, same clock), and minus A's mining time (A's own stream, "source": "self"). Prints
p50 / p99 / max of both. The suite only asserts that the event arrives; this measures it.
"""

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "integration"))
from dashboard_browser_test import get, start_node, wait  # noqa: E402


class Stream:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        self.buffer = b""

    def next_block(self, timeout=10):
        self.sock.settimeout(timeout)
        while True:
            while b"\n\n" in self.buffer:
                frame, self.buffer = self.buffer.split(b"\n\n", 1)
                if b"event: block\n" in frame:
                    data = frame.split(b"data: ", 1)[1].split(b"\n", 1)[0]
                    return time.time(), json.loads(data)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("stream closed")
            self.buffer += chunk


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", required=True)
    parser.add_argument("--blocks", type=int, default=200)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="sse-latency-")
    processes = []
    try:
        a, a_port = start_node(args.node, root, "a")
        processes.append(a)
        b, b_port = start_node(args.node, root, "b", peers=[f"127.0.0.1:{a_port}"])
        processes.append(b)
        wait(lambda: get(b_port, "/status")["peers"] >= 1)
        stream_a, stream_b = Stream(a_port), Stream(b_port)
        local, relayed = [], []
        for _ in range(args.blocks):
            get(a_port, "/mine")
            _, mined = stream_a.next_block()
            arrived, seen = stream_b.next_block()
            assert seen["hash"] == mined["hash"], (seen, mined)
            local.append((arrived - seen["time"]) * 1000.0)
            relayed.append((arrived - mined["time"]) * 1000.0)
        for name, values in (("accepted by B -> on B's /events", local),
                             ("mined on A -> on B's /events", relayed)):
            print(f"{name}: p50 {pct(values, 0.5):.3f} ms, p99 {pct(values, 0.99):.3f} ms, "
                  f"max {max(values):.3f} ms ({len(values)} blocks)")
    finally:
        for process in processes:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
