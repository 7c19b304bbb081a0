#!/usr/bin/env python3
"""Generates protocol/vectors/frames.json: gossip message payloads, encoded independently.

The payload bytes come from the tiny msgpack encoder below (Python standard library only), never
from gossipchain's C++ codec, so the C++ tests that decode these vectors and re-encode them to the
same bytes check our codec against protocol/SPEC.md rather than against itself.

Encoding rules (SPEC.md, "Message encoding"): a payload is the msgpack array [type, body]; ints use
the smallest msgpack form, strings the smallest str form (fixstr, str8, str16, str32), floats are
always float64, maps keep the key order SPEC.md gives (Python dicts keep insertion order).

Output layout:
  {"valid":   [{"name", "message": {"type", "body"}, "payload_hex"}, ...],
   "invalid": [{"name", "payload_hex", "error"}, ...]}
"error" is the decode error class: malformed, limit-exceeded, unknown-type or invalid-field.

Usage: tools/gen_frame_vectors.py [output_file]   (default: protocol/vectors/frames.json)
The output is deterministic; rerunning must leave the checked-in file unchanged.
"""

import hashlib
import json
import os
import struct
import sys

TYPES = {
    "Hello": 1,
    "Ping": 2,
    "Pong": 3,
    "AnnounceBlock": 4,
    "RequestChain": 5,
    "Chain": 6,
    "RegisterPeer": 7,
    "Peers": 8,
    "NewTransactions": 9,
    "Reject": 10,
    "TxInventory": 11,
    "GetTransactions": 12,
    "BlockInventory": 13,
    "GetBlock": 14,
    "CompactBlock": 15,
    "GetBlockTxs": 16,
    "BlockTxs": 17,
}


class Float32(float):
    """A float to encode as msgpack float32 (only used for invalid vectors)."""


class Raw(bytes):
    """Bytes copied into the output as they are (only used for invalid vectors)."""


class Bin(bytes):
    """A msgpack bin value (only used for invalid vectors)."""


def pack(value):
    if isinstance(value, Raw):
        return bytes(value)
    if value is None:
        return b"\xc0"
    if value is True:
        return b"\xc3"
    if value is False:
        return b"\xc2"
    if isinstance(value, int):
        return pack_int(value)
    if isinstance(value, Float32):
        return b"\xca" + struct.pack(">f", value)
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, Bin):
        return pack_header(len(value), None, 0xC4, 0xC5, 0xC6) + bytes(value)
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return pack_header(len(raw), (0xA0, 32), 0xD9, 0xDA, 0xDB) + raw
    if isinstance(value, bytes):
        # Plain bytes stand for a str whose bytes may not be valid UTF-8.
        return pack_header(len(value), (0xA0, 32), 0xD9, 0xDA, 0xDB) + value
    if isinstance(value, list):
        return pack_header(len(value), (0x90, 16), None, 0xDC, 0xDD) + b"".join(map(pack, value))
    if isinstance(value, dict):
        out = pack_header(len(value), (0x80, 16), None, 0xDE, 0xDF)
        for key, item in value.items():
            out += pack(key) + pack(item)
        return out
    raise TypeError(f"cannot encode {type(value).__name__}")


def pack_header(length, fix, code8, code16, code32):
    """Smallest header: fix form (base, bound), then 8-, 16- and 32-bit lengths."""
    if fix is not None and length < fix[1]:
        return bytes([fix[0] | length])
    if code8 is not None and length < 1 << 8:
        return bytes([code8, length])
    if length < 1 << 16:
        return bytes([code16]) + struct.pack(">H", length)
    return bytes([code32]) + struct.pack(">I", length)


