"""Pseudonymous keys: keyed HMAC-SHA256 as a vectorized DuckDB SQL expression, over a chain of keys.

HMAC(K, m) = SHA256((K xor opad) || SHA256((K xor ipad) || m)) (RFC 2104); DuckDB's ``sha256`` on BLOBs makes it
one expression over a whole column, identical to Python's ``hmac.new(key, m, sha256)``. The domain (``person``,
``household``, ``address``) is prefixed to the message so that equal raw values in different domains never share
a key.

One step of a key ``K`` over a value ``m`` in a domain ``d`` is

    T(K, d, m) = the first 32 hex characters (128 bits) of HMAC-SHA256(K, UTF-8 of d ":" m)

A key is a chain ``[K1, K2, ..., Kn]`` (oldest first; ``unsilo key rotate`` appends one), and the pseudonymous key
of a raw ID is the steps applied in order, each over the previous step's 32 hex characters, in the same domain:

    pseudonym(id) = T(Kn, d, ... T(K2, d, T(K1, d, id)) ...)

A chain of one key is the single HMAC keys were always computed with, so existing keys stay valid. Rotation needs no
raw ID: it applies ``T(K(n+1), d, .)`` to the stored keys (:func:`hmac_sql` with the new key alone over the column).
A leaked old chain alone no longer recomputes today's keys.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

BLOCK = 64
KEY_CHARS = 32  # hex characters kept: 128 bits


def chain(key: bytes | Sequence[bytes]) -> tuple[bytes, ...]:
    """A key as a chain: one key (bytes) is a chain of one."""
    keys = (key,) if isinstance(key, (bytes, bytearray)) else tuple(key)
    if not keys or not all(keys):
        raise ValueError("a pseudonym key chain needs at least one non-empty key")
    return tuple(bytes(k) for k in keys)


def _pads(key: bytes) -> tuple[str, str]:
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    k = key.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in k).hex(), bytes(b ^ 0x5C for b in k).hex()


def _step_sql(key: bytes, domain: str, expr: str) -> str:
    ipad, opad = _pads(key)
    inner = f"unhex(sha256(unhex('{ipad}') || encode('{domain}:' || {expr})))"
    return f"left(sha256(unhex('{opad}') || {inner}), {KEY_CHARS})"


def hmac_sql(key: bytes | Sequence[bytes], domain: str, expr: str) -> str:
    """SQL for the pseudonymous key of ``expr`` (VARCHAR) in ``domain`` under a key or chain; NULL stays NULL."""
    value = expr
    for k in chain(key):
        value = _step_sql(k, domain, value)  # NULL propagates through every step: one check, outside
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE {value} END"


def pseudonym(key: bytes | Sequence[bytes], domain: str, value: str) -> str:
    """The same key computed in Python, for tests and for a steward looking up one record."""
    for k in chain(key):
        value = hmac.new(k, f"{domain}:{value}".encode(), hashlib.sha256).hexdigest()[:KEY_CHARS]
    return value


def fingerprint(key: bytes | Sequence[bytes]) -> str:
    """A short public tag of a chain (its length and an HMAC under its newest key), to tell chains apart without
    revealing them: the warehouse records the tag of the chain its keys were derived with."""
    keys = chain(key)
    tag = hmac.new(keys[-1], f"unsilo-key-chain:{len(keys)}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"{len(keys)}:{tag}"
