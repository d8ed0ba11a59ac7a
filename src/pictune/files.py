"""Reading files whatever they are: never more than a limit, never forever.

`st_size` says nothing about a character device (`/dev/zero`), a FIFO or a `/proc` file: they
report 0 and then stream without end. Every file pictune reads on a user's behalf goes
through `read_limited`, which reads at most `limit + 1` bytes and refuses what is longer.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pictune.errors import InputError

_CHUNK = 1 << 20


def read_limited(path: str | Path, limit: int, what: str = "file") -> bytes:
    """The bytes of `path`, at most `limit`; InputError for a folder or anything longer.

    Everything is read in chunks, so memory stays under `limit + 1` bytes for devices and
    endless streams alike.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"no such {what}: {path}") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{path} is a folder, not {_article(what)} {what}")
    if stat.S_ISREG(mode) and path.stat().st_size > limit:
        raise InputError(f"{path} is larger than {_size(limit)}")
    # A FIFO waits for its writer here, as `cat` would (Ctrl-C ends the wait).
    descriptor = os.open(path, os.O_RDONLY)
    try:
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(descriptor, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(descriptor)
    if total > limit:
        raise InputError(f"{path} is larger than {_size(limit)}")
    return b"".join(chunks)


def _size(limit: int) -> str:
    return f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit:,} bytes"


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"
