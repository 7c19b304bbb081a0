#!/usr/bin/env python3
"""Draws netsim's PNG plots from the JSON that netsim.py writes on stdin.

  python3 netsim_plots.py OUT_DIR < plot-input.json

netsim.py runs this file under whichever interpreter can import matplotlib (its own, else
Debian's /usr/bin/python3, where python3-matplotlib installs), so it imports nothing from
netsim.py and needs only the standard library and matplotlib. It prints the name of each PNG it
wrote, one per line. Exit 77 when matplotlib cannot be imported.

Input: {"delays": [ms, ...] propagation delays, "held": {"heal": [ms, ...], ...} delays after a
release, "heights": {"node": [[s, height], ...]} best height seen per node, "markers": [[s, kind],
...], "groups": {"node": group} during the first partition or {}, "end": s}. Times are seconds
since the mesh was up; "end" is when the nodes were stopped.
"""

import json
import sys
from pathlib import Path

MARKER_COLOURS = {"partition": "red", "heal": "green", "kill": "black", "restart": "blue"}
DISTURBANCES = ("partition", "heal", "kill", "restart")


def cdf(ax, values, **style):
    values = sorted(values)
    if len(values) < 20:  # a few steps would hardly show as lines
        style["marker"] = "o"
        style["markersize"] = 3
    ax.step(values, [(i + 1) / len(values) for i in range(len(values))], where="post", **style)


def propagation_cdf(plt, data, path):
    fig, ax = plt.subplots(figsize=(6.5, 4))
    cdf(ax, data["delays"], label=f"propagation ({len(data['delays'])} arrivals)")
    for release, values in sorted(data["held"].items()):
        cdf(ax, values, linestyle="--",
            label=f"held back, after the {release} ({len(values)} arrivals)")
    ax.set_xlabel("delay (ms): after mining, or after the release for held-back arrivals"
                  if data["held"] else "delay after mining (ms)")
    ax.set_ylabel("fraction of (block, node) arrivals")
    ax.set_ylim(0, 1.02)
    ax.set_title("Block propagation CDF")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def heights_plot(plt, ticker, data, path, zoom):
    """Best height per node over time; with `zoom`, only around the disturbances and coloured by
    partition side, so the split into one staircase per side and the join at the heal show."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    groups = data["groups"] if zoom else {}
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ts = [t for t, kind in data["markers"] if kind in DISTURBANCES]
    x_range = (min(ts) - 0.3, max(ts) + 0.5) if zoom else (0.0, data["end"])
    shown = []
    for node, points in sorted(data["heights"].items(), key=lambda kv: int(kv[0])):
        points = points + [[data["end"], points[-1][1]]]  # the last height lasts to the end
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        shown += [y for x, y in points if x_range[0] <= x <= x_range[1]]
        shown += [y for x, y in points if x < x_range[0]][-1:]
        style = {"linewidth": 0.8, "alpha": 0.7}
        if node in groups:
            style["color"] = palette[groups[node] % len(palette)]
        ax.step(xs, ys, where="post", **style)
    seen = set()
    for t, kind in data["markers"]:
        if kind not in MARKER_COLOURS:
            continue
        ax.axvline(t, color=MARKER_COLOURS[kind], linestyle="--", linewidth=0.8,
                   label=kind if kind not in seen else None)
        seen.add(kind)
    ax.set_xlim(*x_range)
    ax.set_ylim(min(shown) - 0.5, max(shown) + 0.5)
    ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    if zoom:
        if groups:
            for g in sorted(set(groups.values())):
                ax.plot([], [], color=palette[g % len(palette)], label=f"side {g}")
    if seen:
        ax.legend(fontsize=8, loc="upper left")
    ax.set_xlabel("seconds since the mesh was up")
    ax.set_ylabel("best height seen")
    ax.set_title("Height per node" + (" around the disturbances" if zoom else ""))
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib import ticker
    except ImportError as e:
        print(f"{sys.executable}: {e}", file=sys.stderr)
        return 77
    out = Path(argv[1])
    data = json.load(sys.stdin)
    made = []
    if data["delays"] or data["held"]:
        propagation_cdf(plt, data, out / "propagation_cdf.png")
        made.append("propagation_cdf.png")
    if data["heights"]:
        heights_plot(plt, ticker, data, out / "height_over_time.png", zoom=False)
        made.append("height_over_time.png")
        if any(kind in DISTURBANCES for _, kind in data["markers"]):
            heights_plot(plt, ticker, data, out / "partition_heal.png", zoom=True)
            made.append("partition_heal.png")
    for name in made:
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
