#!/usr/bin/env python3
"""Generates the hashing test vectors in protocol/vectors/ with Python itself.

Every expected byte string here comes from Python's own json.dumps(obj, sort_keys=True) and
hashlib, never from gossipchain's writer: the whole point is that a C++ node hashes blocks exactly
as the tutorial's Flask node does. The output is deterministic (fixed random seed, no clock), so
rerunning the script must leave the checked-in files unchanged.

Files written:
  canonical_json.json   generic cases: JSON text in, json.dumps(sort_keys=True) bytes out
  tutorial_chain.json   chains mined by the tutorial's Blockchain class (seed and linked rules)
  gossipchain_chain.json  a chain in gossipchain's format (transactions carry an "id")

Usage: tools/gen_vectors.py [output_dir]   (default: protocol/vectors next to this script's repo)
"""

import hashlib
import json
import math
import os
import random
import struct
import sys
import uuid

SEED = 20231114


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def canonical(obj):
    return json.dumps(obj, sort_keys=True)


# ---------------------------------------------------------------------------------------------
# canonical_json.json
# ---------------------------------------------------------------------------------------------


class CaseList:
    def __init__(self):
        self.cases = []
        self.names = set()

    def add_obj(self, name, obj, input_style="ascii"):
        """Adds a case whose input text is written by Python from obj in the given style."""
        if input_style == "ascii":
            text = json.dumps(obj)
        elif input_style == "raw":
            # Non-ASCII characters (and DEL) appear unescaped, keys in insertion order.
            text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        else:
            raise ValueError(input_style)
        self.add_text(name, text)

    def add_text(self, name, text):
        """Adds a case from JSON text; the expected output is what Python makes of that text."""
        assert name not in self.names, name
        self.names.add(name)
        parsed = json.loads(text)
        out = canonical(parsed)
        self.cases.append(
            {"name": name, "input": text, "canonical": out, "sha256": sha256_hex(out)}
        )


def random_finite_double(rng):
    while True:
        value = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if math.isfinite(value):
            return value


# Code point ranges random strings draw from, lone surrogates excluded (they are not valid
# UTF-8, so no block can carry them). Weighted towards the ranges that need escaping.
CODE_POINT_RANGES = [
    (0x00, 0x1F),  # control characters: \n-style and \u00XX escapes
    (0x20, 0x7E),  # printable ASCII, including quote and backslash
    (0x7F, 0xFF),  # DEL and Latin-1
    (0x100, 0x7FF),  # two-byte UTF-8
    (0x800, 0xD7FF),  # three-byte UTF-8 below the surrogates
    (0xE000, 0xFFFF),  # three-byte UTF-8 above the surrogates, noncharacters included
    (0x10000, 0x10FFFF),  # astral: surrogate pairs in the output
]


def random_string(rng, max_len):
    chars = []
    for _ in range(rng.randint(0, max_len)):
        lo, hi = rng.choice(CODE_POINT_RANGES)
        chars.append(chr(rng.randint(lo, hi)))
    return "".join(chars)


