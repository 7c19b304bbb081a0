"""report.html for a netsim run: the summary, the checks and the plots in one file, readable offline.

write_report_html(out_dir, report) is called by netsim.py after report.json is written. The PNG
plots are embedded as data: URIs, the bytes-per-block chart is drawn in HTML, nothing is fetched
from anywhere, and every value is HTML-escaped (a scenario's names and a node's messages are text).
Standard library only.
"""

import base64
import html
from pathlib import Path

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #1d232b; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #dde3ea; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 3px 10px; text-align: left;
  border-bottom: 1px solid #eef1f4; vertical-align: top; } th { color: #5b6673; font-weight: 500; }
.pass { color: #1f7a35; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #5fa8e8; height: 12px; display: inline-block; }
img { max-width: 100%; border: 1px solid #eef1f4; margin: 6px 0; }
code { background: #f3f5f7; padding: 1px 4px; }
"""


def esc(value):
    return html.escape("" if value is None else str(value))


def rows(pairs):
    return "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in pairs)


def percentile_row(name, p):
    if not p or not p.get("count"):
        return f"<tr><th>{esc(name)}</th><td colspan=6>no arrivals</td></tr>"
    cells = "".join(f"<td class=num>{esc(p.get(q))}</td>" for q in ("p50", "p90", "p99", "max"))
    return f"<tr><th>{esc(name)}</th>{cells}<td class=num>{esc(p.get('count'))}</td></tr>"


def bytes_per_block(report):
    mined = max(1, report.get("blocks", {}).get("mined") or 0)
    sent = report.get("bandwidth", {}).get("bytes_out_by_message", {})
    if not sent:
        return "<p>No traffic recorded.</p>"
    per = {k: v / mined for k, v in sent.items()}
    top = max(per.values()) or 1
    body = "".join(
        f"<tr><th>{esc(k)}</th><td class=num>{v:,.0f}</td>"
        f"<td><span class=bar style='width:{int(300 * v / top)}px'></span></td></tr>"
        for k, v in sorted(per.items(), key=lambda kv: -kv[1]))
    total = sum(per.values())
    return (f"<p>Bytes sent by all nodes, per block mined ({esc(report['blocks'].get('mined'))} "
            f"blocks), by message type; {total:,.0f} bytes per block in all.</p>"
            f"<table><tr><th>message</th><th>bytes / block</th><th></th></tr>{body}</table>")


def resources_html(report):
    """What the run cost and who spent it (report.json's resources), so a reader sees what
    limited it."""
    res = report.get("resources")
    if not res:
        return "<p>Not measured.</p>"
    phases = ", ".join(f"{esc(k[:-2])} {esc(v)} s" for k, v in res.get("phases_s", {}).items())
    startup = res.get("startup_s") or {}
    table = rows([
        ("CPU", esc(res.get("note", ""))),
        ("phases", phases),
        ("start-up", ", ".join(f"{esc(k)} {esc(v)}" for k, v in startup.items())),
        ("nodes", f"{esc(res.get('nodes_cpu_s'))} CPU-s in all; per node CPU-s p50 "
                  f"{esc(res['node_cpu_s'].get('p50'))} max {esc(res['node_cpu_s'].get('max'))}; "
                  f"RSS MiB p50 {esc(res['node_rss_mb'].get('p50'))} max "
                  f"{esc(res['node_rss_mb'].get('max'))}; threads at most "
                  f"{esc(res.get('node_threads_max'))}"),
        ("netsim", f"{esc(res.get('netsim_cpu_s_during_mesh'))} CPU-s while the mesh ran, "
                   f"{esc(res.get('netsim_cpu_s_total'))} in all; peak RSS "
                   f"{esc(res.get('netsim_peak_rss_mb'))} MiB"),
    ])
    return f"<table>{table}</table>"


def plots_html(out, report):
    parts = []
    for name in report.get("plots", []):
        path = Path(out) / name
        try:
            data = base64.b64encode(path.read_bytes()).decode()
        except OSError:
            continue
        parts.append(f"<h3>{esc(name)}</h3><img alt='{esc(name)}' src='data:image/png;base64,{data}'>")
    if not parts:
        parts.append(f"<p>No plots: {esc(report.get('plots_note'))}</p>")
    return "".join(parts)


def write_report_html(out, report):
    config, run, blocks = report.get("config", {}), report.get("run", {}), report.get("blocks", {})
    scenario = config.get("scenario", {})
    verdict = ("<span class=pass>PASS</span>" if report.get("pass")
               else "<span class=fail>FAIL</span>")
    topo = config.get("topology", {})
    summary = rows([
        ("result", verdict),
        ("scenario", esc(scenario.get("name")) + " — " + esc(scenario.get("description"))),
        ("nodes", f"{esc(config.get('nodes'))}, {esc(topo.get('kind'))}"
                  + (f" k={esc(topo.get('k'))}" if topo.get("k") else "")
                  + f", {len(topo.get('edges', []))} links"),
        ("network", f"{esc(config.get('pow'))}, difficulty {esc(config.get('difficulty'))}, "
                    f"{esc(config.get('network', {}).get('kind', 'loopback'))}"),
        ("seed", f"{esc(run.get('seed'))} (repeat with <code>--seed {esc(run.get('seed'))}</code>)"),
        ("duration", f"{esc(run.get('duration_s'))} s"),
        ("revision", f"<code>{esc(run.get('git_revision'))}</code>"),
        ("blocks", f"{esc(blocks.get('mined'))} mined, {esc(blocks.get('main_chain'))} on the main "
                   f"chain, {esc(blocks.get('stale'))} stale, {esc(blocks.get('reorgs'))} reorgs, "
                   f"final height {esc(blocks.get('final_height'))}"),
        ("transactions", esc(report.get("transactions"))),
    ])
    checks = "".join(
        f"<tr><td class={'pass' if c['ok'] else 'fail'}>{'ok' if c['ok'] else 'FAIL'}</td>"
        f"<th>{esc(c['name'])}</th><td>{esc(c['detail'])}</td></tr>"
        for c in report.get("checks", []))
    propagation = percentile_row("block propagation", report.get("block_propagation_ms"))
    for release, p in report.get("block_held_back_ms", {}).items():
        propagation += percentile_row(f"held back, after the {release}", p)
    propagation += percentile_row("last node reached", report.get("block_full_reach_ms"))
    propagation += percentile_row("transactions", report.get("tx_propagation_ms"))
    convergence = ", ".join(f"{esc(c['after'])} {esc(c['ms'])} ms"
                            for c in report.get("convergence", []) if c.get("after") != "mine")
    warnings = "".join(f"<li>{esc(w)}</li>" for w in report.get("warnings", []))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>netsim report: {esc(scenario.get('name'))}</title>
<style>{STYLE}</style></head><body>
<h1>netsim report: {esc(scenario.get('name'))} {verdict}</h1>
<table>{summary}</table>
<h2>Checks</h2><table>{checks}</table>
<h2>Propagation (ms)</h2>
<table><tr><th></th><th>p50</th><th>p90</th><th>p99</th><th>max</th><th>arrivals</th></tr>{propagation}</table>
<p>Convergence: {convergence or 'not measured'}</p>
{'<h2>Warnings</h2><ul>' + warnings + '</ul>' if warnings else ''}
<h2>Plots</h2>{plots_html(out, report)}
<h2>Bytes per block</h2>{bytes_per_block(report)}
<h2>Resources</h2>{resources_html(report)}
<p>Raw data beside this file: report.json, block_arrivals.csv, events.ndjson.</p>
</body></html>
"""
    (Path(out) / "report.html").write_text(page)
