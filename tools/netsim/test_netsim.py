#!/usr/bin/env python3
"""Self-test of tools/netsim (ctest netsim_selftest; standard library only).

  python3 tools/netsim/test_netsim.py [-v]

Covers the pure parts of netsim.py (topologies, percentiles, who could reach whom during
partitions and downtime and what each block arrival measures), the following of node event
files (start, links, tips) that the waits rely on, the --netns set-up, partition and tear-down
commands (netsim_netns.py, against a fake `ip` that keeps the namespaces and links it was told
to make), the machine-limit checks (netsim_proc.py), and netsim's exit codes, with fake node
binaries that crash or never answer, so a broken node fails a run instead of skipping it.
The plot test runs where some interpreter has matplotlib.
"""

import contextlib
import importlib.util
import io
import json
import os
import random
import re
import socket
import stat
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import netsim  # noqa: E402
import netsim_netns as nn  # noqa: E402
import netsim_proc  # noqa: E402

MS = 1_000_000  # nanoseconds


def out_degrees(n, edges):
    out = [0] * n
    for a, _ in edges:
        out[a] += 1
    return out


class Topology(unittest.TestCase):
    def test_every_kind_is_connected_without_self_links_or_repeated_pairs(self):
        for kind in netsim.TOPOLOGIES:
            for n in (2, 3, 5, 8, 16, 64):
                with self.subTest(kind=kind, n=n):
                    edges = netsim.build_topology(kind, n, 3, random.Random(n))
                    self.assertTrue(netsim.connected(n, edges))
                    pairs = [frozenset(e) for e in edges]
                    self.assertTrue(all(len(p) == 2 for p in pairs))
                    self.assertEqual(len(pairs), len(set(pairs)))
                    self.assertTrue(all(0 <= x < n for e in edges for x in e))

    def test_fixed_kinds_have_their_shape(self):
        n = 10
        rng = random.Random(1)
        self.assertEqual(len(netsim.build_topology("line", n, 0, rng)), n - 1)
        self.assertEqual(len(netsim.build_topology("ring", n, 0, rng)), n)
        self.assertEqual(netsim.build_topology("star", n, 0, rng), [(i, 0) for i in range(1, n)])
        self.assertEqual(len(netsim.build_topology("full", n, 0, rng)), n * (n - 1) // 2)

    def test_random_k_gives_each_node_k_outbound_links_when_k_fits(self):
        for n, k in ((8, 2), (16, 3), (64, 8), (256, 8), (7, 3), (9, 4), (11, 5), (20, 9)):
            for seed in range(5):
                with self.subTest(n=n, k=k, seed=seed):
                    edges = netsim.build_topology("random-k", n, k, random.Random(seed))
                    self.assertEqual(out_degrees(n, edges), [k] * n)
                    self.assertTrue(netsim.connected(n, edges))

    def test_random_k_beyond_half_of_n_dials_what_is_left(self):
        # With k > (n - 1) / 2 the first nodes dial k and later ones only those not linked yet.
        for n, k in ((4, 3), (5, 3), (5, 8)):
            with self.subTest(n=n, k=k):
                edges = netsim.build_topology("random-k", n, k, random.Random(0))
                self.assertEqual(out_degrees(n, edges)[0], min(k, n - 1))
                self.assertTrue(all(d <= k for d in out_degrees(n, edges)))
                self.assertTrue(netsim.connected(n, edges))

    def test_random_k_repeats_from_its_seed(self):
        a = netsim.build_topology("random-k", 64, 8, random.Random(64))
        b = netsim.build_topology("random-k", 64, 8, random.Random(64))
        c = netsim.build_topology("random-k", 64, 8, random.Random(65))
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)

    def test_limits_and_unknown_kinds_are_errors(self):
        with self.assertRaises(ValueError):
            netsim.build_topology("star", 200, 0, random.Random(0))
        with self.assertRaises(ValueError):
            netsim.build_topology("mesh", 8, 2, random.Random(0))

    def test_connected(self):
        self.assertTrue(netsim.connected(3, [(0, 1), (2, 1)]))
        self.assertFalse(netsim.connected(4, [(0, 1), (2, 3)]))


class Percentiles(unittest.TestCase):
    def test_nearest_rank(self):
        p = netsim.percentiles(list(range(100, 0, -1)))
        self.assertEqual((p["count"], p["p50"], p["p90"], p["p95"], p["p99"], p["max"]),
                         (100, 50, 90, 95, 99, 100))

    def test_small_and_empty(self):
        self.assertEqual(netsim.percentiles([7.0])["p99"], 7.0)
        p = netsim.percentiles([1, 2, 3])
        self.assertEqual((p["p50"], p["p90"], p["max"]), (2, 3, 3))
        self.assertEqual(netsim.percentiles([]),
                         {"count": 0, "p50": None, "p90": None, "p95": None, "p99": None,
                          "max": None})


