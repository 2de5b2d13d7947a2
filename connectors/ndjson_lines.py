"""The physical lines of a text file in Arrow batches, split by Arrow over large byte blocks (no loop per line).

Same lines as Python's text mode (``open(path, encoding="utf-8", errors="replace")``, universal newlines) with the
line ending removed: ``\\n``, ``\\r\\n`` and a lone ``\\r`` each end a line; a last line without an ending is a
line; an empty line is an empty string; bytes that are not UTF-8 become U+FFFD exactly as Python's ``"replace"``
error handler does (one per maximal invalid subsequence). The BOM is not removed (nor did text mode remove it).

Memory holds one block (``block_bytes``, or one longer line) and one batch: a batch has ``batch_rows`` lines, fewer
when it ends the file or when its text passes ``batch_bytes``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

BLOCK_BYTES = 8 << 20
BATCH_BYTES = 512 << 20
_MAX_STRING_BYTES = (1 << 31) - 1  # pa.string() offsets are int32


def ndjson_lines(path: Path, batch_rows: int, block_bytes: int = BLOCK_BYTES,
                 batch_bytes: int = BATCH_BYTES) -> Iterator[pa.ChunkedArray]:
    """The lines of ``path`` (see the module docstring), ``batch_rows`` at a time; all batches together hold
    every line once, in order. A batch is a chunked array of slices of the blocks it spans (never copied)."""
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be at least 1, not {batch_rows}")
    pending: deque[pa.StringArray] = deque()
    count = 0
    with open(path, "rb") as f:
        for data, start, stop in _blocks(f, block_bytes):
            lines = split_lines(data, start, stop)
            if not len(lines):
                continue
            pending.append(lines)
            count += len(lines)
            while count >= batch_rows:
                yield pa.chunked_array(_take(pending, batch_rows), pa.string())
                count -= batch_rows
            text = sum(piece.nbytes for piece in pending)
            if count and text >= batch_bytes:  # long lines: the batch is bounded by its bytes, not its rows
                yield pa.chunked_array(_take(pending, count), pa.string())
                count = 0
    if count:
        yield pa.chunked_array(_take(pending, count), pa.string())


def _take(pending: deque[pa.StringArray], n: int) -> list[pa.StringArray]:
    """The first ``n`` lines of ``pending`` as slices, removed from it."""
    parts = []
    while n:
        head = pending[0]
        if len(head) <= n:
            parts.append(pending.popleft())
            n -= len(head)
        else:
            parts.append(head.slice(0, n))
            pending[0] = head.slice(n)
            n = 0
    return parts


def _blocks(f: BinaryIO, block_bytes: int) -> Iterator[tuple[bytes, int, int]]:
    """The file as ``(data, start, stop)`` pieces of about ``block_bytes`` that each end with a line ending (the last
    piece may not). Pieces are slices of what was read, not copies, except the line that spans two reads.

    A ``\\r`` at the end of what was read stays for the next piece: only the next byte tells whether it is a lone
    ``\\r`` or the start of ``\\r\\n``. A line longer than a block makes its piece longer than a block."""
    pending: list[bytes] = []  # the start of a line that goes on in the next read
    while True:
        chunk = f.read(block_bytes)
        if not chunk:
            if pending:
                joined = b"".join(pending)
                yield joined, 0, len(joined)
            return
        first = 0
        if pending:
            first = _after_first_ending(chunk)
            if first == 0:  # no complete line ending yet: a long line goes on
                pending.append(chunk)
                continue
            joined = b"".join([*pending, memoryview(chunk)[:first]])
            yield joined, 0, len(joined)
        cut = _after_last_ending(chunk)
        if cut > first:
            yield chunk, first, cut
        pending = [chunk[max(cut, first):]] if max(cut, first) < len(chunk) else []


def _after_first_ending(chunk: bytes) -> int:
    """Index just past the first line ending in ``chunk`` that is known to be complete (0 when none is)."""
    lf = chunk.find(b"\n")
    cr = chunk.find(b"\r", 0, lf if lf >= 0 else len(chunk) - 1)  # a \r before the first \n, not the last byte
    if cr >= 0 and cr + 1 != lf:  # a lone \r
        return cr + 1
    return lf + 1


def _after_last_ending(chunk: bytes) -> int:
    """Index just past the last line ending in ``chunk`` that is known to be complete (0 when none is)."""
    lf = chunk.rfind(b"\n")
    cr = chunk.rfind(b"\r", lf + 1, len(chunk) - 1)  # a lone \r after the last \n, not the chunk's last byte
    return max(lf, cr) + 1


def split_lines(data: bytes, start: int = 0, stop: int | None = None) -> pa.StringArray:
    """The lines of ``data[start:stop]`` (which ends with a line ending unless it ends the file), endings removed.

    As text mode does, ``\\r\\n`` then a lone ``\\r`` become ``\\n``; then Arrow's ``split_pattern`` cuts the
    block, seen as one string without a copy, at every ``\\n``."""
    stop = len(data) if stop is None else stop
    if stop <= start:
        return pa.array([], pa.string())
    if stop - start > _MAX_STRING_BYTES:
        raise ValueError(f"a line of more than {_MAX_STRING_BYTES:,} bytes: more than one Arrow string can hold")
    block = pa.py_buffer(data).slice(start, stop - start)
    if not _is_utf8(block):
        data, start, stop = data[start:stop].decode("utf-8", "replace").encode("utf-8"), 0, None
        return split_lines(data, start, stop)
    if data.find(b"\r", start, stop) >= 0:
        data = data[start:stop].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        block, start, stop = pa.py_buffer(data), 0, len(data)
    lines = pc.list_flatten(pc.split_pattern(_as_string(block), "\n"))
    if data[stop - 1] == 10:  # the empty piece after the last \n is no line
        lines = lines.slice(0, len(lines) - 1)
    return lines.cast(pa.string())  # the type text mode's lines had; the data buffer is shared, not copied


def _as_string(block: pa.Buffer) -> pa.LargeStringArray:
    """``block`` as a one-element large string array over the same memory (no copy, not validated)."""
    return pa.Array.from_buffers(pa.large_string(), 1,
                                 [None, pa.array([0, block.size], pa.int64()).buffers()[1], block])


def _is_utf8(block: pa.Buffer) -> bool:
    """Whether ``block`` is valid UTF-8, by Arrow's (SIMD) validator: no copy, no Python string made."""
    try:
        _as_string(block).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True
