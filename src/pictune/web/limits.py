"""Limits that must hold before the application sees a request, and under concurrency.

`BodyLimit` refuses a request whose `Content-Length` is over the limit before reading a byte,
and stops reading a body (chunked or lying about its length) the moment it passes the limit:
FastAPI's form parsing would otherwise spool a 1 GB upload to disk before the route could
answer 413. A client that sends its body slower than one chunk per `read_timeout_s` gets 408;
once the body is complete no timeout applies, so a response may stream for as long as the
client reads it.

`Admission` makes "count the queue, then add a job" one atomic step, so 50 simultaneous
uploads against a queue of 16 admit exactly 16.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import json
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from functools import cache
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def problem_body(status: int, title: str, detail: str) -> bytes:
    """An RFC 9457 problem document."""
    return json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail}
    ).encode()


class BodyLimit:
    """ASGI middleware: 413 for request bodies over `limit` bytes, read no further than that."""

    def __init__(self, app: ASGIApp, limit: int, read_timeout_s: float = 30.0) -> None:
        self.app = app
        self.limit = limit
        self.read_timeout_s = read_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(send)  # the body is never read
            return
        received = 0
        refused = False
        started = False
        body_complete = False

        async def limited_receive() -> Message:
            nonlocal received, refused, body_complete
            if refused:
                return {"type": "http.disconnect"}
            if body_complete:
                # What follows the body is the client's disconnect, whenever it comes: a
                # response streams (a download to a slow reader, an event stream) while its
                # sender waits here, so no timeout applies any more.
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.read_timeout_s)
            except asyncio.TimeoutError:
                refused = True
                if not started:
                    await self._refuse(send, 408, "Request timeout", "the body came too slowly")
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}  # the application stops reading here
                body_complete = not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; what the application says after is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _refuse(
        self, send: Send, status: int = 413, title: str = "Too large", detail: str = ""
    ) -> None:
        detail = detail or f"the request is larger than {_mb(self.limit)}; uploads are limited"
        body = problem_body(status, title, detail)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _mb(limit: int) -> str:
    return f"{limit / (1 << 20):.0f} MB" if limit >= 1 << 20 else f"{limit:,} bytes"


class Admission:
    """Slots in the job queue: `reserve` counts and takes a slot in one step under a lock.

    A reservation lasts from the check to the moment the job row exists (`admitted`) or the
    upload is refused (`release`); jobs already in the store count through `active`.
    """

    def __init__(self, limit: int, active: Callable[[], int]) -> None:
        self.limit = limit
        self._active = active
        self._reserved = 0
        self._lock = threading.Lock()

    def reserve(self) -> bool:
        """Take a slot; False when the queue (jobs plus reservations) is full."""
        with self._lock:
            if self._active() + self._reserved >= self.limit:
                return False
            self._reserved += 1
            return True

    def admitted(self, create: Callable[[], Any]) -> Any:
        """Turn a reservation into a job: `create` adds the row while the lock is held."""
        with self._lock:
            try:
                return create()
            finally:
                self._reserved -= 1

    def release(self) -> None:
        """Give a reservation back (the upload was refused)."""
        with self._lock:
            self._reserved -= 1


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def return_memory() -> None:
    """Hand freed heap memory back to the system (glibc only; elsewhere nothing happens).

    A decoded 49-megapixel picture is freed in blocks the allocator keeps for reuse: ten at
    once left the server at about 5 GB. `malloc_trim` gives those pages back.
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
