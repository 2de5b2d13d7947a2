"""GB 11643-1999 citizen identity numbers (公民身份号码).

Six digits of address code, eight of birth date ``YYYYMMDD``, a three-digit sequence (odd for men,
even for women) and a check character: ``S = sum(d_i * w_i)`` with weights
7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, then ``"10X98765432"[S mod 11]``.
"""

from __future__ import annotations

import datetime

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(first17: str) -> str:
    """The check character for the first 17 digits of an identity number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def is_valid(id_number: str) -> bool:
    """18 characters, 17 digits, a real birth date in positions 7-14 and the right check
    character (a lower-case ``x`` counts as ``X``)."""
    if not isinstance(id_number, str) or len(id_number) != 18:
        return False
    first17, last = id_number[:17], id_number[17].upper()
    if not first17.isascii() or not first17.isdigit():
        return False
    try:
        birth = datetime.date(int(first17[6:10]), int(first17[10:12]), int(first17[12:14]))
    except ValueError:
        return False
    if birth.year < 1800:
        return False
    return check_char(first17) == last


def compose(address_code: str, birth: datetime.date, sequence: int) -> str:
    """A valid identity number from its parts."""
    first17 = f"{address_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def corrupt(id_number: str, pick: int) -> str:
    """The same number with a wrong check character (``pick`` chooses which wrong one)."""
    right = check_char(id_number[:17])
    wrong = [char for char in CHECK_CHARS if char != right]
    return id_number[:17] + sorted(wrong)[pick % len(wrong)]
