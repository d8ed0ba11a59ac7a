"""Shared console helpers for the CLI: one-line errors, tables and JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
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


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
