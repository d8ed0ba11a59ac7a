"""A small lexer for ABC tune bodies, and the bar-by-bar durations it implies.

Enough of ABC 2.1 to measure bars and find faults: notes with accidentals, octave marks and
lengths, rests, chords, grace groups, tuplets, broken rhythm, ties, slurs, decorations,
annotations, inline fields and every bar-line form. Durations are exact fractions of a
whole note.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

from pictune.abc.text import FIELD_LINE, header_end, strip_comment

TOKEN = re.compile(
    r"""
     (?P<field>\[[A-Za-z]:[^\]\n]*\])
    |(?P<annotation>"[^"]*"?)
    |(?P<decoration>![^!\n]*!?|\+[^+\n]*\+)
    |(?P<bar>(?::*\[?\|+\]?:*|::)(?:\[?\d+(?:[,\-]\d+)*)?|\[\d+(?:[,\-]\d+)*)
    |(?P<tuplet>\(\d+(?::\d*)?(?::\d*)?)
    |(?P<chord_open>\[)
    |(?P<chord_close>\](?P<chord_len>\d*/*\d*))
    |(?P<grace_open>\{/?)
    |(?P<grace_close>\})
    |(?P<slur_open>\.?\()
    |(?P<slur_close>\))
    |(?P<note>(?:\^\^|\^|__|_|=)?(?P<letter>[A-Ga-g])(?P<octave>[,']*)(?P<note_len>\d*/*\d*))
    |(?P<rest>[zx](?P<rest_len>\d*/*\d*))
    |(?P<measure_rest>[ZX]\d*)
    |(?P<broken><+|>+)
    |(?P<tie>-)
    |(?P<deco_char>[.~HLMOPSTuvJR])
    |(?P<space>[ \t`]+)
    |(?P<continuation>\\)
    |(?P<other>.)
    """,
    re.VERBOSE,
)
# A body line of only notes, rests, bar lines, plain chords and [V:] markers, none of them
# faulty (a lower-case note with a comma, a very long note, a stray /): most lines of a long
# score. Repair and the pre-checks pass such lines by without tokenizing them.
_PLAIN_MUSIC = re.compile(
    r"(?:\|\]|\[V:[\w.]+\]|\[[A-Ga-g^_=,'\d/]+\]\d*/*\d*|[A-Ga-gzxZ^_=,'\d/| :])*"
)
_PLAIN_FAULT = re.compile(r"[a-g],|\d{4}|(?:^|[\s|:])/")
_LENGTH = re.compile(r"(\d*)(/*)(\d*)")
MAX_LENGTH_MULTIPLIER = 1024  # a longer note is a fault, not music


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    line: int  # 1-based
    column: int  # 1-based
    length: Fraction = Fraction(0)  # multiple of the unit note length, for notes/rests/chords


@dataclass
class Bar:
    """One measured bar of one voice: its span and its duration as a fraction of a whole note."""

    voice: str
    line: int
    column: int
    end_line: int
    end_column: int  # column of the bar line that closes it (0: closed by the end of the tune)
    duration: Fraction
    expected: Fraction | None  # None under M:none or an unreadable meter
    unit: Fraction
    first: bool = False
    last: bool = False
    near_repeat: bool = False

    @property
    def mismatch(self) -> Fraction:
        return self.duration - self.expected if self.expected is not None else Fraction(0)


@cache
def parse_length(text: str) -> Fraction:
    """Length multiplier of a note-length suffix: '' → 1, '2' → 2, '/' → 1/2, '3/2', '//' → 1/4."""
    match = _LENGTH.fullmatch(text)
    if not match or not text:
        return Fraction(1)
    number, slashes, denominator = match.groups()
    numerator = int(number) if number else 1
    if not slashes:
        return Fraction(numerator)
    base = int(denominator) if denominator else 2
    return Fraction(numerator, max(base * 2 ** (len(slashes) - 1), 1))


def format_length(multiple: Fraction) -> str:
    """Suffix for a length multiple: 1 → '', 2 → '2', 1/2 → '/2', 3/2 → '3/2'."""
    if multiple == 1:
        return ""
    if multiple.denominator == 1:
        return str(multiple.numerator)
    numerator = "" if multiple.numerator == 1 else str(multiple.numerator)
    return f"{numerator}/{multiple.denominator}"


def parse_meter(value: str) -> Fraction | None:
    """Whole notes in one bar for an M: value ('6/8', 'C', 'C|', '2+3/8'); None if free."""
    value = value.strip().split("%")[0].strip()
    if value in ("C", "c"):
        return Fraction(1)
    if value in ("C|", "c|"):
        return Fraction(1)
    match = re.fullmatch(r"\(?([\d+\s]+)\)?\s*/\s*(\d+)", value)
    if not match:
        return None
    try:
        numerator = sum(int(part) for part in match.group(1).split("+") if part.strip())
        denominator = int(match.group(2))
    except ValueError:
        return None
    if numerator <= 0 or denominator <= 0:
        return None
    return Fraction(numerator, denominator)


def parse_unit(value: str) -> Fraction | None:
    """Unit note length for an L: value ('1/8'); None when unreadable."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value.split("%")[0])
    if not match or int(match.group(1)) == 0 or int(match.group(2)) == 0:
        return None
    return Fraction(int(match.group(1)), int(match.group(2)))


def default_unit(meter: Fraction | None) -> Fraction:
    """ABC's default unit length: 1/16 for meters below 3/4, else 1/8."""
    return Fraction(1, 16) if meter is not None and meter < Fraction(3, 4) else Fraction(1, 8)


def is_plain_music(line: str) -> bool:
    """True for a line with nothing but plain, fault-free notes, chords, rests and bar lines."""
    return bool(_PLAIN_MUSIC.fullmatch(line)) and not _PLAIN_FAULT.search(line)


def tokenize_line(line: str, line_no: int) -> Iterator[Token]:
    """Tokens of one body line (comments removed)."""
    for match in TOKEN.finditer(strip_comment(line)):
        kind = match.lastgroup or "other"
        length = Fraction(0)
        if kind == "note":
            length = parse_length(match.group("note_len"))
        elif kind == "rest":
            length = parse_length(match.group("rest_len"))
        elif kind == "chord_close":
            length = parse_length(match.group("chord_len"))
        yield Token(kind, match.group(0), line_no, match.start() + 1, length)


_TUPLET_Q = {2: 3, 3: 2, 4: 3, 6: 2, 8: 3}


class _BarMeter:
    """Walks the tokens of a tune and adds up each bar per voice."""

    def __init__(self, meter: Fraction | None, unit: Fraction) -> None:
        self.meter, self.unit = meter, unit
        self.bars: list[Bar] = []
        self.voice = "1"
        self.open: dict[str, Bar] = {}
        self.tuplet_left, self.tuplet_factor = 0, Fraction(1)
        self.broken_next = Fraction(1)
        self.in_grace = False
        self.chord_first: Fraction | None = None
        self.in_chord = False
        self.last_sound: tuple[Bar, Fraction] | None = None
        # Where a bar that opens now starts: after the last bar line or inline field, or at
        # the start of the line (never inside a chord, tuplet or grace group).
        self.boundary = (0, 1)

    def _bar(self, token: Token) -> Bar:
        current = self.open.get(self.voice)
        if current is None:
            line, column = self.boundary if self.boundary[0] == token.line else (token.line, 1)
            current = Bar(self.voice, line, column, 0, 0, Fraction(0), self.meter, self.unit)
            current.first = not any(b.voice == self.voice for b in self.bars)
            self.open[self.voice] = current
        return current

    def _add(self, token: Token, multiple: Fraction) -> None:
        bar = self._bar(token)
        duration = multiple * self.unit * self.broken_next
        self.broken_next = Fraction(1)
        if self.tuplet_left > 0:
            duration *= self.tuplet_factor
            self.tuplet_left -= 1
        bar.duration += duration
        self.last_sound = (bar, duration)

    def _broken(self, text: str) -> None:
        if self.last_sound is None:
            return
        bar, duration = self.last_sound
        dots = len(text)
        shorter = Fraction(1, 2**dots)
        longer = 2 - shorter
        first, second = (longer, shorter) if text[0] == ">" else (shorter, longer)
        bar.duration += duration * (first - 1)
        self.broken_next = second
        self.last_sound = None

    def close(self, token: Token | None) -> None:
        bar = self.open.pop(self.voice, None)
        if bar is None:
            return
        if token is not None:
            bar.end_line, bar.end_column = token.line, token.column
            bar.near_repeat = ":" in token.text or any(c.isdigit() for c in token.text)
        if bar.duration > 0 or token is None:
            self.bars.append(bar)

    def feed(self, token: Token) -> None:
        kind = token.kind
        if kind in ("bar", "field"):
            self.boundary = (token.line, token.column + len(token.text))
        if kind == "grace_open":
            self.in_grace = True
        elif kind == "grace_close":
            self.in_grace = False
        elif self.in_grace:
            return
        elif kind == "note" and self.in_chord:
            if self.chord_first is None:
                self.chord_first = token.length
        elif kind in ("note", "rest"):
            self._add(token, token.length)
        elif kind == "measure_rest":
            count = int(token.text[1:] or 1)
            self._bar(token).duration += (self.meter or Fraction(1)) * count
            self.last_sound = None
        elif kind == "chord_open":
            self.in_chord, self.chord_first = True, None
        elif kind == "chord_close" and self.in_chord:
            self.in_chord = False
            self._add(token, (self.chord_first or Fraction(1)) * token.length)
        elif kind == "broken":
            self._broken(token.text)
        elif kind == "tuplet":
            parts = token.text[1:].split(":")
            p = int(parts[0])
            q = int(parts[1]) if len(parts) > 1 and parts[1] else _TUPLET_Q.get(p, 2)
            r = int(parts[2]) if len(parts) > 2 and parts[2] else p
            if p > 0:
                self.tuplet_left, self.tuplet_factor = r, Fraction(q, p)
        elif kind == "bar":
            self.close(token)
        elif kind == "field":
            self.inline_field(token.text[1], token.text[3:-1])

    def inline_field(self, letter: str, value: str) -> None:
        if letter == "M":
            self.meter = parse_meter(value)
        elif letter == "L":
            self.unit = parse_unit(value) or self.unit
        elif letter == "V":
            self.voice = value.split()[0] if value.split() else "1"

    def finish(self) -> list[Bar]:
        for voice in list(self.open):
            self.voice = voice
            self.close(None)
        seen: dict[str, Bar] = {}
        for bar in self.bars:
            seen[bar.voice] = bar
        for bar in seen.values():
            bar.last = True
        return self.bars


def measure_bars(text: str, meter: Fraction | None, unit: Fraction) -> list[Bar]:
    """Every bar of every voice, with its measured and expected duration."""
    lines = text.split("\n")
    walker = _BarMeter(meter, unit)
    for index in range(header_end(lines), len(lines)):
        line = lines[index]
        field = FIELD_LINE.match(line)
        if field:
            walker.inline_field(field.group(1), field.group(2))
            continue
        if line.startswith("%"):
            continue
        for token in tokenize_line(line, index + 1):
            walker.feed(token)
    return walker.finish()