class Reachability(unittest.TestCase):
    # A ring of 6: halves {0, 1, 2} and {3, 4, 5} stay connected inside (0-1-2 and 3-4-5).
    N = 6
    EDGES = [(i, (i + 1) % 6) for i in range(6)]

    def states(self, markers):
        return netsim.reach_states(self.N, self.EDGES, markers)

    def test_components_follow_partitions_and_downtime(self):
        live = [True] * 6
        self.assertEqual(len(set(netsim.components(6, self.EDGES, live, {}))), 1)
        halves = {m: g for g, ms in enumerate(netsim.halves(6)) for m in ms}
        comp = netsim.components(6, self.EDGES, live, halves)
        self.assertEqual(comp[0], comp[2])
        self.assertNotEqual(comp[0], comp[3])
        live[1] = False  # a line 2-3-4-5-0 remains
        comp = netsim.components(6, self.EDGES, live, {})
        self.assertIsNone(comp[1])
        self.assertEqual(comp[2], comp[0])

    def test_block_inside_a_partition_propagates_to_its_side_and_is_held_from_the_other(self):
        markers = [(100 * MS, "partition", json.dumps(netsim.halves(6))), (500 * MS, "heal", "")]
        states = self.states(markers)
        # Mined on node 0 at 200 ms: node 2 (same side) at 203 ms is propagation ...
        self.assertEqual(netsim.classify_arrival(states, 0, 2, 200 * MS, 203 * MS),
                         ("propagation", None, 3.0))
        # ... node 4 (other side) at 510 ms waited for the heal: 10 ms after it.
        self.assertEqual(netsim.classify_arrival(states, 0, 4, 200 * MS, 510 * MS),
                         ("held", "heal", 10.0))
        # Seen across the cut before the heal: not a delay of either kind.
        self.assertEqual(netsim.classify_arrival(states, 0, 4, 200 * MS, 300 * MS),
                         ("excluded", None, None))

    def test_block_cut_in_flight_by_a_partition_is_excluded(self):
        states = self.states([(100 * MS, "partition", json.dumps(netsim.halves(6)))])
        self.assertEqual(netsim.classify_arrival(states, 0, 1, 50 * MS, 60 * MS),
                         ("propagation", None, 10.0))
        self.assertEqual(netsim.classify_arrival(states, 0, 1, 50 * MS, 150 * MS),
                         ("excluded", None, None))

    def test_a_down_node_is_held_until_its_restart(self):
        states = self.states([(100 * MS, "kill", "3"), (400 * MS, "restart", "3")])
        self.assertEqual(netsim.classify_arrival(states, 0, 3, 200 * MS, 450 * MS),
                         ("held", "restart", 50.0))
        self.assertEqual(netsim.classify_arrival(states, 0, 4, 200 * MS, 202 * MS),
                         ("propagation", None, 2.0))

    def test_never_reachable_is_excluded(self):
        states = self.states([(100 * MS, "partition", json.dumps(netsim.halves(6)))])
        self.assertEqual(netsim.classify_arrival(states, 0, 4, 200 * MS, 900 * MS),
                         ("excluded", None, None))


def ev(kind, **fields):
    return json.dumps({"t_ns": 1, "ev": kind, **fields}, separators=(",", ":")).encode()


class EventFollowing(unittest.TestCase):
    """EventTail: what netsim's waits (start, links, convergence) read from a node's events."""

    def test_a_growing_file_is_followed_across_a_line_written_in_two_parts(self):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "events-0.ndjson"
            tail = netsim.EventTail(0, path)
            self.assertFalse(tail.poll().started)  # no file yet
            start = ev("start", node_id="n", port=1, pid=42)
            path.write_bytes(start + b"\n" + ev("peer_up", peer="a:1")[:10])
            tail.poll()
            self.assertTrue(tail.started)
            self.assertEqual((tail.pid, tail.links), (42, 0))  # the torn line waits
            with open(path, "ab") as f:
                f.write(ev("peer_up", peer="a:1")[10:] + b"\n")
                f.write(ev("peer_up", peer="b:1") + b"\n" + ev("peer_down", peer="a:1") + b"\n")
            self.assertEqual(tail.poll().links, 1)
            with open(path, "ab") as f:
                f.write(ev("block_mined", hash="h2", height=2, txs=0) + b"\n")
                f.write(ev("block_seen", hash="h2", height=2, **{"from": "self"}) + b"\n")
            self.assertEqual(tail.poll().tip, (2, "h2"))
            self.assertEqual(tail.highest, 2)
            tail.close()

    def feed(self, *events):
        tail = netsim.EventTail(0, Path("/nonexistent"))
        tail.feed([ev(kind, **f) for kind, f in events])
        return tail

    def test_the_first_block_at_the_greatest_height_is_the_tip(self):
        tail = self.feed(("block_seen", {"hash": "a2", "height": 2, "from": "x"}),
                         ("block_seen", {"hash": "b2", "height": 2, "from": "y"}),  # tie: stays
                         ("block_seen", {"hash": "a1", "height": 1, "from": "x"}))  # lower
        self.assertEqual(tail.tip, (2, "a2"))
        tail.feed([ev("block_seen", hash="b3", height=3, **{"from": "y"})])
        self.assertEqual(tail.tip_hash(), "b3")

    def test_a_reorg_names_the_new_tip(self):
        tail = self.feed(("block_seen", {"hash": "a3", "height": 3, "from": "x"}),
                         ("reorg", {"depth": 1, "old_tip": "a3", "new_tip": "b3"}))
        self.assertEqual(tail.tip, (3, "b3"))

    def test_other_events_and_garbage_change_nothing(self):
        tail = self.feed(("traffic", {"bytes_in": {}, "bytes_out": {}, "blocks_received": 9}),
                         ("tx_seen", {"txid": "t", "from": "self"}))
        tail.feed([b'{"ev":"block_seen","height":', b"not json", b""])
        self.assertEqual((tail.started, tail.links, tail.highest, tail.tip),
                         (False, 0, 0, None))

    def test_a_restarted_node_starts_from_the_tip_it_loaded(self):
        tail = self.feed()
        tail.seed_tip(5, "s5")
        self.assertEqual(tail.tip, (5, "s5"))
        tail.seed_tip(4, "s4")  # lower: ignored
        tail.feed([ev("block_seen", hash="n6", height=6, **{"from": "x"})])
        self.assertEqual(tail.tip, (6, "n6"))


