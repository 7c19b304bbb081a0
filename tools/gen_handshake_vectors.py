#!/usr/bin/env python3
"""Generates protocol/vectors/handshake.json: the SPEC §7.1-7.3 handshake and encrypted frames,
computed independently.

Every primitive is written out below from its RFC (Python standard library only, hashlib.blake2b
and hashlib.sha512 being the only borrowed pieces): X25519 (RFC 7748), Ed25519 (RFC 8032) and
ChaCha20-Poly1305 IETF (RFC 8439). None of it calls libsodium or gossipchain's C++, so the C++
tests that rebuild these handshakes with p2p/secure_channel and compare every frame byte for byte
check that code against protocol/SPEC.md rather than against itself. The libsodium conventions
the SPEC names are reproduced here by hand:
  crypto_kx_seed_keypair(seed): secret = BLAKE2b-32(seed), public = X25519(secret, 9);
  crypto_kx session keys:       k = BLAKE2b-64(q || e_i || e_r) with the initiator as client;
                                initiator tx = k_i = k[32:64], responder tx = k_r = k[0:32];
  crypto_sign_seed_keypair:     RFC 8032 Ed25519 from the 32-byte seed.
The primitives are checked against the RFCs' own test vectors first (RFC 7748 §5.2 and §6.1,
RFC 8032 §7.1 tests 1 and 2, RFC 8439 §2.8.2); if any check fails nothing is written.

Output layout: see DESCRIPTION below (it is copied into the file).

Usage: tools/gen_handshake_vectors.py [output_file]   (default: protocol/vectors/handshake.json)
The output is deterministic; rerunning must leave the checked-in file unchanged.
"""

import hashlib
import json
import os
import struct
import sys

# --- SPEC §7 constants ----------------------------------------------------------------------

TRANSCRIPT_LABEL = b"gossipchain/3 handshake"
AUTH_LABEL = b"gossipchain/3 auth"
REKEY_LABEL = b"gossipchain/3 rekey"
ROLE_INITIATOR = b"i"
ROLE_RESPONDER = b"r"
REKEY_INTERVAL_MESSAGES = 4096
TAG_BYTES = 16
AUTH_FRAME_BYTES = 32 + 64 + TAG_BYTES


def blake2b(data, size, key=b""):
    return hashlib.blake2b(data, digest_size=size, key=key).digest()


def le_int(data):
    return int.from_bytes(data, "little")


# --- X25519, RFC 7748 §5 -----------------------------------------------------------------------

P25519 = 2**255 - 19
A24 = 121665


def x25519(scalar, u_bytes):
    """RFC 7748 §5: the Montgomery ladder on Curve25519, scalar clamped, u's top bit masked."""
    k = bytearray(scalar)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    k = le_int(k)
    u = le_int(u_bytes) & ((1 << 255) - 1)
    p = P25519
    x1, x2, z2, x3, z3 = u, 1, 0, u, 1
    swap = 0
    for t in range(254, -1, -1):
        bit = (k >> t) & 1
        swap ^= bit
        if swap:
            x2, x3 = x3, x2
            z2, z3 = z3, z2
        swap = bit
        a = (x2 + z2) % p
        aa = a * a % p
        b = (x2 - z2) % p
        bb = b * b % p
        e = (aa - bb) % p
        c = (x3 + z3) % p
        d = (x3 - z3) % p
        da = d * a % p
        cb = c * b % p
        x3 = (da + cb) ** 2 % p
        z3 = x1 * (da - cb) ** 2 % p
        x2 = aa * bb % p
        z2 = e * (aa + A24 * e) % p
    if swap:
        x2, x3 = x3, x2
        z2, z3 = z3, z2
    return (x2 * pow(z2, p - 2, p) % p).to_bytes(32, "little")


X25519_BASE = (9).to_bytes(32, "little")


# --- Ed25519, RFC 8032 §5.1 ------------------------------------------------------------------

ED_P = P25519
ED_L = 2**252 + 27742317777372353535851937790883648493
ED_D = -121665 * pow(121666, ED_P - 2, ED_P) % ED_P
SQRT_M1 = pow(2, (ED_P - 1) // 4, ED_P)


def ed_add(p1, p2):
    """RFC 8032 §5.1.4: addition in extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z."""
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % ED_P
    b = (y1 + x1) * (y2 + x2) % ED_P
    c = t1 * 2 * ED_D * t2 % ED_P
    d = z1 * 2 * z2 % ED_P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % ED_P, g * h % ED_P, f * g % ED_P, e * h % ED_P)


