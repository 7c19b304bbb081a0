#!/usr/bin/env python3
"""Self-test of tools/netsim (ctest netsim_selftest; standard library only).

  python3 tools/netsim/test_netsim.py [-v]

Covers the pure parts of netsim.py (topologies, percentiles, who could reach whom during
partitions and downtime and what each block arrival measures) and its exit codes, with fake
node binaries that crash or never answer, so a broken node fails a run instead of skipping it.
The plot test runs where some interpreter has matplotlib.
"""

import importlib.util
import json
import os
import random
import stat
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import netsim  # noqa: E402

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
