"""The ABC reply grammar for constrained decoding, and salvage of a reply cut off mid-tune.

The grammar is one GBNF file (`reply.gbnf`, next to this module), versioned on its first
line and kept in step with the compose, correct and refine prompts: an optional thinking
block and short preamble, one ```abc fenced tune, then the motivation. llama.cpp's server
reads GBNF as it is; the local backend and vLLM's guidance backend read it through
llguidance.
"""

from __future__ import annotations

import re
from importlib import resources

from pictune.abc.text import FIELD_LINE, header_end
from pictune.abc.tokens import tokenize_line

GRAMMAR_FILE = "reply.gbnf"
FENCE_OPEN = "```abc\n"
FENCE_CLOSE = "```"
_VERSION = re.compile(r"version (\d+)")
# The grammar's bounds (reply.gbnf): header lines between X: and K:, characters of free text.
HEADER_LINES = 8
TEXT_CHARS = 40
LYRICS_CHARS = 80
TEXT_FIELDS = frozenset("TCONRSZBDHAGFW")
_UNSAFE = re.compile(r"[^ -~\xa0-\xff]")  # outside printable ASCII and Latin-1
_INLINE_LEFT_OUT = re.compile(r"\[[PI]:[^\]]*\]")
_SPACES = re.compile(r" {4,}")
_TIE_AT_END = re.compile(r"(-[ |]*|[<>]+ *)$")  # a tie or broken rhythm to the next line
_CONTINUATION = re.compile(r" *\\ *")
_QUOTED = re.compile(r'"([^"]*)"')
# the chord names abc2midi knows, and annotations (placed text): all a chord symbol may hold
_SYMBOL = re.compile(
    r"[A-G][#b]?(m|7|m7|maj7|M7|6|m6|aug|\+|aug7|dim|dim7|9|m9|maj9|M9|11|dim9|sus|sus2|sus4"
    r"|sus9|7sus4|7sus9|5|m7b5)?(/[A-G][#b]?)?|[_<>@^][ !#$&-<>-\[\]-~\xa0-\xff]{0,30}"
)
_MIDI = re.compile(
    r"%%MIDI (program|channel|transpose|ratio|chordprog|bassprog|chordvol|bassvol"
    r"|beat|nobarlines|barlines|gchordon|gchordoff)\b"
)


def reply_grammar() -> str:
    """The reply grammar's GBNF text."""
    return resources.files("pictune.abc").joinpath(GRAMMAR_FILE).read_text("utf-8")


def grammar_version(text: str | None = None) -> str:
    """The version stated on the grammar's first line (recorded with every constrained round)."""
    first = (text if text is not None else reply_grammar()).split("\n", 1)[0]
    match = _VERSION.search(first)
    if match is None:
        raise ValueError(f"{GRAMMAR_FILE} does not state its version on its first line")
    return match.group(1)


def complete_bars(reply: str) -> str:
    """A reply whose fenced tune was cut off (the token budget ran out inside it) closed after
    the last complete bar written so far; any other reply is returned unchanged.

    Under the grammar a tune may end after any complete bar, so the result is a reply the
    grammar accepts whenever the tune's body holds a bar line. With no bar line in the body
    the complete lines are kept; with no body at all there is nothing to salvage.
    """
    start = reply.find(FENCE_OPEN)
    if start < 0:
        return reply
    head, tune = reply[: start + len(FENCE_OPEN)], reply[start + len(FENCE_OPEN) :]
    if FENCE_CLOSE in tune:
        return reply
    lines = tune.split("\n")
    key = next((i for i, line in enumerate(lines[:-1]) if line.startswith("K:")), None)
    if key is None:
        return reply  # still in the header: no music to keep
    body = lines[key + 1 :]
    for index in range(len(body) - 1, -1, -1):
        bars = [t for t in tokenize_line(body[index], index + 1) if t.kind == "bar"]
        if bars:
            last = bars[-1]
            end = last.column - 1 + len(last.text.rstrip("0123456789,-["))
            kept = [*body[:index], body[index][:end]]
            if _open_repeat(kept):  # cut inside a repeat: its last bar line closes it
                kept[-1] = _closed(kept[-1])
            return head + "\n".join([*lines[: key + 1], *kept]) + "\n" + FENCE_CLOSE + "\n"
    complete = lines[:-1]  # no bar line anywhere: keep the lines that were finished
    if len(complete) <= key + 1:
        return reply
    return head + "\n".join(complete) + "\n" + FENCE_CLOSE + "\n"