class FakeNode:
    """What Mesh's waits use of a Node: alive(), follow() (an EventTail fed by the test)."""

    def __init__(self, index, host="127.0.0.1"):
        self.index, self.host, self.port = index, host, 1
        self.tail = netsim.EventTail(0, Path("/nonexistent"))
        self.tail.started = True
        self.up = True

    log_path = "fake.log"

    def alive(self):
        return self.up

    def status(self):
        return None

    def follow(self):
        return self.tail


def fake_mesh(n, edges):
    mesh = object.__new__(netsim.Mesh)
    mesh.nodes = [FakeNode(i, f"10.9.0.{i + 2}") for i in range(n)]
    mesh.edges = edges
    return mesh


class MeshWaits(unittest.TestCase):
    def test_converged_when_every_live_node_shows_one_tip_at_the_height(self):
        mesh = fake_mesh(3, [(0, 1), (1, 2)])
        self.assertIsNotNone(mesh.wait_converged(1.0))  # all at genesis
        mesh.nodes[0].tail.feed([ev("block_seen", hash="h2", height=2, **{"from": "self"})])
        self.assertIsNone(mesh.wait_converged(0.05))
        mesh.nodes[1].tail.feed([ev("block_seen", hash="h2", height=2, **{"from": "n0"})])
        mesh.nodes[2].up = False  # a dead node is not waited for
        self.assertIsNotNone(mesh.wait_converged(1.0, height=2))
        self.assertIsNone(mesh.wait_converged(0.05, height=3))

    def test_ready_means_started_with_a_link_per_live_edge(self):
        mesh = fake_mesh(3, [(0, 1), (1, 2)])
        for node in mesh.nodes:
            node.tail.links = 1
        with self.assertRaisesRegex(netsim.Failed, "1 nodes not ready .*node 1 does not answer"):
            mesh.wait_ready(mesh.nodes, 0.05)  # node 1 has 1 of 2
        mesh.nodes[2].up = False  # node 1 now needs only its link to 0
        mesh.wait_ready(mesh.nodes[:2], 1.0)

    def test_event_tips_are_checked_against_status(self):
        mesh = fake_mesh(3, [(0, 1), (1, 2)])
        final = [{"tip": "h2", "height": 2}, {"tip": "g", "height": 1}, None]
        self.assertTrue(netsim.tips_check(mesh, final, ["h2", None, None])["ok"])
        bad = netsim.tips_check(mesh, final, ["h2", "h2", None])
        self.assertFalse(bad["ok"])
        self.assertIn("node 1", bad["detail"])

    def test_peers_are_seen_at_their_own_addresses(self):
        mesh = fake_mesh(3, [(0, 1), (1, 2)])

        def nodes(*addresses):
            return {"nodes": [{"address": a, "state": "ready"} for a in addresses]}
        good = [nodes("10.9.0.3:5000"), nodes("10.9.0.2:41000", "10.9.0.4:5000"),
                nodes("10.9.0.3:39000")]
        self.assertTrue(netsim.peer_hosts_check(mesh, good)["ok"])
        loopback = [nodes("127.0.0.1:5001")] + good[1:]
        self.assertFalse(netsim.peer_hosts_check(mesh, loopback)["ok"])
        # A link still in its redial backoff is missing, not wrong; no link at all is wrong.
        backoff = [good[0], nodes("10.9.0.4:5000"), good[2]]
        self.assertEqual(netsim.peer_hosts_check(mesh, backoff),
                         {"name": "peers_at_their_own_addresses", "ok": True,
                          "detail": "3/3 nodes; 3 of 4 link ends up"})
        self.assertFalse(netsim.peer_hosts_check(mesh, [nodes()] + good[1:])["ok"])


