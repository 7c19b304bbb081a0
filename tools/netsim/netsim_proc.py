"""What the machine allows and what each process used, read from /proc (Linux; standard library).

netsim uses it to start a large mesh within the machine's limits (open files, processes, memory),
saying which limit stopped it, and to write into report.json the CPU time and memory of every node
and of netsim itself, so a reader sees what limited a run: the nodes' CPU, netsim's own, or
other work on the machine.
"""

import os
import resource
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class LimitHit(Exception):
    """A limit of the machine (open files, processes, memory) is too low for the mesh asked for."""


def parse_stat(text):
    """(user + system CPU seconds, threads) from the text of /proc/PID/stat. The command name
    (field 2) is in parentheses and may hold spaces, so the fields are counted after its ')'."""
    fields = text[text.rindex(")") + 2:].split()
    # Fields 14 and 15 (utime, stime) and 20 (num_threads), counted from 1 over the whole line;
    # after the name the list starts at field 3.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, int(fields[17])


def parse_status_kb(text, key):
    """A "Key:   123 kB" value of /proc/PID/status or /proc/meminfo, in kB (None if absent)."""
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def proc_usage(pid):
    """{cpu_s, rss_kb, peak_rss_kb, threads} of a running process, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    cpu_s, threads = parse_stat(stat)
    return {"cpu_s": round(cpu_s, 3), "rss_kb": parse_status_kb(status, "VmRSS"),
            "peak_rss_kb": parse_status_kb(status, "VmHWM"), "threads": threads}


def self_cpu_s():
    """CPU seconds of netsim itself, all its threads (not its children)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def self_peak_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def machine_cpu_s():
    """(busy, softirq) CPU seconds of the whole machine so far, all CPUs, from /proc/stat: busy
    is everything but idle and iowait. Over a run, busy minus the nodes' and netsim's CPU time is
    other work: other programs, and kernel work charged to no process (softirq, the part of it
    that handles loopback and bridge packets, is shown on its own). None if unreadable."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    ticks = [int(x) for x in first[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    # guest and guest_nice (fields 9, 10) are already counted in user and nice.
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS, ticks[6] / CLOCK_TICKS


def mem_available_kb():
    try:
        return parse_status_kb(Path("/proc/meminfo").read_text(), "MemAvailable")
    except OSError:
        return None


def raise_open_files(need):
    """Raises the soft RLIMIT_NOFILE to the hard one when `need` descriptors do not fit under the
    soft one; LimitHit when they do not fit under the hard one either. Returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if need <= soft:
        return soft
    if hard != resource.RLIM_INFINITY and need > hard:
        raise LimitHit(f"open files: netsim needs about {need} descriptors (one event file per "
                       f"node, HTTP, logs) but the hard limit RLIMIT_NOFILE is {hard}; raise it "
                       "(ulimit -Hn, or LimitNOFILE= / limits.conf) or run fewer nodes")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def cgroup_pids_room():
    """How many more tasks (threads) this process's cgroup allows, or None if unlimited or
    unknown (cgroup v2 pids.max - pids.current)."""
    try:
        line = next(x for x in Path("/proc/self/cgroup").read_text().splitlines()
                    if x.startswith("0::"))
        base = Path("/sys/fs/cgroup") / line[3:].lstrip("/")
        limit = (base / "pids.max").read_text().strip()
        current = int((base / "pids.current").read_text())
    except (OSError, StopIteration, ValueError):
        return None
    return None if limit == "max" else int(limit) - current


def threads_room():
    """Tasks the kernel may still create (kernel.threads-max minus those running), or None."""
    try:
        limit = int(Path("/proc/sys/kernel/threads-max").read_text())
        running = int(Path("/proc/loadavg").read_text().split()[3].split("/")[1])
    except (OSError, ValueError, IndexError):
        return None
    return limit - running


def check_room(started, total, usages, mem_start_kb, rooms):
    """After `started` of `total` nodes are up with these proc_usage()s, LimitHit if the rest
    would not fit: their memory (the mean RSS so far) in what was available before the mesh,
    with 10 % to spare, or their threads in the rooms left ({name: room or None}). Pure, so the
    selftest drives it with numbers."""
    usages = [u for u in usages if u]
    if not usages or started >= total:
        return
    rest = total - started
    rss_kb = sum(u["rss_kb"] or 0 for u in usages) / len(usages)
    if mem_start_kb is not None and rss_kb * total > 0.9 * mem_start_kb:
        raise LimitHit(f"memory: each node uses about {rss_kb / 1024:.1f} MiB, so {total} nodes "
                       f"need about {rss_kb * total / 1024 ** 2:.1f} GiB, more than 90 % of the "
                       f"{mem_start_kb / 1024 ** 2:.1f} GiB available when the mesh started; run "
                       f"at most {int(0.9 * mem_start_kb / rss_kb)} nodes here")
    threads = sum(u["threads"] for u in usages) / len(usages)
    for name, room in rooms.items():
        if room is not None and threads * rest > room:
            raise LimitHit(f"processes: each node runs {threads:.0f} threads, so the other "
                           f"{rest} nodes need {threads * rest:.0f} more tasks, but {name} "
                           f"allows only {room} more; raise it or run fewer nodes")
