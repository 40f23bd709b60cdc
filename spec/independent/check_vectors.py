#!/usr/bin/env python3
"""Independent re-derivation of the Sealdesk v1 test vectors from spec/PROTOCOL.md alone.

Usage: check_vectors.py [VECTORS_DIR]      (default: ../vectors relative to this script)

Reads VECTORS_DIR/*.json (not third-party/), recomputes every value from the spec and
compares; runs every negative case and compares the error code (and index); finally checks that
every field of every vector file was used. A few further checks ("spec/...") exercise rules of
the spec that no vector covers, with inputs built here from the vectors' identities.

Prints one line per check group ("PASS"/"FAIL", the group name, how many checks it holds, and
for a failure every failing check with what was computed and what was expected), then a final
line "N passed, M failed" counting individual checks. Exits 1 on any failure.

Only dependencies: `cryptography` (X25519, Ed25519 signing, ChaCha20-Poly1305, HKDF, HMAC,
SHA-2) and `argon2-cffi`. HPKE (RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
ChaCha20Poly1305) and strict Ed25519 verification (PROTOCOL.md §3.4, in pure Python) are
implemented here.
"""
from __future__ import annotations

import json
import os
import sys
import unicodedata

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF as _HKDF, HKDFExpand

HERE = os.path.dirname(os.path.abspath(__file__))
VEC = os.path.normpath(os.path.join(HERE, "..", "vectors"))

VECTOR_FILES = ["identities.json", "anonymous.json", "account.json", "wraps.json",
                "messages.json", "directory.json", "transcript.json",
                "attachment.json", "negative.json", "team.json"]

# =========================================================================== reporting
PASSED = 0
FAILED = 0


def _show(v):
    if isinstance(v, (bytes, bytearray)):
        v = bytes(v).hex()
    s = (v if v.isascii() else ascii(v)) if isinstance(v, str) else ascii(v)
    return s if len(s) <= 100 else s[:80] + "...(%d chars)" % len(s)


def _norm(v):
    """Normalises for comparison; comparing a vector subtree marks all its fields as used."""
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]  # TList.__iter__ records the elements
    if isinstance(v, dict):
        return {k: _norm(v[k]) for k in list(v.keys())}  # TDict.__getitem__ records the keys
    return v


class Group:
    """A named set of checks, reported on one line."""

    def __init__(self, name, quiet=False):
        self.name = name
        self.quiet = quiet  # print only on failure
        self.n = 0
        self.failures = []

    def __enter__(self):
        return self

    def check(self, what, got, expected):
        self.n += 1
        got, expected = _norm(got), _norm(expected)
        if got != expected:
            self.failures.append("%s: got %s, expected %s" % (what, _show(got), _show(expected)))

    def true(self, what, cond):
        self.check(what, bool(cond), True)

    def no_error(self, what, fn):
        try:
            return fn()
        except ProtoError as e:
            self.check(what, "error " + e.code, "accepted")
            return None

    def rejects(self, what, fn, code, index=None, check_index=False):
        """fn() must raise ProtoError with this code (and index, when check_index)."""
        try:
            fn()
            got, got_index = "accepted", None
        except ProtoError as e:
            got, got_index = e.code, e.index
        self.check(what + " rejected with", got, code)
        if check_index:
            self.check(what + " at index", got_index, index)

    def __exit__(self, et, ev, tb):
        global PASSED, FAILED
        if et is not None and et is not KeyboardInterrupt:
            # an unexpected exception is one failed check
            self.n += 1
            self.failures.append("raised %s: %s" % (et.__name__, ev))
        bad = len(self.failures)
        PASSED += self.n - bad
        FAILED += bad
        if bad:
            print("FAIL %s: %d of %d checks failed: %s" % (self.name, bad, self.n,
                                                          " | ".join(self.failures)))
        elif not self.quiet:
            print("PASS %s (%d checks)" % (self.name, self.n))
        return et is not None and et is not KeyboardInterrupt


# ----------------------------------------------------------- vector loading with field coverage
class TDict(dict):
    def __getitem__(self, k):
        ACCESSED.add(self._path + (k,))
        return super().__getitem__(k)


class TList(list):
    def __getitem__(self, i):
        if isinstance(i, int):
            ACCESSED.add(self._path + (i % len(self),))
        else:
            for j in range(len(self))[i]:
                ACCESSED.add(self._path + (j,))
        return super().__getitem__(i)

    def __iter__(self):
        for j in range(len(self)):
            ACCESSED.add(self._path + (j,))
        return super().__iter__()


ACCESSED = set()
LOADED = {}


def _track(v, path):
    if isinstance(v, dict):
        d = TDict((k, _track(x, path + (k,))) for k, x in v.items())
        d._path = path
        return d
    if isinstance(v, list):
        lst = TList(_track(x, path + (j,)) for j, x in enumerate(v))
        lst._path = path
        return lst
    return v


def load(name):
    if name not in LOADED:
        with open(os.path.join(VEC, name), encoding="utf-8") as f:
            LOADED[name] = (json.load(f), _track(json.load(open(os.path.join(VEC, name),
                                                                encoding="utf-8")), (name,)))
    return LOADED[name][1]


def leaf_paths(v, path):
    if isinstance(v, dict) and v:
        for k, x in v.items():
            yield from leaf_paths(x, path + (k,))
    elif isinstance(v, list) and v:
        for j, x in enumerate(v):
            yield from leaf_paths(x, path + (j,))
    else:
        yield path


def hx(s):
    return bytes.fromhex(s)


# =========================================================================== errors (§17)
class ProtoError(Exception):
    """code is the §17 error code; index/seq are set for transcript and directory faults."""

    def __init__(self, code, index=None, seq=None):
        super().__init__(code if index is None else "%s at %s" % (code, index))
        self.code = code
        self.index = index
        self.seq = seq


# =========================================================================== encoding (§2)
def u8(n):
    return n.to_bytes(1, "big")


def u32(n):
    return n.to_bytes(4, "big")


def u64(n):
    return n.to_bytes(8, "big")


def be(b):
    return int.from_bytes(b, "big")


def lp(label: str) -> bytes:
    b = label.encode("ascii")
    assert len(b) <= 255
    return u8(len(b)) + b


