"""Where each written note, chord symbol and bar of a tune falls in time, read from the text.

MIDI loses what a reader of the score sees: ties, beams, chord symbols, clefs and the bars as
written. This walker keeps them. Times are whole numbers of timeline ticks
(`TICKS_PER_WHOLE` to a whole note, enough for every tuplet and dotted length exactly) from the
start of the text as written (repeats not expanded); `performed_bars` gives the order in which
abc2midi plays the bars, so text facts can be placed on a Score's time line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache

from pictune.abc.text import FIELD_LINE, header_end, strip_comment
from pictune.abc.tokens import default_unit, parse_unit, tokenize_line

_METER = re.compile(r"\(?([\d+\s]+)\)?\s*/\s*(\d+)")
_CLEF = re.compile(r"(?:^|\s)(?:clef=)?(treble|bass|alto|tenor|perc|none)([+-]8)?\b")
_NAME = re.compile(r'(?:name|nm)\s*=\s*"?([^"]*)"?')
_PROGRAM = re.compile(r"^%%MIDI\s+program\s+(?:\d+\s+)?(\d+)")
_CHORD_NAME = re.compile(r"^[A-G][#b]?[^\s]*$")
_TUPLET_Q = {2: 3, 3: 2, 4: 3, 6: 2, 8: 3}
TICKS_PER_WHOLE = 2**10 * 3**2 * 5**2 * 7  # 1,612,800: divisible by every usual tuplet
_QUARTER = TICKS_PER_WHOLE // 4


def to_ticks(length: Fraction) -> int:
    """Timeline ticks of a length in whole notes (rounded where a tuplet is unusual)."""
    return round(length * TICKS_PER_WHOLE)


@lru_cache(maxsize=1024)
def _note_ticks(multiple: Fraction, unit: Fraction, factor: Fraction) -> int:
    return to_ticks(multiple * unit * factor)


@dataclass(frozen=True)
class Meter:
    """A time signature as written: numerator and denominator (C is 4/4, C| is 2/2)."""

    numerator: int
    denominator: int

    @property
    def bar(self) -> Fraction:
        """Length of a full bar in whole notes."""
        return Fraction(self.numerator, self.denominator)

    @property
    def compound(self) -> bool:
        """6/8, 9/8, 12/8 …: the beat is a dotted note of three subdivisions."""
        return self.numerator % 3 == 0 and self.numerator > 3 and self.denominator >= 8

    @property
    def beat(self) -> Fraction:
        """Length of one beat in whole notes (a dotted quarter in 6/8)."""
        unit = Fraction(1, self.denominator)
        return unit * 3 if self.compound else unit

    @property
    def beats(self) -> int:
        return max(1, round(self.bar / self.beat))

    @property
    def bar_ticks(self) -> int:
        return to_ticks(self.bar)

    @property
    def beat_ticks(self) -> int:
        return to_ticks(self.beat)

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


def read_meter(value: str) -> Meter | None:
    """The Meter of an M: value ('6/8', 'C', 'C|', '2+3/8'); None for free meter."""
    text = value.split("%")[0].strip()
    if text in ("C", "c"):
        return Meter(4, 4)
    if text in ("C|", "c|"):
        return Meter(2, 2)
    match = _METER.fullmatch(text)
    if not match:
        return None
    try:
        numerator = sum(int(part) for part in match.group(1).split("+") if part.strip())
    except ValueError:
        return None
    denominator = int(match.group(2))
    return Meter(numerator, denominator) if numerator > 0 and denominator > 0 else None


@dataclass(frozen=True)
class VoiceInfo:
    """One voice as declared: its id, name, clef ('treble' when none is given) and program."""

    id: str
    name: str
    clef: str
    octave_shift: int  # clef=treble-8 reads an octave lower than written: -1
    program: int | None
    has_chord_symbols: bool


@dataclass(frozen=True)
class WrittenNote:
    """A note, chord or rest as written: its bar (index into `Timeline.bars`) and times."""

    voice: str
    bar: int
    onset: int  # timeline ticks from the start of the text
    duration: int
    is_rest: bool
    tied: bool  # a tie follows it
    beam: int  # notes sharing a number are beamed together (-1: not beamable)
    line: int
    column: int


@dataclass(frozen=True)
class ChordSymbol:
    """A chord symbol such as "Am" placed at a point of the text's time line."""

    voice: str
    bar: int
    onset: int  # timeline ticks
    name: str


