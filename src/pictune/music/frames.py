"""The message format between pictune and its warm render worker, over a pair of pipes.

A message is a 4-byte big-endian length, a JSON header of that length, then the blobs the
header's `sizes` lists, back to back. Both sides check sizes before reading: the worker's
side blocks (it has nothing else to do), pictune's side reads against a deadline and refuses
a reply larger than it allows, so a hung or runaway worker cannot hold it.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from collections.abc import Sequence
from typing import Any, BinaryIO

MAX_HEADER_BYTES = 1 << 20
_LENGTH = struct.Struct(">I")
_CHUNK = 1 << 20


class FrameError(Exception):
    """A message that breaks the format (bad length, unreadable header)."""


class PeerGoneError(Exception):
    """The other end closed its pipe (it exited, or was killed)."""


class DeadlineError(Exception):
    """The other end did not answer in time."""


class ReplyTooLargeError(Exception):
    """The reply announces more bytes than the reader allows."""


def encode(header: dict[str, Any], blobs: Sequence[bytes] = ()) -> bytes:
    """One message: `header` (JSON) with the blobs' sizes added, then the blobs."""
    text = json.dumps({**header, "sizes": [len(blob) for blob in blobs]}).encode("utf-8")
    if len(text) > MAX_HEADER_BYTES:
        raise FrameError(f"a header of {len(text):,} bytes is over {MAX_HEADER_BYTES:,}")
    return b"".join([_LENGTH.pack(len(text)), text, *blobs])


def _header(raw: bytes) -> tuple[dict[str, Any], list[int]]:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FrameError("the header is not JSON") from exc
    sizes = header.get("sizes") if isinstance(header, dict) else None
    if not isinstance(sizes, list) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise FrameError("the header lists no valid blob sizes")
    return header, sizes


def _length(raw: bytes) -> int:
    (length,) = _LENGTH.unpack(raw)
    if length > MAX_HEADER_BYTES:
        raise FrameError(f"a header of {length:,} bytes is over {MAX_HEADER_BYTES:,}")
    return int(length)


# The worker's side: blocking reads and writes on its protocol streams.


def read_blocking(stream: BinaryIO) -> tuple[dict[str, Any], list[bytes]] | None:
    """The next message, or None when pictune closed the pipe between messages."""
    first = stream.read(_LENGTH.size)  # a buffered stream: all four bytes, or the end
    if not first:
        return None
    if len(first) != _LENGTH.size:
        raise PeerGoneError("the message ended early")
    header, sizes = _header(_exactly(stream, _length(first)))
    return header, [_exactly(stream, size) for size in sizes]


def _exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size) if size else b""
    if len(data) != size:
        raise PeerGoneError("the message ended early")
    return data


def write_blocking(stream: BinaryIO, header: dict[str, Any], blobs: Sequence[bytes] = ()) -> None:
    stream.write(encode(header, blobs))
    stream.flush()


# pictune's side: non-blocking descriptors, a deadline on every wait.


def send(fd: int, message: bytes, deadline: float) -> None:
    """Write all of `message` to non-blocking `fd` before `deadline` (time.monotonic)."""
    view = memoryview(message)
    while view:
        _wait(fd, deadline, writing=True)
        try:
            written = os.write(fd, view[:_CHUNK])
        except BlockingIOError:
            continue
        except BrokenPipeError as exc:
            raise PeerGoneError("the worker's pipe is closed") from exc
        view = view[written:]


def receive(fd: int, deadline: float, max_blob_bytes: int) -> tuple[dict[str, Any], list[bytes]]:
    """One message from non-blocking `fd` before `deadline`; its blobs may total
    `max_blob_bytes` at most (ReplyTooLargeError is raised before any of them is read)."""
    length = _length(_receive_exactly(fd, _LENGTH.size, deadline))
    header, sizes = _header(_receive_exactly(fd, length, deadline))
    if sum(sizes) > max_blob_bytes:
        raise ReplyTooLargeError(f"{sum(sizes):,} bytes")
    return header, [_receive_exactly(fd, size, deadline) for size in sizes]


def _receive_exactly(fd: int, size: int, deadline: float) -> bytes:
    data = bytearray()
    while len(data) < size:
        _wait(fd, deadline, writing=False)
        try:
            chunk = os.read(fd, min(size - len(data), _CHUNK))
        except BlockingIOError:
            continue
        if not chunk:
            raise PeerGoneError("the worker's pipe closed")
        data += chunk
    return bytes(data)


def _wait(fd: int, deadline: float, writing: bool) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineError
    readable, writable, _ = select.select(
        [] if writing else [fd], [fd] if writing else [], [], left
    )
    if not readable and not writable:
        raise DeadlineError