def pack_int(n):
    if 0 <= n < 128:
        return bytes([n])
    if -32 <= n < 0:
        return struct.pack(">b", n)
    if n >= 0:
        for code, fmt, bound in ((0xCC, ">B", 1 << 8), (0xCD, ">H", 1 << 16), (0xCE, ">I", 1 << 32)):
            if n < bound:
                return bytes([code]) + struct.pack(fmt, n)
        return b"\xcf" + struct.pack(">Q", n)
    for code, fmt, bound in ((0xD0, ">b", 1 << 7), (0xD1, ">h", 1 << 15), (0xD2, ">i", 1 << 31)):
        if n >= -bound:
            return bytes([code]) + struct.pack(fmt, n)
    return b"\xd3" + struct.pack(">q", n)


def hexdigest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def fake_hash(label):
    return hexdigest(label)


def fake_id(label):
    return hexdigest(label)[:32]


def tx(sender, recipient, amount, label):
    return {"sender": sender, "recipient": recipient, "amount": amount, "id": fake_id(label)}


def signed_tx(sender, recipient, amount, nonce, label):
    # A signed transfer's shape (SPEC §5.2); the signature's bytes do not matter to the codec.
    return {"sender": fake_hash(sender), "recipient": fake_hash(recipient), "amount": amount,
            "nonce": nonce, "signature": fake_hash(label) + fake_hash(label + "/2")}


def block(index, timestamp, transactions, proof, previous_hash):
    # Tutorial key order, which SPEC.md makes the canonical encoding order.
    return {
        "index": index,
        "timestamp": timestamp,
        "transactions": transactions,
        "proof": proof,
        "previous_hash": previous_hash,
    }


def genesis():
    return block(1, 1700000000.0, [], 100, 1)


def hello(**overrides):
    body = {
        "protocol_version": 2,
        "network_id": fake_hash("genesis") + "/linked/4",
        "node_id": fake_id("node-a"),
        "listen_port": 5001,
        "height": 1,
        "tip": fake_hash("genesis"),
        "agent": "gossipchain/0.1.0",
    }
    body.update(overrides)
    return body


def valid_cases():
    reward = tx("0", fake_id("node-a"), 1, "reward-2")
    payment = tx("Zo\u00eb \U0001f680", "bob-" + "x" * 36, 9007199254740991, "pay-1")
    block2 = block(2, 1700000123.456789, [reward, payment], 35293, fake_hash("genesis"))
    block3 = block(3, 1700000124.0, [tx("0", fake_id("node-b"), 1, "reward-3")], 2**63 - 1,
                   fake_hash("block-2"))
    big_index = block(70000, 1.0e16, [], 0, fake_hash("block-69999"))
    return [
        ("hello", "Hello", hello()),
        ("hello_not_listening_big_height", "Hello",
         hello(listen_port=0, height=2**40 + 5, agent="", tip=fake_hash("tip"))),
        ("hello_max_port_unicode_agent", "Hello",
         hello(listen_port=65535, height=300, agent="n\u00f6de \u65e5\u672c")),
        ("ping_zero", "Ping", {"nonce": 0}),
        ("ping_max", "Ping", {"nonce": 2**64 - 1}),
        ("pong", "Pong", {"nonce": 0x1234567890}),
        ("announce_genesis", "AnnounceBlock", {"block": genesis()}),
        ("announce_block_with_transactions", "AnnounceBlock", {"block": block2}),
        ("announce_block_max_proof", "AnnounceBlock", {"block": block3}),
        ("announce_block_big_index", "AnnounceBlock", {"block": big_index}),
        ("announce_block_negative_previous_hash", "AnnounceBlock",
         {"block": block(1, 0.5, [], 7, -40000)}),
        ("request_chain", "RequestChain",
         {"locator": [fake_hash(f"h{i}") for i in (9, 8, 7, 5, 1)], "limit": 2000}),
        ("request_chain_empty_locator", "RequestChain", {"locator": [], "limit": 0}),
        ("chain", "Chain", {"blocks": [block2, block3], "more": True}),
        ("chain_empty", "Chain", {"blocks": [], "more": False}),
        ("register_peer_empty_host", "RegisterPeer", {"host": "", "port": 5001}),
        ("register_peer", "RegisterPeer", {"host": "node-7.example.org", "port": 65535}),
        ("peers", "Peers", {"addresses": ["127.0.0.1:5001", "[::1]:5002"]}),
        ("peers_array16", "Peers", {"addresses": [f"10.0.0.{i}:5000" for i in range(20)]}),
        ("peers_empty", "Peers", {"addresses": []}),
        ("new_transactions", "NewTransactions",
         {"transactions": [payment, tx("alice", "bob", 300, "pay-2")]}),
        ("new_transactions_signed", "NewTransactions",
         {"transactions": [signed_tx("alice", "bob", 5, 0, "sig-1"),
                           signed_tx("bob", "carol", 2**53 - 1, 2**53 - 1, "sig-2")]}),
        ("reject", "Reject", {"code": 3, "reason": "wrong network"}),
        ("reject_str16_reason", "Reject", {"code": 70000, "reason": "r" * 256}),
        ("tx_inventory", "TxInventory", {"txids": [fake_hash(f"tx{i}") for i in range(3)]}),
        ("tx_inventory_empty", "TxInventory", {"txids": []}),
        ("get_transactions", "GetTransactions", {"txids": [fake_hash("tx1")]}),
        ("block_inventory", "BlockInventory", {"hash": fake_hash("block-2"), "height": 2}),
        ("get_block", "GetBlock", {"hash": fake_hash("block-2")}),
        ("compact_block", "CompactBlock", {
            "hash": fake_hash("block-2"), "header": dict(block2, transactions=[]),
            "short_ids": [0, 2**32 - 1, 12345], "prefilled": [reward]}),
        ("get_block_txs", "GetBlockTxs", {"hash": fake_hash("block-2"), "indexes": [1, 2]}),
        ("block_txs", "BlockTxs", {"hash": fake_hash("block-2"), "transactions": [payment]}),
    ]