class FakeIp:
    """A fake runner for Netns: keeps the namespaces, links and sysctls that the `ip`, `tc`
    and `sysctl` commands it is given would make, and records every command."""

    def __init__(self, namespaces=(), links=(), pids=None, lagging=False):
        self.lagging = lagging  # a deleted namespace's veth stays until deleted itself
        self.namespaces = list(namespaces)
        self.links = list(links)
        self.pids = pids or {}
        self.sysctl = {k: v for k, v in zip(nn.NEIGH_KEYS, (512, 1024))}
        self.commands = []
        self.routes = {}  # namespace -> set of unreachable routes

    def __call__(self, cmd):
        argv, stdin = cmd
        self.commands.append(cmd)
        if argv[:3] == ("ip", "netns", "list"):
            return "".join(f"{x} (id: {i})\n" for i, x in enumerate(self.namespaces))
        if argv[:4] == ("ip", "-o", "link", "show"):
            return "".join(f"{i + 1}: {x}@if9: <BROADCAST> mtu 1500\n"
                           for i, x in enumerate(self.links))
        if argv[:3] == ("ip", "netns", "pids"):
            return self.pids.get(argv[3], "")
        if argv[:3] in (("ip", "-4", "-o"), ("ip", "-4", "route")):
            return "2: eth0    inet 10.100.7.1/24 brd 10.100.7.255 scope global eth0\n"
        if argv[0] == "sysctl":
            if argv[1] == "-n":
                return f"{self.sysctl[argv[2]]}\n"
            key, value = argv[2].split("=")
            self.sysctl[key] = int(value)
            return ""
        for line in (stdin or "").splitlines():
            self.apply(argv, line.split())
        return ""

    def apply(self, argv, words):
        ns = argv[1].rsplit("/", 1)[1] if argv[0] == "nsenter" else None
        if words[:2] == ["netns", "add"]:
            self.namespaces.append(words[2])
        elif words[:2] == ["netns", "del"] and words[2] in self.namespaces:
            self.namespaces.remove(words[2])
            # Deleting a namespace deletes the veth end inside and so its pair.
            m = nn.NAME_RE.match(words[2])
            if not self.lagging:
                self.links = [x for x in self.links
                              if x != f"{nn.PREFIX}{m.group(1)}v{m.group(3)}"]
        elif words[:2] == ["link", "add"] and ns is None:
            self.links.append(words[2])
        elif words[:2] == ["link", "del"] and words[2] in self.links:
            self.links.remove(words[2])
        elif words[:3] == ["route", "add", "unreachable"]:
            self.routes.setdefault(ns, set()).add(words[3])
        elif words[:3] == ["route", "del", "unreachable"]:
            self.routes[ns].remove(words[3])

    def lines(self):
        return [line for _, stdin in self.commands for line in (stdin or "").splitlines()]


