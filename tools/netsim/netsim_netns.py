"""netsim --netns: every node in its own network namespace, with its own address on one bridge.

Layout of the run whose netsim has process id P (the names carry P, so a later run can tell a
dead run's leftovers from those of a run still going; interface names have at most 15 bytes):

  bridge gcnPb        in the root namespace, address 10.X.0.1/16: netsim reaches the nodes over it
  node i netns gcnPnI veth gcnPvI (root side, a port of the bridge) <-> eth0 inside, 10.X.H/16
                      with H = i + 2 spelled as two bytes (node 0 is 10.X.0.2, node 254 10.X.1.0)

X is the first of 100-199 whose 10.X.0.0/16 the root namespace does not use yet. The namespaces
have no route but their /16, and the bridge has no port but the veths, so no packet of a node
can leave for any other address. IPv6 address generation is off on every interface, so not even
link-local neighbour discovery runs. Optional bandwidth per node link: a tbf qdisc on both ends
of its veth (this kernel has no netem; delay stays in the nodes' own link shaping).

Partitions are the network's: every node gets an `unreachable` route to each address outside
its group, and its sockets to them are destroyed (`ss -K`), so links drop at once and redials
fail; the heal deletes the routes and the nodes redial on their own backoff.

Everything here that decides what to run is a pure function returning command lists, so the
selftest checks them with a fake runner; Netns runs them.
"""

import concurrent.futures
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

PREFIX = "gcn"
NAME_RE = re.compile(rf"^{PREFIX}(\d+)([bnv])(\d*)$")
# A Linux bridge has at most 1024 ports (BR_MAX_PORTS); a few are left for safety.
MAX_NODES = 1000
SUBNETS = range(100, 200)
# Every node listens on this port of its own address (each namespace has its own ports).
NODE_PORT = 5000
# Parallel `ip -n` runs while setting up or partitioning hundreds of namespaces.
WORKERS = 8


class NetnsError(RuntimeError):
    """A command of the set-up, partition or tear-down failed."""


class NetnsUnavailable(Exception):
    """This machine cannot do --netns (not root, no `ip`, namespaces not permitted)."""


class Layout:
    """Names and addresses of one run; pure."""

    def __init__(self, pid, subnet, n):
        if not 1 <= n <= MAX_NODES:
            raise ValueError(f"--netns runs 1 to {MAX_NODES} nodes (a bridge has 1024 ports), "
                             f"not {n}")
        self.pid, self.subnet, self.n = pid, subnet, n
        self.bridge = f"{PREFIX}{pid}b"
        self.bridge_address = f"10.{subnet}.0.1"
        # Locally administered ("02:"), unique per run: the pid (at most 22 bits) in 3 bytes.
        self.bridge_mac = "02:67:63:" + ":".join(f"{(pid >> s) & 255:02x}" for s in (16, 8, 0))
        if len(self.veth(n - 1)) > 15:
            raise ValueError(f"interface name {self.veth(n - 1)} is longer than 15 bytes")

    def ns(self, i):
        return f"{PREFIX}{self.pid}n{i}"

    def mac(self, i):
        """Node i's eth0 MAC: fixed, so neighbour entries can be written before it is up."""
        return f"02:6e:{self.pid & 255:02x}:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}"

    def veth(self, i):
        return f"{PREFIX}{self.pid}v{i}"

    def address(self, i):
        h = i + 2
        return f"10.{self.subnet}.{h >> 8}.{h & 255}"

    def index_of(self, address):
        """The node index of one of this layout's addresses, or None."""
        parts = address.split(".")
        if len(parts) != 4 or parts[:2] != ["10", str(self.subnet)]:
            return None
        i = (int(parts[2]) << 8) + int(parts[3]) - 2
        return i if 0 <= i < self.n else None


def batch(argv, lines):
    """One `ip -batch -` / `tc -batch -` command: (argv, the lines on its stdin)."""
    return (tuple(argv) + ("-batch", "-"), "".join(line + "\n" for line in lines))


