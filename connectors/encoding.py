"""Which text encoding a file is in: one decision, made by :func:`file_encoding`, that every CSV reader shares
(``csv_drop``, ``gtfs`` and ``unsilo inspect`` all read through :func:`connectors.csv_read.csv_read`).

In order, the first rule that applies decides:

1. a declared ``encoding:`` (any Python codec name) wins; a UTF-8 or UTF-16 byte order mark still picks the
   reading of a mislabelled file (``utf-8`` declared, ``utf-8-sig`` read);
2. a byte order mark (UTF-8, UTF-16 LE/BE, UTF-32);
3. UTF-16 without a byte order mark: NUL bytes at every other position (CSV text always holds ASCII delimiters,
   digits and line breaks, whose UTF-16 form has one NUL byte each) that decode strictly;
4. strict UTF-8; or UTF-8 with a few undecodable bytes, when its valid multi-byte characters outnumber them 20 to 1
   (a UTF-8 export with one stray byte is still UTF-8, and that row goes to the ``undecodable-bytes`` rule);
5. charset-normalizer among :data:`CANDIDATES` only (``cp_isolation``: GB18030, Big5, Shift-JIS, EUC-KR, then the
   single-byte code pages as a last resort), which weighs "mess" (unlikely character sequences) and language
   coherence over the candidates that decode the sample *without error*;
6. when none decodes without error (a GB18030 drop with one stray ``0xFF`` byte, as departments send them), each
   candidate decodes with replacement and is kept if at most 1 % of its non-ASCII characters fail; the least mess
   (charset-normalizer's ``mess_ratio``) wins;
7. cp1252, which decodes every byte but five, as the last resort.

A multi-byte guess needs :data:`EVIDENCE` non-ASCII bytes (two Western accents also pair up as one CJK character).
The judgement is made on whole lines (a sample cut inside a character fails every multi-byte codec). When the first
:data:`SAMPLE` bytes are ambiguous (ASCII only or too few non-ASCII bytes: a GB18030 file whose first MiB is ASCII
IDs and dates), the rest of the file is streamed in :data:`CHUNK` pieces and the lines holding non-ASCII bytes are
judged instead, until :data:`SAMPLE` bytes of them are found or the file ends: a file read as UTF-8 for lack of
evidence has been confirmed ASCII to its last byte.

charset-normalizer is kept for step 5 because it is already a dependency and judges text, not bytes; it is
restricted with ``cp_isolation`` because, free, it prefers rare code pages (cp932, mac_latin2, cp1125) on short
files. Its ``explain=True`` logs each candidate's verdict: ``UNSILO_ENCODING_EXPLAIN=1`` turns that on.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

SAMPLE = 1 << 20
CHUNK = 1 << 20
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# what departments really send; an encoding outside this list is declared in the source YAML
CANDIDATES = ("gb18030", "big5", "shift_jis", "euc_kr", "cp1252", "cp1250", "cp1251", "iso8859_7")
MULTIBYTE = {"gb18030", "big5", "shift_jis", "cp932", "euc_kr", "cp949", "cp950"}
EVIDENCE = 16  # non-ASCII bytes a multi-byte guess needs
UTF8_MAJORITY = 20  # valid multi-byte UTF-8 characters per undecodable byte for "UTF-8 with a few bad bytes"
TOLERATED = 0.01  # share of non-ASCII characters a candidate may fail on in step 6
UTF16_NULS = 0.2  # share of one byte position that must be NUL for UTF-16 without a byte order mark
JUDGED = 1 << 16  # characters step 6 measures mess on (charset-normalizer's mess_ratio is pure Python)
# charset-normalizer names a subset; read with the superset so that rarer characters decode too
SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "ascii": "utf-8", "latin_1": "cp1252", "iso8859_1": "cp1252"}
HIGH = bytes(range(0x80, 0x100))
NON_ASCII_LINE = re.compile(rb"[^\n]*[\x80-\xff][^\n]*\n?")
DECLARED, BOM, UTF16 = "declared", "byte order mark", "UTF-16 without byte order mark"


class EncodingError(ValueError):
    """A declared encoding Python does not know."""


@dataclass(frozen=True)
class Decision:
    """The codec a file is read with and the rule that chose it (``unsilo inspect`` shows both)."""

    encoding: str
    how: str
    undecodable: int = 0  # sequences of the judged sample the codec could not decode (their rows are quarantined)


def high_bytes(data: bytes) -> int:
    """How many bytes of ``data`` are not ASCII (counted in C)."""
    return len(data) - len(data.translate(None, HIGH))


def non_ascii(text: str) -> int:
    """How many characters of ``text`` are not ASCII (counted in C)."""
    return len(text) - len(text.encode("ascii", errors="ignore"))


def encoding(sample: bytes, declared: str | None = "auto") -> str:
    """The codec to read a file whose first bytes are ``sample`` with (a declared name is checked: raises
    :class:`EncodingError` when Python does not know it). Files are decided by :func:`file_encoding`."""
    return decide(sample, declared, complete=len(sample) < SAMPLE).encoding


def file_encoding(
    open_binary: Callable[[], BinaryIO], declared: str | None = "auto", head: bytes | None = None
) -> Decision:
    """The one encoding decision for a file (see the module's rules); ``head``: its first :data:`SAMPLE` bytes
    when the caller has read them already. Reads past the head only when the head is ambiguous."""
    if head is None:
        with open_binary() as f:
            head = f.read(SAMPLE)
    complete = len(head) < SAMPLE
    first = decide(head, declared, complete)
    if complete or first.how in (DECLARED, BOM, UTF16) or high_bytes(head) >= EVIDENCE:
        return first
    evidence = _non_ascii_lines(open_binary)
    if not evidence:
        return Decision("utf-8", "ASCII only (the whole file read)")
    found = decide(evidence, None, complete=len(evidence) < SAMPLE)
    return Decision(found.encoding, f"{found.how}, on the lines holding non-ASCII bytes (the first MiB is ASCII or "
                                    f"nearly)", found.undecodable)


def decide(sample: bytes, declared: str | None = "auto", complete: bool = True) -> Decision:
    """The decision on a sample alone (``complete``: the sample is the whole file)."""
    if declared and declared.lower() != "auto":
        return Decision(_declared(sample, declared), DECLARED)
    for bom, name in BOMS:
        if sample.startswith(bom):
            return Decision(name, BOM)
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return Decision(utf16, UTF16)
    if not complete:
        sample = sample[: sample.rfind(b"\n") + 1] or sample  # whole lines: 0x0A is never inside a character here
    if sample.isascii():
        return Decision("utf-8", "ASCII only")
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(sample, final=complete)
        return Decision("utf-8", "valid UTF-8")
    except UnicodeDecodeError:
        pass
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = non_ascii(text) - bad
    if good >= UTF8_MAJORITY * bad:
        return Decision("utf-8", "UTF-8 with a few undecodable bytes", bad)
    return _detected(sample)


def _declared(sample: bytes, declared: str) -> str:
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        raise EncodingError(f"unknown encoding {declared!r}") from None
    if name == "utf-8" and sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if name == "utf-8" and sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"  # a UTF-16 byte order mark cannot start UTF-8 text: the writer got it wrong, read it
    if name in ("utf-16", "utf-16-le", "utf-16-be") and sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    if name == "utf-16":
        return _utf16_without_bom(sample) or name  # without a mark Python would assume the machine's byte order
    return name


def _utf16_without_bom(sample: bytes) -> str | None:
    s = sample[: min(len(sample), JUDGED) // 2 * 2]
    half = len(s) // 2
    if half < 2:
        return None
    even, odd = s[0::2].count(0), s[1::2].count(0)
    if odd >= UTF16_NULS * half and even * 10 <= odd:
        name = "utf-16-le"
    elif even >= UTF16_NULS * half and odd * 10 <= even:
        name = "utf-16-be"
    else:
        return None
    try:
        codecs.getincrementaldecoder(name)(errors="strict").decode(s, final=False)
    except UnicodeDecodeError:
        return None
    return name


def _detected(sample: bytes) -> Decision:
    from charset_normalizer import from_bytes

    explain = os.environ.get("UNSILO_ENCODING_EXPLAIN", "") not in ("", "0")
    matches = from_bytes(sample, cp_isolation=list(CANDIDATES), explain=explain)
    best = matches.best()
    if best is None:
        return _tolerant(sample)
    # a tie (cp1250 and cp1252 both read 'Authority \xec' as Polish, mess 0) goes to the more common code page
    tied = [m.encoding for m in matches if (round(m.chaos, 3), round(m.coherence, 3)) ==
            (round(best.chaos, 3), round(best.coherence, 3)) and m.encoding in CANDIDATES]
    name = min(tied, key=CANDIDATES.index) if tied else best.encoding
    return Decision(_plausible(sample, SUPERSETS.get(name, name)), "detected")


def _tolerant(sample: bytes) -> Decision:
    """Step 6: no candidate decodes every byte; keep those that fail on at most 1 % of their non-ASCII characters
    and take the one whose text has the least mess."""
    from charset_normalizer.md import mess_ratio

    judged = sample[:JUDGED * 2]
    judged = judged[: judged.rfind(b"\n") + 1] or judged
    scored = []
    for rank, name in enumerate(CANDIDATES):
        text = judged.decode(name, errors="replace")
        bad = text.count("\ufffd")
        good = non_ascii(text) - bad
        if bad > TOLERATED * good or (name in MULTIBYTE and high_bytes(judged) < EVIDENCE):
            continue
        scored.append((mess_ratio(text.replace("\ufffd", ""), 1.0), rank, name, bad))
    if not scored:
        return Decision("cp1252", "no candidate fits: cp1252 decodes every byte but five", 0)
    _, _, name, bad = min(scored)
    return Decision(_plausible(judged, name), f"detected despite {bad} undecodable byte(s)", bad)


def _plausible(sample: bytes, name: str) -> str:
    """A multi-byte guess on too little evidence becomes cp1252; a single-byte code page that reads the sample
    exactly as cp1252 does is named cp1252 (charset-normalizer says cp1250 for an ``é``)."""
    if name in MULTIBYTE and high_bytes(sample) < EVIDENCE:
        return "cp1252"  # a handful of high bytes ('Ann\xe9e') also pair up as CJK characters: too little to tell
    if name not in MULTIBYTE and name != "cp1252":
        try:
            if sample.decode(name) == sample.decode("cp1252"):
                return "cp1252"
        except UnicodeDecodeError:
            pass
    return name


def _non_ascii_lines(open_binary: Callable[[], BinaryIO]) -> bytes:
    """The lines of the file that hold non-ASCII bytes, up to :data:`SAMPLE` bytes of them, read in chunks."""
    found = bytearray()
    carry = b""
    with open_binary() as f:
        while len(found) < SAMPLE:
            chunk = f.read(CHUNK)
            data = carry + chunk
            cut = len(data) if not chunk else data.rfind(b"\n") + 1
            whole, carry = data[:cut], data[cut:]
            if not whole.isascii():
                found += b"".join(NON_ASCII_LINE.findall(whole))
            if not chunk:
                break
            if len(carry) > SAMPLE:  # one line longer than the sample
                if not carry.isascii():
                    found += carry
                carry = b""  # ASCII only: nothing to judge in it, and after it a character starts
    return bytes(found[:SAMPLE])