class NetnsCommands(unittest.TestCase):
    def test_names_and_addresses(self):
        layout = nn.Layout(4321, 123, 1000)
        self.assertEqual((layout.bridge, layout.ns(7), layout.veth(7)),
                         ("gcn4321b", "gcn4321n7", "gcn4321v7"))
        self.assertEqual([layout.address(i) for i in (0, 253, 254, 999)],
                         ["10.123.0.2", "10.123.0.255", "10.123.1.0", "10.123.3.233"])
        self.assertEqual(layout.bridge_address, "10.123.0.1")
        self.assertTrue(all(layout.index_of(layout.address(i)) == i for i in range(1000)))
        self.assertIsNone(layout.index_of("10.124.0.2"))
        self.assertEqual(layout.bridge_mac, "02:67:63:00:10:e1")
        # The largest pid Linux hands out still fits the 15-byte interface names.
        self.assertLessEqual(len(nn.Layout(4194304, 100, 1000).veth(999)), 15)
        with self.assertRaises(ValueError):
            nn.Layout(1, 100, nn.MAX_NODES + 1)

    def test_setup_commands(self):
        phases = nn.setup_phases(nn.Layout(77, 150, 2))
        self.assertEqual(len(phases), 2)
        (root,), inside = phases
        self.assertEqual(root[0], ("ip", "-batch", "-"))
        self.assertEqual(root[1].splitlines(), [
            "link add gcn77b address 02:67:63:00:00:4d type bridge",
            "link set dev gcn77b addrgenmode none",
            "addr add 10.150.0.1/16 dev gcn77b",
            "link set gcn77b up",
            "netns add gcn77n0",
            "link add gcn77v0 type veth peer name eth0 address 02:6e:4d:00:00:00 netns gcn77n0",
            "link set dev gcn77v0 addrgenmode none",
            "link set gcn77v0 master gcn77b",
            "link set gcn77v0 up",
            "netns add gcn77n1",
            "link add gcn77v1 type veth peer name eth0 address 02:6e:4d:00:00:01 netns gcn77n1",
            "link set dev gcn77v1 addrgenmode none",
            "link set gcn77v1 master gcn77b",
            "link set gcn77v1 up",
            "neigh replace 10.150.0.2 lladdr 02:6e:4d:00:00:00 dev gcn77b nud permanent",
            "neigh replace 10.150.0.3 lladdr 02:6e:4d:00:00:01 dev gcn77b nud permanent"])
        self.assertEqual(inside[1], (("nsenter", "--net=/run/netns/gcn77n1", "ip", "-batch", "-"),
                                     "link set lo up\nlink set dev eth0 addrgenmode none\n"
                                     "addr add 10.150.0.3/16 dev eth0\nlink set eth0 up\n"
                                     "neigh replace 10.150.0.1 lladdr 02:67:63:00:00:4d dev eth0 "
                                     "nud permanent\n"))
        # No route anywhere but the /16 the addresses bring: nothing can leave the bridge.
        text = " ".join(stdin for phase in phases for _, stdin in phase)
        self.assertNotIn("route", text)
        self.assertNotIn("default", text)
        self.assertEqual(set(re.findall(r"\b\d+\.\d+\.\d+\.\d+", text)),
                         {"10.150.0.1", "10.150.0.2", "10.150.0.3"})

    def test_both_ends_of_every_link_know_each_other(self):
        layout = nn.Layout(77, 150, 300)
        self.assertEqual(layout.mac(258), "02:6e:4d:00:01:02")
        self.assertEqual(len({layout.mac(i) for i in range(300)}), 300)
        (phase,) = nn.neighbour_phases(layout, [(0, 1), (2, 1)])
        self.assertEqual([argv[1].rsplit("/", 1)[1] for argv, _ in phase],
                         ["gcn77n0", "gcn77n1", "gcn77n2"])
        self.assertEqual(phase[1][1].splitlines(), [
            "neigh replace 10.150.0.2 lladdr 02:6e:4d:00:00:00 dev eth0 nud permanent",
            "neigh replace 10.150.0.4 lladdr 02:6e:4d:00:00:02 dev eth0 nud permanent"])

    def test_bandwidth_shapes_both_ends_of_every_link(self):
        phases = nn.setup_phases(nn.Layout(77, 150, 2), bandwidth_mbit=20)
        self.assertEqual(len(phases), 3)
        shaping = phases[2]
        self.assertEqual(shaping[0], (("tc", "-batch", "-"),
                                      "qdisc add dev gcn77v0 root tbf rate 20mbit burst 32768 "
                                      "latency 100ms\nqdisc add dev gcn77v1 root tbf rate 20mbit "
                                      "burst 32768 latency 100ms\n"))
        self.assertEqual([argv for argv, _ in shaping[1:]],
                         [("nsenter", "--net=/run/netns/gcn77n0", "tc", "-batch", "-"),
                          ("nsenter", "--net=/run/netns/gcn77n1", "tc", "-batch", "-")])
        self.assertIn("burst 125000 ", nn.tbf("eth0", 100))  # 10 ms of 100 Mbit/s

    def test_partition_routes_and_socket_kills_and_the_heal_removes_exactly_them(self):
        layout = nn.Layout(5, 100, 4)
        routes, kills = nn.partition_phases(layout, {0: {2, 3}, 1: set(), 2: {0}})
        self.assertEqual(routes, [
            (("nsenter", "--net=/run/netns/gcn5n0", "ip", "-batch", "-"),
             "route add unreachable 10.100.0.4/32\nroute add unreachable 10.100.0.5/32\n"),
            (("nsenter", "--net=/run/netns/gcn5n2", "ip", "-batch", "-"), "route add unreachable 10.100.0.2/32\n")])
        self.assertEqual(kills[0], (("nsenter", "--net=/run/netns/gcn5n0", "ss", "-K", "dst",
                                     "10.100.0.4", "or", "dst", "10.100.0.5"), None))
        ip = FakeIp()
        netns = nn.Netns(4, runner=ip, pid=5)
        netns.layout = layout
        netns.partition({0: [2, 3], 2: [0]})
        self.assertEqual(ip.routes, {"gcn5n0": {"10.100.0.4/32", "10.100.0.5/32"},
                                     "gcn5n2": {"10.100.0.2/32"}})
        netns.partition({1: [0]})  # a new partition replaces the old one
        self.assertEqual(ip.routes, {"gcn5n0": set(), "gcn5n1": {"10.100.0.2/32"},
                                     "gcn5n2": set()})
        netns.heal()
        self.assertFalse(any(ip.routes.values()))

    def test_parsing_and_stale_runs(self):
        namespaces = nn.parse_netns_list("gcn12n0 (id: 3)\ngcn12n1\nother\ngcn99n0 (id: 1)\n")
        self.assertEqual(namespaces, ["gcn12n0", "gcn12n1", "other", "gcn99n0"])
        links = nn.parse_link_names("1: lo: <LOOPBACK> mtu 65536\n"
                                    "9: gcn12v0@if2: <BROADCAST> mtu 1500\n"
                                    "10: gcn12b: <BROADCAST> mtu 1500\n")
        self.assertEqual(links, ["lo", "gcn12v0", "gcn12b"])
        self.assertEqual(nn.stale_owners(namespaces, links, lambda pid: pid == 99), [12])
        self.assertEqual(nn.teardown_phases(12, namespaces, links), [[(
            ("ip", "-force", "-batch", "-"),
            "netns del gcn12n0\nnetns del gcn12n1\nlink del gcn12b\n")]])
        self.assertEqual(nn.teardown_phases(13, namespaces, links), [])

    def test_subnet_and_neighbour_table(self):
        self.assertEqual(nn.pick_subnet("inet 10.100.0.1/16\n10.101.0.0/16 dev x\n"), 102)
        self.assertEqual(nn.pick_subnet("inet 192.168.1.2/24"), 100)
        with self.assertRaises(nn.NetnsError):
            nn.pick_subnet(" ".join(f"10.{x}.0.1" for x in nn.SUBNETS))
        need = nn.neigh_entries(256, 2048)
        self.assertEqual(need, 2 * 2048 + 2 * 256 + 64)
        self.assertEqual(nn.neigh_thresholds(need, {nn.NEIGH_KEYS[0]: 512,
                                                    nn.NEIGH_KEYS[1]: 100000}),
                         {nn.NEIGH_KEYS[0]: need})

    def test_setup_cleans_stale_runs_and_close_leaves_nothing(self):
        # A crashed run (pid 12, gone) left two namespaces, a veth and its bridge, and a node.
        ip = FakeIp(namespaces=["gcn12n0", "gcn12n1", "unrelated"],
                    links=["lo", "gcn12v1", "gcn12v5", "gcn12b"], pids={"gcn12n0": "4242\n"})
        killed = []
        netns = nn.Netns(3, runner=ip, pid=7, alive=lambda pid: pid == 7,
                         kill=lambda pid, sig: killed.append((pid, sig)))
        layout = netns.setup()
        self.assertEqual(killed, [(4242, 9)])
        self.assertIn("netns del gcn12n0", ip.lines())
        self.assertIn("link del gcn12b", ip.lines())
        self.assertIn("link del gcn12v5", ip.lines())  # a veth whose namespace was gone
        self.assertEqual(layout.subnet, 101)  # 10.100 is taken by eth0 in FakeIp
        self.assertEqual(sorted(ip.namespaces), ["gcn7n0", "gcn7n1", "gcn7n2", "unrelated"])
        self.assertEqual(sorted(ip.links), ["gcn7b", "gcn7v0", "gcn7v1", "gcn7v2", "lo"])
        netns.size_neighbour_table(links=1000)
        self.assertEqual(ip.sysctl[nn.NEIGH_KEYS[1]], 2 * nn.neigh_entries(3, 1000))
        netns.link_neighbours([(0, 1), (1, 2)])
        self.assertIn("neigh replace 10.101.0.3 lladdr 02:6e:07:00:00:01 dev eth0 nud permanent",
                      ip.lines())
        self.assertEqual(netns.close(timeout_s=1), [])
        self.assertEqual(ip.namespaces, ["unrelated"])
        self.assertEqual(ip.links, ["lo"])
        self.assertEqual(ip.sysctl, dict(zip(nn.NEIGH_KEYS, (512, 1024))))  # restored

    def test_close_unmounts_the_namespace_directory_the_run_mounted_once_it_is_empty(self):
        for left, before, expected in (
                ([], (False, False), [("umount", "/run/netns"), ("rmdir", "/run/netns")]),
                ([], (True, False), [("umount", "/run/netns")]),
                ([], (True, True), []),  # mounted before the run: left as found
                (["unrelated"], (False, False), [])):  # someone else's namespace lives there
            ip = FakeIp(namespaces=list(left))
            states = iter([before, (True, True)])
            netns = nn.Netns(2, runner=ip, pid=8, alive=lambda pid: True,
                             netns_dir_state=lambda: next(states))
            netns.setup()
            self.assertEqual(netns.close(timeout_s=1), [])
            ran = [argv for argv, _ in ip.commands if argv[0] in ("umount", "rmdir")]
            self.assertEqual(ran, expected, (left, before))

    def test_a_neighbour_table_that_cannot_grow_is_a_limit_of_the_machine(self):
        ip = FakeIp()

        def read_only(cmd):
            if cmd[0][:2] == ("sysctl", "-w"):
                raise nn.NetnsError("sysctl: permission denied on key")
            return ip(cmd)
        netns = nn.Netns(100, runner=read_only, pid=9, alive=lambda pid: True)
        netns.setup()
        netns.size_neighbour_table(links=10)  # fits: nothing to write
        with self.assertRaisesRegex(nn.NetnsUnavailable, "takes 1024 entries.*needs about 6264"):
            netns.size_neighbour_table(links=3000)
        netns.close(timeout_s=1)

    def test_veths_the_kernel_is_slow_to_remove_are_deleted_before_close_returns(self):
        ip = FakeIp(lagging=True)
        netns = nn.Netns(2, runner=ip, pid=8, alive=lambda pid: True)
        netns.setup()
        self.assertEqual(netns.close(timeout_s=1), [])
        self.assertEqual((ip.namespaces, ip.links), ([], []))
        self.assertIn("link del gcn8v1", ip.lines())

    def test_without_root_the_run_is_skipped_with_the_reason(self):
        with tempfile.TemporaryDirectory() as d:
            scenario = Path(d) / "s.toml"
            scenario.write_text('nodes = 2\n[topology]\nkind = "line"\n')
            out = Path(d) / "out"
            with mock.patch("os.geteuid", return_value=1000), \
                    contextlib.redirect_stdout(io.StringIO()):
                code = netsim.main(["run", str(scenario), "--netns", "--node", "/bin/true",
                                    "--out", str(out)])
            self.assertEqual(code, netsim.EXIT_SKIP)
            report = json.loads((out / "report.json").read_text())
            self.assertIsNone(report["pass"])
            self.assertIn("needs root", report["skipped"])

    def test_latency_steps_are_refused_with_netns(self):
        with tempfile.TemporaryDirectory() as d:
            scenario = Path(d) / "s.toml"
            scenario.write_text('nodes = 2\n[topology]\nkind = "line"\n'
                                '[[steps]]\naction = "latency"\ndelay_ms = 5\n')
            with contextlib.redirect_stdout(io.StringIO()):
                code = netsim.main(["run", str(scenario), "--netns", "--node", "/bin/true",
                                    "--out", str(Path(d) / "out")])
            self.assertEqual(code, netsim.EXIT_USAGE)


