"""What a dropped file is compressed with, told by its first bytes (never its name), and a bounded reading of it.

gzip, bzip2 and xz are decompressed as a stream (Python's ``gzip``, ``bz2`` and ``lzma``, one chunk at a time, so
memory stays bounded whatever the file's size); a zip's one CSV member is read the same way. zstd, 7z and rar are
named, not guessed at: the message says which file and what it is. A stream that grows past
``UNSILO_MAX_DECOMPRESSED`` bytes (default 10 GB) or, past 64 MiB, more than ``UNSILO_MAX_COMPRESSION_RATIO`` times
(default 100) its compressed size is refused, naming the file, before it can fill the disk or the memory.

:class:`Tail` keeps the last bytes a reading reached at end of file, for :func:`cut_off`: a file whose last line has no
line break and is shorter than the header, or ends inside a quoted value, was cut off in transfer.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

#: magic bytes -> the compression's name (zip is read with its members; the rest as one stream)
MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
)
STREAMS = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}
DEFAULT_MAX_DECOMPRESSED = 10 * 10**9
DEFAULT_MAX_RATIO = 100
RATIO_FROM = 64 << 20  # small files have odd ratios: the ratio limit applies from 64 MiB decompressed
CHUNK = 1 << 20
TAIL = 1 << 16


class CompressionError(RuntimeError):
    """A compressed file that cannot be read: an unsupported format, past the size limit, or damaged."""


def compression(path: Path) -> str | None:
    """The compression ``path`` is in, from its first bytes; None for a plain file."""
    with open(path, "rb") as f:
        head = f.read(8)
    return next((name for magic, name in MAGIC if head.startswith(magic)), None)


def limits() -> tuple[int, int]:
    """(most decompressed bytes, most decompressed/compressed ratio), from the environment."""
    return (int(os.environ.get("UNSILO_MAX_DECOMPRESSED", DEFAULT_MAX_DECOMPRESSED)),
            int(os.environ.get("UNSILO_MAX_COMPRESSION_RATIO", DEFAULT_MAX_RATIO)))


class Tail:
    """The last bytes (at most 64 KiB) of the latest reading of a file that reached its end."""

    def __init__(self) -> None:
        self.data: bytes | None = None


class _Bounded(io.RawIOBase):
    """``inner`` read in chunks, counted against the limits, its last bytes kept for :class:`Tail`."""

    def __init__(self, inner: BinaryIO, what: str, compressed_size: int | None, tail: Tail | None):
        self.inner, self.what, self.compressed_size, self.tail = inner, what, compressed_size, tail
        self.count = 0
        self.last = b""
        self.most, self.ratio = limits()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self.inner.read(min(len(buffer), CHUNK))
        except (EOFError, OSError, lzma.LZMAError, zipfile.BadZipFile) as exc:
            raise CompressionError(f"{self.what} is damaged or cut off ({type(exc).__name__}); ask the department "
                                   f"to deliver it again") from None
        n = len(data)
        buffer[:n] = data
        self.count += n
        if self.compressed_size is not None:
            if self.count > self.most or (self.count > RATIO_FROM and self.count > self.ratio * self.compressed_size):
                raise CompressionError(
                    f"{self.what} decompresses to more than {min(self.count, self.most)} bytes (limit "
                    f"UNSILO_MAX_DECOMPRESSED={self.most} bytes, UNSILO_MAX_COMPRESSION_RATIO={self.ratio} times its "
                    f"{self.compressed_size} bytes): refused; raise the limit if the file is genuine"
                )
        if n:
            self.last = (self.last + data)[-TAIL:]
        elif self.tail is not None:
            self.tail.data = self.last
        return n

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            super().close()


def opener(path: Path, source_id: str, member: str | None = None, tail: Tail | None = None
           ) -> Callable[[], BinaryIO]:
    """How to open the (decompressed) bytes of ``path``: a plain file, a gzip/bzip2/xz stream, or the one member of a
    zip (``member`` names it among several). Unsupported compressions raise :class:`CompressionError` naming the
    file and its format."""
    kind = compression(path)
    size = path.stat().st_size
    what = f"source {source_id}: {path}"
    if kind is None:
        return lambda: io.BufferedReader(_Bounded(path.open("rb"), what, None, tail), CHUNK)
    if kind in STREAMS:
        stream = STREAMS[kind]
        return lambda: io.BufferedReader(_Bounded(stream(path, "rb"), f"{what} ({kind})", size, tail), CHUNK)
    if kind == "zip":
        return _zip_opener(path, what, member, size, tail)
    raise CompressionError(
        f"{what} is a {kind}-compressed file, which the csv_drop connector does not read; ask the department for "
        f"plain CSV, gzip, bzip2, xz or zip, or decompress it into the folder under the name the source's 'pattern' "
        f"gives"
    )


def _zip_opener(path: Path, what: str, member: str | None, size: int, tail: Tail | None):
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
    except zipfile.BadZipFile:
        raise CompressionError(f"{what} starts as a zip file but is not one (damaged or cut off)") from None
    chosen = member or (names[0] if len(names) == 1 else None)
    if chosen not in names:
        raise CompressionError(
            f"{what} is a zip holding {', '.join(names) or 'nothing'}: name the CSV to read with 'member' in the "
            f"source YAML"
        )

    def open_member():
        z = zipfile.ZipFile(path)
        return io.BufferedReader(_Bounded(_Closing(z.open(chosen), z), f"{what} (zip member {chosen})", size, tail),
                                 CHUNK)

    return open_member


class _Closing:
    """A zip member that closes its zip file with it."""

    def __init__(self, member, archive: zipfile.ZipFile):
        self.member, self.archive = member, archive

    def read(self, n: int = -1) -> bytes:
        return self.member.read(n)

    def close(self) -> None:
        self.member.close()
        self.archive.close()


def cut_off(tail: bytes | None, encoding: str, delimiter: str, quotechar: str, width: int) -> str | None:
    """Why a file whose reading ended with ``tail`` looks cut off in transfer, or None: its last line has no line
    break and is narrower than the header's ``width`` fields, or ends inside a quoted value."""
    if not tail or not width:
        return None
    text = tail.decode(encoding, errors="replace")
    if text.endswith(("\n", "\r")):
        return None
    last = text.replace("\r", "\n").rsplit("\n", 1)[-1]
    try:
        fields = next(csv.reader([last], delimiter=delimiter or ",", quotechar=quotechar or '"', strict=True), [])
    except csv.Error:
        return "its last line ends inside a quoted value, with no line break"
    if len(fields) < width:
        return f"its last line has {len(fields)} of the header's {width} fields and no line break"
    return None