def envelope(type_name, body):
    return [TYPES[type_name], body]


def invalid_cases():
    ok_tx = tx("alice", "bob", 5, "t")
    ok_block = genesis()
    int_timestamp = dict(ok_block, timestamp=1700000000)
    f32_timestamp = dict(ok_block, timestamp=Float32(0.5))
    big_proof = dict(ok_block, proof=2**63)
    extra_key = dict(ok_block, nonce=1)
    missing_key = {k: v for k, v in ok_block.items() if k != "proof"}
    ping = pack(envelope("Ping", {"nonce": 1}))
    deep = Raw(b"\x91" * 20 + b"\x00")
    return [
        ("empty", b"", "malformed"),
        ("truncated_ping", ping[:-1], "malformed"),
        ("trailing_byte", ping + b"\x00", "malformed"),
        ("not_an_array", pack({"nonce": 1}), "malformed"),
        ("envelope_of_three", pack([2, {"nonce": 1}, 0]), "malformed"),
        ("type_is_string", pack(["Ping", {"nonce": 1}]), "malformed"),
        ("unknown_type", pack([99, {}]), "unknown-type"),
        ("type_zero", pack([0, {}]), "unknown-type"),
        ("body_not_map", pack([2, [1]]), "invalid-field"),
        ("nonce_negative", pack(envelope("Ping", {"nonce": -1})), "invalid-field"),
        ("nonce_missing", pack(envelope("Ping", {})), "invalid-field"),
        ("duplicate_key", Raw(b"\x92\x02\x82\xa5nonce\x01\xa5nonce\x02"), "invalid-field"),
        ("key_not_string", pack(envelope("Ping", {1: 1, "nonce": 1})), "invalid-field"),
        ("timestamp_int", pack(envelope("AnnounceBlock", {"block": int_timestamp})),
         "invalid-field"),
        ("timestamp_float32", pack(envelope("AnnounceBlock", {"block": f32_timestamp})),
         "invalid-field"),
        ("proof_2_63", pack(envelope("AnnounceBlock", {"block": big_proof})), "invalid-field"),
        ("block_extra_key", pack(envelope("AnnounceBlock", {"block": extra_key})),
         "invalid-field"),
        ("block_missing_key", pack(envelope("AnnounceBlock", {"block": missing_key})),
         "invalid-field"),
        ("previous_hash_not_hex", pack(envelope("AnnounceBlock", {
            "block": dict(ok_block, previous_hash="ABC")})), "invalid-field"),
        ("tx_id_uppercase", pack(envelope("NewTransactions", {
            "transactions": [dict(ok_tx, id=ok_tx["id"].upper())]})), "invalid-field"),
        ("tx_amount_float", pack(envelope("NewTransactions", {
            "transactions": [dict(ok_tx, amount=5.0)]})), "invalid-field"),
        ("tx_sender_invalid_utf8", pack(envelope("NewTransactions", {
            "transactions": [dict(ok_tx, sender=b"\xc3\x28")]})), "invalid-field"),
        ("tx_sender_bin", pack(envelope("NewTransactions", {
            "transactions": [dict(ok_tx, sender=Bin(b""))]})), "invalid-field"),
        ("tx_sender_129_bytes", pack(envelope("NewTransactions", {
            "transactions": [dict(ok_tx, sender="s" * 129)]})), "invalid-field"),
        ("tx_signed_with_id", pack(envelope("NewTransactions", {
            "transactions": [dict(signed_tx("a", "b", 5, 0, "s"), id=fake_id("x"))]})),
         "invalid-field"),
        ("tx_signature_uppercase", pack(envelope("NewTransactions", {
            "transactions": [dict(signed_tx("a", "b", 5, 0, "s"),
                                  signature=(fake_hash("s") * 2).upper())]})), "invalid-field"),
        ("tx_nonce_negative", pack(envelope("NewTransactions", {
            "transactions": [dict(signed_tx("a", "b", 5, 0, "s"), nonce=-1)]})),
         "invalid-field"),
        ("locator_65_hashes", pack(envelope("RequestChain", {
            "locator": [fake_hash("x")] * 65, "limit": 1})), "invalid-field"),
        ("port_65536", pack(envelope("RegisterPeer", {"host": "", "port": 65536})),
         "invalid-field"),
        ("array_declared_huge", Raw(b"\x92\x08\x81\xa9addresses\xdd\xff\xff\xff\xff"),
         "limit-exceeded"),
        ("str_declared_huge", Raw(b"\x92\x0a\x82\xa4code\x01\xa6reason\xdb\xff\xff\xff\xff"),
         "malformed"),
        ("str_over_parser_limit", pack(envelope("Ping", {"nonce": 1, "x": "x" * 4097})),
         "limit-exceeded"),
        ("nested_20_deep", pack([2, {"nonce": 1, "x": deep}]), "limit-exceeded"),
        ("inventory_txid_short", pack(envelope("TxInventory", {"txids": ["ab" * 16]})),
         "invalid-field"),
        ("get_transactions_1001", pack(envelope("GetTransactions", {
            "txids": [fake_hash("t")] * 1001})), "invalid-field"),
    ]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "protocol", "vectors",
                                                                 "frames.json")
    valid = []
    for name, type_name, body in valid_cases():
        valid.append({
            "name": name,
            "message": {"type": type_name, "body": body},
            "payload_hex": pack(envelope(type_name, body)).hex(),
        })
    invalid = [{"name": name, "payload_hex": bytes(payload).hex(), "error": error}
               for name, payload, error in invalid_cases()]
    names = [case["name"] for case in valid + invalid]
    assert len(names) == len(set(names)), "duplicate vector names"
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"valid": valid, "invalid": invalid}, f, indent=1, ensure_ascii=True)
        f.write("\n")


if __name__ == "__main__":
    main()