def tbf(dev, mbit):
    """A token bucket of `mbit` Mbit/s on dev's egress: bursts of 10 ms of the rate (32 KiB at
    least, so one MTU always fits) and at most 100 ms of queue."""
    burst = max(32 * 1024, int(mbit * 1e6 / 8 / 100))
    return f"qdisc add dev {dev} root tbf rate {mbit}mbit burst {burst} latency 100ms"


NETNS_DIR = "/run/netns"


def is_mount_point(path):
    """True when `path` is a mount point in this mount namespace. os.path.ismount cannot tell:
    `ip netns add` bind-mounts the directory on itself, on the same device."""
    try:
        with open("/proc/self/mountinfo") as f:
            # Field 5 is the mount point (spaces written as \040).
            return any(line.split()[4].replace("\\040", " ") == path for line in f)
    except OSError:
        return False


def inside(ns, argv):
    """`argv` run in network namespace `ns`: nsenter joins that network namespace and nothing
    else. `ip -n` and `ip netns exec` also unshare a mount namespace, make / a slave and remount
    /sys, which fails where / is not a mount point (a chroot such as a fresh-machine root:
    "mount --make-rslave /" failed: Invalid argument)."""
    return ["nsenter", f"--net={NETNS_DIR}/{ns}", *argv]


def setup_phases(layout, bandwidth_mbit=None):
    """The set-up as phases run in order; the commands inside a phase are independent."""
    # A bridge without an address of its own takes the lowest of its ports' and changes it as
    # veths join, leaving the nodes that asked early for 10.X.0.1 with a MAC that is no longer
    # the bridge's: netsim's requests to them then time out. So the bridge gets a fixed one.
    root = [f"link add {layout.bridge} address {layout.bridge_mac} type bridge",
            f"link set dev {layout.bridge} addrgenmode none",
            f"addr add {layout.bridge_address}/16 dev {layout.bridge}",
            f"link set {layout.bridge} up"]
    for i in range(layout.n):
        ns, veth = layout.ns(i), layout.veth(i)
        root += [f"netns add {ns}",
                 f"link add {veth} type veth peer name eth0 address {layout.mac(i)} netns {ns}",
                 f"link set dev {veth} addrgenmode none",
                 f"link set {veth} master {layout.bridge}",
                 f"link set {veth} up"]
    # The root namespace knows every node's MAC, and every node the bridge's (see
    # neighbour_phases): no ARP request needs to be flooded to every port.
    root += [f"neigh replace {layout.address(i)} lladdr {layout.mac(i)} dev {layout.bridge} "
             "nud permanent" for i in range(layout.n)]
    phases = [[batch(["ip"], root)]]
    per_node = [batch(inside(layout.ns(i), ["ip"]),
                      ["link set lo up", "link set dev eth0 addrgenmode none",
                       f"addr add {layout.address(i)}/16 dev eth0", "link set eth0 up",
                       f"neigh replace {layout.bridge_address} lladdr {layout.bridge_mac} "
                       "dev eth0 nud permanent"])
                for i in range(layout.n)]
    phases.append(per_node)
    if bandwidth_mbit:
        # Both directions of each node's link: the root side's egress is the node's download.
        shaping = [batch(["tc"], [tbf(layout.veth(i), bandwidth_mbit) for i in range(layout.n)])]
        shaping += [batch(inside(layout.ns(i), ["tc"]), [tbf("eth0", bandwidth_mbit)])
                    for i in range(layout.n)]
        phases.append(shaping)
    return phases


def teardown_phases(pid, namespaces, links):
    """Removes one run's namespaces and interfaces (as found: after a crash some may be missing).
    The nodes inside are killed first by the runner (`ip netns pids`); then `-force` goes on past
    names already gone. Deleting a namespace deletes the veth end inside and so the pair."""
    mine = [name for name in namespaces if owner(name) == pid]
    lines = [f"netns del {name}" for name in sorted(mine, key=natural)]
    # The bridge, and any veth whose namespace is already gone (a set-up cut short).
    def orphaned(name):
        m = NAME_RE.match(name)
        return m.group(2) == "b" or f"{PREFIX}{pid}n{m.group(3)}" not in namespaces

    lines += [f"link del {name}" for name in sorted(links, key=natural)
              if owner(name) == pid and orphaned(name)]
    return [[batch(["ip", "-force"], lines)]] if lines else []