# =========================================================================== hashing / KDF (§3.2)
def sha256(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()


def sha512(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SHA512())
    h.update(data)
    return h.finalize()


def HKDF(salt: bytes, ikm: bytes, label: str, length: int) -> bytes:
    # RFC 5869 §2.2: an empty salt is HashLen zero bytes (HMAC pads short keys with zeros anyway)
    return _HKDF(algorithm=hashes.SHA256(), length=length, salt=salt or bytes(32),
                 info=lp(label)).derive(ikm)


def KDF(ikm: bytes, label: str, length: int) -> bytes:
    return HKDF(b"", ikm, label, length)


def H(label: str, data: bytes) -> bytes:
    return sha256(lp(label) + data)


# =========================================================================== Ed25519 (§3.4)
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENT = (0, 1, 1, 0)


def _ed_decode(b: bytes):
    """RFC 8032 §5.1.3 decoding (rejects y >= p, non-squares and x = 0 with sign 1)."""
    if len(b) != 32:
        return None
    y = int.from_bytes(b, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= P:
        return None
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    vx2 = v * x * x % P
    if vx2 == u:
        pass
    elif vx2 == (-u) % P:
        x = x * SQRT_M1 % P
    else:
        return None
    if x == 0 and sign == 1:
        return None
    if (x & 1) != sign:
        x = P - x
    return (x, y, 1, x * y % P)


def _ed_encode(pt) -> bytes:
    x, y, z, _ = pt
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _ed_add(p1, p2):
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * t1 * t2 * D % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _ed_neg(pt):
    x, y, z, t = pt
    return ((-x) % P, y, z, (-t) % P)


def _ed_mul(k, pt):
    q = IDENT
    while k:
        if k & 1:
            q = _ed_add(q, pt)
        pt = _ed_add(pt, pt)
        k >>= 1
    return q


def _ed_is_identity(pt):
    x, y, z, _ = pt
    return x % P == 0 and (y - z) % P == 0


def _ed_small_order(pt):
    return _ed_is_identity(_ed_mul(8, pt))


BASE = _ed_decode(bytes.fromhex("58" + "66" * 31))


def ed_key_ok(b: bytes) -> bool:
    """§3.4 public key: decodes, canonical encoding, not of small order."""
    pt = _ed_decode(b)
    return pt is not None and _ed_encode(pt) == b and not _ed_small_order(pt)


def ed_verify_strict(pk: bytes, msg: bytes, sig: bytes) -> bool:
    """§3.4, in order: S < L; R decodes and is not of small order; [S]B - [k]A encodes to R."""
    if len(sig) != 64 or not ed_key_ok(pk):
        return False
    r, s = sig[:32], int.from_bytes(sig[32:], "little")
    if s >= L:
        return False
    rp = _ed_decode(r)
    if rp is None or _ed_small_order(rp):
        return False
    k = int.from_bytes(sha512(r + pk + msg), "little") % L
    a = _ed_decode(pk)
    return _ed_encode(_ed_add(_ed_mul(s, BASE), _ed_mul(k, _ed_neg(a)))) == r


def ed_sign(sk: bytes, msg: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(sk).sign(msg)


def ed_public(sk: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(sk).public_key().public_bytes_raw()


# =========================================================================== X25519 (§3.3)
def x25519(k: bytes, u: bytes) -> bytes:
    """RFC 7748 X25519; returns 32 zero bytes where OpenSSL refuses an all-zero result."""
    try:
        return X25519PrivateKey.from_private_bytes(k).exchange(X25519PublicKey.from_public_bytes(u))
    except ValueError:
        return bytes(32)


def x25519_public(sk: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes_raw()


def x_key_ok(b: bytes) -> bool:
    if len(b) != 32 or b[31] & 0x80 or int.from_bytes(b, "little") >= P:
        return False
    return x25519(b"\x42" * 32, b) != bytes(32)


# =========================================================================== identities (§4)
class Identity:
    def __init__(self, seed: bytes):
        self.seed = seed
        self.ed_sk = KDF(seed, "sealdesk/v1/identity/ed25519", 32)
        self.x_sk = KDF(seed, "sealdesk/v1/identity/x25519", 32)
        self.ed_pk = ed_public(self.ed_sk)
        self.x_pk = x25519_public(self.x_sk)  # X25519(clamp(sk), 9)
        self.public = self.ed_pk + self.x_pk
        self.key_id = key_id(self.public)


def key_id(public_identity: bytes) -> bytes:
    return H("sealdesk/v1/key-id", public_identity)


def fingerprint(kid: bytes) -> str:
    return " ".join("%05d" % (be(kid[5 * i:5 * i + 5]) % 100000) for i in range(6))


def decode_public_identity(b: bytes) -> bytes:
    if len(b) != 64:
        raise ProtoError("malformed")
    if not ed_key_ok(b[:32]) or not x_key_ok(b[32:]):
        raise ProtoError("invalid_public_key")
    return b


# =========================================================================== HPKE (§3.5)
KEM_SUITE = b"KEM" + (0x0020).to_bytes(2, "big")
HPKE_SUITE = b"HPKE" + (0x0020).to_bytes(2, "big") + (0x0001).to_bytes(2, "big") + \
    (0x0003).to_bytes(2, "big")


def _extract(salt: bytes, ikm: bytes) -> bytes:
    h = hmac.HMAC(salt if salt else bytes(32), hashes.SHA256())
    h.update(ikm)
    return h.finalize()


def _expand(prk: bytes, info: bytes, n: int) -> bytes:
    return HKDFExpand(algorithm=hashes.SHA256(), length=n, info=info).derive(prk)


def labeled_extract(suite, salt, label: bytes, ikm):
    return _extract(salt, b"HPKE-v1" + suite + label + ikm)


def labeled_expand(suite, prk, label: bytes, info, n):
    return _expand(prk, n.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info, n)


def hpke_derive_key_pair(ikm: bytes):
    prk = labeled_extract(KEM_SUITE, b"", b"dkp_prk", ikm)
    sk = labeled_expand(KEM_SUITE, prk, b"sk", b"", 32)
    return sk, x25519_public(sk)


def _hpke_shared_secret(dh: bytes, kem_context: bytes) -> bytes:
    if dh == bytes(32):
        raise ProtoError("hpke")  # RFC 9180 §7.1.4; PROTOCOL.md §3.3, §6.4
    prk = labeled_extract(KEM_SUITE, b"", b"eae_prk", dh)
    return labeled_expand(KEM_SUITE, prk, b"shared_secret", kem_context, 32)


def _hpke_key_schedule(shared_secret: bytes, info: bytes):
    psk_id_hash = labeled_extract(HPKE_SUITE, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(HPKE_SUITE, b"", b"info_hash", info)
    ctx = b"\x00" + psk_id_hash + info_hash  # mode_base
    secret = labeled_extract(HPKE_SUITE, shared_secret, b"secret", b"")  # psk = ""
    key = labeled_expand(HPKE_SUITE, secret, b"key", ctx, 32)
    base_nonce = labeled_expand(HPKE_SUITE, secret, b"base_nonce", ctx, 12)
    return key, base_nonce  # single shot: sequence number 0, nonce = base_nonce


def hpke_seal_base(pk_r: bytes, info: bytes, aad: bytes, pt: bytes, ikm_e: bytes):
    sk_e, pk_e = hpke_derive_key_pair(ikm_e)
    ss = _hpke_shared_secret(x25519(sk_e, pk_r), pk_e + pk_r)
    key, nonce = _hpke_key_schedule(ss, info)
    return pk_e, ChaCha20Poly1305(key).encrypt(nonce, pt, aad)


def hpke_open_base(enc: bytes, sk_r: bytes, info: bytes, aad: bytes, ct: bytes) -> bytes:
    pk_r = x25519_public(sk_r)
    ss = _hpke_shared_secret(x25519(sk_r, enc), enc + pk_r)
    key, nonce = _hpke_key_schedule(ss, info)
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, ct, aad)
    except InvalidTag:
        raise ProtoError("decryption_failed")  # §6.4


# =========================================================================== wraps (§6)
class Wrap:
    SIZE = 238

    def __init__(self, b: bytes):
        # §6.3: decoding checks the length, the version and the chain byte (error `malformed`)
        if len(b) != self.SIZE or b[0] != 1 or b[17] not in (0, 1):
            raise ProtoError("malformed")
        self.raw = b
        self.ticket_id = b[1:17]
        self.chain = b[17]
        self.epoch = be(b[18:22])
        self.dir_seq = be(b[22:30])
        self.recipient = b[30:62]
        self.wrapper = b[62:94]
        self.context = b[:94]
        self.enc = b[94:126]
        self.ct = b[126:174]
        self.signature = b[174:238]

    def signed_bytes(self):
        return lp("sealdesk/v1/wrap-sig") + self.context + self.enc + self.ct


def wrap_context(ticket_id, chain, epoch, dir_seq, recipient, wrapper):
    return b"\x01" + ticket_id + u8(chain) + u32(epoch) + u64(dir_seq) + recipient + wrapper


def wrap_info(context: bytes) -> bytes:
    return lp("sealdesk/v1/wrap") + context


def seal_wrap(context, recipient_x_pk, wrapper_ed_sk, ticket_key, ikm_e):
    enc, ct = hpke_seal_base(recipient_x_pk, wrap_info(context), b"", ticket_key, ikm_e)
    signed = lp("sealdesk/v1/wrap-sig") + context + enc + ct
    sig = ed_sign(wrapper_ed_sk, signed)
    return enc, ct, signed, sig, context + enc + ct + sig


def verify_wrap(w: Wrap, ticket, state):
    """§6.3 steps 1-7, in order, against the verified state (§10.1) of the chain the key is
    for."""
    if w.ticket_id != ticket.ticket_id:
        raise ProtoError("wrap.wrong_ticket")
    if w.chain != state.chain:
        raise ProtoError("wrap.wrong_chain")
    if w.epoch not in state.epochs:
        raise ProtoError("wrap.bad_epoch")
    if not (state.epochs[w.epoch] <= w.dir_seq <= ticket.directory.head_seq):
        raise ProtoError("wrap.directory_out_of_range")
    members = ticket.members(w.chain, w.dir_seq, state)
    if w.wrapper not in members:
        raise ProtoError("wrap.not_a_member")
    if w.recipient not in members:
        raise ProtoError("wrap.not_a_member")
    if not ed_verify_strict(ticket.key_of(w.wrapper, state)[:32], w.signed_bytes(),
                            w.signature):
        raise ProtoError("wrap.bad_signature")


def open_wrap(w: Wrap, me: Identity) -> bytes:
    """§6.4."""
    if w.recipient != me.key_id:
        raise ProtoError("malformed")
    k = hpke_open_base(w.enc, me.x_sk, wrap_info(w.context), b"", w.ct)
    if len(k) != 32:
        raise ProtoError("decryption_failed")
    return k


# =========================================================================== directory (§7)
OPS = {"genesis": 0, "add": 1, "remove": 2}


class Entry:
    SIZE = 202

    def __init__(self, b: bytes, position):
        if (len(b) != self.SIZE or b[0] != 1 or b[41] not in OPS.values()):
            raise ProtoError("directory.malformed", position)
        try:
            decode_public_identity(b[42:106])
        except ProtoError:
            raise ProtoError("directory.malformed", position)
        self.raw = b
        self.seq = be(b[1:9])
        self.prev_hash = b[9:41]
        self.op = b[41]
        self.subject = b[42:106]
        self.signer = b[106:138]
        self.signature = b[138:202]
        self.subject_id = key_id(self.subject)
        self.hash = H("sealdesk/v1/directory-hash", b)

    def signed_bytes(self):
        return lp("sealdesk/v1/directory-sig") + self.raw[:138]


class Directory:
    """Verified directory state (§7.3): entries, administrator records, head."""

    def __init__(self):
        self.entries = []
        self.sets_after = []  # administrator list (in order added) after each entry
        self.keys = {}  # key id -> public identity (every administrator ever)
        self.added_at = {}
        self.removed_at = {}

    @classmethod
    def verify(cls, raw_entries):
        if not raw_entries:
            raise ProtoError("directory.malformed", 0)
        d = cls()
        d.extend(raw_entries)
        return d

    @property
    def head_seq(self):
        return self.entries[-1].seq

    @property
    def head_hash(self):
        return self.entries[-1].hash

    def copy(self):
        c = Directory()
        c.entries, c.sets_after = list(self.entries), list(self.sets_after)
        c.keys, c.added_at, c.removed_at = dict(self.keys), dict(self.added_at), dict(self.removed_at)
        return c

    def extend(self, raw_entries):
        """Verifies raw_entries as positions len(entries), len(entries)+1, ... (§7.3, and §7.4's
        incremental verification from a kept state). Commits nothing unless all verify."""
        st = self.copy()
        for raw in raw_entries:
            i = len(st.entries)
            e = Entry(raw, i)
            admins = list(st.sets_after[-1]) if st.sets_after else []
            if i == 0:
                if e.op != OPS["genesis"] or e.signer != e.subject_id:
                    raise ProtoError("directory.invalid_operation", 0)
                if e.seq != 0:
                    raise ProtoError("directory.unexpected_seq", 0)
                if e.prev_hash != bytes(32):
                    raise ProtoError("directory.broken_link", 0)
                if not ed_verify_strict(e.subject[:32], e.signed_bytes(), e.signature):
                    raise ProtoError("directory.bad_signature", 0)
                admins = [e.subject_id]
                st.added_at[e.subject_id] = 0
            else:
                if e.seq != i:
                    raise ProtoError("directory.unexpected_seq", i)
                if e.prev_hash != st.entries[-1].hash:
                    raise ProtoError("directory.broken_link", i)
                if e.signer not in admins:
                    raise ProtoError("directory.not_a_member", i)
                if e.op == OPS["add"]:
                    if e.subject_id in st.added_at:  # never was an administrator's key id
                        raise ProtoError("directory.invalid_operation", i)
                elif e.op == OPS["remove"]:
                    if e.subject_id not in admins or len(admins) == 1:
                        raise ProtoError("directory.invalid_operation", i)
                else:
                    raise ProtoError("directory.invalid_operation", i)  # genesis never again
                if not ed_verify_strict(st.keys[e.signer][:32], e.signed_bytes(), e.signature):
                    raise ProtoError("directory.bad_signature", i)
                if e.op == OPS["add"]:
                    admins.append(e.subject_id)
                    st.added_at[e.subject_id] = i
                else:
                    admins.remove(e.subject_id)
                    st.removed_at[e.subject_id] = i
            st.keys.setdefault(e.subject_id, e.subject)
            st.entries.append(e)
            st.sets_after.append(admins)
        self.__dict__.update(st.__dict__)
        return self

    def admins_at(self, d):
        """Members at position d (§7.3), in the order they were added."""
        return [k for k, a in sorted(self.added_at.items(), key=lambda kv: kv[1])
                if a <= d and not (k in self.removed_at and self.removed_at[k] <= d)]

    def removal_in(self, lo_excl, hi_incl):
        return any(lo_excl < r <= hi_incl for r in self.removed_at.values())

    def check_extends(self, pinned_seq, pinned_hash):
        """§7.4 (the log is verified already)."""
        if self.head_seq < pinned_seq:
            raise ProtoError("directory.rollback")
        if self.entries[pinned_seq].hash != pinned_hash:
            raise ProtoError("directory.fork")


def build_entry(seq, prev_hash, op, subject, signer_id, signer_sk):
    body = b"\x01" + u64(seq) + prev_hash + u8(op) + subject + signer_id
    signed = lp("sealdesk/v1/directory-sig") + body
    return signed, body + ed_sign(signer_sk, signed)


def build_log(ops):
    """ops: [(op name, subject Identity, signer Identity)] -> list of encoded entries."""
    prev, out = bytes(32), []
    for seq, (op, subject, signer) in enumerate(ops):
        _, raw = build_entry(seq, prev, OPS[op], subject.public, signer.key_id, signer.ed_sk)
        out.append(raw)
        prev = H("sealdesk/v1/directory-hash", raw)
    return out


# =========================================================================== endorse content (§8.2)
ENDORSE_CONTENT_SIZE = 1 + 1 + 16 + 64  # 82: version, grounds, ticket_id, endorsed


def build_endorse_content(ticket_id, endorsed_public, grounds=1):
    """§8.2 table: version 0x01, grounds 0x01 (an administrator endorses) or 0x02 (a reporter
    key endorses the reporter's own second key)."""
    return b"\x01" + bytes([grounds]) + ticket_id + endorsed_public


def read_endorse_content(content, ticket_id=None, signer_is_reporter=None):
    """§8.2 Reading: length 82, version 1, grounds 1 or 2, a valid public identity (§4.2), the
    chain's ticket id, and grounds its signer may use (0x01 an administrator, 0x02 a reporter
    key of the chain before the message; checked when `signer_is_reporter` is given). Returns
    the endorsed public identity. The codes are the reference client's, which §8.2 names."""
    if len(content) != ENDORSE_CONTENT_SIZE or content[0] != 1 or content[1] not in (1, 2):
        raise ProtoError("endorsement.malformed")
    try:
        endorsed = decode_public_identity(content[18:82])
    except ProtoError:
        raise ProtoError("endorsement.malformed")
    if ticket_id is not None and content[2:18] != ticket_id:
        raise ProtoError("endorsement.wrong_ticket")
    if signer_is_reporter is not None and (content[1] == 2) != signer_is_reporter:
        raise ProtoError("endorsement.not_a_member")
    return endorsed


# =========================================================================== messages (§9)
KIND = {"message": 1, "debug": 2, "attachment": 3, "close": 4, "reopen": 5, "note": 6,
        "rotate": 7, "endorse": 8, "waiting": 9, "on_hold": 10, "tags": 11}
MAX_CONTENT = 1_048_572


def bucket(n_content):
    p = 256
    while p < n_content + 4:
        p *= 2
    return p


def is_bucket(n):
    return 256 <= n <= 1 << 20 and n & (n - 1) == 0


def pad(content: bytes) -> bytes:
    if len(content) > MAX_CONTENT:
        raise ProtoError("too_large")
    p = bucket(len(content))
    return u32(len(content)) + content + bytes(p - 4 - len(content))


def unpad(padded: bytes) -> bytes:
    if len(padded) < 4:
        raise ProtoError("bad_padding")
    n = be(padded[:4])
    if n > len(padded) - 4 or len(padded) != bucket(n) or any(padded[4 + n:]):
        raise ProtoError("bad_padding")
    return padded[4:4 + n]


def header_bytes(ticket_id, chain, seq, prev_hash, epoch, dir_seq, sender, kind, salt):
    return (b"\x01" + ticket_id + u8(chain) + u64(seq) + prev_hash + u32(epoch) + u64(dir_seq)
            + sender + u8(kind) + salt)


def message_key(salt, chain_key):
    okm = HKDF(salt, chain_key, "sealdesk/v1/message-key", 44)
    return okm[:32], okm[32:44]


def seal_message(header, chain_key, content, sender_ed_sk):
    salt = header[103:135]
    key, nonce = message_key(salt, chain_key)
    padded = pad(content)
    ct = ChaCha20Poly1305(key).encrypt(nonce, padded, header)
    signed = lp("sealdesk/v1/message-sig") + header + u32(len(ct)) + ct
    sig = ed_sign(sender_ed_sk, signed)
    enc = header + u32(len(ct)) + ct + sig
    return dict(key=key, nonce=nonce, padded=padded, ct=ct, signed=signed, sig=sig, encoded=enc,
                hash=H("sealdesk/v1/message-hash", enc))


class Message:
    def __init__(self, b: bytes):
        if (len(b) < 135 + 4 + 64 or b[0] != 1 or b[17] not in (0, 1)
                or b[102] not in KIND.values()):
            raise ProtoError("transcript.malformed")
        n = be(b[135:139])
        if len(b) != 135 + 4 + n + 64 or n < 16 or not is_bucket(n - 16):
            raise ProtoError("transcript.malformed")
        self.raw = b
        self.header = b[:135]
        self.ticket_id = b[1:17]
        self.chain = b[17]
        self.seq = be(b[18:26])
        self.prev_hash = b[26:58]
        self.epoch = be(b[58:62])
        self.dir_seq = be(b[62:70])
        self.sender = b[70:102]
        self.kind = b[102]
        self.salt = b[103:135]
        self.ct = b[139:139 + n]
        self.signature = b[139 + n:]
        self.hash = H("sealdesk/v1/message-hash", b)

    def signed_bytes(self):
        return lp("sealdesk/v1/message-sig") + self.header + u32(len(self.ct)) + self.ct

    def open(self, chain_key):
        key, nonce = message_key(self.salt, chain_key)
        try:
            padded = ChaCha20Poly1305(key).decrypt(nonce, self.ct, self.header)
        except InvalidTag:
            raise ProtoError("decryption_failed")
        return unpad(padded)


# =========================================================================== transcript (§10)
class Ticket:
    def __init__(self, ticket_id, first_reporter_public, directory):
        self.ticket_id = ticket_id
        self.directory = directory
        decode_public_identity(first_reporter_public)
        self.first_reporter = key_id(first_reporter_public)
        self.keys = dict(directory.keys)
        self.keys[self.first_reporter] = first_reporter_public

    def members(self, chain, d, state=None):  # §8.1, with the state's reporter keys (§10.1)
        admins = self.directory.admins_at(d)
        if chain != 0:
            return admins
        reporters = [self.first_reporter] + (state.reporters if state else [])
        return admins + reporters

    def key_of(self, kid, state=None):
        if state is not None and kid in state.reporter_keys:
            return state.reporter_keys[kid]
        return self.keys[kid]


class ChainState:  # §10.1
    def __init__(self, chain):
        self.chain = chain
        self.seq = 0
        self.hash = bytes(32)
        self.dir_seq = 0
        self.epochs = {}  # epoch -> dir_seq of its first message
        self.status = "open"  # §10.3: open, closed, waiting or on_hold
        # conversation: the sender of seq 1, then each key added by a read endorse message
        self.reporters = []
        self.reporter_keys = {}
        self.endorse_unread = False  # §8.2: the last message is an endorse not yet read

    @property
    def epoch(self):
        return max(self.epochs) if self.epochs else None

    def add_reporter(self, public):
        kid = key_id(public)
        if kid not in self.reporters:
            self.reporters.append(kid)
            self.reporter_keys[kid] = public

    def summary(self):
        return {"seq": self.seq, "epoch": self.epoch, "closed": self.status == "closed",
                "status": self.status, "hash": self.hash.hex(), "reporter_key_ids": [k.hex() for k in self.reporters]}


def read_endorsement(ticket, state, m, chain_key):
    """§8.2 Reading, after the endorse message `m` verified: decrypt, read, add the key. An
    unreadable content adds nothing (and the error is returned for the caller to show)."""
    state.endorse_unread = False
    # §10.2 step 10: the sender counts as a reporter if it is a reporter key of the state
    # (unchanged since the message verified), otherwise it is an administrator at its dir_seq.
    signer_is_reporter = m.sender in state.reporters
    try:
        endorsed = read_endorse_content(m.open(chain_key), ticket.ticket_id, signer_is_reporter)
    except ProtoError as e:
        if e.code in ("decryption_failed", "bad_padding"):
            return ProtoError("endorsement.malformed")
        return e
    state.add_reporter(endorsed)
    return None


def kind_allowed(kind, chain):  # §5.1, §9.1
    if kind == KIND["rotate"]:
        return True
    return (kind in (KIND["note"], KIND["tags"])) == (chain == 1)


def verify_chain(ticket: Ticket, state: ChainState, raw_messages, on_state=None, keys=None):
    """§10.2 checks in order, continuing from `state`; returns the decoded messages.
    Raises ProtoError with the 0-based index in raw_messages and the claimed seq. `keys`
    maps (chain, epoch) to chain keys: with the key of its epoch, an endorse message's content
    is read (§8.2) before the next message; without it, the next message cannot be checked."""
    out = []
    directory = ticket.directory
    for i, raw in enumerate(raw_messages):
        seq = None
        try:
            # ASSUMPTION: §8.2 names the reference implementation's refusal of a message that
            # follows an unread endorse message; it is checked before anything else.
            if state.endorse_unread:
                raise ProtoError("transcript.endorsement_unread")
            m = Message(raw)  # 1
            seq = m.seq
            if m.ticket_id != ticket.ticket_id:  # 2
                raise ProtoError("transcript.wrong_ticket")
            if m.chain != state.chain:  # 3
                raise ProtoError("transcript.wrong_chain")
            if m.seq != state.seq + 1:  # 4
                raise ProtoError("transcript.unexpected_seq")
            if m.prev_hash != state.hash:  # 5
                raise ProtoError("transcript.broken_link")
            if not (state.dir_seq <= m.dir_seq <= directory.head_seq):  # 6
                raise ProtoError("transcript.directory_out_of_range")
            cur = state.epoch  # 7
            if cur is None:
                if m.epoch != 0:
                    raise ProtoError("transcript.bad_epoch")
                opens = True
            elif m.epoch == cur:
                opens = False
            elif m.epoch == cur + 1:
                opens = True
            else:
                raise ProtoError("transcript.bad_epoch")
            if m.kind == KIND["rotate"] and not opens:
                raise ProtoError("transcript.bad_epoch")
            if not opens and directory.removal_in(state.epochs[cur], m.dir_seq):  # 8
                raise ProtoError("transcript.epoch_not_rotated")
            if not kind_allowed(m.kind, state.chain):  # 9
                raise ProtoError("transcript.kind_not_allowed")
            if m.sender not in ticket.members(state.chain, m.dir_seq, state):  # 10
                raise ProtoError("transcript.not_a_member")
            if (m.kind in (KIND["waiting"], KIND["on_hold"])
                    and m.sender not in directory.admins_at(m.dir_seq)):
                raise ProtoError("transcript.not_a_member")  # §10.3: administrators only
            # ASSUMPTION: §8.1 says the first conversation message is signed by the *first*
            # reporter key; §10.2 step 10 says "a reporter key". The stricter reading is used.
            if state.chain == 0 and m.seq == 1 and m.sender != ticket.first_reporter:
                raise ProtoError("transcript.not_a_member")
            if not ed_verify_strict(ticket.key_of(m.sender, state)[:32], m.signed_bytes(),
                                    m.signature):  # 11
                raise ProtoError("transcript.bad_signature")
        except ProtoError as e:
            raise ProtoError(e.code, i, seq)
        state.seq, state.hash, state.dir_seq = m.seq, m.hash, m.dir_seq
        if opens:
            state.epochs[m.epoch] = m.dir_seq
        if state.chain == 0 and m.seq == 1:  # §10.1: the first reporter key
            state.add_reporter(ticket.key_of(m.sender, state))
        if m.kind == KIND["endorse"]:
            state.endorse_unread = True
            if keys is not None and (state.chain, m.epoch) in keys:
                read_endorsement(ticket, state, m, keys[(state.chain, m.epoch)])
        if state.chain == 0:  # §10.3
            set_by_kind = {KIND["close"]: "closed", KIND["reopen"]: "open",
                           KIND["waiting"]: "waiting", KIND["on_hold"]: "on_hold"}
            if m.kind in set_by_kind:
                state.status = set_by_kind[m.kind]
            elif (m.kind in (KIND["message"], KIND["debug"], KIND["attachment"])
                  and (m.sender == ticket.first_reporter or m.sender in state.reporters)):
                state.status = "open"  # a reporter who writes reopens any other status
        out.append(m)
        if on_state:
            on_state(i, m, state)
    return out


# =========================================================================== anonymous links (§11)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64url_encode(b: bytes) -> str:
    bits = int.from_bytes(b, "big") << ((-len(b) * 8) % 6)
    n = (len(b) * 8 + 5) // 6
    return "".join(B64URL[(bits >> (6 * (n - 1 - i))) & 63] for i in range(n))


def decode_fragment(s: str) -> bytes:
    if len(s) != 43 or any(c not in B64URL for c in s):
        raise ProtoError("malformed")
    v = 0
    for c in s:
        v = (v << 6) | B64URL.index(c)
    if v & 0b11:  # 258 bits carry 256: the two trailing bits must be zero
        raise ProtoError("malformed")
    return (v >> 2).to_bytes(32, "big")


def decode_link_fragment(s: str):
    """§11: `{secret}` or `{secret}.{seq}.{hash}`; returns (secret, head or None)."""
    parts = s.split(".")
    if len(parts) == 1:
        return decode_fragment(parts[0]), None
    if len(parts) != 3:
        raise ProtoError("link.malformed")
    secret_text, seq_text, hash_text = parts
    try:
        secret = decode_fragment(secret_text)
        digest = decode_fragment(hash_text)
    except ProtoError:
        raise ProtoError("link.malformed")
    if (not 1 <= len(seq_text) <= 20 or any(c not in "0123456789" for c in seq_text)
            or (len(seq_text) > 1 and seq_text[0] == "0") or int(seq_text) >= 2 ** 64):
        raise ProtoError("link.malformed")
    return secret, (int(seq_text), digest)


# --------------------------------------------------------------------------- §12.4 usernames
USERNAME_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


def normalise_username(name: str) -> str:
    """§12.4: 1 to 64 of [A-Za-z0-9._-], A-Z mapped to a-z; anything else is refused."""
    if not 1 <= len(name) <= 64 or any(c not in USERNAME_CHARS for c in name):
        raise ProtoError("bad_username")
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in name)


# --------------------------------------------------------------------------- §14 content
# kind -> (required members, optional members), each member -> type name
_TEXT_OPTIONAL = {"author": "string", "subject": "string", "category": "string",
                  "urgent": "boolean", "name": "string", "email": "string"}
CONTENT_MEMBERS = {
    1: ({"text": "string", "sent_at": "integer"}, _TEXT_OPTIONAL),
    2: ({"fields": "string map", "sent_at": "integer"}, {}),
    3: ({"attachment_id": "string", "name": "string", "type": "string", "size": "integer",
         "encrypted_size": "integer", "key": "string", "sent_at": "integer"}, {}),
    4: ({"sent_at": "integer"}, {"author": "string"}),
    5: ({"sent_at": "integer"}, {"author": "string"}),
    9: ({"sent_at": "integer"}, {"author": "string"}),
    10: ({"sent_at": "integer"}, {"author": "string"}),
    # §14: a note's opening-form members are read as for a message.
    6: ({"text": "string", "sent_at": "integer"}, _TEXT_OPTIONAL),
    11: ({"tags": "tag list", "sent_at": "integer"}, {"author": "string"}),
}
TAG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
MAX_TAGS, MAX_TAG_LEN = 20, 32


def tags_ok(tags):
    """§14 tags: at most 20, each 1 to 32 of a-z 0-9 - _, in strictly increasing order (sorted
    by code point, so without duplicates)."""
    return (len(tags) <= MAX_TAGS
            and all(1 <= len(t) <= MAX_TAG_LEN and set(t) <= TAG_CHARS for t in tags)
            and all(a < b for a, b in zip(tags, tags[1:])))
NULLABLE = {"author", "subject", "category", "name", "email"}


def _type_ok(v, t):
    if t == "string":
        return isinstance(v, str)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":  # no fraction or exponent: json gives int only for those
        return type(v) is int and 0 <= v < 2 ** 64
    if t == "string map":
        return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
    if t == "tag list":
        return isinstance(v, list) and all(isinstance(x, str) for x in v) and tags_ok(v)
    raise RuntimeError(t)


def parse_content(kind, content: bytes):
    """§14 reading rules: the members of the table, or `content.unreadable`."""
    if kind == KIND["rotate"]:
        return {}  # ignored, whatever it holds
    required, optional = CONTENT_MEMBERS[kind]
    known = set(required) | set(optional)

    def pairs(items):
        seen = set()
        for k, _ in items:
            if k in seen and k in known:
                raise ProtoError("content.unreadable")
            seen.add(k)
        return dict(items)

    try:
        obj = json.loads(content.decode("utf-8"), object_pairs_hook=pairs,
                         parse_constant=lambda c: float(c))
    except (UnicodeDecodeError, ValueError):
        raise ProtoError("content.unreadable")
    if not isinstance(obj, dict):
        raise ProtoError("content.unreadable")
    out = {}
    for m, t in list(required.items()) + list(optional.items()):
        if m not in obj or (obj[m] is None and m in NULLABLE):
            if m in required:
                raise ProtoError("content.unreadable")
            continue
        if not _type_ok(obj[m], t):
            raise ProtoError("content.unreadable")
        out[m] = obj[m]
    return out


def check_written_content(g, what, kind, content: bytes, first: bool):
    """A vector's content follows §14's writing rules: every required member, a subject in
    the first message, lengths in code points within their limits."""
    if kind == KIND["endorse"]:  # §14: binary, read by §8.2's rules
        return g.no_error(what + ": endorse content readable (§8.2)",
                          lambda: read_endorse_content(content))
    c = g.no_error(what + ": content readable (§14)", lambda: parse_content(kind, content))
    if c is None:
        return None
    if kind == KIND["rotate"]:
        g.check(what + ": rotate content empty", content, b"")
        return c
    required, _ = CONTENT_MEMBERS[kind]
    g.check(what + ": required members present", sorted(m for m in required if m in c),
            sorted(required))
    if first:
        g.true(what + ": first message carries subject", "subject" in c)
    if "text" in c:
        g.true(what + ": text at most 65,536 code points", len(c["text"]) <= 65536)
    if "subject" in c:
        g.true(what + ": subject at most 200 code points", len(c["subject"]) <= 200)
    if kind == KIND["attachment"]:
        g.true(what + ": attachment_id is 32 lowercase hex",
               len(c["attachment_id"]) == 32 and all(x in "0123456789abcdef"
                                                      for x in c["attachment_id"]))
        g.check(what + ": encrypted_size is §13's for size",
                16 + c["size"] + 16 * max(1, -(-c["size"] // 65536)), c["encrypted_size"])
    return c


def anon_derive(secret: bytes):
    tid = KDF(secret, "sealdesk/v1/anon/ticket-id", 16)
    seed = KDF(secret, "sealdesk/v1/anon/identity", 32)
    tok = KDF(secret, "sealdesk/v1/anon/access-token", 32)
    return tid, seed, tok, H("sealdesk/v1/token-hash", tok)


# =========================================================================== accounts (§12)
DOCUMENTED = (65536, 3, 1)
TEST_ONLY = (256, 1, 1)
MAXIMUM = (1048576, 64, 16)


def master_key(password_utf8: bytes, salt: bytes, m, t, p) -> bytes:
    return hash_secret_raw(secret=password_utf8, salt=salt, time_cost=t, memory_cost=m,
                           parallelism=p, hash_len=32, type=Type.ID, version=19)


def account_keys(mk):
    auth = KDF(mk, "sealdesk/v1/account/auth-key", 32)
    kr = KDF(mk, "sealdesk/v1/account/keyring-key", 32)
    return auth, kr, H("sealdesk/v1/account/auth-hash", auth)


def keyring_plaintext(seed, app_data):
    if len(seed) != 32 or len(app_data) > 65500:
        raise ProtoError("too_large")
    return seed + u32(len(app_data)) + app_data


def keyring_aead(keyring_key, keyring_salt):
    okm = HKDF(keyring_salt, keyring_key, "sealdesk/v1/keyring", 44)
    return okm[:32], okm[32:44]


def seal_keyring(keyring_key, keyring_salt, plain):
    k, n = keyring_aead(keyring_key, keyring_salt)
    return b"\x01" + keyring_salt + ChaCha20Poly1305(k).encrypt(n, plain, b"\x01")


def open_keyring(sealed: bytes, keyring_key: bytes):
    # ASSUMPTION: the spec names no decoding codes for the keyring; `malformed` is used.
    if len(sealed) < 1 + 32 + 36 + 16 or sealed[0] != 1:
        raise ProtoError("malformed")
    k, n = keyring_aead(keyring_key, sealed[1:33])
    try:
        pt = ChaCha20Poly1305(k).decrypt(n, sealed[33:], b"\x01")
    except InvalidTag:
        raise ProtoError("decryption_failed")
    if len(pt) < 36 or be(pt[32:36]) != len(pt) - 36 or len(pt) - 36 > 65500:
        raise ProtoError("malformed")
    return pt[:32], pt[36:]


# =========================================================================== attachments (§13)
CHUNK = 65536
PIECE = CHUNK + 16


def chunk_nonce(i, last):
    return i.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def payload_key(file_key, stream_nonce):
    return HKDF(stream_nonce, file_key, "sealdesk/v1/attachment-payload", 32)


def encrypt_stream(file_key, stream_nonce, plaintext):
    pk = payload_key(file_key, stream_nonce)
    aead = ChaCha20Poly1305(pk)
    pieces = [plaintext[i:i + CHUNK] for i in range(0, len(plaintext), CHUNK)] or [b""]
    chunks = [aead.encrypt(chunk_nonce(i, i == len(pieces) - 1), c, b"")
              for i, c in enumerate(pieces)]
    return pk, chunks, stream_nonce + b"".join(chunks)


def _try_open(aead, i, last, piece):
    try:
        return aead.decrypt(chunk_nonce(i, last), piece, b"")
    except InvalidTag:
        return None


def decrypt_stream(file_key, stream):
    """§13 decryption, errors as listed there."""
    # ASSUMPTION: a stream shorter than its 16-byte nonce is `attachment.truncated`.
    if len(stream) < 16:
        raise ProtoError("attachment.truncated")
    aead = ChaCha20Poly1305(payload_key(file_key, stream[:16]))
    body = stream[16:]
    pieces = [body[j:j + PIECE] for j in range(0, len(body), PIECE)]
    if not pieces:
        raise ProtoError("attachment.truncated")
    out = []
    # ASSUMPTION: pieces are processed in stream order, so a fault in an earlier piece is
    # reported before a short last piece (the spec lists the errors without an order).
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        if last and len(piece) < 16:
            raise ProtoError("attachment.truncated")
        pt = _try_open(aead, i, last, piece)
        if pt is None:
            if _try_open(aead, i, not last, piece) is not None:
                raise ProtoError("attachment.truncated" if last else "attachment.trailing_data")
            raise ProtoError("decryption_failed")
        if last and not pt and i > 0:
            raise ProtoError("malformed")
        out.append(pt)
    return b"".join(out)


def attachment_plaintext(n):
    return bytes(i % 251 for i in range(n))


# =========================================================================== vector checks
IDS = {}  # name -> Identity
BY_KID = {}  # key id -> Identity (every identity whose secret we know)


def run_identities():
    v = load("identities.json")
    for c in v["cases"]:
        with Group("identities/" + c["name"]) as g:
            ident = Identity(hx(c["seed"]))
            IDS[c["name"]] = ident
            BY_KID[ident.key_id] = ident
            g.check("ed25519_secret", ident.ed_sk, c["ed25519_secret"])
            g.check("x25519_secret", ident.x_sk, c["x25519_secret"])
            g.check("ed25519_public", ident.ed_pk, c["ed25519_public"])
            g.check("x25519_public", ident.x_pk, c["x25519_public"])
            g.check("public_identity", ident.public, c["public_identity"])
            g.check("key_id", ident.key_id, c["key_id"])
            g.check("fingerprint", fingerprint(ident.key_id), c["fingerprint"])
            g.check("fingerprint is 35 characters", len(c["fingerprint"]), 35)
            g.check("public_identity decodes (§4.2)",
                    decode_public_identity(hx(c["public_identity"])), c["public_identity"])
            g.true("own signature verifies (§3.4, pure Python)",
                   ed_verify_strict(ident.ed_pk, b"x", ed_sign(ident.ed_sk, b"x")))


def run_anonymous():
    v = load("anonymous.json")
    for i, c in enumerate(v["cases"]):
        with Group("anonymous/%d" % i) as g:
            secret = hx(c["secret"])
            tid, seed, tok, th = anon_derive(secret)
            frag = b64url_encode(secret)
            g.check("fragment", frag, c["fragment"])
            g.check("fragment decodes to the secret", decode_fragment(c["fragment"]), secret)
            g.check("ticket_id", tid, c["ticket_id"])
            g.check("link_path", "/help/ticket/%s#%s" % (tid.hex(), frag), c["link_path"])
            g.check("identity_seed", seed, c["identity_seed"])
            ident = Identity(seed)
            IDS["anon-%d" % i] = ident
            BY_KID[ident.key_id] = ident
            r = c["reporter"]
            g.check("reporter/ed25519_public", ident.ed_pk, r["ed25519_public"])
            g.check("reporter/x25519_public", ident.x_pk, r["x25519_public"])
            g.check("reporter/public_identity", ident.public, r["public_identity"])
            g.check("reporter/key_id", ident.key_id, r["key_id"])
            g.check("reporter/fingerprint", fingerprint(ident.key_id), r["fingerprint"])
            g.check("access_token", tok, c["access_token"])
            g.check("access_token_hash", th, c["access_token_hash"])
    for i, c in enumerate(v["with_head"]):
        with Group("anonymous/with_head/%d" % i) as g:
            secret = hx(c["secret"])
            frag = "%s.%d.%s" % (b64url_encode(secret), c["head_seq"],
                                 b64url_encode(hx(c["head_hash"])))
            g.check("fragment with head (§11)", frag, c["fragment"])
            g.check("fragment decodes to secret and head", decode_link_fragment(c["fragment"]),
                    (secret, (c["head_seq"], hx(c["head_hash"]))))
            tid = anon_derive(secret)[0]
            g.check("link_path", "/help/ticket/%s#%s" % (tid.hex(), frag), c["link_path"])
    for c in v["malformed"]:
        with Group("anonymous/malformed/%s" % c["why"]) as g:
            try:
                decode_link_fragment(c["fragment"])
                got = "accepted"
            except ProtoError as e:
                got = str(e) if str(e).startswith("link.") else "link." + str(e)
            g.check("refused", got, c["expected_error"])
    c = v["recovery_claim"]
    with Group("anonymous/recovery_claim") as g:
        # §11.1: a key made in the recovering browser signs the ticket id, itself and the
        # hash of the access token it will read with.
        ident = Identity(hx(c["identity_seed"]))
        r = c["claimed"]
        g.check("claimed/ed25519_public", ident.ed_pk, r["ed25519_public"])
        g.check("claimed/x25519_public", ident.x_pk, r["x25519_public"])
        g.check("claimed/public_identity", ident.public, r["public_identity"])
        g.check("claimed/key_id", ident.key_id, r["key_id"])
        g.check("claimed/fingerprint", fingerprint(ident.key_id), r["fingerprint"])
        g.check("ticket_id is case 0's", c["ticket_id"], v["cases"][0]["ticket_id"])
        reader_hash = H("sealdesk/v1/token-hash", hx(c["reader_token"]))
        g.check("reader_hash", reader_hash, c["reader_hash"])
        signed = lp("sealdesk/v1/recovery-claim") + hx(c["ticket_id"]) + ident.public + reader_hash
        g.check("signed_bytes", signed, c["signed_bytes"])
        g.check("signature", ed_sign(ident.ed_sk, signed), c["signature"])
        g.true("signature verifies strictly (§3.4)",
               ed_verify_strict(ident.ed_pk, signed, hx(c["signature"])))
        other = bytearray(signed)
        other[-1] ^= 1
        g.true("signature does not verify for another reader hash",
               not ed_verify_strict(ident.ed_pk, bytes(other), hx(c["signature"])))


def run_account():
    v = load("account.json")
    for c in v["cases"]:
        with Group("account/" + c["name"]) as g:
            a = c["argon2id"]
            g.check("argon2id version and output length", (a["version"], a["output_len"]), (19, 32))
            params = (a["memory_kib"], a["iterations"], a["parallelism"])
            g.true("parameters are the documented or the test-only ones (§12.1)",
                   params in (DOCUMENTED, TEST_ONLY))
            g.true("parameters within the client's maximum (§12.1)",
                   all(x <= y for x, y in zip(params, MAXIMUM)))
            typed = c["password_as_typed_utf8"]
            nfc = unicodedata.normalize("NFC", typed)
            g.check("NFC(password_as_typed_utf8) == password_utf8", nfc, c["password_utf8"])
            pw = nfc.encode("utf-8")
            mk = master_key(pw, hx(c["salt"]), *params)
            g.check("master_key (m=%d,t=%d,p=%d)" % params, mk, c["master_key"])
            auth, kr, ah = account_keys(mk)
            g.check("auth_key", auth, c["auth_key"])
            g.check("auth_hash", ah, c["auth_hash"])
            g.check("keyring_key", kr, c["keyring_key"])
            seed = hx(c["keyring_identity_seed"])
            g.check("keyring_identity_seed is identities.json account-d's seed", seed,
                    IDS["account-d"].seed)
            app = c["keyring_app_data_utf8"].encode("utf-8")
            plain = keyring_plaintext(seed, app)
            g.check("keyring_plaintext", plain, c["keyring_plaintext"])
            salt = hx(c["keyring_salt"])
            k, nonce = keyring_aead(kr, salt)
            g.check("keyring_aead_key", k, c["keyring_aead_key"])
            g.check("keyring_aead_nonce", nonce, c["keyring_aead_nonce"])
            g.check("sealed_keyring", seal_keyring(kr, salt, plain), c["sealed_keyring"])
            g.check("sealed_keyring opens to the seed and app data",
                    open_keyring(hx(c["sealed_keyring"]), kr), (seed, app))
            # §12.4: the account's identity signs the username and this auth_hash.
            g.check("identity_proof_username is the typed name normalised (§12.4)",
                    normalise_username(c["identity_proof_username_as_typed"]),
                    c["identity_proof_username"])
            user = c["identity_proof_username"].encode("ascii")
            signed = (lp("sealdesk/v1/account/identity-proof") + len(user).to_bytes(4, "big")
                      + user + ah)
            g.check("identity_proof_signed_bytes", signed, c["identity_proof_signed_bytes"])
            proof = ed_sign(IDS["account-d"].ed_sk, signed)
            g.check("identity_proof", proof, c["identity_proof"])
            g.true("identity_proof verifies strictly (§3.4)",
                   ed_verify_strict(IDS["account-d"].ed_pk, signed, hx(c["identity_proof"])))
            g.true("identity_proof does not verify for another username",
                   not ed_verify_strict(IDS["account-d"].ed_pk, signed.replace(user, b"dane"),
                                        hx(c["identity_proof"])))
            if typed != nfc:
                wrong = master_key(typed.encode("utf-8"), hx(c["salt"]), *params)
                g.true("the un-normalised password gives another master key",
                       wrong != hx(c["master_key"]))


def messages_chain_state():
    """messages.json's three messages, verified as transcript.json's conversation (§10.2)."""
    _, _, ticket = transcript_setup()
    st = ChainState(0)
    cases = load("messages.json")["cases"]
    keys = {(0, 0): hx(cases[0]["chain_key"])}
    verify_chain(ticket, st, [hx(c["encoded"]) for c in cases], keys=keys)
    return ticket, st


def run_wraps():
    v = load("wraps.json")
    ticket, conv_state = messages_chain_state()
    for c in v["cases"]:
        w = c["wrap"]
        with Group("wraps/" + c["name"]) as g:
            wrapper = BY_KID[hx(w["wrapper_key_id"])]
            recipient = BY_KID[hx(w["recipient_key_id"])]
            ctx = wrap_context(hx(w["ticket_id"]), w["chain"], w["epoch"], w["dir_seq"],
                               recipient.key_id, wrapper.key_id)
            g.check("hpke_info", wrap_info(ctx), w["hpke_info"])
            enc, ct, signed, sig, encoded = seal_wrap(ctx, recipient.x_pk, wrapper.ed_sk,
                                                      hx(w["ticket_key"]), hx(w["ikm_e"]))
            g.check("enc", enc, w["enc"])
            g.check("ciphertext", ct, w["ciphertext"])
            g.check("signed_bytes", signed, w["signed_bytes"])
            g.check("signature", sig, w["signature"])
            g.check("encoded", encoded, w["encoded"])
            g.check("encoded length", len(hx(w["encoded"])), Wrap.SIZE)
            wr = Wrap(hx(w["encoded"]))
            g.check("decoded fields", (wr.ticket_id, wr.chain, wr.epoch, wr.dir_seq, wr.recipient,
                                       wr.wrapper, wr.enc, wr.ct, wr.signature),
                    (hx(w["ticket_id"]), w["chain"], w["epoch"], w["dir_seq"],
                     recipient.key_id, wrapper.key_id, enc, ct, sig))
            g.true("signature verifies (§3.4)",
                   ed_verify_strict(wrapper.ed_pk, wr.signed_bytes(), wr.signature))
            # §6.3 for transcript.json's ticket and directory. The conversation state is that
            # of messages.json's chain (epoch 0 opened at position 1); wraps.json has no notes
            # chain, so one whose epoch 0 opened at the wrap's dir_seq is assumed.
            if wr.chain == 0:
                state, what = conv_state, "messages.json's chain"
            else:
                state, what = ChainState(1), "a notes chain opened at the wrap's dir_seq"
                state.epochs[0] = wr.dir_seq
            try:
                verify_wrap(wr, ticket, state)
                res = "ok"
            except ProtoError as e:
                res = e.code
            g.check("verifies (§6.3) against %s" % what, res, "ok")
            g.check("opened by the recipient (§6.4)", open_wrap(wr, recipient), w["ticket_key"])


def transcript_setup():
    t = load("transcript.json")
    directory = Directory.verify([hx(e) for e in t["directory"]])
    ticket = Ticket(hx(t["ticket_id"]), hx(t["reporter_public_identity"]), directory)
    return t, directory, ticket


def run_messages():
    v = load("messages.json")
    wkey = hx(load("wraps.json")["cases"][0]["wrap"]["ticket_key"])
    prev = bytes(32)
    raws = []
    for c in v["cases"]:
        with Group("messages/seq%d" % c["seq"]) as g:
            sender = BY_KID[hx(c["sender_key_id"])]
            g.check("chain_key is wraps.json's conversation ticket key", c["chain_key"], wkey)
            hdr = header_bytes(hx(c["ticket_id"]), c["chain"], c["seq"], hx(c["prev_hash"]),
                               c["epoch"], c["dir_seq"], sender.key_id, c["kind"], hx(c["salt"]))
            g.check("header", hdr, c["header"])
            g.check("prev_hash links to the previous case", hx(c["prev_hash"]), prev)
            r = seal_message(hdr, hx(c["chain_key"]), hx(c["content"]), sender.ed_sk)
            g.check("padded_plaintext", r["padded"], c["padded_plaintext"])
            g.check("message_key", r["key"], c["message_key"])
            g.check("message_nonce", r["nonce"], c["message_nonce"])
            g.check("ciphertext", r["ct"], c["ciphertext"])
            g.check("signed_bytes", r["signed"], c["signed_bytes"])
            g.check("signature", r["sig"], c["signature"])
            g.check("encoded", r["encoded"], c["encoded"])
            g.check("hash", r["hash"], c["hash"])
            m = Message(hx(c["encoded"]))
            g.true("signature verifies (§3.4)",
                   ed_verify_strict(sender.ed_pk, m.signed_bytes(), m.signature))
            g.check("decrypts and unpads to content", m.open(hx(c["chain_key"])), c["content"])
            body = check_written_content(g, "content", c["kind"], hx(c["content"]), c["seq"] == 1)
            if c["kind"] == KIND["endorse"]:
                e = c["endorse_content"]
                g.check("endorse: version and grounds (§8.2)", (e["version"], e["grounds"]),
                        (1, 1))
                g.check("endorse: ticket_id is the message's", e["ticket_id"], c["ticket_id"])
                g.check("endorse: content is §8.2's layout", build_endorse_content(
                    hx(e["ticket_id"]), hx(e["endorsed_public_identity"])), c["content"])
                g.check("endorse: endorsed key id (§4.2)",
                        key_id(hx(e["endorsed_public_identity"])), e["endorsed_key_id"])
                g.check("endorse: the endorsed key is anonymous case 1's identity",
                        IDS["anon-1"].public, e["endorsed_public_identity"])
                g.true("endorse: sent by an administrator", sender.key_id in
                       transcript_setup()[1].admins_at(c["dir_seq"]))
            if body is not None and c["kind"] == KIND["attachment"]:
                a = load("attachment.json")
                g.check("reference: key is attachment.json's file key (base64url)",
                        body["key"], b64url_encode(hx(a["file_key"])))
                g.check("reference: size", body["size"], a["plaintext_len"])
                g.check("reference: encrypted_size", body["encrypted_size"], a["stream_len"])
            prev = hx(c["hash"])
            raws.append(hx(c["encoded"]))
    with Group("messages/chain verifies (§10.2) for transcript.json's ticket and directory") as g:
        _, _, ticket = transcript_setup()
        st = ChainState(0)
        verify_chain(ticket, st, raws, keys={(0, 0): wkey})
        g.check("final state", st.summary(),
                {"seq": 5, "epoch": 0, "closed": False, "status": "open",
                 "hash": v["cases"][-1]["hash"],
                 "reporter_key_ids": [IDS["anon-0"].key_id.hex(), IDS["anon-1"].key_id.hex()]})
        st = ChainState(0)
        verify_chain(ticket, st, raws)
        g.true("without its epoch's key the endorse message stays unread (§8.2)",
               st.endorse_unread and st.reporters == [IDS["anon-0"].key_id])


def run_directory():
    v = load("directory.json")
    prev = bytes(32)
    raws = []
    for e in v["entries"]:
        with Group("directory/%d-%s" % (e["seq"], e["op"])) as g:
            signer = BY_KID[hx(e["signer_key_id"])]
            subject = BY_KID[hx(e["subject_key_id"])]
            g.check("prev_hash", prev, e["prev_hash"])
            signed, raw = build_entry(e["seq"], prev, OPS[e["op"]], subject.public,
                                      signer.key_id, signer.ed_sk)
            g.check("signed_bytes", signed, e["signed_bytes"])
            g.check("encoded", raw, e["encoded"])
            h = H("sealdesk/v1/directory-hash", raw)
            g.check("hash", h, e["hash"])
            prev = h
            raws.append(hx(e["encoded"]))
            d = Directory.verify(raws)
            g.check("admins_after (in the order added)", d.sets_after[-1],
                    [hx(k) for k in e["admins_after"]])
            g.check("admins_at(head) equals admins_after", d.admins_at(d.head_seq),
                    [hx(k) for k in e["admins_after"]])
    with Group("directory/instance_fingerprint") as g:
        g.check("genesis hash in the §4.3 form (§7.6)",
                fingerprint(H("sealdesk/v1/directory-hash", raws[0])), v["instance_fingerprint"])
    with Group("directory/head") as g:
        d = Directory.verify(raws)
        g.check("head", {"seq": d.head_seq, "hash": d.head_hash.hex()}, v["head"])
        d.check_extends(v["head"]["seq"], hx(v["head"]["hash"]))
        g.check("log extends its own head (§7.4)", "ok", "ok")
        for k in range(1, len(raws)):
            inc = Directory.verify(raws[:k]).extend(raws[k:])
            g.check("incremental verification from position %d equals the full one (§7.4)" % k,
                    (inc.head_seq, inc.head_hash, inc.sets_after), (d.head_seq, d.head_hash,
                                                                     d.sets_after))


def run_transcript():
    t, directory, ticket = transcript_setup()
    a, b, c = IDS["admin-a"], IDS["admin-b"], IDS["admin-c"]
    with Group("transcript/setup") as g:
        g.check("reporter is anonymous case 0's identity", IDS["anon-0"].public,
                t["reporter_public_identity"])
        g.check("ticket_id is anonymous case 0's", anon_derive(
            hx(load("anonymous.json")["cases"][0]["secret"]))[0], t["ticket_id"])
        g.check("directory is genesis(a), add(b) by a, add(c) by a, remove(b) by a",
                build_log([("genesis", a, a), ("add", b, a), ("add", c, a), ("remove", b, a)]),
                [hx(x) for x in t["directory"]])
        g.check("directory head seq (§7.3)", directory.head_seq, 3)
        g.check("admins at head", directory.admins_at(3), [a.key_id, c.key_id])

    conv_state, notes_state = ChainState(0), ChainState(1)
    conv_groups = {}
    # the chain keys come from the wraps, checked below to open to exactly these
    ck = {(k["chain"], k["epoch"]): hx(k["key"]) for k in t["chain_keys"]}

    def on_conv(i, m, st):
        conv_groups[i] = st.summary()

    with Group("transcript/conversation chain verifies (§10.2)") as g:
        conv = verify_chain(ticket, conv_state, [hx(x["encoded"]) for x in t["conversation"]],
                            on_conv, keys=ck)
        g.check("messages verified", len(conv), len(t["conversation"]))
        g.check("conversation_states count", len(t["conversation_states"]), len(conv))
        g.check("epochs opened at", conv_state.epochs, {0: 1, 1: 3})
        g.check("reporter keys: the first, then the endorsed one (§10.1)", conv_state.reporters,
                [IDS["anon-0"].key_id, IDS["anon-1"].key_id])
    with Group("transcript/notes chain verifies (§10.2)") as g:
        notes = verify_chain(ticket, notes_state, [hx(x["encoded"]) for x in t["notes"]])
        g.check("notes_final", {"seq": notes_state.seq, "epoch": notes_state.epoch,
                                "hash": notes_state.hash.hex()}, t["notes_final"])
    with Group("transcript/incremental verification (§10.4)") as g:
        for k in range(len(conv)):
            st = ChainState(0)
            verify_chain(ticket, st, [m.raw for m in conv[:k]], keys=ck)
            verify_chain(ticket, st, [m.raw for m in conv[k:]], keys=ck)
            g.check("split at %d gives the same state" % k, (st.summary(), st.epochs),
                    (conv_state.summary(), conv_state.epochs))
        st = ChainState(0)
        verify_chain(ticket, st, [m.raw for m in conv[:3]])
        g.rejects("continuing with a message already seen",
                  lambda: verify_chain(ticket, st, [conv[2].raw]),
                  "transcript.unexpected_seq", 0, True)
    states = {0: conv_state, 1: notes_state}

    # wraps: decode, verify (§6.3), re-sign, open (§6.4)
    chain_keys = {}
    keys_json = {(k["chain"], k["epoch"]): k["key"] for k in t["chain_keys"]}
    for j, w in enumerate(t["wraps"]):
        with Group("transcript/wraps[%d]" % j) as g:
            wr = Wrap(hx(w["encoded"]))
            g.check("ticket_id", wr.ticket_id, t["ticket_id"])
            g.check("fields", {"chain": wr.chain, "epoch": wr.epoch, "dir_seq": wr.dir_seq,
                               "recipient_key_id": wr.recipient.hex(),
                               "wrapper_key_id": wr.wrapper.hex()},
                    {k: w[k] for k in ("chain", "epoch", "dir_seq", "recipient_key_id",
                                       "wrapper_key_id")})
            verify_wrap(wr, ticket, states[wr.chain])
            g.check("verifies (§6.3)", "ok", "ok")
            g.rejects("verified for the other chain", lambda: verify_wrap(
                wr, ticket, states[1 - wr.chain]), "wrap.wrong_chain")
            g.check("signature re-derived", ed_sign(BY_KID[wr.wrapper].ed_sk, wr.signed_bytes()),
                    wr.signature)
            k = open_wrap(wr, BY_KID[wr.recipient])
            chain_keys.setdefault((wr.chain, wr.epoch), set()).add(k)
            g.check("opens to the chain_keys entry (§6.4)", k, keys_json.get((wr.chain, wr.epoch)))
            other = next(i for i in BY_KID.values() if i.key_id != wr.recipient)
            g.rejects("opened by another identity", lambda: open_wrap(wr, other), "malformed")

    with Group("transcript/epochs and wraps (§5.2, §10.2, §15)") as g:
        g.check("chain_keys listed are exactly those wrapped, one key each",
                sorted(keys_json), sorted(k for k, s in chain_keys.items() if len(s) == 1))
        g.true("chain keys differ between epochs and chains",
               len(set(keys_json.values())) == len(keys_json))
        g.check("no wrap of conversation epoch 1 for removed admin-b",
                [w for w in t["wraps"] if w["chain"] == 0 and w["epoch"] == 1
                 and hx(w["recipient_key_id"]) == b.key_id], [])
        for ch, st, msgs in ((0, conv_state, conv), (1, notes_state, notes)):
            for ep, opened in st.epochs.items():
                opener = next(m for m in msgs if m.epoch == ep)
                ws = [Wrap(hx(w["encoded"])) for w in t["wraps"]]
                # reporter keys endorsed after the opening get their wraps later (§8.2)
                later = st.reporters[1:]
                at_open = [w for w in ws if w.chain == ch and w.epoch == ep
                           and w.dir_seq == opened and w.recipient not in later]
                g.check("chain %d epoch %d: wrapped at opening for exactly the members at %d"
                        % (ch, ep, opened), sorted(w.recipient for w in at_open),
                        sorted(ticket.members(ch, opened)))
                g.true("chain %d epoch %d: opening wraps by the opening message's sender"
                       % (ch, ep), all(w.wrapper == opener.sender for w in at_open))
        endorsed = conv_state.reporters[1:]
        g.true("each endorsed key has a wrap of the epoch of its endorse message (§8.2)",
               all(any(w["chain"] == 0 and w["epoch"] == m.epoch
                       and hx(w["recipient_key_id"]) == kid for w in t["wraps"])
                   for m in conv if m.kind == KIND["endorse"] for kid in endorsed))
        rot = [m for m in conv if m.kind == KIND["rotate"]]
        g.check("the rotate message opens epoch 1 at the removal's position",
                [(m.epoch, m.dir_seq) for m in rot], [(1, 3)])

    with Group("transcript/reporter_endorsement (§8.2 grounds 0x02)") as g:
        re = t["reporter_endorsement"]
        g.true("description", isinstance(re["description"], str))
        st = ChainState(0)
        raws = [m.raw for m in conv[:3]] + [hx(x["encoded"]) for x in re["messages"]]
        own = verify_chain(ticket, st, raws, keys=ck)[3:]
        e = re["endorse_content"]
        g.check("endorse content fields", (e["version"], e["grounds"], e["ticket_id"],
                                           e["endorsed_public_identity"], e["endorsed_key_id"]),
                (1, 2, ticket.ticket_id, IDS["anon-1"].public, IDS["anon-1"].key_id))
        prev = conv[2].hash
        for m, x in zip(own, re["messages"]):
            g.check("fields of seq %d" % m.seq,
                    {"seq": m.seq, "epoch": m.epoch, "dir_seq": m.dir_seq, "kind": m.kind,
                     "sender_key_id": m.sender.hex(), "hash": m.hash.hex()},
                    {k: x[k] for k in ("seq", "epoch", "dir_seq", "kind", "sender_key_id",
                                       "hash")})
            content = m.open(ck[(0, 0)])
            g.check("content of seq %d" % m.seq, content, x["content"])
            hdr = header_bytes(ticket.ticket_id, 0, x["seq"], prev, x["epoch"], x["dir_seq"],
                               hx(x["sender_key_id"]), x["kind"], m.salt)
            g.check("encoded of seq %d re-derived" % m.seq,
                    seal_message(hdr, ck[(0, 0)], content, BY_KID[m.sender].ed_sk)["encoded"],
                    x["encoded"])
            prev = m.hash
        g.check("the endorse message is the reporter's, kind 8",
                (own[0].sender, own[0].kind), (IDS["anon-0"].key_id, KIND["endorse"]))
        g.check("its content is §8.2's layout with grounds 0x02", own[0].open(ck[(0, 0)]),
                build_endorse_content(ticket.ticket_id, IDS["anon-1"].public, 2))
        g.check("the next message is the second key's", own[1].sender, IDS["anon-1"].key_id)
        g.check("reporter_key_ids", [k.hex() for k in st.reporters], re["reporter_key_ids"])
        g.check("final", {"seq": st.seq, "hash": st.hash.hex(), "status": st.status},
                re["final"])

    for label, msgs, js, exp_states in (("conversation", conv, t["conversation"],
                                         t["conversation_states"]),
                                        ("notes", notes, t["notes"], None)):
        prev = bytes(32)
        for i, (m, x) in enumerate(zip(msgs, js)):
            with Group("transcript/%s[%d]" % (label, i)) as g:
                g.check("fields", {"seq": m.seq, "epoch": m.epoch, "dir_seq": m.dir_seq,
                                   "kind": m.kind, "sender_key_id": m.sender.hex(),
                                   "hash": m.hash.hex()},
                        {k: x[k] for k in ("seq", "epoch", "dir_seq", "kind", "sender_key_id",
                                           "hash")})
                key = next(iter(chain_keys[(m.chain, m.epoch)]))
                content = m.open(key)
                g.check("content (decrypted with the wrapped key, padding checked)", content,
                        x["content"])
                if m.kind == KIND["rotate"]:
                    g.check("rotate carries empty content (§9.1)", content, b"")
                if m.kind == KIND["endorse"]:
                    g.check("endorse content names the ticket and anonymous case 1 (§8.2)",
                            read_endorse_content(content, ticket.ticket_id), IDS["anon-1"].public)
                check_written_content(g, "content", m.kind, content,
                                      label == "conversation" and m.seq == 1)
                hdr = header_bytes(ticket.ticket_id, m.chain, x["seq"], prev, x["epoch"],
                                   x["dir_seq"], hx(x["sender_key_id"]), x["kind"], m.salt)
                r = seal_message(hdr, key, hx(x["content"]), BY_KID[m.sender].ed_sk)
                g.check("encoded re-derived from the fields, content and salt", r["encoded"],
                        x["encoded"])
                g.check("hash", r["hash"], x["hash"])
                prev = r["hash"]
                if exp_states is not None:
                    g.check("state after", conv_groups.get(i), exp_states[i])


def run_attachment():
    a = load("attachment.json")
    with Group("attachment") as g:
        pt = attachment_plaintext(a["plaintext_len"])
        g.check("plaintext_sha256 (byte i = i mod 251)", sha256(pt), a["plaintext_sha256"])
        pk, chunks, stream = encrypt_stream(hx(a["file_key"]), hx(a["stream_nonce"]), pt)
        g.check("payload_key", pk, a["payload_key"])
        g.check("chunk count", len(chunks), len(a["chunks"]))
        for c, ch in zip(a["chunks"], chunks):
            i = c["index"]
            last = i == len(chunks) - 1
            g.check("chunk[%d]/nonce" % i, chunk_nonce(i, last), c["nonce"])
            g.check("chunk[%d]/ciphertext_len" % i, len(ch), c["ciphertext_len"])
            g.check("chunk[%d]/ciphertext_first_16" % i, ch[:16], c["ciphertext_first_16"])
            g.check("chunk[%d]/tag" % i, ch[-16:], c["tag"])
            g.check("chunk[%d]/sha256" % i, sha256(ch), c["sha256"])
        g.check("stream_len", len(stream), a["stream_len"])
        g.check("stream_len formula 16 + n + 16*max(1, ceil(n/65536))",
                16 + len(pt) + 16 * max(1, -(-len(pt) // CHUNK)), a["stream_len"])
        g.check("stream_sha256", sha256(stream), a["stream_sha256"])
        g.check("stream decrypts (§13)", sha256(decrypt_stream(hx(a["file_key"]), stream)),
                a["plaintext_sha256"])
    return chunks


def apply_edits(s: bytes, edits) -> bytes:
    """§16: negative.json's attachment edits, in order."""
    for e in edits:
        op = e["edit"]
        if op == "truncate":
            s = s[:e["at"]]
        elif op == "flip":
            b = bytearray(s)
            b[e["byte"]] ^= 1 << e["bit"]
            s = bytes(b)
        elif op == "append":
            s = s + hx(e["bytes"])
        elif op in ("drop_chunk", "swap_chunks"):
            pieces = [s[j:j + PIECE] for j in range(16, len(s), PIECE)]
            if op == "drop_chunk":
                del pieces[e["index"]]
            else:
                pieces[e["a"]], pieces[e["b"]] = pieces[e["b"]], pieces[e["a"]]
            s = s[:16] + b"".join(pieces)
        else:
            raise RuntimeError("unknown edit " + op)
    return s


def run_negative(chunks):
    v = load("negative.json")
    t, _, ticket = transcript_setup()
    # wrap cases: against transcript.json's conversation chain after all its messages
    conv_state = ChainState(0)
    ck = {(k["chain"], k["epoch"]): hx(k["key"]) for k in t["chain_keys"]}
    verify_chain(ticket, conv_state, [hx(x["encoded"]) for x in t["conversation"]], keys=ck)
    a = load("attachment.json")
    for c in v["cases"]:
        typ = c["type"]
        with Group("negative/%s/%s" % (typ, c["name"])) as g:
            fn = None
            if typ == "transcript":
                msgs = [hx(m) for m in c["messages"]]
                ch = c["chain"]
                fn = lambda: verify_chain(ticket, ChainState(ch), msgs)  # noqa: E731
            elif typ == "endorsement":
                # every message verifies; reading the last one's content fails (§8.2)
                msgs = [hx(m) for m in c["messages"]]
                g.check("conversation chain", c["chain"], 0)
                est = ChainState(c["chain"])
                verify_chain(ticket, est, msgs)
                ekey = hx(c["chain_key"])

                def fn(est=est, last=msgs[-1], ekey=ekey):
                    err = read_endorsement(ticket, est, Message(last), ekey)
                    g.check("no reporter key added", est.reporters, [ticket.first_reporter])
                    if err:
                        raise err
            elif typ == "directory":
                log = [hx(e) for e in c["log"]]
                fn = lambda: Directory.verify(log)  # noqa: E731
            elif typ == "directory_extends":
                log = [hx(e) for e in c["log"]]
                pin = (c["pinned_head"]["seq"], hx(c["pinned_head"]["hash"]))
                fn = lambda: Directory.verify(log).check_extends(*pin)  # noqa: E731
            elif typ == "wrap":
                raw = hx(c["wrap"])
                fn = lambda: verify_wrap(Wrap(raw), ticket, conv_state)  # noqa: E731
            elif typ == "public_identity":
                pi = hx(c["public_identity"])
                fn = lambda: decode_public_identity(pi)  # noqa: E731
            elif typ == "attachment":
                s = apply_edits(hx(a["stream_nonce"]) + b"".join(bytes(x) for x in chunks),
                                c["edits"])
                g.check("edited stream_sha256", sha256(s), c["stream_sha256"])
                g.check("file_key is attachment.json's", c["file_key"], a["file_key"])
                fk = hx(c["file_key"])
                fn = lambda: decrypt_stream(fk, s)  # noqa: E731
            elif typ == "keyring":
                ar = c["argon2id"]
                mk = master_key(c["password_utf8"].encode("utf-8"), hx(c["salt"]),
                                ar["memory_kib"], ar["iterations"], ar["parallelism"])
                sealed = hx(c["sealed_keyring"])
                fn = lambda: open_keyring(sealed, account_keys(mk)[1])  # noqa: E731
            elif typ == "fragment":
                frag = c["fragment"]
                fn = lambda: decode_fragment(frag)  # noqa: E731
            else:
                raise RuntimeError("unknown negative type " + typ)
            has_index = "expected_index" in c
            g.rejects("", fn, c["expected_error"], c["expected_index"] if has_index else None,
                      has_index)
            if typ in ("transcript", "directory") and not has_index:
                g.check("case lists expected_index", False, True)


# --------------------------------------------------------------------------- spec-only checks
def run_spec_checks(chunks):
    """Rules of the spec that no vector covers, on inputs built here."""
    a, b, c = IDS["admin-a"], IDS["admin-b"], IDS["admin-c"]
    rep = IDS["anon-0"]
    with Group("spec/§14 reading content") as g:
        msg, close = KIND["message"], KIND["close"]
        g.no_error("message without subject is readable",
                   lambda: parse_content(msg, b'{"text":"x","sent_at":1}'))
        g.no_error("unknown members ignored",
                   lambda: parse_content(msg, b'{"text":"x","sent_at":1,"mood":[1]}'))
        g.no_error("null optional string counts as absent",
                   lambda: parse_content(msg, b'{"text":"x","sent_at":1,"author":null}'))
        g.no_error("white space around the object",
                   lambda: parse_content(close, b' {"sent_at":1}\n'))
        g.no_error("text longer than the limit is read as it is",
                   lambda: parse_content(msg, b'{"text":"' + b"x" * 70000 + b'","sent_at":1}'))
        g.no_error("rotate content ignored", lambda: parse_content(KIND["rotate"], b"junk"))
        g.no_error("no tags (all removed) is readable",
                   lambda: parse_content(KIND["tags"], b'{"tags":[],"sent_at":1}'))
        g.no_error("20 tags of 32 characters, sorted, are readable",
                   lambda: parse_content(KIND["tags"], ('{"tags":[%s],"sent_at":1}' % ",".join(
                       '"%s"' % (chr(97 + i) * 32) for i in range(20))).encode()))
        g.no_error("tags with digits, - and _ (sorted by code point: - < 0 < _ < a)",
                   lambda: parse_content(KIND["tags"],
                                         b'{"tags":["-x","0","_a","a-b_c9"],"sent_at":1}'))
        for name, kind, body in (
                ("missing sent_at", msg, b'{"text":"x"}'),
                ("missing text", msg, b'{"sent_at":1}'),
                ("close without sent_at", close, b'{}'),
                ("empty content of a close", close, b''),
                ("sent_at with a fraction", msg, b'{"text":"x","sent_at":1.0}'),
                ("sent_at with an exponent", msg, b'{"text":"x","sent_at":1e3}'),
                ("negative sent_at", msg, b'{"text":"x","sent_at":-1}'),
                ("sent_at of 2^64", msg, b'{"text":"x","sent_at":18446744073709551616}'),
                ("urgent null", msg, b'{"text":"x","sent_at":1,"urgent":null}'),
                ("urgent as a string", msg, b'{"text":"x","sent_at":1,"urgent":"yes"}'),
                ("text twice", msg, b'{"text":"x","text":"y","sent_at":1}'),
                ("not an object", msg, b'["x"]'),
                ("debug field value not a string", KIND["debug"],
                 b'{"fields":{"screen":1},"sent_at":1}'),
                ("attachment reference without key", KIND["attachment"],
                 b'{"attachment_id":"00","name":"a","type":"t","size":1,"encrypted_size":33,'
                 b'"sent_at":1}'),
                ("tags without tags", KIND["tags"], b'{"sent_at":1}'),
                ("tags not a list", KIND["tags"], b'{"tags":"vip","sent_at":1}'),
                ("tags null", KIND["tags"], b'{"tags":null,"sent_at":1}'),
                ("tag not a string", KIND["tags"], b'{"tags":[1],"sent_at":1}'),
                ("empty tag", KIND["tags"], b'{"tags":[""],"sent_at":1}'),
                ("tag of 33 characters", KIND["tags"],
                 b'{"tags":["' + b"a" * 33 + b'"],"sent_at":1}'),
                ("tag with an upper-case letter", KIND["tags"], b'{"tags":["Vip"],"sent_at":1}'),
                ("tag with a space", KIND["tags"], b'{"tags":["v ip"],"sent_at":1}'),
                ("tag with a non-ASCII letter", KIND["tags"],
                 '{"tags":["caf\u00e9"],"sent_at":1}'.encode()),
                ("tags out of order", KIND["tags"], b'{"tags":["vip","bug"],"sent_at":1}'),
                ("tag twice", KIND["tags"], b'{"tags":["vip","vip"],"sent_at":1}'),
                ("21 tags", KIND["tags"], ('{"tags":[%s],"sent_at":1}' % ",".join(
                    '"t%02d"' % i for i in range(21))).encode())):
            g.rejects(name, lambda k=kind, b=body: parse_content(k, b), "content.unreadable")
        g.check("lengths count code points, not UTF-16 units",
                len("\U0001F600" * 200) <= 200, True)
    with Group("spec/§12.4 usernames") as g:
        g.check("ASCII letters lowercased", normalise_username("Alice.B-2_x"), "alice.b-2_x")
        g.check("64 characters", normalise_username("A" * 64), "a" * 64)
        for bad in ("", "a" * 65, "al ice", " alice", "alicé", "ALİCE", "a@b", "a+b"):
            g.rejects("refused: %r" % bad, lambda b=bad: normalise_username(b), "bad_username")
    with Group("spec/§3.4 strict Ed25519") as g:
        msg = b"sealdesk"
        sig = ed_sign(a.ed_sk, msg)
        g.true("valid signature accepted", ed_verify_strict(a.ed_pk, msg, sig))
        s = int.from_bytes(sig[32:], "little")
        g.true("S + L rejected (S >= L)",
               not ed_verify_strict(a.ed_pk, msg, sig[:32] + (s + L).to_bytes(32, "little")))
        ident = (1).to_bytes(32, "little")
        g.true("small-order R rejected", not ed_verify_strict(a.ed_pk, msg, ident + sig[32:]))
        g.true("identity key rejected", not ed_key_ok(ident))
        g.true("non-canonical key encoding (y + p) rejected",
               not ed_key_ok((1 + P).to_bytes(32, "little")))
        # forge for A' = A + T (T of order 4, (x, y) = (sqrt(-1), 0)): mixed order key
        t4 = (SQRT_M1, 0, 1, 0)
        g.true("point of order 4 is of small order", _ed_small_order(t4))
        mixed = _ed_encode(_ed_add(_ed_decode(a.ed_pk), t4))
        g.true("mixed-order key passes the key check (§3.4)", ed_key_ok(mixed))
        g.true("signature by A does not verify under A + T",
               not ed_verify_strict(mixed, msg, sig))
        g.true("altered message rejected", not ed_verify_strict(a.ed_pk, msg + b"!", sig))

    t, directory, ticket = transcript_setup()
    with Group("spec/§7.3 directory genesis and decoding errors") as g:
        good = build_log([("genesis", a, a), ("add", b, a), ("add", c, a), ("remove", b, a)])
        g.rejects("empty log", lambda: Directory.verify([]), "directory.malformed", 0, True)
        g.rejects("entry 2 truncated", lambda: Directory.verify(good[:2] + [good[2][:-1]]),
                  "directory.malformed", 2, True)
        g.rejects("entry 1 with version 2", lambda: Directory.verify(
            [good[0], b"\x02" + good[1][1:]]), "directory.malformed", 1, True)
        g.rejects("entry 1 with op 3", lambda: Directory.verify(
            [good[0], good[1][:41] + b"\x03" + good[1][42:]]), "directory.malformed", 1, True)
        lowx = b.ed_pk + bytes(32)
        _, e1 = build_entry(1, H("sealdesk/v1/directory-hash", good[0]), 1, lowx, a.key_id,
                            a.ed_sk)
        g.rejects("subject with a low-order X25519 key", lambda: Directory.verify(
            [good[0], e1]), "directory.malformed", 1, True)

        def gen(seq=0, prev=bytes(32), op=0, subject=a, signer=a, sk=None):
            return build_entry(seq, prev, op, subject.public, signer.key_id,
                               sk or signer.ed_sk)[1]
        g.rejects("genesis with op add", lambda: Directory.verify([gen(op=1)]),
                  "directory.invalid_operation", 0, True)
        g.rejects("genesis signed by another key id", lambda: Directory.verify(
            [gen(signer=b)]), "directory.invalid_operation", 0, True)
        g.rejects("genesis with seq 1", lambda: Directory.verify([gen(seq=1)]),
                  "directory.unexpected_seq", 0, True)
        g.rejects("genesis with non-zero prev_hash", lambda: Directory.verify(
            [gen(prev=b"\x01" * 32)]), "directory.broken_link", 0, True)
        g.rejects("genesis signed with another secret", lambda: Directory.verify(
            [gen(sk=b.ed_sk)]), "directory.bad_signature", 0, True)
        g.rejects("genesis again at position 1", lambda: Directory.verify(
            build_log([("genesis", a, a), ("genesis", b, a)])),
            "directory.invalid_operation", 1, True)
        g.rejects("add an existing administrator", lambda: Directory.verify(
            build_log([("genesis", a, a), ("add", a, a)])), "directory.invalid_operation", 1, True)
        g.rejects("re-add a removed administrator", lambda: Directory.verify(
            good + build_log([("genesis", a, a), ("add", b, a), ("add", c, a), ("remove", b, a),
                              ("add", b, a)])[4:]), "directory.invalid_operation", 4, True)
        g.rejects("remove the last administrator", lambda: Directory.verify(
            build_log([("genesis", a, a), ("remove", a, a)])),
            "directory.invalid_operation", 1, True)
        g.rejects("remove a non-administrator", lambda: Directory.verify(
            build_log([("genesis", a, a), ("add", b, a), ("remove", c, a)])),
            "directory.invalid_operation", 2, True)
        g.rejects("entry signed by a removed administrator", lambda: Directory.verify(
            build_log([("genesis", a, a), ("add", b, a), ("add", c, a), ("remove", b, a),
                       ("remove", c, b)])), "directory.not_a_member", 4, True)
        d = Directory.verify(good)
        g.check("admins_at each position", [d.admins_at(i) for i in range(4)],
                [[a.key_id], [a.key_id, b.key_id], [a.key_id, b.key_id, c.key_id],
                 [a.key_id, c.key_id]])
    with Group("spec/§7.4 incremental verification and pinning") as g:
        base = Directory.verify(good[:2])
        g.rejects("answer not starting at head seq + 1", lambda: base.copy().extend(good[3:]),
                  "directory.unexpected_seq", 2, True)
        g.rejects("answer repeating the head", lambda: base.copy().extend(good[1:]),
                  "directory.unexpected_seq", 2, True)
        other = build_log([("genesis", a, a), ("add", c, a), ("add", b, a)])
        g.rejects("answer linking to another head", lambda: base.copy().extend(other[2:]),
                  "directory.broken_link", 2, True)
        inc = base.copy()
        try:
            inc.extend(good[2:3] + other[2:])
        except ProtoError:
            pass
        g.check("a failed continuation leaves the kept state unchanged", inc.head_seq, 1)
        full = Directory.verify(good)
        g.rejects("pinned head beyond the log", lambda: Directory.verify(good[:3]).check_extends(
            3, full.head_hash), "directory.rollback")
        g.rejects("pinned head with another hash", lambda: Directory.verify(
            other).check_extends(1, full.entries[1].hash), "directory.fork")

    conv_keys = {(k["chain"], k["epoch"]): hx(k["key"]) for k in t["chain_keys"]}
    conv = [hx(x["encoded"]) for x in t["conversation"]]

    def msg(seq, prev, epoch, dir_seq, sender, kind, content=b"", chain=0, key=None,
            tid=None):
        hdr = header_bytes(tid or ticket.ticket_id, chain, seq, prev, epoch, dir_seq,
                           sender.key_id, kind, bytes(range(32)))
        return seal_message(hdr, key or conv_keys[(chain, min(epoch, 1 - chain))], content,
                            sender.ed_sk)["encoded"]

    def hash_of(raw):
        return H("sealdesk/v1/message-hash", raw)

    with Group("spec/§9-§10 messages and transcript rules") as g:
        m1 = msg(1, bytes(32), 0, 1, rep, KIND["message"], b"hi")
        g.rejects("kind 12", lambda: Message(m1[:102] + b"\x0c" + m1[103:]),
                  "transcript.malformed")
        g.rejects("chain byte 2", lambda: Message(m1[:17] + b"\x02" + m1[18:]),
                  "transcript.malformed")
        g.rejects("trailing byte", lambda: Message(m1 + b"\x00"), "transcript.malformed")
        g.rejects("version 2", lambda: Message(b"\x02" + m1[1:]), "transcript.malformed")
        g.rejects("content over 1,048,572 bytes", lambda: pad(bytes(MAX_CONTENT + 1)),
                  "too_large")
        g.check("largest content fills 1 MiB", len(pad(bytes(MAX_CONTENT))), 1 << 20)
        g.check("buckets", [bucket(n) for n in (0, 252, 253, 508, 509)],
                [256, 256, 512, 512, 1024])
        p = pad(b"abc")
        g.rejects("non-zero padding byte", lambda: unpad(p[:-1] + b"\x01"), "bad_padding")
        g.rejects("length prefix beyond the buffer", lambda: unpad(u32(253) + p[4:]),
                  "bad_padding")
        g.rejects("padded size too large for the length", lambda: unpad(
            u32(3) + b"abc" + bytes(509)), "bad_padding")
        g.rejects("decrypted with another epoch's key",
                  lambda: Message(conv[0]).open(conv_keys[(0, 1)]), "decryption_failed")
        g.rejects("first conversation message with epoch 1", lambda: verify_chain(
            ticket, ChainState(0), [msg(1, bytes(32), 1, 1, rep, 1, b"x")]),
            "transcript.bad_epoch", 0, True)
        g.rejects("dir_seq beyond the head", lambda: verify_chain(
            ticket, ChainState(0), [msg(1, bytes(32), 0, 4, rep, 1, b"x")]),
            "transcript.directory_out_of_range", 0, True)
        m2 = msg(2, hash_of(conv[0]), 0, 0, a, 1, b"x")
        g.rejects("dir_seq going back", lambda: verify_chain(
            ticket, ChainState(0), [conv[0], m2]), "transcript.directory_out_of_range", 1, True)
        g.rejects("message of the notes chain in the conversation", lambda: verify_chain(
            ticket, ChainState(0), [hx(t["notes"][0]["encoded"])]),
            "transcript.wrong_chain", 0, True)
        g.rejects("prev_hash not the last hash", lambda: verify_chain(
            ticket, ChainState(0), [conv[0], msg(2, bytes(32), 0, 1, a, 1, b"x")]),
            "transcript.broken_link", 1, True)
        # notes chain: rotate allowed (opening epoch 1), other conversation kinds not
        n1 = hx(t["notes"][0]["encoded"])
        n2 = msg(2, hash_of(n1), 1, 3, c, KIND["rotate"], chain=1, key=b"\x09" * 32)
        st = ChainState(1)
        verify_chain(ticket, st, [n1, n2])
        g.check("rotate on the notes chain opens epoch 1", (st.epoch, st.epochs), (1, {0: 3, 1: 3}))
        g.rejects("kind message on the notes chain", lambda: verify_chain(
            ticket, ChainState(1), [n1, msg(2, hash_of(n1), 0, 3, c, 1, b"x", chain=1)]),
            "transcript.kind_not_allowed", 1, True)
        g.rejects("reporter on the notes chain", lambda: verify_chain(
            ticket, ChainState(1), [n1, msg(2, hash_of(n1), 0, 3, rep, 6, b"x", chain=1)]),
            "transcript.not_a_member", 1, True)
        g.rejects("rotate as first conversation message by an administrator",
                  lambda: verify_chain(ticket, ChainState(0), [msg(1, bytes(32), 0, 1, a, 7)]),
                  "transcript.not_a_member", 0, True)
        st = ChainState(0)
        verify_chain(ticket, st, [msg(1, bytes(32), 0, 1, rep, KIND["rotate"])])
        g.check("rotate may open epoch 0 as the first message", st.epochs, {0: 1})
        # endorse messages (§8.2): on a closed ticket (after message 6), epoch 1, dir_seq 3
        r2 = IDS["anon-1"]
        g.rejects("first conversation message by another key than the first reporter's",
                  lambda: verify_chain(ticket, ChainState(0),
                                       [msg(1, bytes(32), 0, 1, r2, 1, b"x")]),
                  "transcript.not_a_member", 0, True)
        e7 = msg(7, hash_of(conv[5]), 1, 3, a, KIND["endorse"],
                 build_endorse_content(ticket.ticket_id, r2.public))
        st = ChainState(0)
        verify_chain(ticket, st, conv[:6] + [e7], keys=conv_keys)
        g.check("an endorse message leaves a closed ticket closed (§10.3)", st.status, "closed")
        g.check("the endorsed key is a reporter key (§10.1)", st.reporters,
                [rep.key_id, r2.key_id])
        verify_chain(ticket, st, [msg(8, hash_of(e7), 1, 3, r2, KIND["debug"], b"{}")])
        g.check("debug data from an endorsed reporter reopens (§10.3)", st.status, "open")
        st = ChainState(0)
        verify_chain(ticket, st, conv[:6] + [e7])
        g.rejects("the message after an unread endorse message", lambda: verify_chain(
            ticket, st, [msg(8, hash_of(e7), 1, 3, r2, KIND["debug"], b"{}")]),
            "transcript.endorsement_unread", 0, True)
        # §8.2 grounds: 0x01 needs an administrator, 0x02 a reporter key; either verifies
        for label, signer, grounds, expected in (
                ("the reporter's grounds 0x01", rep, 1, "endorsement.not_a_member"),
                ("an administrator's grounds 0x02", a, 2, "endorsement.not_a_member"),
                ("the reporter's grounds 0x02", rep, 2, None)):
            ex = msg(7, hash_of(conv[5]), 1, 3, signer, KIND["endorse"],
                     build_endorse_content(ticket.ticket_id, r2.public, grounds))
            st = ChainState(0)
            verify_chain(ticket, st, conv[:6] + [ex])
            got = read_endorsement(ticket, st, Message(ex), conv_keys[(0, 1)])
            g.check("endorse message with " + label + ": read (§8.2)",
                    got.code if got else None, expected)
            g.check("endorse message with " + label + ": reporter keys",
                    st.reporters, [rep.key_id] + ([r2.key_id] if expected is None else []))
        other_tid = hx(load("anonymous.json")["cases"][1]["ticket_id"])
        e7x = msg(7, hash_of(conv[5]), 1, 3, a, KIND["endorse"],
                  build_endorse_content(other_tid, r2.public))
        st = ChainState(0)
        verify_chain(ticket, st, conv[:6] + [e7x])
        g.check("another ticket's endorse content is unreadable (§8.2)",
                read_endorsement(ticket, st, Message(e7x), conv_keys[(0, 1)]).code,
                "endorsement.wrong_ticket")
        g.rejects("and adds no key", lambda: verify_chain(
            ticket, st, [msg(8, hash_of(e7x), 1, 3, r2, KIND["debug"], b"{}")]),
            "transcript.not_a_member", 0, True)
        bad = build_endorse_content(ticket.ticket_id, r2.public)
        for name, body in (("81 bytes", bad[:-1]), ("version 2", b"\x02" + bad[1:]),
                           ("grounds 3", bad[:1] + b"\x03" + bad[2:]),
                           ("X25519 key of low order", bad[:50] + bytes(32))):
            g.rejects("endorse content: " + name, lambda b=body: read_endorse_content(
                b, ticket.ticket_id), "endorsement.malformed")
        st = ChainState(0)
        verify_chain(ticket, st, conv[:6])
        verify_chain(ticket, st, [msg(7, hash_of(conv[5]), 1, 3, a, KIND["message"], b"x")])
        g.check("a message from an administrator does not reopen (§10.3)", st.status, "closed")
        # §10.3 statuses beyond open and closed, after message 6 (a close), epoch 1, dir_seq 3
        w7 = msg(7, hash_of(conv[5]), 1, 3, a, KIND["waiting"], b'{"sent_at":1}')
        st = ChainState(0)
        verify_chain(ticket, st, conv[:6] + [w7])
        g.check("a waiting message sets waiting (§10.3)", st.status, "waiting")
        a8 = msg(8, hash_of(w7), 1, 3, a, KIND["message"], b"x")
        verify_chain(ticket, st, [a8])
        g.check("an administrator's message leaves waiting (§10.3)", st.status, "waiting")
        h9 = msg(9, hash_of(a8), 1, 3, c, KIND["on_hold"], b'{"sent_at":2}')
        verify_chain(ticket, st, [h9])
        g.check("an on hold message sets on_hold (§10.3)", st.status, "on_hold")
        verify_chain(ticket, st, [msg(10, hash_of(h9), 1, 3, rep, KIND["attachment"], b"{}")])
        g.check("a reporter's attachment reference reopens on_hold (§10.3)", st.status, "open")
        g.rejects("a waiting message by the reporter", lambda: verify_chain(
            ticket, ChainState(0), conv[:6] + [msg(7, hash_of(conv[5]), 1, 3, rep,
                                                   KIND["waiting"], b"{}")]),
            "transcript.not_a_member", 6, True)

    with Group("spec/§6.3-§6.4 wrap decoding and opening") as g:
        w0 = hx(t["wraps"][0]["encoded"])
        g.rejects("237 bytes", lambda: Wrap(w0[:-1]), "malformed")
        g.rejects("version 2", lambda: Wrap(b"\x02" + w0[1:]), "malformed")
        g.rejects("chain byte 2", lambda: Wrap(w0[:17] + b"\x02" + w0[18:]), "malformed")
        wr = Wrap(w0)
        conv_st, notes_st = ChainState(0), ChainState(1)
        verify_chain(ticket, conv_st, conv, keys=conv_keys)
        verify_chain(ticket, notes_st, [hx(x["encoded"]) for x in t["notes"]])
        g.rejects("other ticket", lambda: verify_wrap(wr, Ticket(
            hx(load("anonymous.json")["cases"][1]["ticket_id"]), rep.public, directory),
            conv_st), "wrap.wrong_ticket")
        early = ChainState(0)
        g.rejects("epoch 0 on a chain with no message yet", lambda: verify_wrap(
            wr, ticket, early), "wrap.bad_epoch")
        verify_chain(ticket, early, conv[:3])
        g.rejects("epoch 1 before its opening message", lambda: verify_wrap(
            Wrap(hx(t["wraps"][4]["encoded"])), ticket, early), "wrap.bad_epoch")
        ctx = wrap_context(ticket.ticket_id, 0, 0, 0, rep.key_id, rep.key_id)
        *_, before = seal_wrap(ctx, rep.x_pk, rep.ed_sk, b"\x05" * 32, b"\x06" * 32)
        g.rejects("dir_seq before the epoch's first message", lambda: verify_wrap(
            Wrap(before), ticket, conv_st), "wrap.directory_out_of_range")
        ctx = wrap_context(ticket.ticket_id, 1, 0, 3, rep.key_id, a.key_id)
        *_, notes_for_rep = seal_wrap(ctx, rep.x_pk, a.ed_sk, b"\x05" * 32, b"\x06" * 32)
        g.rejects("notes key wrapped for the reporter", lambda: verify_wrap(
            Wrap(notes_for_rep), ticket, notes_st), "wrap.not_a_member")
        ctx = wrap_context(ticket.ticket_id, 0, 1, 3, b.key_id, a.key_id)
        *_, for_removed = seal_wrap(ctx, b.x_pk, a.ed_sk, b"\x05" * 32, b"\x06" * 32)
        g.rejects("key wrapped for a removed administrator", lambda: verify_wrap(
            Wrap(for_removed), ticket, conv_st), "wrap.not_a_member")
        # ciphertext altered and re-signed by the wrapper: signature fine, HPKE fails
        alt = bytearray(w0)
        alt[130] ^= 1
        alt = bytes(alt[:174])
        alt = alt + ed_sign(rep.ed_sk, lp("sealdesk/v1/wrap-sig") + alt)
        verify_wrap(Wrap(alt), ticket, conv_st)
        g.rejects("ciphertext that does not authenticate", lambda: open_wrap(Wrap(alt), rep),
                  "decryption_failed")
        low = w0[:94] + bytes(32) + w0[126:174]
        low = low + ed_sign(rep.ed_sk, lp("sealdesk/v1/wrap-sig") + low)
        g.rejects("all-zero enc (all-zero DH output)", lambda: open_wrap(Wrap(low), rep), "hpke")

    with Group("spec/§13 attachment decryption errors") as g:
        fk, nonce = b"\x11" * 32, b"\x22" * 16
        _, _, empty = encrypt_stream(fk, nonce, b"")
        g.check("empty file: nonce and one empty last chunk", len(empty), 32)
        g.check("empty file decrypts", decrypt_stream(fk, empty), b"")
        g.rejects("nonce only", lambda: decrypt_stream(fk, nonce), "attachment.truncated")
        g.rejects("shorter than the nonce", lambda: decrypt_stream(fk, nonce[:5]),
                  "attachment.truncated")
        g.rejects("last piece of 15 bytes", lambda: decrypt_stream(fk, empty[:-1]),
                  "attachment.truncated")
        full = bytes(CHUNK)
        _, ch1, s1 = encrypt_stream(fk, nonce, full)
        g.check("one full chunk decrypts", decrypt_stream(fk, s1), full)
        _, ch2, s2 = encrypt_stream(fk, nonce, full + b"z")
        g.rejects("last chunk followed by a chunk", lambda: decrypt_stream(
            fk, s1 + ch2[1]), "attachment.trailing_data")
        aead = ChaCha20Poly1305(payload_key(fk, nonce))
        with_empty_last = nonce + ch2[0] + aead.encrypt(chunk_nonce(1, True), b"", b"")
        g.rejects("empty last chunk after a full chunk", lambda: decrypt_stream(
            fk, with_empty_last), "malformed")
        g.rejects("wrong file key", lambda: decrypt_stream(b"\x12" * 32, s2), "decryption_failed")
        g.rejects("a chunk of another file", lambda: decrypt_stream(
            fk, s2[:16] + chunks[0] + ch2[1]), "decryption_failed")

    with Group("spec/§11 fragment decoding and §4.2 public identities") as g:
        f = load("anonymous.json")["cases"][0]["fragment"]
        g.rejects("padding character", lambda: decode_fragment(f[:42] + "="), "malformed")
        g.rejects("non-canonical trailing bits", lambda: decode_fragment(
            f[:42] + B64URL[B64URL.index(f[42]) | 1]), "malformed")
        g.rejects("44 characters", lambda: decode_fragment(f + "A"), "malformed")
        g.rejects("63-byte public identity", lambda: decode_public_identity(a.public[:63]),
                  "malformed")
        g.rejects("X25519 key with the top bit set", lambda: decode_public_identity(
            a.public[:63] + bytes([a.public[63] | 0x80])), "invalid_public_key")

    with Group("spec/§12 keyring") as g:
        kr, salt = b"\x33" * 32, b"\x44" * 32
        sealed = seal_keyring(kr, salt, keyring_plaintext(b"\x55" * 32, b"app"))
        g.check("round trip", open_keyring(sealed, kr), (b"\x55" * 32, b"app"))
        g.rejects("app data over 65,500 bytes", lambda: keyring_plaintext(
            b"\x55" * 32, bytes(65501)), "too_large")
        g.rejects("version 2", lambda: open_keyring(b"\x02" + sealed[1:], kr), "malformed")
        g.rejects("wrong key", lambda: open_keyring(sealed, b"\x34" * 32), "decryption_failed")


# =========================================================================== team key (§18)
class TeamWrap:
    SIZE = 229

    def __init__(self, b: bytes):
        # §18.2: decoding checks the length and the version (error `malformed`)
        if len(b) != self.SIZE or b[0] != 1:
            raise ProtoError("malformed")
        self.epoch = be(b[1:5])
        self.opened_at = be(b[5:13])
        self.dir_seq = be(b[13:21])
        self.recipient = b[21:53]
        self.wrapper = b[53:85]
        self.context = b[:85]
        self.enc = b[85:117]
        self.ct = b[117:165]
        self.signature = b[165:229]

    def signed_bytes(self):
        return lp("sealdesk/v1/team-wrap-sig") + self.context + self.enc + self.ct


def team_wrap_info(context):
    return lp("sealdesk/v1/team-wrap") + context


def verify_team_wrap(w: TeamWrap, d: Directory):
    """§18.2 steps 1-4, in order."""
    if not (w.opened_at <= w.dir_seq <= d.head_seq):
        raise ProtoError("team_key.directory_out_of_range")
    admins = d.admins_at(w.dir_seq)
    if w.wrapper not in admins:
        raise ProtoError("team_key.not_a_member")
    if w.recipient not in admins:
        raise ProtoError("team_key.not_a_member")
    if not ed_verify_strict(d.keys[w.wrapper][:32], w.signed_bytes(), w.signature):
        raise ProtoError("team_key.bad_signature")


def open_team_wrap(w: TeamWrap, me: Identity) -> bytes:
    if w.recipient != me.key_id:
        raise ProtoError("malformed")
    k = hpke_open_base(w.enc, me.x_sk, team_wrap_info(w.context), b"", w.ct)
    if len(k) != 32:
        raise ProtoError("decryption_failed")
    return k


def snippet_content(title: str, body: str) -> bytes:
    t, b = title.encode("utf-8"), body.encode("utf-8")
    return u32(len(t)) + t + u32(len(b)) + b


def read_snippet_content(c: bytes):
    """§18.3 reading step 5's decoding: two length-prefixed UTF-8 fields filling c exactly."""
    try:
        n = be(c[0:4])
        title = c[4:4 + n]
        m = be(c[4 + n:8 + n])
        body = c[8 + n:8 + n + m]
        if len(title) != n or len(body) != m or 8 + n + m != len(c):
            raise ProtoError("malformed")
        title, body = title.decode("utf-8"), body.decode("utf-8")
    except (UnicodeDecodeError, IndexError):
        raise ProtoError("malformed")
    if not (1 <= len(title) <= 200 and 1 <= len(body) <= 8192):  # Python str: code points
        raise ProtoError("malformed")
    return title, body


def read_snippet(raw: bytes, expected_id: bytes, d: Directory, keys):
    """Decoding and §18.3 reading steps 1-5; keys: epoch -> team key from verified wraps."""
    if len(raw) < 85 + 4 + 64 or raw[0] != 1:
        raise ProtoError("malformed")
    n = be(raw[85:89])
    if len(raw) != 85 + 4 + n + 64 or n < 16 or not is_bucket(n - 16) or n - 16 > 65536:
        raise ProtoError("malformed")
    header, ct, sig = raw[:85], raw[89:89 + n], raw[89 + n:]
    sid, epoch, signer, salt = header[1:17], be(header[17:21]), header[21:53], header[53:85]
    if sid != expected_id:
        raise ProtoError("snippet.wrong_id")
    if signer not in d.admins_at(d.head_seq):
        raise ProtoError("snippet.not_a_member")
    if not ed_verify_strict(d.keys[signer][:32],
                            lp("sealdesk/v1/snippet-sig") + header + u32(n) + ct, sig):
        raise ProtoError("snippet.bad_signature")
    if epoch not in keys:
        raise ProtoError("snippet.bad_epoch")
    okm = HKDF(salt, keys[epoch], "sealdesk/v1/snippet-key", 44)
    try:
        padded = ChaCha20Poly1305(okm[:32]).decrypt(okm[32:], ct, header)
    except InvalidTag:
        raise ProtoError("decryption_failed")
    return read_snippet_content(unpad(padded))


def run_team():
    v = load("team.json")
    d = Directory.verify([hx(e["encoded"]) for e in load("directory.json")["entries"]])
    keys = {}
    writable = None
    for i, w in enumerate(v["team_wraps"]):
        with Group("team/wrap %d (epoch %d)" % (i, w["epoch"])) as g:
            wrapper = BY_KID[hx(w["wrapper_key_id"])]
            recipient = BY_KID[hx(w["recipient_key_id"])]
            ctx = (b"\x01" + u32(w["epoch"]) + u64(w["opened_at"]) + u64(w["dir_seq"])
                   + recipient.key_id + wrapper.key_id)
            g.check("hpke_info", team_wrap_info(ctx), w["hpke_info"])
            enc, ct = hpke_seal_base(recipient.x_pk, team_wrap_info(ctx), b"",
                                     hx(w["team_key"]), hx(w["ikm_e"]))
            g.check("enc", enc, w["enc"])
            g.check("ciphertext", ct, w["ciphertext"])
            signed = lp("sealdesk/v1/team-wrap-sig") + ctx + enc + ct
            g.check("signed_bytes", signed, w["signed_bytes"])
            sig = ed_sign(wrapper.ed_sk, signed)
            g.check("signature", sig, w["signature"])
            g.check("encoded", ctx + enc + ct + sig, w["encoded"])
            tw = TeamWrap(hx(w["encoded"]))
            g.no_error("verifies (§18.2)", lambda: verify_team_wrap(tw, d))
            k = open_team_wrap(tw, recipient)
            g.check("opened by the recipient", k, w["team_key"])
            keys[tw.epoch] = k
            # §18.2 Writing: writable iff no removal in (opened_at, head]
            if not d.removal_in(tw.opened_at, d.head_seq):
                writable = tw.epoch if writable is None else max(writable, tw.epoch)
    with Group("team/writable epoch (§18.2, Writing)") as g:
        g.check("writable_epoch", writable, v["writable_epoch"])
    for i, s in enumerate(v["snippets"]):
        with Group("team/snippet %d" % i) as g:
            signer = BY_KID[hx(s["signer_key_id"])]
            content = snippet_content(s["title"], s["body"])
            g.check("content", content, s["content"])
            padded = pad(content)
            g.check("padded", padded, s["padded"])
            header = (b"\x01" + hx(s["snippet_id"]) + u32(s["epoch"]) + signer.key_id
                      + hx(s["salt"]))
            g.check("header", header, s["header"])
            okm = HKDF(hx(s["salt"]), hx(s["team_key"]), "sealdesk/v1/snippet-key", 44)
            g.check("snippet_key", okm[:32], s["snippet_key"])
            g.check("snippet_nonce", okm[32:], s["snippet_nonce"])
            g.check("team_key is the epoch's", hx(s["team_key"]), keys.get(s["epoch"]))
            ct = ChaCha20Poly1305(okm[:32]).encrypt(okm[32:], padded, header)
            g.check("ciphertext", ct, s["ciphertext"])
            signed = lp("sealdesk/v1/snippet-sig") + header + u32(len(ct)) + ct
            g.check("signed_bytes", signed, s["signed_bytes"])
            sig = ed_sign(signer.ed_sk, signed)
            g.check("signature", sig, s["signature"])
            g.check("encoded", header + u32(len(ct)) + ct + sig, s["encoded"])
            g.check("read back (§18.3)",
                    g.no_error("reads", lambda: read_snippet(hx(s["encoded"]),
                                                            hx(s["snippet_id"]), d, keys)),
                    (s["title"], s["body"]))
    for c in v["snippet_refusals"]:
        with Group("team/refused snippet: " + c["name"]) as g:
            g.rejects(c["name"], lambda: read_snippet(hx(c["encoded"]), hx(c["snippet_id"]), d,
                                                     keys), c["expected_error"])
    for c in v["team_wrap_refusals"]:
        with Group("team/refused wrap: " + c["name"]) as g:
            g.rejects(c["name"], lambda: verify_team_wrap(TeamWrap(hx(c["encoded"])), d),
                      c["expected_error"])
    with Group("spec/§18 rules without vectors") as g:
        a, c_ = IDS["admin-a"], IDS["admin-c"]
        # relabelled epoch with the right key and a fresh signature: the AAD still fails
        s = v["snippets"][1]
        raw = hx(s["encoded"])
        n = be(raw[85:89])
        header = raw[:17] + u32(0) + raw[21:85]
        ct = raw[89:89 + n]
        sig = ed_sign(c_.ed_sk, lp("sealdesk/v1/snippet-sig") + header + u32(n) + ct)
        g.rejects("re-signed epoch relabelling", lambda: read_snippet(
            header + u32(n) + ct + sig, hx(s["snippet_id"]), d, {0: keys[1]}),
            "decryption_failed")
        g.rejects("unknown epoch", lambda: read_snippet(raw, hx(s["snippet_id"]), d, {0: keys[0]}),
                  "snippet.bad_epoch")
        g.rejects("trailing byte", lambda: read_snippet(raw + b"\x00", hx(s["snippet_id"]), d,
                                                        keys), "malformed")
        g.rejects("wrap past the head", lambda: verify_team_wrap(TeamWrap(
            hx(v["team_wraps"][3]["encoded"])[:13] + u64(4) + hx(v["team_wraps"][3]["encoded"])[21:]),
            d), "team_key.directory_out_of_range")
        g.rejects("wrap for someone else", lambda: open_team_wrap(
            TeamWrap(hx(v["team_wraps"][3]["encoded"])), c_), "malformed")
        g.rejects("short team wrap", lambda: TeamWrap(bytes(228)), "malformed")
        _ = a


def run_coverage():
    for name in VECTOR_FILES:
        with Group("coverage/%s: every field used" % name) as g:
            raw = LOADED[name][0] if name in LOADED else None
            g.true("file was loaded", raw is not None)
            if raw is None:
                continue
            unused = [p for p in leaf_paths(raw, (name,))
                      if p not in ACCESSED and "description" not in p]
            g.check("unused fields", ["/".join(map(str, p[1:])) for p in unused], [])
    with Group("coverage/vector files") as g:
        present = sorted(f for f in os.listdir(VEC) if f.endswith(".json"))
        g.check("vector files present are exactly the ones checked", present,
                sorted(VECTOR_FILES))


def main():
    global VEC
    if len(sys.argv) > 2:
        print("usage: %s [VECTORS_DIR]" % sys.argv[0], file=sys.stderr)
        return 2
    if len(sys.argv) == 2:
        VEC = os.path.abspath(sys.argv[1])
    chunks = []

    def attachment():
        chunks.extend(run_attachment())

    steps = [("identities", run_identities), ("anonymous", run_anonymous),
             ("account", run_account), ("wraps", run_wraps),
             ("messages", run_messages),
             ("directory", run_directory), ("transcript", run_transcript),
             ("attachment", attachment), ("negative", lambda: run_negative(chunks)),
             ("spec", lambda: run_spec_checks(chunks)), ("team", run_team),
             ("coverage", run_coverage)]
    for name, step in steps:
        # an exception outside a group (e.g. a missing identity) fails the whole step
        with Group(name + " (outside any group)", quiet=True):
            step()
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
