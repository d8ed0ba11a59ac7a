"""Harmony first: the chords of a piece, phrase by phrase, before any melody is written.

Chord successions come from a table learned from the Bach chorales that music21 ships
(`scripts/learn_progressions.py`, shipped as package data); each phrase ends on a cadence
formula (half, authentic, deceptive), contrasting phrases move to a related key region
(relative or dominant; subdominant for a third theme) and come home through a half cadence
in the home key, and the harmonic rhythm is one or two chords a bar."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from pictune.models.offline.theory import Chord, triad

Cadence = str  # "half", "authentic", "deceptive", "plagal"
PREDOMINANTS = {"major": (1, 3), "minor": (3, 3)}  # ii or IV; iv in minor (ii° is weak)


@dataclass(frozen=True)
class ProgressionTable:
    """Counts of the next chord (scale degree of its root) after each chord, by mode."""

    transitions: dict[str, dict[int, dict[int, int]]]
    cadences: dict[str, dict[str, int]]
    pieces: dict[str, int]

    def weights(self, mode: str, degree: int) -> dict[int, float]:
        row = self.transitions["minor" if mode == "minor" else "major"].get(degree, {})
        return {d: float(n) for d, n in row.items()}


@lru_cache(maxsize=1)
def progression_table() -> ProgressionTable:
    """The packaged table (read once; it is a constant of the installed package)."""
    text = resources.files("pictune.models.offline").joinpath("data/progressions.json")
    data = json.loads(text.read_text("utf-8"))
    transitions = {
        mode: {int(a): {int(b): int(n) for b, n in row.items()} for a, row in rows.items()}
        for mode, rows in data["transitions"].items()
    }
    return ProgressionTable(transitions, data["cadences"], data["pieces"])


@dataclass(frozen=True)
class Slot:
    """One chord in one bar: where it starts and how long it lasts, in sixteenths."""

    start: int
    length: int
    chord: Chord


@dataclass(frozen=True)
class Phrase:
    letter: str  # "A", "A'", "B", "C" …
    first_bar: int
    bars: int
    cadence: Cadence
    region_pc: int
    region_mode: str


@dataclass(frozen=True)
class Harmony:
    bars: list[list[Slot]]
    phrases: list[Phrase]


def chord_at(bar: list[Slot], onset: int) -> Chord:
    """The chord in effect at `onset` (sixteenths into the bar)."""
    return next(s.chord for s in reversed(bar) if s.start <= onset)


def parse_form(form: str) -> list[str]:
    """'AABA' → ['A', 'A', 'B', 'A']; "ABA'" → ['A', 'B', "A'"]."""
    letters: list[str] = []
    for char in form:
        if char == "'" and letters:
            letters[-1] += "'"
        elif char.isalpha():
            letters.append(char)
    return letters


def cadences_for(letters: list[str], deceptive: bool) -> list[Cadence]:
    """Half cadences mid-section, authentic ones closing a section and the piece; the first
    closing cadence before the end turns deceptive when the plan asks for one."""
    result: list[Cadence] = []
    for i, letter in enumerate(letters):
        if i == len(letters) - 1:
            result.append("authentic")
        elif letter[0] != "A":
            result.append("half")  # a contrasting phrase leads back home through V
        elif letters[i + 1][0] == "A" and (i == 0 or letters[i - 1][0] != "A"):
            result.append("half")  # antecedent: the question
        else:
            result.append("authentic")  # consequent, or the end of a section
    if deceptive:
        for i in range(len(result) - 1):
            if result[i] == "authentic":
                result[i] = "deceptive"
                break
    return result


def region_of(letter: str, home_pc: int, mode: str, contrast: str) -> tuple[int, str]:
    """The key region a phrase lives in: home for A, relative or dominant for B, the
    subdominant (or relative) for C and later letters."""
    if letter[0] == "A":
        return home_pc, mode
    if letter[0] == "B":
        if contrast == "dominant":
            return (home_pc + 7) % 12, mode
        return ((home_pc + 9) % 12, "minor") if mode == "major" else ((home_pc + 3) % 12, "major")
    if contrast == "dominant":
        return ((home_pc + 9) % 12, "minor") if mode == "major" else ((home_pc + 3) % 12, "major")
    return (home_pc + 5) % 12, mode


def slot_lengths(bar: int, beat: int, chords: int) -> list[int]:
    """How one bar is split between its chords (two chords: at the middle beat)."""
    beats = bar // beat
    if chords < 2 or beats < 2:
        return [bar]
    first = (beats + 1) // 2 * beat
    return [first, bar - first]


class HarmonyWriter:
    """Writes the chord plan of a whole piece from the progression table."""

    def __init__(self, table: ProgressionTable, rng: random.Random) -> None:
        self.table, self.rng = table, rng

    def _walk(self, mode: str, start: int, count: int, target: int) -> list[int]:
        """`count` chords from `start`, each drawn from the table given the one before; the
        last leans towards chords that lead well into `target`."""
        chords = [start]
        while len(chords) < count:
            weights = self.table.weights(mode, chords[-1]) or {0: 1.0, 3: 1.0, 4: 1.0}
            options = {d: w for d, w in weights.items() if d != chords[-1]}
            if len(chords) == count - 1:
                into = {
                    d: w * (1 + self.table.weights(mode, d).get(target, 0.0))
                    for d, w in options.items()
                }
                options = {d: w for d, w in into.items() if d != target} or into
            degrees = sorted(options)
            chords.append(self.rng.choices(degrees, [options[d] ** 0.8 for d in degrees])[0])
        return chords

    def phrase(
        self,
        region: tuple[int, str],
        home: tuple[int, str],
        cadence: Cadence,
        lengths: list[list[int]],
        reuse: list[int] | None = None,
    ) -> tuple[list[list[Slot]], list[int]]:
        """Chords for one phrase (`lengths`: each bar's slot lengths). A returning phrase
        passes `reuse`, the degrees of the phrase it repeats, and keeps them up to the
        cadence."""
        home_pc, home_mode = home
        region_pc, region_mode = region
        slots = [len(bar) for bar in lengths]
        total = sum(slots)
        # The cadence formula, in the home key, on the last slots.
        pre = self.rng.choice(PREDOMINANTS[home_mode])
        if cadence == "half":
            formula = [pre, 4]
        elif cadence == "deceptive":
            formula = [pre, 4, 5]
        elif cadence == "plagal":
            formula = [3, 0]
        else:
            formula = [pre, 4, 0]
        if slots[-2] == 1 and len(formula) == 3:  # one chord in the bar before the last
            formula = formula[1:]
        free = total - len(formula)
        if reuse is not None and len(reuse) >= free:
            degrees = list(reuse[:free])
        else:
            degrees = self._walk(region_mode, 0, free, formula[0])
        in_region = [(d, region_pc, region_mode) for d in degrees]
        in_home = [(d, home_pc, home_mode) for d in formula]
        chosen = in_region + in_home
        # No chord struck twice in a row across the join (e.g. a walk ending on the formula's
        # first chord): nudge the walk's last chord to a neighbour.
        if free >= 2 and chosen[free - 1][0] == chosen[free][0] and region_pc == home_pc:
            chosen[free - 1] = (chosen[free - 1][0] + 5) % 7, region_pc, region_mode
        bars: list[list[Slot]] = []
        index = 0
        for bar_lengths in lengths:
            bar: list[Slot] = []
            start = 0
            for length in bar_lengths:
                degree, pc, mode = chosen[index]
                following = chosen[index + 1][0] if index + 1 < len(chosen) else None
                bar.append(Slot(start, length, triad(degree, pc, mode, following)))
                start += length
                index += 1
            bars.append(bar)
        return bars, [d for d, _, _ in chosen]


def write_harmony(
    letters: list[str],
    home_pc: int,
    mode: str,
    contrast: str,
    bar: int,
    beat: int,
    chords_per_bar: int,
    deceptive: bool,
    rng: random.Random,
    phrase_bars: int = 4,
) -> Harmony:
    """The chord plan of a piece whose phrases follow `letters`."""
    writer = HarmonyWriter(progression_table(), rng)
    cadences = cadences_for(letters, deceptive)
    bars: list[list[Slot]] = []
    phrases: list[Phrase] = []
    seen: dict[str, list[int]] = {}
    for letter, cadence in zip(letters, cadences, strict=True):
        region = region_of(letter, home_pc, mode, contrast)
        lengths = [slot_lengths(bar, beat, chords_per_bar) for _ in range(phrase_bars)]
        lengths[-1] = [bar]  # the cadence chord fills the last bar
        lengths[-2] = slot_lengths(bar, beat, 2)  # the cadence quickens the harmony
        phrase_chords, degrees = writer.phrase(
            region, (home_pc, mode), cadence, lengths, seen.get(letter[0])
        )
        seen.setdefault(letter[0], degrees)
        phrases.append(Phrase(letter, len(bars), phrase_bars, cadence, *region))
        bars.extend(phrase_chords)
    return Harmony(bars, phrases)


def coda_harmony(home_pc: int, mode: str, bar: int, beat: int, plagal: bool) -> list[list[Slot]]:
    """Two closing bars after the final cadence: IV (or V) to I, then I held."""
    lengths = slot_lengths(bar, beat, 2)
    first = triad(3 if plagal else 4, home_pc, mode)
    tonic = triad(0, home_pc, mode)
    opening = [Slot(0, lengths[0], first)]
    if len(lengths) > 1:
        opening.append(Slot(lengths[0], lengths[1], tonic))
    return [opening, [Slot(0, bar, tonic)]]


def intro_harmony(home_pc: int, mode: str, bar: int) -> list[list[Slot]]:
    """Two bars of accompaniment alone before the tune: I, then V."""
    return [[Slot(0, bar, triad(0, home_pc, mode))], [Slot(0, bar, triad(4, home_pc, mode))]]