def canonical_cases(rng):
    cases = CaseList()

    # Separators, key order, empty containers, literals.
    cases.add_obj("empty_object", {})
    cases.add_obj("empty_array", [])
    cases.add_obj("literals", [None, True, False])
    cases.add_obj("key_order_ascii", {"b": 1, "a": 2, "c": {"z": [], "y": {}}, "B": 3, "_": 4})
    cases.add_obj("key_order_prefix", {"ab": 1, "a": 2, "abc": 3, "": 4, "a\u0000": 5})
    cases.add_obj(
        "key_order_non_ascii",
        {"\u00e9": 1, "z": 2, "\u4e2d": 3, "\U0001f600": 4, "\uffff": 5, "\ue000": 6, "\u00ff": 7},
        "raw",
    )
    # UTF-16 order would put U+10000 before U+E000; Python sorts by code point.
    cases.add_obj("key_order_astral_after_bmp", {"\U00010000": 1, "\ue000": 2, "\ufffd": 3}, "raw")
    cases.add_obj(
        "block_shape",
        {
            "transactions": [{"sender": "a", "recipient": "b", "amount": 5}],
            "timestamp": 1506057125.900785,
            "proof": 35293,
            "previous_hash": "0" * 64,
            "index": 2,
        },
    )

    # Strings: escapes Python's ensure_ascii output uses.
    cases.add_obj("string_empty", "")
    cases.add_obj("string_quote_backslash", 'say "hi" \\ back\\slash / slash')
    cases.add_obj("string_short_escapes", "\b\f\n\r\t")
    cases.add_obj("string_all_controls", "".join(chr(c) for c in range(0x20)))
    cases.add_obj("string_del", "a\x7fb", "raw")
    cases.add_obj("string_latin1", "caf\u00e9 na\u00efve \u00ff\u0080", "raw")
    cases.add_obj("string_bmp", "\u4e2d\u6587 \u0416 \u20ac \ufffd \ufeff \uffff", "raw")
    cases.add_obj("string_astral", "\U0001f600 \U00010000 \U0010ffff \U0001d11e", "raw")
    cases.add_obj("string_mixed_key_and_value", {"\U0001f680 k\u00e9y\n": "v\u00e0l\"ue\t"}, "raw")
    cases.add_text("string_escaped_input", r'"\u00e9\/\ud83d\ude00\u0041\""')

    # Integers.
    for name, value in [
        ("int_zero", 0),
        ("int_one", 1),
        ("int_negative_one", -1),
        ("int_negative", -123456789),
        ("int_2_53", 2**53),
        ("int_2_53_plus_1", 2**53 + 1),
        ("int_2_63_minus_1", 2**63 - 1),
        ("int_minus_2_63", -(2**63)),
        ("int_2_64_minus_1", 2**64 - 1),
    ]:
        cases.add_obj(name, value)
    cases.add_text("int_negative_zero_text", "-0")
    cases.add_obj("ints_in_object", {"amount": 5, "index": 1, "proof": 100, "previous_hash": 1})

    # Floats Python writes specially.
    for name, value in [
        ("float_timestamp_genesis", 1700000000.0),
        ("float_1e16", 1e16),
        ("float_9999999999999998", 9999999999999998.0),
        ("float_1e15", 1e15),
        ("float_1e-05", 1e-05),
        ("float_0_0001", 0.0001),
        ("float_negative_zero", -0.0),
        ("float_zero", 0.0),
        ("float_0_1", 0.1),
        ("float_1_5", 1.5),
        ("float_min_subnormal", 5e-324),
        ("float_min_normal", 2.2250738585072014e-308),
        ("float_max", 1.7976931348623157e308),
        ("float_negative_max", -1.7976931348623157e308),
        ("float_1e22", 1e22),
        ("float_1e23", 1e23),
        ("float_2_53", 9007199254740992.0),
        ("float_tutorial_timestamp", 1506057125.900785),
        ("float_one_third", 1 / 3),
        ("float_123e-20", 1.23e-20),
        ("float_large_with_fraction", 123456789012345678.0),
    ]:
        cases.add_obj(name, value)
    # The same doubles written differently: the writer must depend on the value, not the text.
    for name, text in [
        ("float_text_exponent", "1.0E+2"),
        ("float_text_long", "0.1000000000000000055511151231257827"),
        ("float_text_negative_exponent", "-15e-7"),
        ("float_text_integral", "3.000"),
        ("float_text_leading_zero_fraction", "0.000001"),
    ]:
        cases.add_text(name, text)

    for i in range(320):
        value = random_finite_double(rng)
        # Half the inputs are %.17e text rather than repr, so parsing and writing are both tested.
        text = ("%.17e" % value) if i % 2 else repr(value)
        assert json.loads(text) == value or (value == 0 and json.loads(text) == 0)
        cases.add_text("double_random_bits_%03d" % i, text)
    for i in range(120):
        # Timestamps like time.time() returns: seconds since the epoch with a microsecond tail.
        value = rng.uniform(1.0e9, 4.0e9)
        if i % 3 == 0:
            value = round(value, rng.randint(0, 6))
        cases.add_obj("double_timestamp_%03d" % i, value)
    for i in range(40):
        value = rng.uniform(-1.0, 1.0) * 10.0 ** rng.randint(-30, 30)
        cases.add_obj("double_decade_%03d" % i, value)

    for i in range(220):
        value = random_string(rng, 24)
        cases.add_obj("string_random_%03d" % i, value, "raw" if i % 2 else "ascii")
    for i in range(24):
        obj = {random_string(rng, 6): random_string(rng, 4) for _ in range(rng.randint(2, 8))}
        cases.add_obj("object_random_keys_%03d" % i, obj, "raw" if i % 2 else "ascii")

    # Nested structures.
    cases.add_obj(
        "nested_mixed",
        {
            "chain": [
                {"index": 1, "transactions": [], "meta": {"ok": True, "none": None}},
                {"index": 2, "transactions": [{"amount": 2.5, "x": [1, [2, [3, {}]]]}]},
            ],
            "length": 2,
            "\u00fcber": {"b": {"a": {}}},
        },
        "raw",
    )
    deep = "leaf"
    for level in range(40):
        deep = {"level%02d" % level: deep, "n": level} if level % 2 else [deep, level]
    cases.add_obj("nested_deep_40", deep)
    cases.add_text("whitespace_input", ' \n{ "b" : [ 1 , 2.50 ] ,\t"a":{"y":null , "x" :true}}\r\n')
    return cases.cases


