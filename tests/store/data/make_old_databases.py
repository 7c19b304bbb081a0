#!/usr/bin/env python3
"""Writes tests/store/data/schema<N>.sqlite: databases as older gossipchain builds wrote them,
which tests/store/schema_test.cpp upgrades in place. Each comes from a real node of that build:
started on a fresh data directory at difficulty 1, it mines three blocks through GET /mine,
takes one transaction through POST /transactions/new (left pending), registers one peer address
through POST /nodes/register, and stops on SIGTERM. Kept for the record; the files are checked in.

Usage: make_old_databases.py SCHEMA=BINARY ...
  e.g. 1=/tmp/build-schema1/bin/gossipchain (commit 410b134, schema 1)
       2=/tmp/build-schema2/bin/gossipchain (commit b1e821d, schema 2)
       3=/tmp/build-release/bin/gossipchain (commit bd80652, schema 3)
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

OUT = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as response:
        return response.read()


def make(schema, binary):
    workdir = tempfile.mkdtemp(prefix=f"schema{schema}.")
    port = free_port()
    node = subprocess.Popen([binary, "--port", str(port), "--data-dir", workdir,
                             "--difficulty", "1", "--log-level", "warn"])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                request(port, "/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        for _ in range(3):
            request(port, "/mine")
        request(port, "/transactions/new", {"sender": "alice", "recipient": "bob", "amount": 5})
        request(port, "/nodes/register", {"nodes": ["http://127.0.0.1:1"]})
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(timeout=10)
    shutil.copyfile(os.path.join(workdir, "chain.sqlite"),
                    os.path.join(OUT, f"schema{schema}.sqlite"))
    shutil.rmtree(workdir)


def main():
    for arg in sys.argv[1:]:
        schema, binary = arg.split("=", 1)
        make(schema, binary)


if __name__ == "__main__":
    main()
