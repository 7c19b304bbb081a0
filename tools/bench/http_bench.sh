#!/usr/bin/env bash
# HTTP benchmarks of a gossipchain node against the tutorial's Flask node:
#   1. GET /chain on a 10-block chain (genesis + 9 mined), wrk -t1 -c16 -d5s, best of $RUNS runs
#      on each node, and the ratio (target >= 30x Flask);
#   2. GET /chain on a 100,001-block chain (mined at difficulty 1 through /mine on one keep-alive
#      connection), curl time_total over $CURL_RUNS requests (target < 100 ms);
#   3. the idle node's resident set (ps -o rss) right after it first answers (target <= 4 MB).
# Both nodes run the linked rule at difficulty 1 from the same genesis, so their blocks have the
# same shape. Every process started here is killed on exit.
#
# Usage: tools/bench/http_bench.sh   (env: NODE=build-bench-rel/bin/gossipchain RUNS=3
#                                      CURL_RUNS=5 BLOCKS=100000 WRK_SECONDS=5
#                                      TUTORIAL_NODE=tests/integration/tutorial_node.py)
set -euo pipefail

cd "$(dirname "$0")/../.."
NODE=${NODE:-build-bench-rel/bin/gossipchain}
RUNS=${RUNS:-3}
CURL_RUNS=${CURL_RUNS:-5}
BLOCKS=${BLOCKS:-100000}
WRK_SECONDS=${WRK_SECONDS:-5}
TUTORIAL_NODE=${TUTORIAL_NODE:-tests/integration/tutorial_node.py}
GENESIS_TIMESTAMP=1700000000.0

die() {
    echo "http_bench.sh: $*" >&2
    exit 1
}
for tool in wrk curl python3; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install $tool)"
done
python3 -c 'import flask' 2>/dev/null || die "Flask is missing (apt-get install python3-flask)"
[[ -x $NODE ]] || die "$NODE is not built"

