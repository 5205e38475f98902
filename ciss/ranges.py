"""Serving part of a stored file: HTTP byte ranges (RFC 9110 §14).

A browser plays a body-camera video or an interview recording by asking for pieces of it
(``Range: bytes=1048576-``) so that the officer can jump to minute twelve without waiting
for the whole file. Only a single range is served; a request for several ranges is
answered with the whole file, which the RFC allows.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

CHUNK = 64 * 1024
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class Readable(Protocol):
    """An open stored file: a Django ``File`` or a plain binary file."""

    def seek(self, offset: int) -> object: ...

    def read(self, size: int) -> bytes: ...

    def close(self) -> object: ...


class RangeNotSatisfiable(ValueError):
    """The range asked for lies wholly outside the file."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str, size: int) -> ByteRange | None:
    """The range a ``Range`` header asks for in a file of ``size`` bytes, or None when the
    whole file should be sent (no header, a header this server does not read, several
    ranges). Raises ``RangeNotSatisfiable`` for a range starting past the end."""
    match = _RANGE.match(header or "")
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiable(header)
        return ByteRange(max(size - suffix, 0), size - 1) if size else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size:
        raise RangeNotSatisfiable(header)
    if end < start:
        return None  # syntactically invalid: ignore the header
    return ByteRange(start, end)


def read_range(handle: Readable, byte_range: ByteRange) -> Iterator[bytes]:
    """The bytes of the range, a chunk at a time; closes the file when done."""
    try:
        handle.seek(byte_range.start)
        left = byte_range.length
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()
