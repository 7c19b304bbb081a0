#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: tests/fuzz/corpus/<target>/<seed name>.

Seeds come from the protocol vectors (protocol/vectors/*.json) and from real requests a client or
peer sends, so the fuzzers start from inputs that pass the outer checks and mutate from there.
msgpack payloads are built with tools/gen_frame_vectors.py's independent encoder. The output is
deterministic; rerun after changing the vectors and commit the result (it is small).

Usage: tests/fuzz/make_corpus.py
"""

import json
import os
import shutil
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import gen_frame_vectors as fv  # noqa: E402

OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
# Numbered vector cases of one kind kept as seeds.
MAX_SEEDS_PER_KIND = 3


def vectors(name):
    with open(os.path.join(ROOT, "protocol", "vectors", name), encoding="utf-8") as f:
        return json.load(f)


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def message(type_name, body):
    return fv.pack([fv.TYPES[type_name], body])


def write(target, seeds):
    directory = os.path.join(OUT, target)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    for name, data in seeds:
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def frame_codec_seeds():
    frames = vectors("frames.json")
    seeds = []
    for case in frames["valid"] + frames["invalid"]:
        payload = bytes.fromhex(case["payload_hex"])
        # First byte: chunk size (0 = whole input at once, 3 = three bytes per read).
        seeds.append((case["name"], b"\x00" + frame(payload)))
    ping = bytes.fromhex(frames["valid"][3]["payload_hex"])
    seeds.append(("three_pings_split", b"\x03" + frame(ping) * 3))
    seeds.append(("length_4gib", b"\x00" + b"\xff\xff\xff\xff" + ping))
    seeds.append(("empty_frame", b"\x01" + frame(b"")))
    return seeds


def gossip_chain_blocks():
    return [entry["block"] for entry in vectors("gossipchain_chain.json")["blocks"]]


def peer_message_seeds():
    blocks = gossip_chain_blocks()[1:]
    announce = [frame(message("AnnounceBlock", {"block": b})) for b in blocks]
    txs = [t for b in blocks for t in b["transactions"] if t["sender"] != "0"]
    txids = [fv.hexdigest(json.dumps(t, sort_keys=True)) for t in txs]
    genesis_hash = vectors("gossipchain_chain.json")["genesis_hash"]
    return [
        ("announce_in_order", b"".join(announce)),
        ("announce_reversed_orphans", b"".join(reversed(announce))),
        ("announce_twice", b"".join(announce) * 2),
        ("chain_batch", frame(message("Chain", {"blocks": blocks, "more": False}))),
        ("new_transactions", frame(message("NewTransactions", {"transactions": txs}))),
        ("request_chain_after_blocks", b"".join(announce)
         + frame(message("RequestChain", {"locator": [genesis_hash], "limit": 3}))),
        # Unknown short ids: every position is asked for, then BlockTxs rebuilds the block.
        ("compact_block_then_block_txs", b"".join(
            frame(message("CompactBlock", {
                "hash": fv.hexdigest(json.dumps(b, sort_keys=True)),
                "header": dict(b, transactions=[]),
                "short_ids": list(range(1, len(b["transactions"]) + 1)), "prefilled": []}))
            + frame(message("BlockTxs", {"hash": fv.hexdigest(json.dumps(b, sort_keys=True)),
                                         "transactions": b["transactions"]}))
            for b in blocks)),
        ("inventory_then_requests", frame(message("TxInventory", {"txids": txids}))
         + frame(message("NewTransactions", {"transactions": txs}))
         + frame(message("GetTransactions", {"txids": txids}))),
    ]


def http_seeds():
    tx = json.dumps({"sender": "alice", "recipient": "bob", "amount": 5})
    register = json.dumps({"nodes": ["http://127.0.0.1:5001", "127.0.0.1:5002"]})

    def post(path, body, extra=""):
        return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}"
                f"Content-Length: {len(body.encode())}\r\n\r\n{body}")

    gets = ["/chain", "/mine", "/status", "/nodes", "/nodes/resolve", "/blocks/1",
            "/blocks/" + "0" * 64, "/transactions/pending", "/metrics", "/nope"]
    seeds = [(f"get_{i}", "\x00" + f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n") for i, p in enumerate(gets)]
    chunked = ("POST /transactions/new HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               f"Transfer-Encoding: chunked\r\n\r\n{len(tx):x}\r\n{tx}\r\n0\r\n\r\n")
    seeds += [
        ("post_transaction", "\x00" + post("/transactions/new", tx)),
        ("post_transaction_split", "\x05" + post("/transactions/new", tx)),
        ("post_register", "\x00" + post("/nodes/register", register)),
        ("post_expect_continue", "\x07" + post("/transactions/new", tx, "Expect: 100-continue\r\n")),
        ("post_chunked", "\x00" + chunked),
        ("pipelined_close", "\x00" + "GET /chain HTTP/1.1\r\n\r\n" + post("/transactions/new", tx)
         + "GET /status HTTP/1.1\r\nConnection: close\r\n\r\nGET /chain HTTP/1.1\r\n\r\n"),
        ("http10", "\x00GET /status HTTP/1.0\r\n\r\n"),
        ("percent_garbage", "\x00GET /blocks/%zz%00%2e%2e%2f..%c0%af HTTP/1.1\r\n\r\n"),
        ("bad_content_length", "\x00POST /transactions/new HTTP/1.1\r\nContent-Length: 100000000000\r\n\r\n"),
    ]
    return seeds


def json_seeds():
    tutorial = vectors("tutorial_chain.json")["chains"]
    first = tutorial[0] if isinstance(tutorial, list) else next(iter(tutorial.values()))
    chain = first["chain"] if isinstance(first, dict) and "chain" in first else first
    blocks = gossip_chain_blocks()
    tx = {"sender": "alice", "recipient": "bob", "amount": 5}
    seeds = [
        ("transaction_body", json.dumps(tx)),
        ("transaction_with_id", json.dumps(blocks[1]["transactions"][0])),
        ("register_body", json.dumps({"nodes": ["http://127.0.0.1:5001"]})),
        ("block", json.dumps(blocks[-1])),
        ("block_unicode", json.dumps(blocks[3], ensure_ascii=False)),
        ("chain_answer", json.dumps({"chain": blocks[:3], "length": 3})),
        ("invalid_utf8", b'{"sender": "\xff\xfe", "recipient": "b", "amount": 1}'),
        ("deep", "[" * 70 + "]" * 70),
    ]
    if isinstance(chain, list):
        seeds.append(("tutorial_chain_answer", json.dumps({"chain": chain[:3], "length": 3})))
    return seeds


# Inputs on which gossipchain and python3 read JSON differently, found by
# tools/check_canonical_json.py over the fuzzer's grown corpus: "regress_" ones were bugs (now
# refused), "design_" ones are refused on purpose. The ctest canonical_json_python keeps each
# class covered.
CANONICAL_EDGE_SEEDS = [
    ("regress_nul_after_value", b"{}\x00garbage"),
    ("regress_integer_beyond_64_bits", "55755575555555557683"),
    ("regress_negative_integer_beyond_64_bits", "[-92255555555555555555555555555555555555555]"),
    ("design_duplicate_key", '{"a": 1, "a": 2}'),
    ("design_lone_surrogate", '["\\ud800"]'),
    ("design_nan_literal", "[NaN, Infinity]"),
    ("design_float_overflow", "1e400"),
]


def canonical_seeds():
    # The vectors hold hundreds of numbered random cases per kind; three of each kind are enough
    # to seed the fuzzer and keep the checked-in corpus small.
    seeds = []
    per_kind = {}
    for case in vectors("canonical_json.json")["cases"]:
        kind = case["name"].rstrip("0123456789").rstrip("_")
        per_kind[kind] = per_kind.get(kind, 0) + 1
        if per_kind[kind] <= MAX_SEEDS_PER_KIND:
            seeds.append((case["name"], case["input"]))
    return seeds + CANONICAL_EDGE_SEEDS


def fetched_chain_seeds():
    """/chain answers: gossipchain's chain (adoptable on its network), the tutorial's own chains,
    and the shapes the reader refuses early."""
    ours = [case["block"] for case in vectors("gossipchain_chain.json")["blocks"]]
    seeds = []
    for chunk in (0, 7):
        answer = json.dumps({"chain": ours, "length": len(ours)}, separators=(",", ":"))
        seeds.append((f"gossipchain_chain_{chunk}", bytes([chunk]) + answer.encode()))
    for i, case in enumerate(vectors("tutorial_chain.json")["chains"]):
        answer = json.dumps({"chain": case["chain"], "length": len(case["chain"])})
        seeds.append((f"tutorial_chain_{i}", b"\x05" + answer.encode()))
    seeds += [
        ("html", b"\x00<html>not a chain</html>"),
        ("numbers", b"\x03" + b'{"chain":[' + b",".join([b"1"] * 64) + b'],"length":1}'),
        ("nested", b"\x00" + b'{"chain":[{"a":[[[[1]]]]}]}'),
        ("length_first", b"\x01" + b'{"length": 0, "chain": []}'),
    ]
    return seeds


def canonical_block_reader_seeds():
    """Blocks as BlockJson writes them (what the store keeps), and near misses of one: each must
    be read as the general reader reads it."""
    blocks = gossip_chain_blocks()
    canonical = [json.dumps(b, sort_keys=True) for b in blocks]
    block = canonical[-1]
    seeds = [(f"block_{i}", text) for i, text in enumerate(canonical)]
    seeds += [
        ("escaped_string", json.dumps(blocks[3], sort_keys=True)),
        ("non_ascii_raw", json.dumps(blocks[3], sort_keys=True, ensure_ascii=False)),
        ("compact_separators", json.dumps(blocks[-1], sort_keys=True, separators=(",", ":"))),
        ("unsorted_keys", json.dumps(blocks[-1])),
        ("timestamp_nan", json.dumps(dict(blocks[-1], timestamp=float("nan")), sort_keys=True)),
        ("timestamp_infinity", json.dumps(dict(blocks[-1], timestamp=float("inf")), sort_keys=True)),
        ("timestamp_trailing_zero", block.replace(repr(blocks[-1]["timestamp"]),
                                                  repr(blocks[-1]["timestamp"]) + "0", 1)),
        ("timestamp_integer", json.dumps(dict(blocks[-1], timestamp=1700000001), sort_keys=True)),
        ("renamed_key", block.replace('"transactions"', '"transactionz"', 1)),
        ("leading_zero_index", block.replace('{"index": ', '{"index": 0', 1)),
        ("trailing_space", block + " "),
        ("truncated", block[:-2]),
        ("empty_transactions", json.dumps(dict(blocks[-1], transactions=[]), sort_keys=True)),
    ]
    return seeds


def secure_channel_seeds():
    """Frames a dialling peer sends, from protocol/vectors/handshake.json's "basic" case (the
    fuzz target's responder has that case's responder seeds). First byte: the mode; then frames
    with 2-byte big-endian lengths (see tests/fuzz/secure_channel_fuzz.cpp)."""
    handshake = vectors("handshake.json")
    basic = next(c for c in handshake["cases"] if c["name"] == "basic")

    def frames(*parts):
        return b"".join(struct.pack(">H", len(p)) + p for p in parts)

    e_i = bytes.fromhex(basic["initiator"]["e_frame_hex"])
    auth_i = bytes.fromhex(basic["initiator"]["auth_frame_hex"])
    sent = [bytes.fromhex(m["frame_hex"]) for m in basic["messages"] if m["from"] == "initiator"]
    hello = bytes.fromhex(vectors("frames.json")["valid"][0]["payload_hex"])
    ping = bytes.fromhex(vectors("frames.json")["valid"][3]["payload_hex"])
    # Mode 1 operations: first byte op % 6 = 0 honest, 1 changed, 2 raw, 3 replay, 4 dropped,
    # 5 the responder's way.
    seeds = [
        ("raw_handshake_and_messages", b"\x00" + frames(e_i, auth_i, *sent)),
        ("raw_handshake_only", b"\x00" + frames(e_i, auth_i)),
        ("open_honest_messages", b"\x01" + frames(b"\x00" + hello, b"\x00", b"\x05" + ping,
                                                   b"\x00" + b"x" * 300)),
        ("open_changed_message", b"\x01" + frames(b"\x00" + ping, b"\x07" + hello)),
        ("open_raw_frame", b"\x01" + frames(b"\x00" + ping, b"\x02" + sent[0])),
        ("open_replayed", b"\x01" + frames(b"\x00" + ping, b"\x03")),
        ("open_dropped", b"\x01" + frames(b"\x00" + ping, b"\x04" + ping)),
        ("auth_slot", b"\x02" + frames(auth_i, *sent)),
        ("e_slot", b"\x03" + frames(e_i, auth_i, sent[0])),
    ]
    for case in handshake["invalid"]:
        if case["case"] == "basic" and case["receiver"] == "responder":
            seeds.append(("invalid_" + case["name"],
                          b"\x00" + frames(*(bytes.fromhex(f) for f in case["frames_hex"]))))
    return seeds


def signed_tx_seeds():
    signed = vectors("signed_tx.json")
    seeds = []
    for i, case in enumerate(signed["valid"] + signed["invalid"]):
        tx = case["transaction"]
        seeds.append((f"json_{i}", json.dumps(tx)))
        body = {"transactions": [{"sender": tx["sender"], "recipient": tx["recipient"],
                                  "amount": tx["amount"], "nonce": tx["nonce"],
                                  "signature": tx["signature"]}]}
        seeds.append((f"msgpack_{i}", message("NewTransactions", body)))
    tx = signed["valid"][0]["transaction"]
    seeds.append(("json_unknown_field", json.dumps(dict(tx, id="00" * 16))))
    seeds.append(("json_unsigned", json.dumps({"sender": "a", "recipient": "b", "amount": 5})))
    return seeds


def wallet_file_seeds():
    seed = "01" * 32
    return [
        ("written", "# gossipchain wallet\n# address " + "ab" * 32 + "\n" + seed + "\n"),
        ("bare", seed),
        ("crlf", "# c\r\n" + seed + "\r\n"),
        ("two_keys", seed + "\n" + seed + "\n"),
        ("short", seed[:-1] + "\n"),
    ]


def main():
    write("signed_tx_fuzz", signed_tx_seeds())
    write("wallet_file_fuzz", wallet_file_seeds())
    write("frame_codec_fuzz", frame_codec_seeds())
    write("peer_message_fuzz", peer_message_seeds())
    write("http_session_fuzz", http_seeds())
    write("json_body_fuzz", json_seeds())
    write("canonical_json_fuzz", canonical_seeds())
    write("fetched_chain_fuzz", fetched_chain_seeds())
    write("canonical_block_reader_fuzz", canonical_block_reader_seeds())
    write("secure_channel_fuzz", secure_channel_seeds())


if __name__ == "__main__":
    main()