WORK=$(mktemp -d -t http_bench.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Polls a URL until it answers, for at most 10 s.
wait_http() {
    for _ in $(seq 200); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.05
    done
    die "$1 did not answer"
}

# The tutorial's /chain as a standalone Flask app, used only when the integration tests' copy of
# the tutorial node is not in this checkout. Genesis is fixed instead of time() so both nodes
# start from the same block; /mine is the tutorial's, with the linked proof at difficulty 1.
write_minimal_flask_node() {
    cat >"$1" <<'EOF'
import hashlib, json, sys
from time import time
from uuid import uuid4
from flask import Flask, jsonify

app = Flask(__name__)
node_identifier = str(uuid4()).replace('-', '')
chain = [{'index': 1, 'timestamp': float(sys.argv[2]), 'transactions': [], 'proof': 100,
          'previous_hash': 1}]

def block_hash(block):
    return hashlib.sha256(json.dumps(block, sort_keys=True).encode()).hexdigest()

@app.route('/mine', methods=['GET'])
def mine():
    last = chain[-1]
    last_hash = block_hash(last)
    proof = 0
    while hashlib.sha256(f'{last["proof"]}{proof}{last_hash}'.encode()).hexdigest()[:1] != '0':
        proof += 1
    block = {'index': len(chain) + 1, 'timestamp': time(),
             'transactions': [{'sender': '0', 'recipient': node_identifier, 'amount': 1,
                               'id': uuid4().hex}],
             'proof': proof, 'previous_hash': last_hash}
    chain.append(block)
    return jsonify({'message': 'New Block Forged', 'index': block['index']}), 200

@app.route('/chain', methods=['GET'])
def full_chain():
    return jsonify({'chain': chain, 'length': len(chain)}), 200

app.run(host='127.0.0.1', port=int(sys.argv[1]))
EOF
}

# Best "Requests/sec" of $RUNS wrk runs against $1.
wrk_best() {
    local best=0 rate
    for _ in $(seq "$RUNS"); do
        rate=$(wrk -t1 -c16 -d"${WRK_SECONDS}s" "$1" | awk '/^Requests\/sec:/ {print $2}')
        echo "    wrk -t1 -c16 -d${WRK_SECONDS}s $1: $rate requests/s" >&2
        best=$(python3 -c "print(max($best, $rate))")
    done
    echo "$best"
}

GC_PORT=$(free_port)
"$NODE" --port "$GC_PORT" --data-dir "$WORK/gc" --difficulty 1 --log-level warn \
    >"$WORK/gc.log" 2>&1 &
GC_PID=$!
PIDS+=("$GC_PID")
wait_http "http://127.0.0.1:$GC_PORT/status"
IDLE_RSS_KB=$(ps -o rss= -p "$GC_PID" | tr -d ' ')

FLASK_PORT=$(free_port)
if [[ -f $TUTORIAL_NODE ]]; then
    FLASK_SOURCE=$TUTORIAL_NODE
    python3 "$TUTORIAL_NODE" --port "$FLASK_PORT" --pow linked --difficulty 1 \
        --genesis-timestamp "$GENESIS_TIMESTAMP" >"$WORK/flask.log" 2>&1 &
else
    FLASK_SOURCE="minimal Flask app ($TUTORIAL_NODE is missing)"
    write_minimal_flask_node "$WORK/flask_node.py"
    python3 "$WORK/flask_node.py" "$FLASK_PORT" "$GENESIS_TIMESTAMP" >"$WORK/flask.log" 2>&1 &
fi
PIDS+=("$!")
wait_http "http://127.0.0.1:$FLASK_PORT/chain"

for port in "$GC_PORT" "$FLASK_PORT"; do
    for _ in $(seq 9); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/mine"
    done
done
GC_BYTES=$(curl -sf "http://127.0.0.1:$GC_PORT/chain" | wc -c)
FLASK_BYTES=$(curl -sf "http://127.0.0.1:$FLASK_PORT/chain" | wc -c)

echo "GET /chain, 10-block chains ($GC_BYTES bytes from gossipchain, $FLASK_BYTES from Flask;"
echo "Flask node: $FLASK_SOURCE), best of $RUNS wrk runs:"
GC_RATE=$(wrk_best "http://127.0.0.1:$GC_PORT/chain")
FLASK_RATE=$(wrk_best "http://127.0.0.1:$FLASK_PORT/chain")
python3 - "$GC_RATE" "$FLASK_RATE" <<'EOF'
import sys
gc, flask = float(sys.argv[1]), float(sys.argv[2])
ratio = gc / flask
print(f"  gossipchain {gc:,.0f} requests/s, Flask {flask:,.0f} requests/s: {ratio:.1f}x "
      f"(target >= 30x: {'meets' if ratio >= 30 else 'MISSES'})")
EOF

echo
echo "Mining $BLOCKS more blocks on gossipchain (difficulty 1, GET /mine on one connection)"
python3 - "$GC_PORT" "$BLOCKS" <<'EOF'
import sys
sys.path.insert(0, "tools/bench")
from sync_bench import mine
port, count = int(sys.argv[1]), int(sys.argv[2])
seconds = mine(port, count)
print(f"  {count} blocks in {seconds:.1f} s ({count / seconds:,.0f} per second)")
EOF
LENGTH=$(curl -sf "http://127.0.0.1:$GC_PORT/status" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["height"])')
echo "GET /chain of $LENGTH blocks, curl time_total over $CURL_RUNS requests (new connection each):"
TIMES=()
for _ in $(seq "$CURL_RUNS"); do
    TIMES+=("$(curl -sf -o /dev/null -w '%{time_total} %{size_download}' \
        "http://127.0.0.1:$GC_PORT/chain")")
done
python3 - "${TIMES[@]}" <<'EOF'
import sys
runs = [(float(t), int(b)) for t, b in (arg.split() for arg in sys.argv[1:])]
print("  " + ", ".join(f"{t * 1000:.1f} ms" for t, _ in runs) + f" ({runs[0][1]:,} bytes)")
best = min(t for t, _ in runs)
print(f"  best {best * 1000:.1f} ms (target < 100 ms: {'meets' if best < 0.1 else 'MISSES'})")
EOF
LOADED_RSS_KB=$(ps -o rss= -p "$GC_PID" | tr -d ' ')

echo
echo "gossipchain resident set: $IDLE_RSS_KB KiB idle right after start" \
    "(target <= 4096 KiB: $( ((IDLE_RSS_KB <= 4096)) && echo meets || echo MISSES))," \
    "$LOADED_RSS_KB KiB holding $LENGTH blocks"
