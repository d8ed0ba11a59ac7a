"""Shared console helpers for the CLI: one-line errors, tables and JSON."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from pictune.abc.text import decode_abc
from pictune.errors import InputError, PictuneError
from pictune.files import read_limited

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")
MAX_INPUT_BYTES = 20 << 20
EXIT_BAD_INPUT = 2


class State:
    debug = False


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def guarded(action: Callable[[], T]) -> T:
    """Run a command body; turn pictune's errors into one line and exit code 2."""
    try:
        return action()
    except (PictuneError, OSError, ValueError) as exc:
        if State.debug:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, OSError) and exc.filename:
            message = f"{exc.strerror}: {exc.filename}"
        fail(message)


def read_input(path: Path) -> bytes:
    """Bytes of a file argument ('-' is standard input); at most the limit, whatever the file."""
    if str(path) == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    else:
        data = read_limited(path, MAX_INPUT_BYTES)
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"input is larger than {MAX_INPUT_BYTES >> 20} MB")
    return data


def read_text(path: Path) -> str:
    data = read_input(path)
    if not data.strip():
        raise InputError(f"{path} is empty")
    return decode_abc(data)


MAX_SHOWN = 30  # findings printed one a line; the rest are summed up in one line


def capped(
    items: Sequence[T], kind: Callable[[T], str], limit: int = MAX_SHOWN
) -> tuple[list[T], str | None]:
    """The first `limit` items, and one line that sums up the rest (None when none are left).

    One broken input can yield tens of thousands of findings; a terminal shows a few, then
    "… and 19,990 more like this" (or the count of each kind when they differ).
    """
    shown, rest = list(items[:limit]), items[limit:]
    if not rest:
        return shown, None
    counts = Counter(kind(item) for item in rest)
    if len(counts) == 1:
        return shown, f"… and {len(rest):,} more like this ({next(iter(counts))})"
    parts = ", ".join(f"{count:,} {name}" for name, count in counts.most_common(3))
    others = len(counts) - 3
    more = f" and {others} other kinds" if others > 0 else ""
    return shown, f"… and {len(rest):,} more: {parts}{more}"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
