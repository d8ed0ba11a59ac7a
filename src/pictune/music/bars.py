"""Bars and beats on a Score's time line: where each bar starts, its number, its beats.

From the ABC's timeline when given (bars as written, pickups, repeats as performed), else
from the Score's time signatures counted from tick 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from pictune.abc.timeline import TICKS_PER_WHOLE, Meter, Timeline
from pictune.music.score import Score

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Beats:
    """Every beat of a piece: tick, bar (index into the grid), 1-based beat, strong or not."""

    tick: IntArray
    bar: IntArray
    number: IntArray
    strong: BoolArray
    downbeat: BoolArray


@dataclass(frozen=True, eq=False)
class BarGrid:
    """Performed bars: start tick, tick of beat 1 (before the start in a pickup), length,
    ticks per beat, beats per bar and the number a reader sees on the page."""

    start: IntArray
    downbeat: IntArray
    length: IntArray
    beat: IntArray
    beats_per_bar: IntArray
    number: IntArray
    text_bar: IntArray  # index into the timeline's bars (-1 without a timeline)

    @property
    def size(self) -> int:
        return int(self.start.size)

    def bar_of(self, ticks: IntArray) -> IntArray:
        """Index of the bar holding each tick (0 before the first bar)."""
        return np.clip(np.searchsorted(self.start, ticks, side="right") - 1, 0, self.size - 1)

    def beat_of(self, ticks: IntArray) -> IntArray:
        """1-based beat holding each tick."""
        bar = self.bar_of(ticks)
        return (ticks - self.downbeat[bar]) // self.beat[bar] + 1

    def on_beat(self, ticks: IntArray) -> BoolArray:
        bar = self.bar_of(ticks)
        return np.asarray((ticks - self.downbeat[bar]) % self.beat[bar] == 0)

    def beats(self) -> Beats:
        """Every beat inside the bars (a pickup's missing beats left out)."""
        ticks, bars, numbers = [], [], []
        for index in range(self.size):
            count = int(self.beats_per_bar[index])
            at = self.downbeat[index] + self.beat[index] * np.arange(count)
            inside = (at >= self.start[index]) & (at < self.start[index] + self.length[index])
            ticks.append(at[inside])
            bars.append(np.full(int(inside.sum()), index))
            numbers.append(np.arange(1, count + 1)[inside])
        tick = np.concatenate(ticks).astype(np.int64) if ticks else np.zeros(0, np.int64)
        bar = np.concatenate(bars).astype(np.int64) if bars else np.zeros(0, np.int64)
        number = np.concatenate(numbers).astype(np.int64) if numbers else np.zeros(0, np.int64)
        four = self.beats_per_bar[bar] == 4 if bar.size else np.zeros(0, bool)
        strong = (number == 1) | (four & (number == 3))
        return Beats(tick, bar, number, strong, number == 1)


def _ticks(value: Fraction, resolution: int) -> int:
    """Score ticks of a length in whole notes."""
    return round(value * 4 * resolution)


def _from_timeline(ticks: int, resolution: int) -> int:
    """Score ticks of a length in timeline ticks."""
    return round(ticks * 4 * resolution / TICKS_PER_WHOLE)


def grid_from_timeline(timeline: Timeline, voice: str, resolution: int) -> BarGrid | None:
    """The bars of one written voice, in performed order; None when it has no bars."""
    performed = timeline.performed_bars(voice)
    if not performed:
        return None
    rows = []
    for index, position in performed:
        bar = timeline.bars[index]
        meter = bar.meter or Meter(4, 4)
        downbeat = position + (bar.downbeat - bar.start)
        rows.append(
            (
                _from_timeline(position, resolution),
                _from_timeline(downbeat, resolution),
                _from_timeline(bar.length, resolution),
                _ticks(meter.beat, resolution),
                meter.beats,
                bar.number,
                index,
            )
        )
    columns = np.array(rows, dtype=np.int64).T
    return BarGrid(*columns)


def grid_from_score(score: Score) -> BarGrid:
    """Bars from the Score's time signatures, counted from tick 0 and numbered from 1."""
    end = max(score.end, 1)
    latest = {
        tick: (tick, numerator, denominator)
        for tick, numerator, denominator in score.time_signatures
    }
    changes = [latest[tick] for tick in sorted(latest) if tick < end] or [(0, 4, 4)]
    if changes[0][0] > 0:
        changes.insert(0, (0, 4, 4))
    starts, lengths, beats, counts = [], [], [], []
    for (tick, numerator, denominator), nxt in zip(
        changes, [*changes[1:], (end, 0, 0)], strict=True
    ):
        meter = Meter(max(numerator, 1), max(denominator, 1))
        length = max(1, _ticks(meter.bar, score.resolution))
        stop = max(nxt[0], tick + 1)
        for start in range(tick, stop, length):
            starts.append(start)
            lengths.append(length)
            beats.append(max(1, _ticks(meter.beat, score.resolution)))
            counts.append(meter.beats)
    first = np.array(starts, dtype=np.int64)
    return BarGrid(
        first,
        first.copy(),
        np.array(lengths, dtype=np.int64),
        np.array(beats, dtype=np.int64),
        np.array(counts, dtype=np.int64),
        np.arange(1, first.size + 1, dtype=np.int64),
        np.full(first.size, -1, dtype=np.int64),
    )