# ---------------------------------------------------------------------------------------------
# tutorial_chain.json: the tutorial's Blockchain class, transcribed from ../shared/seed/.
# Only the clock is replaced, by a deterministic one, so the output is reproducible.
# ---------------------------------------------------------------------------------------------


class FakeClock:
    """Stands in for time.time(): floats with a microsecond-ish tail, moving forward."""

    def __init__(self, rng, start):
        self.rng = rng
        self.now = start

    def __call__(self):
        self.now += self.rng.uniform(0.5, 40.0)
        return self.now


class Blockchain:
    """The tutorial's block_chain.py (seed rule), with time() injected."""

    def __init__(self, time, difficulty=4) -> None:
        self.time = time
        self.difficulty = difficulty
        self.chain = []
        self.current_transactions = []
        # Create the genesis block
        self.new_block(previous_hash=1, proof=100)

    def new_block(self, proof, previous_hash=None) -> dict:
        block = {
            "index": len(self.chain) + 1,
            "timestamp": self.time(),
            "transactions": self.current_transactions,
            "proof": proof,
            "previous_hash": previous_hash or self.hash(self.chain[-1]),
        }
        self.current_transactions = []
        self.chain.append(block)
        return block

    def new_transaction(self, sender, recipient, amount) -> int:
        self.current_transactions.append(
            {
                "sender": sender,
                "recipient": recipient,
                "amount": amount,
            }
        )
        return self.last_block["index"] + 1

    @property
    def last_block(self) -> dict:
        return self.chain[-1]

    @staticmethod
    def hash(block) -> str:
        block_string = json.dumps(block, sort_keys=True).encode()
        return hashlib.sha256(block_string).hexdigest()

    def proof_of_work(self, last_proof) -> int:
        proof = 0
        while self.valid_proof(last_proof, proof) is False:
            proof += 1
        return proof

    def valid_proof(self, last_proof, proof) -> bool:
        guess = f"{last_proof}{proof}".encode()
        guess_hash = hashlib.sha256(guess).hexdigest()
        return guess_hash[: self.difficulty] == "0" * self.difficulty

    def mine(self, node_identifier):
        """The tutorial's /mine handler: reward first, then proof of work, then the block."""
        self.new_transaction(sender="0", recipient=node_identifier, amount=1)
        last_block = self.last_block
        last_proof = last_block["proof"]
        proof = self.proof_of_work(last_proof)
        previous_hash = self.hash(last_block)
        return self.new_block(proof, previous_hash)


class LinkedBlockchain(Blockchain):
    """The tutorial's later fix: the proof also commits to the hash of the last block."""

    def proof_of_work(self, last_block) -> int:
        last_proof = last_block["proof"]
        last_hash = self.hash(last_block)
        proof = 0
        while self.valid_proof(last_proof, proof, last_hash) is False:
            proof += 1
        return proof

    def valid_proof(self, last_proof, proof, last_hash) -> bool:
        guess = f"{last_proof}{proof}{last_hash}".encode()
        guess_hash = hashlib.sha256(guess).hexdigest()
        return guess_hash[: self.difficulty] == "0" * self.difficulty

    def mine(self, node_identifier):
        self.new_transaction(sender="0", recipient=node_identifier, amount=1)
        last_block = self.last_block
        proof = self.proof_of_work(last_block)
        previous_hash = self.hash(last_block)
        return self.new_block(proof, previous_hash)


def tutorial_node_identifier(rng):
    # The seed text writes str(uuid4()).replace('_', ''): the dashes stay.
    return str(uuid.UUID(int=rng.getrandbits(128), version=4)).replace("_", "")


