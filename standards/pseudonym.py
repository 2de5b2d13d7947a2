"""Pseudonymous keys: keyed HMAC-SHA256 as a vectorized DuckDB SQL expression.

HMAC(K, m) = SHA256((K xor opad) || SHA256((K xor ipad) || m)) (RFC 2104); DuckDB's ``sha256`` on BLOBs makes it
one expression over a whole column, identical to Python's ``hmac.new(key, m, sha256)``. The domain (``person``,
``household``, ``address``) is prefixed to the message so that equal raw values in different domains never share
a key.
"""

from __future__ import annotations

import hashlib
import hmac

BLOCK = 64
KEY_CHARS = 32  # hex characters kept: 128 bits


def _pads(key: bytes) -> tuple[str, str]:
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    k = key.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in k).hex(), bytes(b ^ 0x5C for b in k).hex()


def hmac_sql(key: bytes, domain: str, expr: str) -> str:
    """SQL for the pseudonymous key of ``expr`` (VARCHAR) in ``domain``; NULL stays NULL."""
    ipad, opad = _pads(key)
    message = f"encode('{domain}:' || {expr})"
    inner = f"unhex(sha256(unhex('{ipad}') || {message}))"
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE left(sha256(unhex('{opad}') || {inner}), {KEY_CHARS}) END"


def pseudonym(key: bytes, domain: str, value: str) -> str:
    """The same key computed in Python, for tests and for a steward looking up one record."""
    return hmac.new(key, f"{domain}:{value}".encode(), hashlib.sha256).hexdigest()[:KEY_CHARS]