class Hostile(unittest.TestCase):
    def test_the_attack_declares_a_4_gib_frame_after_the_protocol_3_magic_and_sees_the_close(self):
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            proc = subprocess.Popen([sys.executable, "-c", netsim.ATTACK, "127.0.0.1",
                                     str(server.getsockname()[1])],
                                    stdout=subprocess.PIPE, text=True)
            conn, _ = server.accept()
            with conn:
                got = b""
                while len(got) < 9:
                    got += conn.recv(9 - len(got))
            self.assertEqual(got, bytes([0xF0, 0x9F, 0x94, 0x90, 0x0A, 0xFF, 0xFF, 0xFF, 0xFF]))
            self.assertEqual(proc.communicate(timeout=10)[0].strip(), "closed")


class Limits(unittest.TestCase):
    def test_proc_stat_with_a_command_name_holding_spaces_and_parentheses(self):
        fields = ["S"] + ["0"] * 10 + ["250", "50"] + ["0"] * 4 + ["7"] + ["0"] * 30
        text = "123 (odd) name) " + " ".join(fields)
        cpu, threads = netsim_proc.parse_stat(text)
        self.assertAlmostEqual(cpu, 300 / netsim_proc.CLOCK_TICKS)
        self.assertEqual(threads, 7)
        usage = netsim_proc.proc_usage(os.getpid())
        self.assertGreater(usage["rss_kb"], 0)
        self.assertGreaterEqual(usage["threads"], 1)
        self.assertIsNone(netsim_proc.proc_usage(2 ** 22 + 1))  # above pid_max: no such process

    def test_room_for_the_rest_of_the_mesh(self):
        usage = {"cpu_s": 0.0, "rss_kb": 8 * 1024, "peak_rss_kb": 0, "threads": 4}
        netsim_proc.check_room(50, 1000, [usage] * 50, 16 * 1024 ** 2, {"pids": 10000})
        with self.assertRaisesRegex(netsim_proc.LimitHit, "memory: .* at most 921 nodes"):
            netsim_proc.check_room(50, 1000, [usage] * 50, 8 * 1024 ** 2, {"pids": None})
        with self.assertRaisesRegex(netsim_proc.LimitHit, "processes: .* 3800 more tasks"):
            netsim_proc.check_room(50, 1000, [usage] * 50, None, {"pids": 3000})

    def test_open_files(self):
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.assertEqual(netsim_proc.raise_open_files(min(soft, 16)), soft)
        if hard != resource.RLIM_INFINITY:
            with self.assertRaisesRegex(netsim_proc.LimitHit, "RLIMIT_NOFILE"):
                netsim_proc.raise_open_files(hard + 1)

    def test_free_ports_come_from_below_the_ephemeral_range(self):
        low, _ = netsim.ephemeral_range()
        ports = netsim.free_ports(20)
        self.assertEqual(len(set(ports)), 20)
        if low - 10000 >= 40:
            self.assertTrue(all(10000 <= p < low for p in ports), ports)


