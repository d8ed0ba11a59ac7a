"""Readable ABC for one voice: notes beamed within each beat and spaced between beats, ties
written wherever a note runs over a beat (or a bar line) it does not start on, 3+3 grouping
in compound time, accidentals written explicitly against the key signature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pictune.models.offline.arrangement import Event
from pictune.models.offline.theory import NATURAL_PC, Key, length_suffix

WRITABLE = (1, 2, 3, 4, 6, 8, 12, 16, 24)  # sixteenths a single ABC note can show


@dataclass
class VoiceText:
    """What the writer needs to know about one voice beyond its events."""

    key: Key
    spelling: Callable[[int], Key]  # the key region in force at a time (for accidentals)
    marks: dict[int, list[str]] = field(default_factory=dict)  # time → prefixes
    splits: set[int] = field(default_factory=set)  # times a note must be cut (chord changes)
    staccato: bool = False
    slurred: bool = False


def _pieces(
    onset: int, length: int, bar: int, beat: int, splits: set[int]
) -> list[tuple[int, int]]:
    """How a note from `onset` (within its bar) is written: whole when it starts on a beat,
    lasts whole beats, has a single written value and (in 4/4) does not hide the middle of
    the bar; otherwise cut at each beat and into written values, to be tied."""
    inner = [t for t in splits if onset < t < onset + length]
    clean = (
        onset % beat == 0
        and length % beat == 0
        and length in WRITABLE
        and not inner
        and not (bar == 16 and beat == 4 and onset % 8 != 0 and length > 4)
    )
    if clean:
        return [(onset, length)]
    cuts = sorted(
        {onset + length, *inner, *range((onset // beat + 1) * beat, onset + length, beat)}
    )
    pieces: list[tuple[int, int]] = []
    at = onset
    for cut in cuts:
        while at < cut:
            part = max(d for d in WRITABLE if d <= cut - at)
            pieces.append((at, part))
            at += part
    return pieces


class _Speller:
    """ABC note names with accidentals kept right within a bar, for both readings of an
    accidental: abc2midi carries it to every octave of the letter for the rest of the bar,
    a musician to the same note only. A note states its accidental when either reading
    would otherwise get it wrong: the first altered note, a return to the signature's note,
    and a courtesy sign in another octave; the same note again within the bar needs none."""

    def __init__(self, key: Key) -> None:
        self.key = key
        self.letters: dict[str, int] = {}  # alteration in force for a letter (abc2midi)
        self.notes: dict[tuple[str, int], int] = {}  # … for one note (a reader)

    def new_bar(self) -> None:
        self.letters, self.notes = {}, {}

    def name(self, pitch: int, region: Key) -> str:
        letter, alter = region.spell(pitch)
        natural = pitch - alter
        octave = (natural - NATURAL_PC[letter]) // 12 - 1
        signature = self.key.signature[letter]
        sign = ""
        if (
            self.letters.get(letter, signature) != alter
            or self.notes.get((letter, octave), signature) != alter
        ):
            sign = {-2: "__", -1: "_", 0: "=", 1: "^", 2: "^^"}[alter]
            self.letters[letter] = self.notes[letter, octave] = alter
        if octave >= 5:
            return sign + letter.lower() + "'" * (octave - 5)
        return sign + letter + "," * (4 - octave)


def voice_bars(events: list[Event], bar: int, beat: int, text: VoiceText) -> list[str]:
    """The ABC of each bar of one voice (events must tile the piece from time 0)."""
    total_bars = max(1, -(-max(e.start + e.length for e in events) // bar))
    per_bar: list[list[tuple[int, int, tuple[int, ...], bool, int]]] = [
        [] for _ in range(total_bars)
    ]
    for event in events:
        at, end = event.start, event.start + event.length
        while at < end:
            number, onset = divmod(at, bar)
            part = min(end, (number + 1) * bar) - at
            cut = _pieces(onset, part, bar, beat, {t - number * bar for t in text.splits})
            for i, (start, length) in enumerate(cut):
                tied = bool(event.pitches) and (i < len(cut) - 1 or at + part < end)
                per_bar[number].append((start, length, event.pitches, tied, number * bar + start))
            at += part
    speller = _Speller(text.key)
    written = []
    for number, pieces in enumerate(per_bar):
        speller.new_bar()
        groups: list[list[str]] = []
        last_group = -1
        for start, length, pitches, tied, absolute in sorted(pieces):
            region = text.spelling(absolute)
            if not pitches:
                token = "z" + length_suffix(length)
            else:
                names = [speller.name(p, region) for p in sorted(pitches)]
                body = names[0] if len(names) == 1 else "[" + "".join(names) + "]"
                token = body + length_suffix(length) + ("-" if tied else "")
                if text.staccato and length <= 2 and not tied:
                    token = "." + token
            token = "".join(text.marks.get(absolute, [])) + token
            group = start // beat if length < beat else -2 - start
            if group != last_group or not groups:
                groups.append([])
            groups[-1].append(token)
            last_group = group
        bar_text = " ".join("".join(g) for g in groups)
        notes = sum(1 for _, _, p, _, _ in pieces if p)
        if text.slurred and notes > 1 and all(p for _, _, p, _, _ in pieces):
            bar_text = "(" + bar_text + ")"
        written.append(bar_text)
        _ = number
    return written


def abc_lines(bars: list[str], per_line: int = 4) -> list[str]:
    lines = []
    for first in range(0, len(bars), per_line):
        chunk = bars[first : first + per_line]
        end = "|]" if first + per_line >= len(bars) else "|"
        lines.append(" | ".join(chunk) + " " + end)
    return lines