@dataclass(frozen=True)
class WrittenBar:
    """One bar of one voice as written, with the repeat marks that bound it."""

    voice: str
    number: int  # as a reader counts: a pickup bar is 0, the first full bar 1
    start: int  # timeline ticks
    length: int
    meter: Meter | None
    pickup: bool
    start_repeat: bool
    end_repeat: bool
    ending: int | None  # 1, 2 … for first/second endings
    line: int
    part: str = ""  # the body's P: part this bar belongs to

    @property
    def downbeat(self) -> int:
        """Where beat 1 falls: a pickup bar is aligned to its end."""
        if self.pickup and self.meter is not None:
            return self.start + self.length - self.meter.bar_ticks
        return self.start


@dataclass(frozen=True)
class Timeline:
    """Every voice, written note, chord symbol and bar of one tune, in order of the text."""

    voices: tuple[VoiceInfo, ...]
    notes: tuple[WrittenNote, ...]
    chords: tuple[ChordSymbol, ...]
    bars: tuple[WrittenBar, ...]
    meter: Meter | None
    key: str  # the K: value as written ('Am', 'D dor', 'G clef=bass')
    gchords_off: bool  # %%MIDI gchordoff: abc2midi does not play the chord symbols
    parts: str = ""  # the header's P: play order, expanded ('ABA'); '' when none

    def voice_bars(self, voice: str) -> list[int]:
        """Indices (into `bars`) of one voice's bars, in text order."""
        return [i for i, bar in enumerate(self.bars) if bar.voice == voice]

    def performed_bars(self, voice: str) -> list[tuple[int, int]]:
        """(bar index, start in performed timeline ticks) in the order abc2midi plays them.

        `|: … :|` plays twice; first and second endings are taken on their pass; a header
        `P:ABA` plays the body's parts in that order.
        """
        indices = self.voice_bars(voice)
        sections = [indices]
        if self.parts and any(self.bars[i].part for i in indices):
            by_part: dict[str, list[int]] = {}
            for i in indices:
                by_part.setdefault(self.bars[i].part, []).append(i)
            sections = [by_part[letter] for letter in self.parts if letter in by_part]
        order: list[tuple[int, int]] = []
        position = 0
        for section in sections:
            for index in _play(self.bars, section):
                order.append((index, position))
                position += self.bars[index].length
        return order


def _play(bars: tuple[WrittenBar, ...], indices: list[int]) -> list[int]:
    """The bar indices of one section in playing order (repeats and endings expanded)."""
    order: list[int] = []
    i, repeat_start, pass_no = 0, 0, 1
    repeated: set[int] = set()
    ending: int | None = None
    while i < len(indices):
        bar = bars[indices[i]]
        if bar.start_repeat and i != repeat_start:
            repeat_start, pass_no = i, 1
        if bar.ending is not None:
            ending = bar.ending
        if ending is not None and ending != pass_no:
            i += 1
            if bar.end_repeat:
                ending = None
            continue
        order.append(indices[i])
        if bar.end_repeat and i not in repeated:
            repeated.add(i)
            i, pass_no, ending = repeat_start, 2, None
            continue
        if bar.end_repeat or (ending is not None and pass_no > 1):
            repeat_start, pass_no, ending = i + 1, 1, None
        i += 1
    return order


def expand_parts(value: str) -> str:
    """The play order of a header P: field: 'ABA' → 'ABA', 'A2B' → 'AAB', '(AB)2C' → 'ABABC'."""
    text = re.sub(r"[^A-Z0-9()]", "", value.split("%")[0])
    for _ in range(4):  # nested groups, innermost first
        text = re.sub(r"\(([A-Z]*)\)(\d*)", lambda m: m.group(1) * int(m.group(2) or 1), text)
    return re.sub(r"([A-Z])(\d+)", lambda m: m.group(1) * int(m.group(2)), text).replace("(", "")


@dataclass
class _Voice:
    info_name: str = ""
    clef: str = "treble"
    octave_shift: int = 0
    program: int | None = None
    position: int = 0
    bar_start: int = 0
    bar_line: int = 0
    bar_has_content: bool = False
    opening: str = ""  # the bar line that opened the current bar
    part: str = ""
    beam: int = 0
    chords: int = 0
    # Notes as [bar (in this voice), onset, duration, rest, tied, beam, line, column]: made
    # into records once, at the end.
    notes: list[list[int | bool]] = field(default_factory=list)
    bars: list[WrittenBar] = field(default_factory=list)