def natural(name):
    m = NAME_RE.match(name)
    return (m.group(2), int(m.group(3) or 0)) if m else ("", 0)


def owner(name):
    """The netsim process id a name of ours carries, or None for other names."""
    m = NAME_RE.match(name)
    return int(m.group(1)) if m else None


def parse_netns_list(text):
    """Names from `ip netns list` ("name" or "name (id: 3)" per line)."""
    return [line.split()[0] for line in text.splitlines() if line.strip()]


def parse_link_names(text):
    """Interface names from `ip -o link show` ("7: name@peer: <...> ..." per line)."""
    names = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) >= 2:
            names.append(parts[1].strip().split("@")[0])
    return names


def stale_owners(namespaces, links, alive):
    """Process ids of netsim runs that left namespaces or interfaces behind and are gone:
    `alive(pid)` says whether that netsim still runs."""
    pids = {owner(name) for name in list(namespaces) + list(links)} - {None}
    return sorted(pid for pid in pids if not alive(pid))


def pick_subnet(root_text):
    """The first X of SUBNETS whose 10.X.0.0/16 appears nowhere in the root namespace's
    `ip -4 -o addr` and `ip -4 route` output (another run's bridge, a real network)."""
    used = {int(m.group(1)) for m in re.finditer(r"\b10\.(\d+)\.", root_text)}
    for x in SUBNETS:
        if x not in used:
            return x
    raise NetnsError("no free 10.X.0.0/16 for X in 100-199 in the root namespace")


def neighbour_phases(layout, edges):
    """Permanent neighbour entries for both ends of every link. Without them each link's first
    packet waits for an ARP request that the bridge floods to every port, where each of n
    namespaces handles it: at 1,000 nodes netsim's first request to a node took 12-20 ms
    alone and 0.4 s (4 s at worst) 32 at a time, and the nodes' own start-up paid the same."""
    peers = {}
    for a, b in edges:
        peers.setdefault(a, set()).add(b)
        peers.setdefault(b, set()).add(a)
    return [[batch(inside(layout.ns(i), ["ip"]),
                   [f"neigh replace {layout.address(j)} lladdr {layout.mac(j)} dev eth0 "
                    "nud permanent" for j in sorted(others)])
             for i, others in sorted(peers.items())]]


def partition_phases(layout, blocked):
    """`blocked`: node index -> indices it must not reach. An unreachable route to each, then
    the sockets already open to them destroyed, so the links drop now instead of at a timeout."""
    routes, kills = [], []
    for i, others in sorted(blocked.items()):
        if not others:
            continue
        addresses = [layout.address(j) for j in sorted(others)]
        routes.append(batch(inside(layout.ns(i), ["ip"]),
                            [f"route add unreachable {a}/32" for a in addresses]))
        expr = []
        for a in addresses:
            expr += (["or"] if expr else []) + ["dst", a]
        kills.append((tuple(inside(layout.ns(i), ["ss", "-K", *expr])), None))
    return [routes, kills]


def cut_phases(layout, i, j):
    """Destroys the sockets between nodes i and j, in both namespaces; routes stay."""
    return [[(tuple(inside(layout.ns(a), ["ss", "-K", "dst", layout.address(b)])), None)
             for a, b in ((i, j), (j, i))]]


def heal_phases(layout, blocked):
    return [[batch(inside(layout.ns(i), ["ip"]),
                   [f"route del unreachable {layout.address(j)}/32" for j in sorted(others)])
             for i, others in sorted(blocked.items()) if others]]


NEIGH_KEYS = ("net.ipv4.neigh.default.gc_thresh2", "net.ipv4.neigh.default.gc_thresh3")


def neigh_entries(n, links):
    """ARP entries a mesh needs: both ends of every link, each node's entry for the bridge and
    the root namespace's for each node, and some room for netsim's own traffic."""
    return 2 * links + 2 * n + 64