class Classroom(unittest.TestCase):
    def test_the_tutorial_requests_name_both_nodes(self):
        lines = netsim.tutorial_requests("http://127.0.0.1:5000", "http://127.0.0.1:5001")
        text = "\n".join(lines)
        for path in ("/mine", "/transactions/new", "/chain", "/nodes/register",
                     "/nodes/resolve"):
            self.assertIn(f"http://127.0.0.1:5000{path}", text)
        self.assertIn('{"nodes": ["http://127.0.0.1:5001"]}', text)
        self.assertIn("curl -s http://127.0.0.1:5001/mine", lines)

    def test_base_port_gives_consecutive_ports_and_names_one_in_use(self):
        # Three free consecutive ports, of which the middle one is then held here.
        base = next(b for b in netsim.free_ports(20) if not netsim.ports_in_use([b, b + 1, b + 2]))
        with socket.socket() as held:
            held.bind(("127.0.0.1", base + 1))
            with self.assertRaisesRegex(netsim.CannotRun, rf"on 127\.0\.0\.1: {base + 1} in use"):
                netsim.LoopbackNet(3, base_port=base)
        # The same three, now free again (a fresh single free port says nothing of its two
        # neighbours, which a parallel test may hold).
        net = netsim.LoopbackNet(3, base_port=base)
        self.assertEqual([net.port(i) - net.port(0) for i in range(3)], [0, 1, 2])


