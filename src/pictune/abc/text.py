"""Plain-text facts about ABC: field lines, tune boundaries, decoding of raw bytes."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pictune.errors import InputError

FIELD_LINE = re.compile(r"^([A-Za-z]):(.*)$")
# Fields that may only appear in a tune header (the body may change M, L, K, Q, V, I, P, T, W, w).
HEADER_ONLY_FIELDS = frozenset("XCOARBDFGHNSZ")
# Every field letter defined by the ABC 2.1 standard.
KNOWN_FIELDS = frozenset("ABCDFGHIKLMmNOPQRrSsTUVWwXZ")
MAX_ABC_CHARS = 1_000_000


def decode_abc(data: bytes | str) -> str:
    """Text of an ABC file: UTF-8, else Latin-1 (old corpora), with NULs and BOM removed."""
    if isinstance(data, str):
        text = data
    else:
        head = data[:65536]
        controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 13))
        if b"\x00" in head or controls > len(head) // 20:
            raise InputError("this looks like a binary file, not ABC text (save text as UTF-8)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    text = text.lstrip("\ufeff").replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    return text


def check_size(text: str, limit: int = MAX_ABC_CHARS) -> None:
    """Refuse texts too long to be a tune (a 10 MB model reply is a runaway generation)."""
    if len(text) > limit:
        raise InputError(
            f"ABC text is {len(text):,} characters; the limit is {limit:,} (one tune, not a book)"
        )


def split_tunes(text: str) -> list[str]:
    """Split an ABC file into tunes at each `X:` line; a file header is prepended to each tune."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("X:")]
    if not starts:
        return [text.strip("\n")] if text.strip() else []
    file_header = [ln for ln in lines[: starts[0]] if FIELD_LINE.match(ln) or ln.startswith("%%")]
    tunes = []
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        body = lines[start:end]
        while body and not body[-1].strip():
            body.pop()
        # Directives from the file header apply to every tune; put them after X:.
        tunes.append("\n".join([body[0], *file_header, *body[1:]]))
    return tunes


def header_end(lines: list[str]) -> int:
    """Index of the first body line: the line after the first K: field (len(lines) if none)."""
    for i, line in enumerate(lines):
        if line.startswith("K:"):
            return i + 1
    return len(lines)


def header_fields(text: str) -> dict[str, str]:
    """First value of each header field (X, T, M, L, Q, K …) of one tune."""
    lines = text.split("\n")
    fields: dict[str, str] = {}
    for line in lines[: header_end(lines)]:
        match = FIELD_LINE.match(line)
        if match:
            fields.setdefault(match.group(1), match.group(2).strip())
    return fields


def strip_comment(line: str) -> str:
    """The line without its `%` comment (`\\%` is an escaped percent sign)."""
    for match in re.finditer(r"%", line):
        if match.start() == 0 or line[match.start() - 1] != "\\":
            return line[: match.start()]
    return line


def iter_body_lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) of each body line of one tune."""
    lines = text.split("\n")
    for index in range(header_end(lines), len(lines)):
        yield index + 1, lines[index]
