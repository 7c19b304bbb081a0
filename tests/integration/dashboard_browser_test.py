#!/usr/bin/env python3
"""What a person sees: /dashboard of a real node in headless Chromium (ctest dashboard_browser).

Starts two gossipchain nodes on loopback (B linked to A), opens B's /dashboard in headless
Chromium over the DevTools protocol (tools/netsim/cdp.py), and checks the rendered DOM: B's height,
tip, rule and difficulty, A as a linked peer, the live stream connected. Then it marks the page
(a window property a reload would erase), mines a block on A, and checks that the open page shows
the new height, tip and the block "from" A without a reload. A transaction whose sender is markup
must show as text: no element is created and its script never runs.

Exit 0 when every check holds, 1 when one fails, 77 (ctest: skipped) only when Chromium cannot
run at all on this machine. --screenshot PATH also saves the page as PNG (docs/dashboard.png).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "netsim"))
from cdp import Browser, BrowserUnavailable  # noqa: E402

SKIP = 77
HOSTILE_SENDER = "<img src=x onerror=\"window.__pwned=1\">"


def start_node(binary, root, name, peers=()):
    data = os.path.join(root, name)
    log_path = os.path.join(root, name + ".log")
    args = [binary, "--port", "0", "--data-dir", data, "--difficulty", "1"]
    for peer in peers:
        args += ["--peer", peer]
    log = open(log_path, "w")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(log_path).read())
        if match:
            return process, int(match.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.02)
    raise RuntimeError(f"{name} did not start: {open(log_path).read()[-2000:]}")


def get(port, path, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def wait(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


class Checks:
    def __init__(self):
        self.failed = 0

    def check(self, ok, what, detail=""):
        print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if detail and not ok else ""))
        self.failed += not ok
        return ok


def text(browser, element_id):
    return browser.evaluate(f"document.getElementById({json.dumps(element_id)}).textContent")


def run(binary, screenshot):
    root = tempfile.mkdtemp(prefix="gossipchain-dashboard-")
    processes = []
    browser = None
    checks = Checks()
    try:
        try:
            browser = Browser.start()
        except BrowserUnavailable as e:
            print(f"skipped: {e}")
            return SKIP
        a, a_port = start_node(binary, root, "a")
        processes.append(a)
        b, b_port = start_node(binary, root, "b", peers=[f"127.0.0.1:{a_port}"])
        processes.append(b)
        if not checks.check(wait(lambda: get(b_port, "/status")["peers"] >= 1), "B links to A"):
            return 1
        a_id = get(a_port, "/status")["node_id"]
        get(a_port, "/mine")
        wait(lambda: get(b_port, "/status")["height"] == 2)
        status = get(b_port, "/status")

        browser.navigate(f"http://127.0.0.1:{b_port}/dashboard")
        live = browser.wait_for("document.getElementById('live').textContent === 'live'")
        checks.check(bool(live), "the page's event stream is live")
        shown = browser.wait_for(
            f"document.getElementById('height').textContent === '{status['height']}' && "
            f"document.getElementById('tip').textContent === '{status['tip'][:12]}'")
        checks.check(bool(shown), f"height {status['height']} and tip {status['tip'][:12]} shown",
                     f"height {text(browser, 'height')!r}, tip {text(browser, 'tip')!r}")
        checks.check(text(browser, "rule") == f"linked / 1", "rule and difficulty shown",
                     text(browser, "rule"))
        checks.check(text(browser, "node-id") == status["node_id"], "B's node id shown")
        peer_row = browser.wait_for(
            f"[...document.querySelectorAll('#peers tr')].map(r => r.textContent)"
            f".find(t => t.includes('{a_id[:12]}') && t.includes('outbound') && t.includes('ready'))")
        checks.check(bool(peer_row), "A shown as a linked outbound peer", str(peer_row))
        checks.check(text(browser, "peers-count") == "1", "peer count 1", text(browser, "peers-count"))

        # A reload would erase this property; the page must change under it.
        browser.evaluate("window.__noReload = 42")
        get(a_port, "/mine")
        wait(lambda: get(b_port, "/status")["height"] == 3)
        new = get(b_port, "/status")
        updated = browser.wait_for(
            f"document.getElementById('height').textContent === '3' && "
            f"document.getElementById('tip').textContent === '{new['tip'][:12]}'")
        checks.check(bool(updated), f"after a block on A the open page shows height 3, tip {new['tip'][:12]}",
                     f"height {text(browser, 'height')!r}, tip {text(browser, 'tip')!r}")
        row = browser.wait_for(
            f"[...document.querySelectorAll('#blocks tr')].map(r => r.textContent)"
            f".find(t => t.startsWith('3{new['tip'][:12]}') && t.includes('127.0.0.1:{a_port}'))")
        checks.check(bool(row), "the new block's row says it came from A", str(row))
        checks.check(browser.evaluate("window.__noReload") == 42, "the page was not reloaded")
        streamed = browser.wait_for(
            "[...document.querySelectorAll('#log li')].some(li => li.textContent.includes("
            f"'block 3 {new['tip'][:12]} from 127.0.0.1:{a_port}'))")
        checks.check(bool(streamed), "the block came to the page by its /events stream")

        get(b_port, "/transactions/new",
            {"sender": HOSTILE_SENDER, "recipient": "bob", "amount": 5})
        shown_as_text = browser.wait_for(
            f"[...document.querySelectorAll('#mempool td')].some(td => td.textContent === {json.dumps(HOSTILE_SENDER)})")
        checks.check(bool(shown_as_text), "a markup sender is shown as text in the mempool")
        checks.check(browser.evaluate("document.querySelectorAll('#mempool img').length") == 0 and
                     browser.evaluate("window.__pwned === undefined"),
                     "no element made and no script run from it")
        if screenshot:
            # The stored blocks' rows age visibly; take the picture with a fresh block on top.
            get(a_port, "/mine")
            browser.wait_for("document.getElementById('height').textContent === '4'")
            time.sleep(0.5)
            browser.screenshot(screenshot)
            print(f"screenshot: {screenshot}")
        return 1 if checks.failed else 0
    finally:
        if browser is not None:
            browser.close()
        for process in processes:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", required=True, help="the gossipchain binary")
    parser.add_argument("--screenshot", help="also save the page as this PNG")
    args = parser.parse_args()
    sys.exit(run(args.node, args.screenshot))


if __name__ == "__main__":
    main()