def write_executable(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


class ExitCodes(unittest.TestCase):
    """Runs netsim.py as ctest does, against fake nodes; nothing here needs a real build."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="netsim-selftest-")
        self.dir = Path(self.tmp.name)
        self.scenario = self.dir / "two.toml"
        self.scenario.write_text('name = "two"\nseed = 1\nnodes = 2\nstartup_timeout_s = 1\n'
                                 '[topology]\nkind = "line"\n')

    def tearDown(self):
        self.tmp.cleanup()

    def run_netsim(self, *args):
        return subprocess.run([sys.executable, str(HERE / "netsim.py"), "run", *map(str, args),
                               "--out", str(self.dir / "out")],
                              capture_output=True, text=True, timeout=60)

    def report(self):
        return json.loads((self.dir / "out" / "report.json").read_text())

    def expect_failure_with_fake_node(self, script, *phrases):
        """Runs the scenario on a node that is the shell `script`; expects exit 1 and `phrases`
        in the message."""
        node = self.dir / "fake-node"
        write_executable(node, "#!/bin/sh\n" + script)
        proc = self.run_netsim(self.scenario, "--node", node)
        self.assertEqual(proc.returncode, netsim.EXIT_FAIL, proc.stdout + proc.stderr)
        for phrase in phrases:
            self.assertIn(phrase, proc.stdout)
        self.assertIs(self.report()["pass"], False)

    def test_a_node_that_crashes_at_start_fails_the_run(self):
        self.expect_failure_with_fake_node(
            "echo 'fake node: out of luck' >&2\nexit 3\n",
            "crashed while starting", "exited with status 3", "fake node: out of luck")

    def test_a_node_killed_by_a_signal_is_named(self):
        self.expect_failure_with_fake_node("kill -SEGV $$\n", "killed by SIGSEGV")

    def test_a_mesh_that_never_comes_up_fails_the_run(self):
        self.expect_failure_with_fake_node("exec sleep 30\n", "the mesh did not come up",
                                           "does not answer /status")

    def test_bad_arguments_and_scenarios_are_usage_errors(self):
        proc = self.run_netsim(self.scenario, "--node", self.dir / "no-such-node")
        self.assertEqual(proc.returncode, netsim.EXIT_USAGE, proc.stdout + proc.stderr)
        bad = self.dir / "bad.toml"
        bad.write_text('nodes = 2\n[topology]\nkind = "hypercube"\n')
        proc = self.run_netsim(bad, "--node", "/bin/true")
        self.assertEqual(proc.returncode, netsim.EXIT_USAGE, proc.stdout + proc.stderr)


class Plots(unittest.TestCase):
    DATA = {
        "delays": [0.5, 1.0, 1.5, 2.0, 8.0],
        "held": {"heal": [11.0, 14.0, 20.0]},
        "heights": {"0": [[0.0, 1], [0.1, 2], [0.6, 3], [1.3, 4]],
                    "1": [[0.0, 1], [0.1, 2], [0.7, 3], [1.21, 4]]},
        "markers": [[0.0, "up"], [0.5, "partition"], [1.2, "heal"]],
        "groups": {"0": 0, "1": 1},
        "end": 1.5,
    }

    def test_plotter_draws_the_three_pngs_or_says_it_cannot(self):
        pythons = [sys.executable]
        if netsim.SYSTEM_PYTHON.is_file():
            pythons.append(str(netsim.SYSTEM_PYTHON))
        for python in pythons:
            has_matplotlib = subprocess.run(
                [python, "-c", "import matplotlib"], capture_output=True).returncode == 0
            with self.subTest(python=python), tempfile.TemporaryDirectory() as out:
                proc = subprocess.run([python, str(netsim.PLOTTER), out],
                                      input=json.dumps(self.DATA), capture_output=True,
                                      text=True, timeout=120)
                if not has_matplotlib:
                    self.assertEqual(proc.returncode, netsim.EXIT_SKIP, proc.stderr)
                    self.assertIn("matplotlib", proc.stderr)
                    continue
                self.assertEqual(proc.returncode, 0, proc.stderr)
                names = ["propagation_cdf.png", "height_over_time.png", "partition_heal.png"]
                self.assertEqual(proc.stdout.split(), names)
                for name in names:
                    self.assertEqual((Path(out) / name).read_bytes()[:8], b"\x89PNG\r\n\x1a\n")

    def test_netsim_reports_how_plots_were_drawn_or_why_not(self):
        with tempfile.TemporaryDirectory() as out:
            made, note = netsim.plots(Path(out), self.DATA)
        if made:
            self.assertTrue(note.startswith("drawn by "), note)
        else:
            self.assertIn("matplotlib cannot be imported", note)
        has_any = importlib.util.find_spec("matplotlib") is not None or (
            netsim.SYSTEM_PYTHON.is_file() and subprocess.run(
                [str(netsim.SYSTEM_PYTHON), "-c", "import matplotlib"],
                capture_output=True).returncode == 0)
        self.assertEqual(bool(made), has_any)


if __name__ == "__main__":
    unittest.main()