def ed_mul(scalar, point):
    result = (0, 1, 1, 0)
    while scalar > 0:
        if scalar & 1:
            result = ed_add(result, point)
        point = ed_add(point, point)
        scalar >>= 1
    return result


def ed_encode(point):
    x, y, z, _ = point
    zinv = pow(z, ED_P - 2, ED_P)
    x, y = x * zinv % ED_P, y * zinv % ED_P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def ed_recover_x(y, sign):
    """RFC 8032 §5.1.3 step 2-4; None when y is not on the curve."""
    if y >= ED_P:
        return None
    x2 = (y * y - 1) * pow(ED_D * y * y + 1, ED_P - 2, ED_P) % ED_P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (ED_P + 3) // 8, ED_P)
    if (x * x - x2) % ED_P != 0:
        x = x * SQRT_M1 % ED_P
    if (x * x - x2) % ED_P != 0:
        return None
    if (x & 1) != sign:
        x = ED_P - x
    return x


def ed_decode(data):
    y = le_int(data) & ((1 << 255) - 1)
    x = ed_recover_x(y, data[31] >> 7)
    if x is None:
        return None
    return (x, y, 1, x * y % ED_P)


def ed_equal(p1, p2):
    x1, y1, z1, _ = p1
    x2, y2, z2, _ = p2
    return (x1 * z2 - x2 * z1) % ED_P == 0 and (y1 * z2 - y2 * z1) % ED_P == 0


ED_BASE_Y = 4 * pow(5, ED_P - 2, ED_P) % ED_P
ED_BASE = (ed_recover_x(ED_BASE_Y, 0), ED_BASE_Y, 1, ed_recover_x(ED_BASE_Y, 0) * ED_BASE_Y % ED_P)


def sha512_int(data):
    return le_int(hashlib.sha512(data).digest())


def ed_expand(seed):
    h = hashlib.sha512(seed).digest()
    a = le_int(h[:32])
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def ed_public_key(seed):
    a, _ = ed_expand(seed)
    return ed_encode(ed_mul(a, ED_BASE))


def ed_sign(seed, message):
    """RFC 8032 §5.1.6 (deterministic; what libsodium's crypto_sign_detached produces)."""
    a, prefix = ed_expand(seed)
    public = ed_encode(ed_mul(a, ED_BASE))
    r = sha512_int(prefix + message) % ED_L
    big_r = ed_encode(ed_mul(r, ED_BASE))
    k = sha512_int(big_r + public + message) % ED_L
    s = (r + k * a) % ED_L
    return big_r + s.to_bytes(32, "little")


def ed_verify(public, message, signature):
    """RFC 8032 §5.1.7 (cofactorless check, enough for the self-checks here)."""
    point_a = ed_decode(public)
    point_r = ed_decode(signature[:32])
    s = le_int(signature[32:])
    if point_a is None or point_r is None or s >= ED_L:
        return False
    k = sha512_int(signature[:32] + public + message) % ED_L
    return ed_equal(ed_mul(s, ED_BASE), ed_add(point_r, ed_mul(k, point_a)))


# --- ChaCha20-Poly1305 IETF, RFC 8439 ----------------------------------------------------------

MASK32 = 0xFFFFFFFF


def chacha20_block(key, counter, nonce):
    """RFC 8439 §2.3: one 64-byte block of key stream."""
    def rotl(v, n):
        return ((v << n) & MASK32) | (v >> (32 - n))

    def quarter(s, a, b, c, d):
        s[a] = (s[a] + s[b]) & MASK32
        s[d] = rotl(s[d] ^ s[a], 16)
        s[c] = (s[c] + s[d]) & MASK32
        s[b] = rotl(s[b] ^ s[c], 12)
        s[a] = (s[a] + s[b]) & MASK32
        s[d] = rotl(s[d] ^ s[a], 8)
        s[c] = (s[c] + s[d]) & MASK32
        s[b] = rotl(s[b] ^ s[c], 7)

    state = (list(struct.unpack("<4I", b"expand 32-byte k")) + list(struct.unpack("<8I", key))
             + [counter] + list(struct.unpack("<3I", nonce)))
    working = list(state)
    for _ in range(10):
        quarter(working, 0, 4, 8, 12)
        quarter(working, 1, 5, 9, 13)
        quarter(working, 2, 6, 10, 14)
        quarter(working, 3, 7, 11, 15)
        quarter(working, 0, 5, 10, 15)
        quarter(working, 1, 6, 11, 12)
        quarter(working, 2, 7, 8, 13)
        quarter(working, 3, 4, 9, 14)
    return struct.pack("<16I", *((w + s) & MASK32 for w, s in zip(working, state)))