class _Walker:
    """Walks the tokens of a tune, keeping each voice's position, bar and beam group."""

    def __init__(self, meter: Meter | None, unit: Fraction) -> None:
        self.meter, self.unit = meter, unit
        self.voices: dict[str, _Voice] = {}
        self.order: list[str] = []
        self.current = self._voice("1")
        self.current_id = "1"
        self.chords: list[tuple[str, int, int, str]] = []  # voice, bar in voice, onset, name
        self.tuplet_left, self.tuplet_factor = 0, Fraction(1)
        self.broken_next = Fraction(1)
        self.in_grace = self.in_chord = False
        self.chord_first: Fraction | None = None
        self.chord_tied = False
        self.chord_column = 0
        self.next_beam = 1

    def _voice(self, voice_id: str) -> _Voice:
        if voice_id not in self.voices:
            self.voices[voice_id] = _Voice()
            self.order.append(voice_id)
        return self.voices[voice_id]

    def declare(self, value: str) -> None:
        """A V: field: switch to the voice, reading its name and clef."""
        parts = value.split()
        voice_id = parts[0] if parts else "1"
        self.current_id, self.current = voice_id, self._voice(voice_id)
        self.apply_clef(value)
        name = _NAME.search(value)
        if name:
            self.current.info_name = name.group(1).strip()
        self.tuplet_left, self.broken_next = 0, Fraction(1)

    def apply_clef(self, value: str) -> None:
        clef = _CLEF.search(value)
        if clef:
            self.current.clef = clef.group(1)
            self.current.octave_shift = {"-8": -1, "+8": 1}.get(clef.group(2) or "", 0)

    def field(self, letter: str, value: str) -> None:
        if letter == "V":
            self.declare(value)
        elif letter == "M":
            self.meter = read_meter(value)
        elif letter == "L":
            self.unit = parse_unit(value) or self.unit
        elif letter == "K":
            self.apply_clef(value)
        elif letter == "P":
            self.current.part = value.strip()[:1].upper()

    def _new_beam(self) -> None:
        self.current.beam = self.next_beam
        self.next_beam += 1

    def _sound(self, token_line: int, column: int, multiple: Fraction, rest: bool) -> None:
        voice = self.current
        factor = self.broken_next
        self.broken_next = Fraction(1)
        if self.tuplet_left > 0:
            factor *= self.tuplet_factor
            self.tuplet_left -= 1
        duration = _note_ticks(multiple, self.unit, factor)
        beamable = not rest and duration < _QUARTER
        if not beamable:
            self._new_beam()
        if not voice.bar_has_content:
            voice.bar_line = token_line
        beam = voice.beam if beamable else -1
        voice.notes.append(
            [len(voice.bars), voice.position, duration, rest, False, beam, token_line, column]
        )
        if not beamable:
            self._new_beam()
        voice.position += duration
        voice.bar_has_content = True

    def _broken(self, text: str) -> None:
        voice = self.current
        if not voice.notes:
            return
        last = voice.notes[-1]
        shorter = Fraction(1, 2 ** len(text))
        first, second = (2 - shorter, shorter) if text[0] == ">" else (shorter, 2 - shorter)
        longer = int(last[2]) * first.numerator // first.denominator
        voice.position += longer - int(last[2])
        last[2] = longer
        self.broken_next = second

    def _tie(self) -> None:
        if self.in_chord:
            self.chord_tied = True
        elif self.current.notes:
            self.current.notes[-1][4] = True

    def close_bar(self, text: str, line: int) -> None:
        voice = self.current
        self._new_beam()
        if not voice.bar_has_content:
            voice.opening += text
            return
        opening = voice.opening
        digits = re.search(r"\d+", opening)
        voice.bars.append(
            WrittenBar(
                self.current_id,
                0,
                voice.bar_start,
                voice.position - voice.bar_start,
                self.meter,
                False,
                opening.rstrip("0123456789,-[").endswith(":") or "::" in opening,
                text.startswith(":") or text == "::",
                int(digits.group(0)) if digits else None,
                voice.bar_line,
                voice.part,
            )
        )
        voice.bar_start, voice.bar_has_content, voice.opening = voice.position, False, text

    def feed(self, kind: str, text: str, line: int, column: int, length: Fraction) -> None:
        if kind == "grace_open":
            self.in_grace = True
        elif kind == "grace_close":
            self.in_grace = False
        elif self.in_grace:
            return
        elif kind == "note" and self.in_chord:
            if self.chord_first is None:
                self.chord_first = length
        elif kind in ("note", "rest"):
            self._sound(line, column, length, kind == "rest")
        elif kind == "measure_rest":
            count = int(text[1:] or 1)
            bar = self.meter.bar if self.meter else Fraction(1)
            self._sound(line, column, bar * count / self.unit, True)  # in units, like notes
        elif kind == "chord_open":
            self.in_chord, self.chord_first, self.chord_tied = True, None, False
            self.chord_column = column
        elif kind == "chord_close" and self.in_chord:
            self.in_chord = False
            self._sound(line, self.chord_column, (self.chord_first or Fraction(1)) * length, False)
            if self.chord_tied:
                self._tie()
        elif kind == "tie":
            self._tie()
        elif kind == "broken":
            self._broken(text)
        elif kind == "tuplet":
            parts = text[1:].split(":")
            p = int(parts[0])
            q = int(parts[1]) if len(parts) > 1 and parts[1] else _TUPLET_Q.get(p, 2)
            r = int(parts[2]) if len(parts) > 2 and parts[2] else p
            if p > 0:
                self.tuplet_left, self.tuplet_factor = r, Fraction(q, p)
        elif kind == "bar":
            self.close_bar(text, line)
        elif kind in ("space", "field", "continuation"):
            if kind == "field" or text.strip("`"):  # a backquote keeps the beam
                self._new_beam()
            if kind == "field":
                self.field(text[1], text[3:-1])
        elif kind == "annotation":
            name = text.strip('"')
            if _CHORD_NAME.match(name):
                voice = self.current
                self.chords.append((self.current_id, len(voice.bars), voice.position, name))
                self.current.chords += 1

    def finish(self, key: str, gchords_off: bool, parts: str) -> Timeline:
        bars: list[WrittenBar] = []
        notes: list[WrittenNote] = []
        infos = []
        offsets: dict[str, int] = {}
        for voice_id in self.order:
            voice = self.voices[voice_id]
            self.current, self.current_id = voice, voice_id
            if voice.bar_has_content:
                self.close_bar("|]", voice.bar_line)
            if not voice.bars and not voice.notes:
                continue
            offset = offsets[voice_id] = len(bars)
            first = voice.bars[0] if voice.bars else None
            pickup = bool(
                first
                and first.meter is not None
                and first.length < first.meter.bar_ticks
                and len(voice.bars) > 1
            )
            for index, bar in enumerate(voice.bars):
                number = index if pickup else index + 1
                bars.append(replace(bar, number=number, pickup=pickup and index == 0))
            for bar_index, onset, duration, rest, tied, beam, line, column in voice.notes:
                notes.append(
                    WrittenNote(
                        voice_id,
                        offset + int(bar_index),
                        int(onset),
                        int(duration),
                        bool(rest),
                        bool(tied),
                        int(beam),
                        int(line),
                        int(column),
                    )
                )
            infos.append(
                VoiceInfo(
                    voice_id,
                    voice.info_name,
                    voice.clef,
                    voice.octave_shift,
                    voice.program,
                    voice.chords > 0,
                )
            )
        chords = []
        for voice_id, bar_index, onset, name in self.chords:
            in_voice = len(self.voices[voice_id].bars)
            where = offsets[voice_id] + min(bar_index, in_voice - 1) if voice_id in offsets else -1
            chords.append(ChordSymbol(voice_id, where, onset, name))
        return Timeline(
            tuple(infos),
            tuple(notes),
            tuple(chords),
            tuple(bars),
            self.meter,
            key,
            gchords_off,
            parts,
        )