def neigh_thresholds(need, current):
    """The neighbour-table sysctls to raise so `need` entries fit: the table is shared by every
    network namespace, and past gc_thresh3 (1,024 by default) new entries are refused ("neighbor
    table overflow"), so nodes and netsim stop reaching each other. gc_thresh2 (where the
    kernel starts evicting) gets `need`, gc_thresh3 twice that; values already higher stay."""
    wanted = dict(zip(NEIGH_KEYS, (need, 2 * need)))
    return {key: value for key, value in wanted.items() if current.get(key, 0) < value}


def netsim_alive(pid):
    """Whether `pid` is a running netsim (a reused pid of another program does not count)."""
    try:
        return b"netsim" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def run_command(cmd):
    """Runs (argv, stdin); returns stdout; NetnsError with its stderr when it fails."""
    argv, stdin = cmd
    proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        shown = " ".join(argv) + (f" <<< {stdin.splitlines()[0]} ..." if stdin else "")
        raise NetnsError(f"{shown}: exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return proc.stdout


class Netns:
    """Creates a run's namespaces and bridge, partitions and heals them, and removes them (and
    any a crashed earlier run left). `runner` runs one (argv, stdin) and returns its stdout."""

    def __init__(self, n, bandwidth_mbit=None, runner=run_command, pid=None, alive=netsim_alive,
                 kill=os.kill, netns_dir_state=None):
        self.runner = runner
        # (exists, is a mount point) of NETNS_DIR; `ip netns add` makes it a mount point.
        self.netns_dir_state = netns_dir_state or (
            lambda: (os.path.isdir(NETNS_DIR), is_mount_point(NETNS_DIR)))
        self.netns_dir_before = None
        self.alive = alive
        self.kill = kill
        self.pid = os.getpid() if pid is None else pid
        self.n = n
        self.bandwidth_mbit = bandwidth_mbit
        self.layout = None
        self.blocked = {}
        self.neigh_saved = {}  # sysctl -> value before this run raised it

    @staticmethod
    def check_available():
        if os.geteuid() != 0:
            raise NetnsUnavailable("--netns needs root (it creates network namespaces, veth "
                                   "pairs and a bridge); run as root, or without --netns")
        if shutil.which("ip") is None:
            raise NetnsUnavailable("--netns needs iproute2's `ip` (apt-get install iproute2)")
        if shutil.which("nsenter") is None:
            raise NetnsUnavailable("--netns needs util-linux's `nsenter` "
                                   "(apt-get install util-linux)")

    def run_phases(self, phases, check=True):
        """Runs each phase's commands in parallel, phase after phase. Without `check`, failures
        are ignored: a tear-down goes on past names already gone, and its result is judged by
        listing what is left."""
        def run(cmd):
            try:
                return self.runner(cmd)
            except NetnsError:
                if check:
                    raise
                return ""

        with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for phase in phases:
                list(pool.map(run, phase))

    def existing(self):
        namespaces = parse_netns_list(self.runner((("ip", "netns", "list"), None)))
        links = parse_link_names(self.runner((("ip", "-o", "link", "show"), None)))
        return namespaces, links

    def remove(self, pid, namespaces, links):
        """Kills what still runs in pid's namespaces, then deletes them and its bridge."""
        for name in namespaces:
            if owner(name) != pid:
                continue
            for task in self.runner((("ip", "netns", "pids", name), None)).split():
                try:
                    self.kill(int(task), 9)
                except (ProcessLookupError, ValueError):
                    pass
        self.run_phases(teardown_phases(pid, namespaces, links), check=False)

    def clean_stale(self):
        """Removes what netsim runs that are gone left behind; returns their pids."""
        namespaces, links = self.existing()
        stale = stale_owners(namespaces, links, self.alive)
        for pid in stale:
            self.remove(pid, namespaces, links)
        left = self.wait_gone(set(stale), 10.0) if stale else []
        if left:
            raise NetnsError(f"left by ended runs, still present after their removal: "
                             f"{', '.join(left)}")
        return stale

    def setup(self):
        try:
            self.clean_stale()
        except NetnsError as e:
            if "Operation not permitted" in str(e):
                raise NetnsUnavailable(f"network namespaces are not permitted here: {e}") from e
            raise
        self.netns_dir_before = self.netns_dir_state()
        root_text = (self.runner((("ip", "-4", "-o", "addr"), None))
                     + self.runner((("ip", "-4", "route"), None)))
        self.layout = Layout(self.pid, pick_subnet(root_text), self.n)
        try:
            self.run_phases(setup_phases(self.layout, self.bandwidth_mbit))
        except NetnsError as e:
            self.close()
            if "Operation not permitted" in str(e):
                raise NetnsUnavailable(f"network namespaces are not permitted here: {e}") from e
            raise
        return self.layout

    def link_neighbours(self, edges):
        """Before the nodes start: the shared neighbour table sized for this mesh, and each
        link's two ends made known to each other (neighbour_phases)."""
        self.size_neighbour_table(len(edges))
        self.run_phases(neighbour_phases(self.layout, edges))

    def size_neighbour_table(self, links):
        """Raises the shared ARP table's limits for this mesh (see neigh_thresholds)."""
        current = {key: int(self.runner((("sysctl", "-n", key), None)).strip())
                   for key in NEIGH_KEYS}
        need = neigh_entries(self.n, links)
        for key, value in neigh_thresholds(need, current).items():
            try:
                self.runner((("sysctl", "-w", f"{key}={value}"), None))
            except NetnsError as e:
                raise NetnsUnavailable(
                    f"the kernel's neighbour table takes {current[NEIGH_KEYS[1]]} entries, this "
                    f"mesh needs about {need}, and {key} cannot be raised here: {e}") from e
            self.neigh_saved.setdefault(key, current[key])

    def restore_neighbour_table(self, others_running):
        """Puts the limits back, unless another --netns run (which may need them) is going."""
        if not others_running:
            for key, value in self.neigh_saved.items():
                self.runner((("sysctl", "-w", f"{key}={value}"), None))
        self.neigh_saved = {}

    def partition(self, blocked):
        """blocked: node index -> indices it must not reach (replaces any partition in force)."""
        self.heal()
        self.blocked = {i: set(others) for i, others in blocked.items() if others}
        self.run_phases(partition_phases(self.layout, self.blocked))

    def cut(self, i, j):
        self.run_phases(cut_phases(self.layout, i, j))

    def heal(self):
        if self.blocked:
            self.run_phases(heal_phases(self.layout, self.blocked))
        self.blocked = {}

    def close(self, timeout_s=10.0):
        """Removes this run's namespaces and bridge and waits (under a deadline) until the
        kernel has let go of every interface; returns the names still there (none, normally)."""
        namespaces, links = self.existing()
        self.remove(self.pid, namespaces, links)
        others = [x for x in namespaces if owner(x) not in (None, self.pid)]
        self.restore_neighbour_table(bool(others))
        left = self.wait_gone({self.pid}, timeout_s)
        self.restore_netns_dir()
        return left

    def restore_netns_dir(self):
        """The first `ip netns add` bind-mounts NETNS_DIR on itself (and creates it): once no
        namespace at all is left, that is undone as found, so nothing of the run stays mounted
        (a mount left in a throwaway root keeps it from being removed)."""
        before, self.netns_dir_before = self.netns_dir_before, None
        if before is None or before[1] or not self.netns_dir_state()[1]:
            return
        if parse_netns_list(self.runner((("ip", "netns", "list"), None))):
            return  # someone else's namespaces live there
        self.run_phases([[(("umount", NETNS_DIR), None)]], check=False)
        if not before[0]:
            self.run_phases([[(("rmdir", NETNS_DIR), None)]], check=False)

    def wait_gone(self, pids, timeout_s):
        """Waits, under a deadline, until no namespace or interface of these runs is listed;
        returns the names still there at the deadline. The kernel destroys a deleted namespace,
        and with it the veth end inside, asynchronously; veths that lag are deleted directly."""
        deadline = time.monotonic() + timeout_s
        while True:
            namespaces, links = self.existing()
            left = [x for x in namespaces + links if owner(x) in pids]
            if not left or time.monotonic() > deadline:
                return left
            self.run_phases([[batch(["ip", "-force"],
                                    [f"link del {x}" for x in links if owner(x) in pids])]],
                            check=False)
            time.sleep(0.05)