def chacha20_xor(key, counter, nonce, data):
    """RFC 8439 §2.4."""
    out = bytearray()
    for block in range(0, len(data), 64):
        stream = chacha20_block(key, counter + block // 64, nonce)
        out += bytes(x ^ y for x, y in zip(data[block:block + 64], stream))
    return bytes(out)


def poly1305(message, one_time_key):
    """RFC 8439 §2.5."""
    r = le_int(one_time_key[:16]) & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = le_int(one_time_key[16:32])
    p = (1 << 130) - 5
    acc = 0
    for at in range(0, len(message), 16):
        acc = (acc + le_int(message[at:at + 16] + b"\x01")) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def pad16(data):
    return b"\x00" * (-len(data) % 16)


def aead_tag(key, nonce, aad, ciphertext):
    one_time_key = chacha20_block(key, 0, nonce)[:32]
    mac_data = (aad + pad16(aad) + ciphertext + pad16(ciphertext)
                + struct.pack("<QQ", len(aad), len(ciphertext)))
    return poly1305(mac_data, one_time_key)


def aead_seal(key, nonce, plaintext, aad=b""):
    """RFC 8439 §2.8: ciphertext || tag."""
    ciphertext = chacha20_xor(key, 1, nonce, plaintext)
    return ciphertext + aead_tag(key, nonce, aad, ciphertext)


def aead_open(key, nonce, sealed, aad=b""):
    """The plaintext, or None when the tag does not verify."""
    if len(sealed) < TAG_BYTES:
        return None
    ciphertext, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    if aead_tag(key, nonce, aad, ciphertext) != tag:
        return None
    return chacha20_xor(key, 1, nonce, ciphertext)


# --- Self-checks against the RFCs' test vectors ------------------------------------------------

def h(text):
    return bytes.fromhex("".join(text.split()))


def self_check():
    failures = []

    def expect(name, got, want):
        if got != want:
            failures.append(name)

    # RFC 7748 §5.2: the two single scalar multiplications, then the iterated one (1 and 1,000).
    expect("RFC 7748 5.2 #1", x25519(
        h("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
        h("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")),
        h("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"))
    expect("RFC 7748 5.2 #2", x25519(
        h("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
        h("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493")),
        h("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"))
    k = u = X25519_BASE
    for i in range(1, 1001):
        k, u = x25519(k, u), k
        if i == 1:
            expect("RFC 7748 5.2 iterated x1", k,
                   h("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"))
    expect("RFC 7748 5.2 iterated x1000", k,
           h("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"))
    # RFC 7748 §6.1: Alice and Bob.
    alice = h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    bob = h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    alice_public = x25519(alice, X25519_BASE)
    bob_public = x25519(bob, X25519_BASE)
    expect("RFC 7748 6.1 Alice public", alice_public,
           h("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"))
    expect("RFC 7748 6.1 Bob public", bob_public,
           h("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"))
    shared = h("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
    expect("RFC 7748 6.1 shared (Alice)", x25519(alice, bob_public), shared)
    expect("RFC 7748 6.1 shared (Bob)", x25519(bob, alice_public), shared)

    # RFC 8032 §7.1 TEST 1 and TEST 2.
    for name, seed, public, message, signature in [
        ("RFC 8032 7.1 test 1",
         "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
         "1cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        ("RFC 8032 7.1 test 2",
         "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
         "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ]:
        expect(name + " public key", ed_public_key(h(seed)), h(public))
        expect(name + " signature", ed_sign(h(seed), h(message)), h(signature))
        expect(name + " verifies", ed_verify(h(public), h(message), h(signature)), True)
        expect(name + " other message refused",
               ed_verify(h(public), h(message) + b"x", h(signature)), False)

    # RFC 8439 §2.8.2: the AEAD example.
    key = bytes(range(0x80, 0xA0))
    nonce = h("07000000 4041424344454647")
    aad = h("50515253c0c1c2c3c4c5c6c7")
    plaintext = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
                 b"the future, sunscreen would be it.")
    sealed = h("""
        d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
        3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
        92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
        3ff4def08e4b7a9de576d26586cec64b6116
        1ae10b594f09e26a7e902ecbd0600691""")
    expect("RFC 8439 2.8.2 seal", aead_seal(key, nonce, plaintext, aad), sealed)
    expect("RFC 8439 2.8.2 open", aead_open(key, nonce, sealed, aad), plaintext)
    expect("RFC 8439 2.8.2 flipped byte refused",
           aead_open(key, nonce, sealed[:5] + bytes([sealed[5] ^ 1]) + sealed[6:], aad), None)
    return failures


# --- The handshake, SPEC §7.1-7.3 -----------------------------------------------------------

def node_id(public):
    return blake2b(public, 16).hex()


def kx_seed_keypair(seed):
    secret = blake2b(seed, 32)
    return secret, x25519(secret, X25519_BASE)


def nonce_of(counter):
    return b"\x00" * 4 + struct.pack("<Q", counter)


def rekeyed(key):
    return blake2b(REKEY_LABEL, 32, key=key)


class Direction:
    """One direction's key and counter (SPEC §7.3)."""

    def __init__(self, key):
        self.key = key
        self.counter = 0

    def advance(self):
        self.counter += 1
        if self.counter % REKEY_INTERVAL_MESSAGES == 0:
            self.key = rekeyed(self.key)

    def seal(self, plaintext):
        frame = aead_seal(self.key, nonce_of(self.counter), plaintext)
        self.advance()
        return frame

    def open(self, frame):
        plaintext = aead_open(self.key, nonce_of(self.counter), frame)
        if plaintext is not None:
            self.advance()
        return plaintext


def auth_message(role, transcript):
    return AUTH_LABEL + role + transcript


class Session:
    """Both ends of one handshake, computed from the four seeds."""

    def __init__(self, initiator_identity, responder_identity, initiator_ephemeral,
                 responder_ephemeral):
        self.identity = {"initiator": initiator_identity, "responder": responder_identity}
        self.public = {role: ed_public_key(seed) for role, seed in self.identity.items()}
        self.ephemeral_seed = {"initiator": initiator_ephemeral, "responder": responder_ephemeral}
        self.ephemeral = {role: kx_seed_keypair(seed) for role, seed in self.ephemeral_seed.items()}
        e_i = self.ephemeral["initiator"][1]
        e_r = self.ephemeral["responder"][1]
        self.q = x25519(self.ephemeral["initiator"][0], e_r)
        assert self.q == x25519(self.ephemeral["responder"][0], e_i), "X25519 is not symmetric"
        assert self.q != bytes(32), "the case's ephemeral keys give q = 0"
        self.k = blake2b(self.q + e_i + e_r, 64)
        self.k_i = self.k[32:64]
        self.k_r = self.k[0:32]
        self.transcript = blake2b(TRANSCRIPT_LABEL + e_i + e_r, 32)
        self.tx = {"initiator": Direction(self.k_i), "responder": Direction(self.k_r)}
        self.rx = {"initiator": Direction(self.k_r), "responder": Direction(self.k_i)}
        self.auth_plaintext = {}
        self.auth = {}
        for role, role_byte in (("initiator", ROLE_INITIATOR), ("responder", ROLE_RESPONDER)):
            signature = ed_sign(self.identity[role], auth_message(role_byte, self.transcript))
            assert ed_verify(self.public[role], auth_message(role_byte, self.transcript),
                             signature)
            self.auth_plaintext[role] = self.public[role] + signature
            self.auth[role] = self.tx[role].seal(self.auth_plaintext[role])
            assert len(self.auth[role]) == AUTH_FRAME_BYTES
        # The other end opens each auth as message 0 of that direction.
        for role, peer in (("initiator", "responder"), ("responder", "initiator")):
            assert self.rx[peer].open(self.auth[role]) == self.auth_plaintext[role]

    def e_frame(self, role):
        return self.ephemeral[role][1]

    def send(self, role, plaintext):
        """Seals `plaintext` as `role`'s next message and checks the peer opens it."""
        counter = self.tx[role].counter
        frame = self.tx[role].seal(plaintext)
        peer = "responder" if role == "initiator" else "initiator"
        assert self.rx[peer].open(frame) == plaintext
        return counter, frame

    def end(self, role):
        return {
            "identity_seed_hex": self.identity[role].hex(),
            "public_key_hex": self.public[role].hex(),
            "node_id": node_id(self.public[role]),
            "ephemeral_seed_hex": self.ephemeral_seed[role].hex(),
            "ephemeral_secret_hex": self.ephemeral[role][0].hex(),
            "e_frame_hex": self.e_frame(role).hex(),
            "auth_plaintext_hex": self.auth_plaintext[role].hex(),
            "auth_frame_hex": self.auth[role].hex(),
        }


def seed(byte):
    return bytes([byte]) * 32


def counting_seed(start):
    return bytes(range(start, start + 32))


def first_payload(type_name):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "protocol", "vectors", "frames.json"), encoding="utf-8") as f:
        frames = json.load(f)
    return bytes.fromhex(next(case["payload_hex"] for case in frames["valid"]
                              if case["message"]["type"] == type_name))


def session_case(name, session, messages):
    """`messages`: (role, counter, plaintext) in sending order; unlisted counters are filler."""
    listed = []
    for role, counter, plaintext in messages:
        while session.tx[role].counter < counter:
            session.send(role, b"")
        before = session.tx[role].key
        sent_counter, frame = session.send(role, plaintext)
        assert sent_counter == counter
        listed.append({"from": role, "counter": counter, "plaintext_hex": plaintext.hex(),
                       "key_hex": before.hex(), "frame_hex": frame.hex()})
    return {
        "name": name,
        "initiator": session.end("initiator"),
        "responder": session.end("responder"),
        "q_hex": session.q.hex(),
        "k_hex": session.k.hex(),
        "k_i_hex": session.k_i.hex(),
        "k_r_hex": session.k_r.hex(),
        "transcript_hash_hex": session.transcript.hex(),
        "session_id": session.transcript[:8].hex(),
        "messages": listed,
    }


def flip(frame, index):
    data = bytearray(frame)
    data[index] ^= 0x01
    return bytes(data)


def invalid_cases(basic):
    """Frames a receiving end of the `basic` session must refuse: `fails_at` is the index of the
    first frame that fails the channel; it and every frame after it must be refused."""
    e_i, e_r = basic.e_frame("initiator"), basic.e_frame("responder")
    auth_i, auth_r = basic.auth["initiator"], basic.auth["responder"]

    # A fresh copy of the session, so messages are sealed from counter 1 again.
    def fresh():
        return Session(basic.identity["initiator"], basic.identity["responder"],
                       basic.ephemeral_seed["initiator"], basic.ephemeral_seed["responder"])

    messages = fresh()
    _, msg1 = messages.send("initiator", b"one")
    _, msg2 = messages.send("initiator", b"two")
    _, reply1 = messages.send("responder", b"one")

    # The responder's node key signs with the initiator's role byte, sealed correctly.
    responder_seed = basic.identity["responder"]
    wrong_role = Direction(basic.k_r).seal(
        basic.public["responder"]
        + ed_sign(responder_seed, auth_message(ROLE_INITIATOR, basic.transcript)))
    # The responder's valid signature from another session (another responder ephemeral key),
    # re-sealed under this session's key: what a replaying relay would present.
    other = Session(basic.identity["initiator"], responder_seed,
                    basic.ephemeral_seed["initiator"], seed(0x0A))
    assert other.transcript != basic.transcript
    replayed_signature = Direction(basic.k_r).seal(other.auth_plaintext["responder"])
    # Another node's key in front of the responder's valid signature.
    stranger = ed_public_key(seed(0x0B))
    wrong_key = Direction(basic.k_r).seal(
        stranger + basic.auth_plaintext["responder"][32:])
    for name, frame in (("wrong role", wrong_role), ("replayed", replayed_signature),
                        ("wrong key", wrong_key)):
        plain = Direction(basic.k_r).open(frame)
        assert plain is not None, name
        assert not ed_verify(plain[:32], auth_message(ROLE_RESPONDER, basic.transcript),
                             plain[32:]), name

    zero = bytes(32)
    low_order_one = (1).to_bytes(32, "little")
    for point in (zero, low_order_one):
        assert x25519(basic.ephemeral["responder"][0], point) == zero
        assert x25519(basic.ephemeral["initiator"][0], point) == zero

    def case(name, receiver, frames, fails_at, why):
        return {"name": name, "case": "basic", "receiver": receiver,
                "frames_hex": [f.hex() for f in frames], "fails_at": fails_at, "why": why}

    return [
        case("e_31_bytes", "responder", [e_i[:31], e_i], 0, "frame e is not 32 bytes"),
        case("e_33_bytes", "initiator", [e_r + b"\x00", e_r], 0, "frame e is not 32 bytes"),
        case("e_empty", "responder", [b"", e_i], 0, "frame e is not 32 bytes"),
        case("e_all_zero", "responder", [zero, auth_i], 0, "X25519 gives q = 0"),
        case("e_low_order_point", "initiator", [low_order_one, auth_r], 0,
             "u = 1 has order 4: X25519 gives q = 0"),
        case("auth_before_e", "responder", [auth_i, e_i], 0, "a 112-byte frame where e is due"),
        case("auth_flipped_byte", "responder", [e_i, flip(auth_i, 40), auth_i], 1,
             "one byte of the ciphertext changed: the tag does not verify"),
        case("auth_flipped_tag_byte", "initiator",
             [e_r, flip(auth_r, AUTH_FRAME_BYTES - 1), auth_r], 1, "one byte of the tag changed"),
        case("auth_111_bytes", "initiator", [e_r, auth_r[:-1]], 1, "auth is not 112 bytes"),
        case("auth_113_bytes", "responder", [e_i, auth_i + b"\x00"], 1, "auth is not 112 bytes"),
        case("auth_reflected", "initiator", [e_r, auth_i], 1,
             "the initiator's own auth, sealed under k_i, opened with k_r"),
        case("auth_wrong_role", "initiator", [e_r, wrong_role, auth_r], 1,
             "a valid signature by the responder's key, but over role byte 'i'"),
        case("auth_signature_from_other_session", "initiator", [e_r, replayed_signature], 1,
             "the responder's valid signature over another session's transcript hash"),
        case("auth_key_not_the_signer", "initiator", [e_r, wrong_key], 1,
             "P is another node's key; S is the responder's"),
        case("message_flipped_byte", "responder", [e_i, auth_i, flip(msg1, 0), msg1], 2,
             "message 1 with its first byte changed"),
        case("message_replayed", "responder", [e_i, auth_i, msg1, msg1, msg2], 3,
             "message 1 delivered twice"),
        case("message_reordered", "responder", [e_i, auth_i, msg2, msg1], 2,
             "message 2 before message 1"),
        case("message_dropped", "responder", [e_i, auth_i, msg1, messages.tx["initiator"].seal(
            b"four")], 3, "message 3 never arrives; message 4 does"),
        case("message_15_bytes", "responder", [e_i, auth_i, msg1[:15]], 2,
             "shorter than a tag"),
        case("message_reflected", "initiator", [e_r, auth_r, msg1, reply1], 2,
             "the initiator's own message 1 (k_i) sent back to it"),
    ]


DESCRIPTION = [
    "The gossip handshake and encrypted frames of protocol/SPEC.md section 7.1-7.3, computed by "
    "tools/gen_handshake_vectors.py from RFC 7748/8032/8439 written out in Python (no libsodium).",
    "All byte strings are lowercase hex (keys ending _hex). 'cases' are complete sessions. For "
    "each end ('initiator' = dialling side = crypto_kx client, 'responder'): identity_seed_hex "
    "is the 32-byte Ed25519 seed (crypto_sign_seed_keypair), public_key_hex its public key, "
    "node_id = hex(BLAKE2b-16(public key)); ephemeral_seed_hex is the crypto_kx_seed_keypair "
    "seed, ephemeral_secret_hex = BLAKE2b-32(seed), e_frame_hex = X25519(secret, 9) = the 32-byte "
    "frame e it sends; auth_plaintext_hex = node public key || Ed25519 signature of "
    "('gossipchain/3 auth' || role byte || transcript hash), auth_frame_hex = that sealed as "
    "message 0 of its direction (112 bytes).",
    "Per session: q_hex = X25519(own ephemeral secret, peer's e); k_hex = BLAKE2b-64(q || e_i || "
    "e_r); k_i_hex = k[32:64] (initiator transmits), k_r_hex = k[0:32] (responder transmits); "
    "transcript_hash_hex = BLAKE2b-32('gossipchain/3 handshake' || e_i || e_r); session_id = "
    "hex of its first 8 bytes.",
    "messages: sealed messages in sending order; 'from' names the sender, counter is n of that "
    "direction (the auth frame was 0), key_hex the direction's key that sealed it, frame_hex = "
    "ChaCha20-Poly1305-IETF(key, nonce = 4 zero bytes || n as 8 bytes little-endian, no "
    "associated data) = ciphertext || 16-byte tag. Within a direction every counter from 1 to "
    "the highest listed one that is not listed is a filler message with an EMPTY plaintext, sent "
    "in counter order before the next listed one (case 'rekey': messages 2..4094 of the "
    "initiator). When a direction's counter becomes a multiple of rekey_interval_messages "
    "(after message 4095, 8191, ...) its key becomes BLAKE2b-32('gossipchain/3 rekey', key = "
    "old key): message 4096 is the first sealed with the new key (see key_hex).",
    "invalid: frames one end of case 'basic' (receiver, built from that case's seeds) is given "
    "in order; the frames before fails_at are accepted (e, auth, messages as usual); the frame "
    "at index fails_at fails the channel, as does every frame after it (often the genuine one), "
    "and no plaintext is delivered from any of them. 'why' says what is wrong.",
]


def main():
    failures = self_check()
    if failures:
        sys.exit("primitive self-checks failed, nothing written: " + ", ".join(failures))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "protocol", "vectors",
                                                                 "handshake.json")
    hello = first_payload("Hello")
    ping = first_payload("Ping")

    basic = Session(seed(0x01), seed(0x02), seed(0x03), seed(0x04))
    cases = [
        session_case("basic", Session(seed(0x01), seed(0x02), seed(0x03), seed(0x04)), [
            ("initiator", 1, hello),
            ("responder", 1, hello),
            ("initiator", 2, b""),
            ("responder", 2, ping),
            ("initiator", 3, b"gossip"),
            ("responder", 3, bytes(range(256)) * 2),
        ]),
        session_case("counting_seeds", Session(counting_seed(0), counting_seed(32),
                                               counting_seed(64), counting_seed(96)), [
            ("responder", 1, ping),
            ("initiator", 1, hello),
            ("initiator", 2, b"x" * 65),
        ]),
        session_case("rekey", Session(seed(0x05), seed(0x06), seed(0x07), seed(0x08)), [
            ("initiator", 1, hello),
            ("responder", 1, b"the responder's direction keeps its first key"),
            ("initiator", REKEY_INTERVAL_MESSAGES - 1, b"last under the first key"),
            ("initiator", REKEY_INTERVAL_MESSAGES, b""),
            ("initiator", REKEY_INTERVAL_MESSAGES + 1, b"second under the second key"),
            ("responder", 2, b"still the first key"),
        ]),
    ]
    rekey = cases[2]["messages"]
    assert rekey[3]["key_hex"] == rekeyed(bytes.fromhex(cases[2]["k_i_hex"])).hex()
    assert rekey[2]["key_hex"] == cases[2]["k_i_hex"]

    document = {
        "description": DESCRIPTION,
        "constants": {
            "transcript_label": TRANSCRIPT_LABEL.decode(),
            "auth_label": AUTH_LABEL.decode(),
            "rekey_label": REKEY_LABEL.decode(),
            "role_byte_initiator_hex": ROLE_INITIATOR.hex(),
            "role_byte_responder_hex": ROLE_RESPONDER.hex(),
            "rekey_interval_messages": REKEY_INTERVAL_MESSAGES,
            "tag_bytes": TAG_BYTES,
            "auth_frame_bytes": AUTH_FRAME_BYTES,
        },
        "cases": cases,
        "invalid": invalid_cases(basic),
    }
    names = [c["name"] for c in cases + document["invalid"]]
    assert len(names) == len(set(names)), "duplicate vector names"
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=1, ensure_ascii=True)
        f.write("\n")


if __name__ == "__main__":
    main()
