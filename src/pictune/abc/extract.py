"""extract(): find the tune(s) in a model's free-text reply, and keep the rest as motivation.

Handles what vision-language models actually write: code fences (with or without a language),
chatter before `X:`, a motivation after the tune, several tunes, a missing `X:` line, and
`<think>` blocks (closed or cut off).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pictune.abc.precheck import looks_like_prose
from pictune.abc.text import FIELD_LINE, KNOWN_FIELDS, check_size

_THINK = re.compile(r"<think>(.*?)(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(
    r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)",
    re.DOTALL | re.MULTILINE,
)
_MUSIC_CHARS = re.compile(r"[A-Ga-gzZx]")
_ABC_LINE = re.compile(r"^[A-Ga-gzxZ^_=,'/0-9 \t|:\[\]()<>{}\-.~\"!+#&\\*-]+$")
_HEADING = re.compile(
    r"^\s*(#+\s*|\*\*)?\s*(motivation|explanation|reasoning|rationale)\s*:?\**\s*$", re.I
)
_LABEL = re.compile(
    r"^\s*\**\s*(motivation|explanation|reasoning|rationale)\s*:?\s*\**\s*:?\s*", re.I
)
_TUNE_START_FIELDS = frozenset("TMLKQCRO")


@dataclass(frozen=True)
class Extraction:
    """The chosen tune (None when the reply holds no music), every tune found, and the prose."""

    abc: str | None
    tunes: tuple[str, ...]
    motivation: str
    thinking: str


def _is_field(line: str) -> bool:
    match = FIELD_LINE.match(line.strip())
    return match is not None and match.group(1) in KNOWN_FIELDS


def _is_music(line: str) -> bool:
    text = line.strip()
    if not text or looks_like_prose(text):
        return False
    if text.startswith("%") or _is_field(text) or re.match(r"^\[[A-Za-z]:", text):
        return True
    # Chord symbols, decorations and inline fields ([Q:3/8=75], [K:D]) are music lines too.
    stripped = re.sub(r'"[^"]*"|![^!]*!|\[[A-Za-z]:[^\]\n]*\]', "", text)
    return bool(_MUSIC_CHARS.search(stripped)) and bool(_ABC_LINE.match(stripped or "|"))


def _starts_tune(lines: list[str], index: int) -> bool:
    text = lines[index].strip()
    if text.startswith("X:"):
        return True
    match = FIELD_LINE.match(text)
    if not match or match.group(1) not in _TUNE_START_FIELDS:
        return False
    window = [ln.strip() for ln in lines[index : index + 12]]
    return any(ln.startswith("K:") for ln in window)


def _scan(lines: list[str]) -> tuple[list[tuple[int, int]], set[int]]:
    """Spans [start, end) of tunes among `lines`, and the indices they cover."""
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(lines):
        if not _starts_tune(lines, index):
            index += 1
            continue
        start, index = index, index + 1
        last_music = start
        while index < len(lines):
            text = lines[index].strip()
            if text.startswith("X:"):
                break
            if _is_music(lines[index]):
                last_music = index
            elif text:
                break
            index += 1
        spans.append((start, last_music + 1))
        index = last_music + 1
    covered = {i for start, end in spans for i in range(start, end)}
    return spans, covered


def _has_music(tune: str) -> bool:
    body = [
        ln for ln in tune.split("\n") if ln.strip() and not _is_field(ln) and not ln.startswith("%")
    ]
    return bool(body) and any("K:" in ln for ln in tune.split("\n"))


def _music_size(tune: str) -> int:
    return sum(len(ln) for ln in tune.split("\n") if _is_music(ln) and not _is_field(ln))


def _clean_motivation(parts: list[str]) -> str:
    lines = [_LABEL.sub("", ln) for ln in "\n".join(parts).split("\n") if not _HEADING.match(ln)]
    text = "\n".join(ln.rstrip() for ln in lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def extract(reply: str) -> Extraction:
    """Split a reply into its tune(s) and its motivation text."""
    check_size(reply)
    reply = reply.replace("\r\n", "\n").replace("\r", "\n")
    thinking = "\n".join(m.group(1).strip() for m in _THINK.finditer(reply))
    visible = _THINK.sub("", reply)
    tunes, rest = _find_tunes(visible)
    if not tunes and thinking:  # a cut-off reply may hold its only tune inside the thinking
        tunes, _ = _find_tunes(thinking)
    # The most complete tune wins (a later one on ties): replies often hold a draft first.
    playable = [t for t in tunes if _has_music(t)] or tunes
    chosen = max(reversed(playable), key=_music_size) if playable else None
    return Extraction(chosen, tuple(tunes), _clean_motivation(rest), thinking)


def _find_tunes(text: str) -> tuple[list[str], list[str]]:
    tunes: list[str] = []
    rest: list[str] = []
    position = 0
    fences = list(_FENCE.finditer(text))
    for fence in fences:
        rest.append(text[position : fence.start()])
        position = fence.end()
        found, leftover = _scan_block(fence.group(2))
        tunes.extend(found)
        if not found or fence.group(1).lower() not in ("", "abc"):
            rest.append(leftover)
    rest.append(text[position:])
    if tunes:
        return tunes, rest
    # No tune inside fences: look through the plain text.
    found, leftover = _scan_block("".join(rest) if fences else text)
    return found, [leftover]


def _scan_block(block: str) -> tuple[list[str], str]:
    lines = block.split("\n")
    spans, covered = _scan(lines)
    tunes = ["\n".join(ln.strip() for ln in lines[start:end]).strip("\n") for start, end in spans]
    leftover = "\n".join(ln for i, ln in enumerate(lines) if i not in covered)
    return tunes, leftover
