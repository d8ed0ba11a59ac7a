"""The harmony in effect at each moment: from chord symbols when the tune has them, else
inferred from the pitches that sound (template matching on duration-weighted pitch classes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pictune.abc.timeline import TICKS_PER_WHOLE, Timeline
from pictune.music.bars import BarGrid
from pictune.music.keys import PITCH_NAMES
from pictune.music.voices import Voices

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Intervals above the root of each chord quality a symbol can name.
QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7), "maj": (0, 4, 7), "M": (0, 4, 7), "m": (0, 3, 7), "min": (0, 3, 7),
    "-": (0, 3, 7), "dim": (0, 3, 6), "o": (0, 3, 6), "aug": (0, 4, 8), "+": (0, 4, 8),
    "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "M7": (0, 4, 7, 11), "m7": (0, 3, 7, 10),
    "min7": (0, 3, 7, 10), "-7": (0, 3, 7, 10), "dim7": (0, 3, 6, 9), "o7": (0, 3, 6, 9),
    "m7b5": (0, 3, 6, 10), "sus4": (0, 5, 7), "sus": (0, 5, 7), "sus2": (0, 2, 7),
    "6": (0, 4, 7, 9), "m6": (0, 3, 7, 9), "9": (0, 4, 7, 10, 2), "m9": (0, 3, 7, 10, 2),
    "maj9": (0, 4, 7, 11, 2), "add9": (0, 4, 7, 2), "5": (0, 7), "7sus4": (0, 5, 7, 10),
    "11": (0, 4, 7, 10, 2, 5), "13": (0, 4, 7, 10, 2, 9), "aug7": (0, 4, 8, 10),
    "7b9": (0, 4, 7, 10, 1), "mmaj7": (0, 3, 7, 11),
}  # fmt: skip
_SYMBOL = re.compile(r"^([A-G])(##|bb|[#bx]?)([^/\s]*)(?:/([A-G])(##|bb|[#bx]?))?$")
_ALTER = {"": 0, "#": 1, "##": 2, "x": 2, "b": -1, "bb": -2}
_LETTER = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# Templates for inference: major, minor, diminished triads and the dominant seventh.
_INFERRED = (("", (0, 4, 7)), ("m", (0, 3, 7)), ("dim", (0, 3, 6)), ("7", (0, 4, 7, 10)))


@dataclass(frozen=True)
class Chord:
    """A chord: root pitch class, its pitch classes, its name as written or inferred."""

    root: int
    tones: frozenset[int]
    name: str
    bass: int | None = None  # the slash bass of 'G/B'

    def spelled(self, pitch_class: int) -> str:
        return PITCH_NAMES[pitch_class % 12]


def parse_chord_symbol(text: str) -> Chord | None:
    """The Chord a symbol names ('Am', 'F#m7b5', 'Bbmaj7', 'G/B', 'Dsus4', 'F##dim');
    None otherwise."""
    match = _SYMBOL.match(text.strip())
    if not match:
        return None
    letter, accidental, quality, bass_letter, bass_accidental = match.groups()
    intervals = QUALITIES.get(quality)
    if intervals is None:
        return None
    root = (_LETTER[letter] + _ALTER[accidental]) % 12
    bass = None
    if bass_letter:
        bass = (_LETTER[bass_letter] + _ALTER[bass_accidental or ""]) % 12
    tones = frozenset((root + i) % 12 for i in intervals) | ({bass} if bass is not None else set())
    return Chord(root, tones, text.strip(), bass)


@dataclass(frozen=True, eq=False)
class Harmony:
    """Chords over half-open spans of ticks [start, end), sorted; `source` says where from."""

    start: IntArray
    end: IntArray
    chords: tuple[Chord, ...]
    source: str  # "symbols" or "inferred"

    @property
    def size(self) -> int:
        return int(self.start.size)

    def index_at(self, ticks: IntArray) -> IntArray:
        """Index of the chord in effect at each tick (-1 where none is)."""
        if self.size == 0:
            return np.full(ticks.shape, -1, dtype=np.int64)
        index = np.searchsorted(self.start, ticks, side="right") - 1
        safe = np.clip(index, 0, self.size - 1)
        return np.where((index >= 0) & (ticks < self.end[safe]), index, -1)

    def masks(self) -> BoolArray:
        """(chords, 12) pitch-class membership, for vectorised checks."""
        table = np.zeros((max(self.size, 1), 12), dtype=bool)
        for row, chord in enumerate(self.chords):
            table[row, list(chord.tones)] = True
        return table

    def roots(self) -> IntArray:
        return np.array([c.root for c in self.chords] or [0], dtype=np.int64)


def harmony_from_symbols(
    timeline: Timeline, performed: list[tuple[int, int]], resolution: int, end: int
) -> Harmony | None:
    """Chord symbols placed on the performed time line; None when the tune has none.

    `performed` is (text bar index, start tick) in playing order. A symbol lasts until the
    next one in any voice.
    """
    if not timeline.chords:
        return None
    # Each voice numbers its bars alike, so a symbol written in any voice is placed by the
    # number of its bar and its offset into that bar.
    by_number: dict[int, list[tuple[int, Chord]]] = {}
    for symbol in timeline.chords:
        chord = parse_chord_symbol(symbol.name)
        if chord is None or symbol.bar < 0:
            continue
        bar = timeline.bars[symbol.bar]
        offset = round((symbol.onset - bar.start) * 4 * resolution / TICKS_PER_WHOLE)
        by_number.setdefault(bar.number, []).append((offset, chord))
    placed: list[tuple[int, Chord]] = []
    for index, tick in performed:
        for offset, chord in by_number.get(timeline.bars[index].number, ()):
            placed.append((tick + offset, chord))
    if not placed:
        return None
    placed.sort(key=lambda item: item[0])  # stable: voices' symbols at one tick keep order
    start = np.array([tick for tick, _ in placed], dtype=np.int64)
    stop = np.append(start[1:], max(end, int(start[-1]) + 1))
    return Harmony(start, stop, tuple(chord for _, chord in placed), "symbols")


def _template_matrix() -> tuple[npt.NDArray[np.float64], list[Chord]]:
    rows, chords = [], []
    for quality, intervals in _INFERRED:
        for root in range(12):
            tones = frozenset((root + i) % 12 for i in intervals)
            row = np.full(12, -1.0)
            row[list(tones)] = 1.0
            rows.append(row - (0.15 if len(intervals) > 3 else 0.0))
            chords.append(Chord(root, tones, f"{PITCH_NAMES[root]}{quality}"))
    return np.array(rows).T, chords


_TEMPLATES, _TEMPLATE_CHORDS = _template_matrix()


def infer_harmony(voices: Voices, grid: BarGrid, end: int) -> Harmony:
    """One chord per beat, from the pitch classes sounding in it (weighted by duration).

    Where the accompaniment sounds fewer than two pitch classes in a beat, the span widens to
    the strong beat's half bar (or bar), so a single line still gets a plausible harmony.
    """
    beats = grid.beats()
    if beats.tick.size == 0 or not voices.voices:
        return Harmony(np.zeros(0, np.int64), np.zeros(0, np.int64), (), "inferred")
    edges = np.append(beats.tick, max(end, int(beats.tick[-1]) + 1))
    strong_edges = np.append(beats.tick[beats.strong], edges[-1])
    weights = np.zeros((beats.tick.size, 12))
    wide = np.zeros((strong_edges.size - 1, 12))
    accompaniment = np.zeros((beats.tick.size, 12))
    bass_pc = np.full(beats.tick.size, -1)
    for index, voice in enumerate(voices.voices):
        share = 0.5 if index == voices.melody and len(voices.voices) > 1 else 1.0
        _accumulate(weights, edges, voice.time, voice.duration, voice.pitch, share)
        _accumulate(wide, strong_edges, voice.time, voice.duration, voice.pitch, share)
        if index != voices.melody:
            _accumulate(accompaniment, edges, voice.time, voice.duration, voice.pitch, 1.0)
    bass = voices.bass_line()
    if bass is not None and bass.size:
        sounding = bass.sounding(beats.tick)
        bass_pc = np.where(sounding >= 0, bass.pitch[np.maximum(sounding, 0)] % 12, -1)
    thin = (accompaniment > 0).sum(axis=1) < 2
    if thin.any() and wide.shape[0]:
        span = np.clip(np.searchsorted(strong_edges, beats.tick, side="right") - 1, 0, None)
        span = np.minimum(span, wide.shape[0] - 1)
        weights[thin] = wide[span[thin]]
    totals = weights.sum(axis=1, keepdims=True)
    scores = (weights / np.where(totals > 0, totals, 1.0)) @ _TEMPLATES
    roots = np.array([c.root for c in _TEMPLATE_CHORDS])
    scores += 0.3 * (roots[None, :] == bass_pc[:, None])
    best = np.argmax(scores, axis=1)
    keep = totals[:, 0] > 0
    chords = tuple(_TEMPLATE_CHORDS[int(i)] for i in best[keep])
    return Harmony(edges[:-1][keep], edges[1:][keep], chords, "inferred")


def _accumulate(
    table: npt.NDArray[np.float64],
    edges: IntArray,
    time: IntArray,
    duration: IntArray,
    pitch: IntArray,
    share: float,
) -> None:
    """Add each note's overlap (in ticks) with each span [edges[i], edges[i+1]) to table[i]."""
    if time.size == 0 or edges.size < 2:
        return
    first = np.clip(np.searchsorted(edges, time, side="right") - 1, 0, edges.size - 2)
    last = np.clip(np.searchsorted(edges, time + duration, side="left") - 1, 0, edges.size - 2)
    span = last - first + 1
    rows = np.repeat(first, span) + (
        np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
    )
    starts = np.repeat(time, span)
    stops = np.repeat(time + duration, span)
    overlap = np.minimum(stops, edges[rows + 1]) - np.maximum(starts, edges[rows])
    good = overlap > 0
    np.add.at(table, (rows[good], np.repeat(pitch % 12, span)[good]), share * overlap[good])