def read_timeline(text: str) -> Timeline:
    """The written notes, chord symbols, bars and voices of one tune (its first tune)."""
    lines = text.split("\n")
    body = header_end(lines)
    fields: dict[str, str] = {}
    for line in lines[:body]:
        match = FIELD_LINE.match(line)
        if match:
            fields.setdefault(match.group(1), match.group(2).strip())
    meter = read_meter(fields.get("M", "4/4")) if "M" in fields else Meter(4, 4)
    unit = parse_unit(fields.get("L", "")) or default_unit(meter.bar if meter else None)
    walker = _Walker(meter, unit)
    gchords_off = False
    for index, line in enumerate(lines):
        if index >= body and line.startswith("X:"):
            break  # a second tune
        program = _PROGRAM.match(line.strip())
        if program:
            walker.current.program = int(program.group(1))
            continue
        if "gchordoff" in line and line.lstrip().startswith("%%MIDI"):
            gchords_off = True
        field_match = FIELD_LINE.match(line)
        if index < body:
            if field_match and field_match.group(1) in "VK":
                walker.field(field_match.group(1), field_match.group(2))
            continue
        if index == body and walker.order:
            walker.declare(walker.order[0])
        if field_match:
            walker.field(field_match.group(1), field_match.group(2))
            continue
        if line.startswith("%"):
            continue
        for token in tokenize_line(strip_comment(line), index + 1):
            walker.feed(token.kind, token.text, token.line, token.column, token.length)
    return walker.finish(fields.get("K", "C"), gchords_off, expand_parts(fields.get("P", "")))
