"""Limits on what a zip may inflate to, for every zip a connector opens (GTFS feeds, zipped CSV drops).

A zip bomb is refused before it is inflated: the sizes its central directory declares are checked first (the whole
archive and each member against ``UNSILO_MAX_ARCHIVE_BYTES``, default 2 GiB; each member's ratio of uncompressed to
compressed size against ``UNSILO_MAX_ARCHIVE_RATIO``, default 100). Declared sizes can lie, so the bytes are counted
again while a member is read, and reading stops at the declared size or the limit, whichever is smaller. Every
refusal names the file, the member and the limit, never a value.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import BinaryIO

from connectors.base import SourceError

DEFAULT_MAX_BYTES = 2 << 30
DEFAULT_MAX_RATIO = 100
SMALL = 1 << 20  # a member under 1 MB inflated is never refused for its ratio (a short text compresses well too)


class ArchiveRefused(SourceError):
    """A zip past the size or ratio limit."""


def max_bytes() -> int:
    return int(os.environ.get("UNSILO_MAX_ARCHIVE_BYTES") or DEFAULT_MAX_BYTES)


def max_ratio() -> float:
    return float(os.environ.get("UNSILO_MAX_ARCHIVE_RATIO") or DEFAULT_MAX_RATIO)


def _refused(path: Path, what: str) -> ArchiveRefused:
    return ArchiveRefused(
        f"{path}: {what}; refused as a possible zip bomb. If the archive is genuine, raise the limit "
        f"(UNSILO_MAX_ARCHIVE_BYTES, UNSILO_MAX_ARCHIVE_RATIO) for this run"
    )


def check_archive(z: zipfile.ZipFile, path: Path) -> None:
    """Refuse ``z`` (opened from ``path``) when its central directory declares more than the limits."""
    limit, ratio = max_bytes(), max_ratio()
    total = 0
    for info in z.infolist():
        total += info.file_size
        if info.file_size > limit:
            raise _refused(path, f"member {info.filename} declares {info.file_size:,} bytes uncompressed, over the "
                                 f"limit of {limit:,}")
        if info.file_size > SMALL and info.file_size > ratio * max(info.compress_size, 1):
            raise _refused(path, f"member {info.filename} inflates {info.file_size / max(info.compress_size, 1):,.0f}"
                                 f" times ({info.compress_size:,} to {info.file_size:,} bytes), over the ratio limit "
                                 f"of {ratio:,.0f}")
    if total > limit:
        raise _refused(path, f"its members declare {total:,} bytes uncompressed, over the limit of {limit:,}")


class _Counted(io.RawIOBase):
    """A member's stream that counts what it inflates and stops past the declared size or the limit."""

    def __init__(self, inner: BinaryIO, path: Path, info: zipfile.ZipInfo, limit: int):
        self.inner, self.path, self.info, self.limit = inner, path, info, limit
        self.allowed = min(info.file_size, limit)
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(min(len(buffer), self.allowed - self.count + 1))
        self.count += len(data)
        if self.count > self.allowed:
            said = "the size it declares" if self.allowed == self.info.file_size else "the limit"
            raise _refused(self.path, f"member {self.info.filename} inflates past {said} ({self.allowed:,} bytes)")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()


def open_member(path: Path, member: str) -> BinaryIO:
    """A buffered binary stream of ``member`` of the zip at ``path``, checked (:func:`check_archive`) and counted.
    Closing it closes the zip."""
    z = zipfile.ZipFile(path)
    try:
        check_archive(z, path)
        info = z.getinfo(member)
        raw = _Counted(z.open(info), path, info, max_bytes())
    except BaseException:
        z.close()
        raise
    return _MemberStream(raw, z)


class _MemberStream(io.BufferedReader):
    def __init__(self, raw: _Counted, z: zipfile.ZipFile):
        super().__init__(raw, 1 << 20)
        self.zip = z

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.zip.close()


def read_member(z: zipfile.ZipFile, path: Path, member: str) -> bytes:
    """All bytes of ``member`` of ``z`` (already checked), counted while read."""
    info = z.getinfo(member)
    with _Counted(z.open(info), path, info, max_bytes()) as raw:
        return io.BufferedReader(raw, 1 << 20).read()
