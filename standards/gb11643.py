"""The resident identity number check (GB 11643) as a vectorized DuckDB SQL expression."""

from __future__ import annotations

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def normalized_sql(expr: str) -> str:
    """Trim and upper-case (lower-case ``x`` is a common typing variant of ``X``)."""
    return f"upper(trim(CAST({expr} AS VARCHAR)))"


def valid_sql(expr: str) -> str:
    """SQL boolean: ``expr`` (already normalized) is an 18-character GB 11643 number with a valid check character.

    NULL input gives NULL (a missing ID is the ``required-missing`` rule's business, not this one's).
    """
    total = " + ".join(f"CAST(substr({expr}, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(WEIGHTS))
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL "
        f"WHEN NOT regexp_full_match({expr}, '[0-9]{{17}}[0-9X]') THEN false "
        f"WHEN try_strptime(substr({expr}, 7, 8), '%Y%m%d') IS NULL THEN false "
        f"ELSE substr('{CHECK_CHARS}', (({total}) % 11) + 1, 1) = substr({expr}, 18, 1) END"
    )
