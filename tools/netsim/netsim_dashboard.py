"""netsim's mesh view (`netsim.py up --dashboard`, `run --dashboard`): one page for the whole mesh.

A reader thread per node follows that node's GET /events stream (Server-Sent Events) and a poller
reads every node's /status twice a second; MeshDashboard folds both into one state: each node's
height and tip, each block's arrival time at every node (the node's own accept time from the
event, CLOCK_REALTIME, so arrivals subtract to propagation delays), the delays, and the run's
partitions and heals. It serves that state as JSON at /state and the page (mesh.html beside this
file: the peer graph coloured by tip, a replay of each block spreading, a live propagation
histogram) at /, on loopback only. Standard library only.
"""

import collections
import http.server
import json
import socket
import threading
import time
from pathlib import Path

PAGE = Path(__file__).resolve().parent / "mesh.html"
MAX_BLOCKS = 200  # blocks kept for replay
MAX_DELAYS = 20000  # propagation delays kept for the histogram
MAX_MARKERS = 200


class MeshDashboard:
    def __init__(self, mesh, port=0):
        self.mesh = mesh
        self.lock = threading.Lock()
        self.stop = threading.Event()
        n = len(mesh.nodes)
        self.heights = [0] * n
        self.tips = [""] * n
        self.streaming = [False] * n
        self.blocks = collections.OrderedDict()  # hash -> {index, origin, mined, arrivals}
        self.delays = collections.deque(maxlen=MAX_DELAYS)
        self.markers = collections.deque(maxlen=MAX_MARKERS)
        self.groups = None  # node index -> group while a partition holds
        self.threads = [threading.Thread(target=self.follow, args=(i,), daemon=True)
                        for i in range(n)]
        self.threads.append(threading.Thread(target=self.poll, daemon=True))
        handler = self.handler()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.threads.append(threading.Thread(target=self.server.serve_forever, daemon=True))
        for t in self.threads:
            t.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    # ------------------------------------------------------------ inputs
    def mark(self, kind, detail=""):
        with self.lock:
            self.markers.append({"t": time.time(), "kind": kind, "detail": detail})
            if kind == "partition":
                groups = json.loads(detail)
                self.groups = {m: g for g, members in enumerate(groups) for m in members}
            elif kind == "heal":
                self.groups = None

    def on_block(self, node, data):
        with self.lock:
            block = self.blocks.get(data["hash"])
            if block is None:
                block = {"index": data["index"], "origin": None, "mined": None, "arrivals": {}}
                self.blocks[data["hash"]] = block
                while len(self.blocks) > MAX_BLOCKS:
                    self.blocks.popitem(last=False)
            if node in block["arrivals"]:
                return
            block["arrivals"][node] = data["time"]
            if data.get("source") == "self":
                block["origin"], block["mined"] = node, data["time"]
                for other, t in block["arrivals"].items():
                    if other != node:
                        self.delays.append((t - data["time"]) * 1000.0)
            elif block["mined"] is not None:
                self.delays.append((data["time"] - block["mined"]) * 1000.0)
            if data["index"] > self.heights[node]:
                self.heights[node], self.tips[node] = data["index"], data["hash"]

    def follow(self, i):
        """Reads node i's /events until stopped, reconnecting while the node is down."""
        while not self.stop.is_set():
            node = self.mesh.nodes[i]
            try:
                with socket.create_connection((node.host, node.port), timeout=2) as sock:
                    sock.sendall(b"GET /events HTTP/1.1\r\nHost: netsim\r\n\r\n")
                    sock.settimeout(1)
                    self.read_stream(i, sock)
            except OSError:
                pass
            self.streaming[i] = False
            self.stop.wait(0.2)

    def read_stream(self, i, sock):
        buffer = b""
        head_done = False
        while not self.stop.is_set():
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return
            buffer += chunk
            if not head_done:
                if b"\r\n\r\n" not in buffer:
                    continue
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                if b" 200 " not in head.split(b"\r\n")[0]:
                    return
                head_done = True
                self.streaming[i] = True
            while b"\n\n" in buffer:
                frame, buffer = buffer.split(b"\n\n", 1)
                event, data = None, b""
                for line in frame.split(b"\n"):
                    if line.startswith(b"event: "):
                        event = line[7:].decode()
                    elif line.startswith(b"data: "):
                        data += line[6:]
                if event == "block":
                    try:
                        self.on_block(i, json.loads(data))
                    except (ValueError, KeyError):
                        pass

    def poll(self):
        while not self.stop.wait(0.5):
            states = self.mesh.statuses(self.mesh.nodes)
            with self.lock:
                for i, st in enumerate(states):
                    if st:
                        self.heights[i], self.tips[i] = st["height"], st["tip"]

    # ------------------------------------------------------------ output
    def state(self):
        with self.lock:
            return {
                "now": time.time(),
                "nodes": [{"index": nd.index, "address": nd.address, "alive": nd.alive(),
                           "streaming": self.streaming[nd.index], "height": self.heights[nd.index],
                           "tip": self.tips[nd.index]} for nd in self.mesh.nodes],
                "edges": [list(e) for e in self.mesh.edges],
                "groups": self.groups,
                "blocks": [{"hash": h, **b} for h, b in self.blocks.items()][-40:],
                "delays": list(self.delays),
                "markers": list(self.markers),
            }

    def handler(self):
        dashboard = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/state":
                    body = json.dumps(dashboard.state()).encode()
                    kind = "application/json"
                elif self.path in ("/", "/index.html"):
                    body = PAGE.read_bytes()
                    kind = "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Security-Policy",
                                 "default-src 'none'; script-src 'unsafe-inline'; "
                                 "style-src 'unsafe-inline'; connect-src 'self'")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