def mine_tutorial_chain(chain, rng, blocks):
    node_identifier = tutorial_node_identifier(rng)
    payments = [
        ("alice", "bob", 5),
        ("bob", "carol", 2.5),  # the tutorial never checks amount's type
        ("Zo\u00eb", "\U0001f680 rocket", 7),
        ("d4b9e2", "someone-else-address", 1000000),
        ("carol", "alice", 1),
    ]
    for i in range(blocks - 1):
        for _ in range(i % 3):
            sender, recipient, amount = payments[rng.randrange(len(payments))]
            chain.new_transaction(sender, recipient, amount)
        chain.mine(node_identifier)
    return {
        "chain": chain.chain,
        "hashes": [Blockchain.hash(block) for block in chain.chain],
    }


def tutorial_vectors(rng):
    seed_chain = Blockchain(FakeClock(rng, 1506057125.900785), difficulty=4)
    linked_chain = LinkedBlockchain(FakeClock(rng, 1700000000.0), difficulty=4)
    seed = mine_tutorial_chain(seed_chain, rng, 6)
    linked = mine_tutorial_chain(linked_chain, rng, 6)
    return {
        "comment": "Chains mined by the tutorial's Blockchain class (tools/gen_vectors.py); "
        "hashes[i] = sha256(json.dumps(chain[i], sort_keys=True)).",
        "chains": [
            dict({"pow_rule": "seed", "difficulty": 4}, **seed),
            dict({"pow_rule": "linked", "difficulty": 4}, **linked),
        ],
    }


# ---------------------------------------------------------------------------------------------
# gossipchain_chain.json: gossipchain's own block format (transactions carry an "id").
# ---------------------------------------------------------------------------------------------


def gossipchain_vectors(rng):
    difficulty = 3
    clock = FakeClock(rng, 1700000000.0)
    node_id = "%032x" % rng.getrandbits(128)

    def tx(sender, recipient, amount):
        return {"sender": sender, "recipient": recipient, "amount": amount,
                "id": "%032x" % rng.getrandbits(128)}

    def pow_linked(last_block):
        last_proof = last_block["proof"]
        last_hash = Blockchain.hash(last_block)
        proof = 0
        while True:
            digest = sha256_hex(f"{last_proof}{proof}{last_hash}")
            if digest[:difficulty] == "0" * difficulty:
                return proof
            proof += 1

    genesis = {"index": 1, "timestamp": 1700000000.0, "transactions": [], "proof": 100,
               "previous_hash": 1}
    chain = [genesis]
    payments = [
        [],
        [tx("alice", "bob", 5)],
        [tx("alice", "bob", 5), tx("bob", "carol", 2), tx("Zo\u00eb", "\U0001f680 \"q\"", 3)],
        [tx("carol", "dave", 2**53 - 1)],
        [tx("e\u0301", "tab\there", 1), tx("x" * 64, "\u4e2d\u6587", 42)],
        [],
    ]
    for pending in payments:
        last = chain[-1]
        proof = pow_linked(last)
        transactions = pending + [tx("0", node_id, 1)]
        chain.append({
            "index": last["index"] + 1,
            "timestamp": clock(),
            "transactions": transactions,
            "proof": proof,
            "previous_hash": Blockchain.hash(last),
        })
    blocks = []
    for block in chain:
        blocks.append({
            "block": block,
            "canonical": canonical(block),
            "hash": Blockchain.hash(block),
            "txids": [sha256_hex(canonical(t)) for t in block["transactions"]],
        })
    return {
        "comment": "A gossipchain chain (tools/gen_vectors.py): linked proof-of-work rule "
        "sha256(f'{last_proof}{proof}{last_hash}'), difficulty 3. hash = sha256(canonical), "
        "canonical = json.dumps(block, sort_keys=True), txid = sha256(json.dumps(tx, "
        "sort_keys=True)). The genesis hash depends only on the genesis block.",
        "pow_rule": "linked",
        "difficulty": difficulty,
        "genesis_hash": Blockchain.hash(genesis),
        "blocks": blocks,
    }


def write(path, doc):
    with open(path, "w", encoding="ascii") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "protocol", "vectors")
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(SEED)
    write(os.path.join(out_dir, "canonical_json.json"), {
        "comment": "Python json.dumps(json.loads(input), sort_keys=True) for each input "
        "(tools/gen_vectors.py); sha256 is the hex digest of canonical.",
        "cases": canonical_cases(rng),
    })
    write(os.path.join(out_dir, "tutorial_chain.json"), tutorial_vectors(rng))
    write(os.path.join(out_dir, "gossipchain_chain.json"), gossipchain_vectors(rng))


if __name__ == "__main__":
    main()
