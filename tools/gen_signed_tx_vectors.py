#!/usr/bin/env python3
"""Generates protocol/vectors/signed_tx.json: the signed rules' bytes (SPEC §6.7), from Python.

Every expected value comes from Python's json.dumps(sort_keys=True) and hashlib, and every key
and signature from the `cryptography` package's Ed25519 (OpenSSL's implementation; Debian's
python3-cryptography), never from gossipchain or libsodium. Ed25519 signatures are
deterministic (RFC 8032), so a conforming signer must produce exactly these bytes. The output is
deterministic: rerunning the script must leave the checked-in file unchanged. The header rule's
preimage (SPEC §6.1) is covered too, on a block that holds the transfers.

Usage: tools/gen_signed_tx_vectors.py [output_dir]   (default: protocol/vectors)
"""

import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

DOMAIN = "gossipchain/tx\n"
GENESIS = {"index": 1, "timestamp": 1700000000.0, "transactions": [], "proof": 100,
           "previous_hash": 1}


def canonical(obj):
    return json.dumps(obj, sort_keys=True)


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def network_id(pow_rule, difficulty, rules):
    base = f"{sha256_hex(canonical(GENESIS))}/{pow_rule}/{difficulty}"
    return base if rules == "open" else f"{base}/{rules}"


def key_of(seed_byte):
    private = Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)
    public = private.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
    return private, public.hex()


def transfer(seed_byte, recipient, amount, nonce, network):
    private, sender = key_of(seed_byte)
    unsigned = {"amount": amount, "nonce": nonce, "recipient": recipient, "sender": sender}
    message = DOMAIN + network + "\n" + canonical(unsigned)
    signature = private.sign(message.encode()).hex()
    tx = dict(unsigned, signature=signature)
    return {
        "seed_hex": (bytes([seed_byte]) * 32).hex(),
        "network_id": network,
        "transaction": tx,
        "unsigned_json": canonical(unsigned),
        "signed_message": message,
        "canonical_json": canonical(tx),
        "txid": sha256_hex(canonical(tx)),
    }


def header_preimage(block, parent_hash, parent_proof):
    content = dict(block, proof=0)
    digest = hashlib.sha256(canonical(content).encode()).digest()
    return (bytes.fromhex(parent_hash) + digest + parent_proof.to_bytes(8, "big") +
            block["proof"].to_bytes(8, "big"))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "protocol", "vectors")
    signed = network_id("header", 4, "signed")
    _, bob = key_of(2)
    _, carol = key_of(3)
    valid = [
        transfer(1, bob, 5, 0, signed),
        transfer(1, carol, 2**53 - 1, 2**53 - 1, signed),
        transfer(2, carol, 1, 7, network_id("linked", 2, "signed")),
    ]
    other = transfer(1, bob, 5, 0, network_id("header", 5, "signed"))
    invalid = [
        {"name": "signed for another network id", "network_id": signed,
         "transaction": other["transaction"]},
        {"name": "amount changed after signing", "network_id": signed,
         "transaction": dict(valid[0]["transaction"], amount=6)},
        {"name": "sender swapped", "network_id": signed,
         "transaction": dict(valid[0]["transaction"], sender=carol)},
    ]
    parent_hash = sha256_hex(canonical(GENESIS))
    block = {"index": 2, "timestamp": 1700000001.5, "proof": 12345, "previous_hash": parent_hash,
             "transactions": [valid[0]["transaction"],
                              {"sender": "0", "recipient": bob, "amount": 1,
                               "id": "00112233445566778899aabbccddeeff"}]}
    preimage = header_preimage(block, parent_hash, 100)
    document = {
        "description": (
            "Signed rules (SPEC §6.7): for each valid case, unsigned_json is the canonical JSON "
            "the signature covers after the prefix 'gossipchain/tx\\n' + network_id + '\\n' "
            "(signed_message); the signature is Ed25519 (RFC 8032, deterministic) by the key "
            "made from seed_hex, so a conforming signer produces exactly it; txid = SHA-256 of "
            "canonical_json. Each invalid case's signature must not verify on its network_id. "
            "header_rule: the 80-byte preimage of SPEC §6.1 for `block` on genesis (parent "
            "proof 100) and its SHA-256. Written by tools/gen_signed_tx_vectors.py with Python's "
            "json and the cryptography package (OpenSSL's Ed25519)."),
        "valid": valid,
        "invalid": invalid,
        "header_rule": {"block": block, "parent_hash": parent_hash, "parent_proof": 100,
                        "content_digest_hex": hashlib.sha256(
                            canonical(dict(block, proof=0)).encode()).hexdigest(),
                        "preimage_hex": preimage.hex(),
                        "digest_hex": hashlib.sha256(preimage).hexdigest()},
    }
    path = os.path.join(out_dir, "signed_tx.json")
    with open(path, "w", encoding="ascii") as f:
        json.dump(document, f, indent=2, sort_keys=True, ensure_ascii=True)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