def _text(value: str, limit: int) -> str:
    return _UNSAFE.sub("", value)[:limit].rstrip()


def _fit_line(line: str) -> str | None:
    """One line as the grammar writes it; None: a line the grammar leaves out."""
    field = FIELD_LINE.match(line)
    if field is not None:
        name = field.group(1)
        if name in "PI":
            return None  # parts and I: fields are not in the grammar
        if name in TEXT_FIELDS:
            return f"{name}:{_text(field.group(2), TEXT_CHARS)}"
        if name == "w":
            return f"w:{_text(field.group(2), LYRICS_CHARS)}"
        return f"{name}:{field.group(2).strip()}"
    if line.startswith("%%"):
        return line if _MIDI.match(line) else None
    if line.startswith("%"):
        return "%" + _text(line[1:], TEXT_CHARS).lstrip("%")
    line = _QUOTED.sub(lambda m: m.group(0) if _SYMBOL.fullmatch(m.group(1)) else "", line)
    line = _SPACES.sub("   ", _INLINE_LEFT_OUT.sub("", line.replace("\t", " ")))
    line = line.replace("[|", "||")  # the same double bar, in the one form the grammar has
    return None if _CONTINUATION.fullmatch(line) else line  # None: only a continuation mark


def _open_repeat(body: list[str]) -> bool:
    """Whether the body ends inside a repeat (a |: or :: not closed by a :|), as a cut that
    stops inside a repeated section leaves it."""
    inside = False
    for number, line in enumerate(body):
        if FIELD_LINE.match(line) or line.startswith("%"):
            continue
        for token in tokenize_line(line, number):
            if token.kind == "bar":
                sign = token.text.rstrip("0123456789,-")
                if sign.startswith(":"):
                    inside = sign.endswith(":") and len(sign) > 1
                elif sign.endswith(":"):
                    inside = True
    return inside


def _closed(line: str) -> str:
    """A music line's end turned into a closing repeat sign (its last bar line, if plain)."""
    line = line.rstrip()
    if line.endswith("|") and not line.endswith(("||", ":|")):
        return line[:-1] + ":|"
    return line + " :|"


def _join_ties(lines: list[str]) -> list[str]:
    """Music lines whose last note is tied to the next line's first, joined: the grammar ties
    notes within a line (where it can ask for the same pitch on both sides)."""
    joined: list[str] = []
    for line in lines:
        previous = joined[-1] if joined else ""
        if _TIE_AT_END.search(previous) and not FIELD_LINE.match(previous) and line[:1] != "%":
            joined[-1] = previous.rstrip() + " " + line.lstrip()
        else:
            joined.append(line)
    return joined


def fit_to_grammar(tune: str) -> str:
    """A corpus tune as the prompt shows it, within the reply grammar's bounds: no parts (P:)
    or I: fields, free text cut to the grammar's length and characters, other directives
    than %%MIDI and header comments left out, at most `HEADER_LINES` lines between X: and K:
    (the first text fields are the ones kept). The music is unchanged."""
    lines = tune.rstrip("\n").split("\n")
    end = header_end(lines)
    if end == len(lines) or end < 2:
        return tune  # no header and body to fit
    header = [fitted for line in lines[1 : end - 1] if (fitted := _fit_line(line)) is not None]
    header = [line for line in header if not line.startswith("%") or line.startswith("%%")]
    while len(header) > HEADER_LINES:
        texts = [i for i, line in enumerate(header) if line[:1] in TEXT_FIELDS]
        header.pop(texts[-1] if texts else -1)
    body = [fitted for line in lines[end:] if (fitted := _fit_line(line)) is not None]
    body = _join_ties(body)
    last = next((i for i in range(len(body) - 1, -1, -1) if not FIELD_LINE.match(body[i])), None)
    dangling = _TIE_AT_END.search(body[last]) if last is not None else None
    if last is not None and dangling is not None:  # tied to nothing: where the cut ended
        body[last] = body[last][: dangling.start()] + dangling.group(0).lstrip("-<>")
    if last is not None and _open_repeat(body):  # the cut stopped inside a repeat: close it
        body[last] = _closed(body[last])
    return "\n".join([*lines[:1], *header, *lines[end - 1 : end], *body]) + "\n"
