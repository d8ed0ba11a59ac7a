"""Everything the critic's rules read, computed once: key, voices, bars, harmony, outer lines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pictune.abc.timeline import TICKS_PER_WHOLE, Timeline, read_timeline
from pictune.music.bars import BarGrid, Beats, grid_from_score, grid_from_timeline
from pictune.music.harmony import Harmony, harmony_from_symbols, infer_harmony
from pictune.music.keys import Key, key_of
from pictune.music.score import Score
from pictune.music.voices import Line, Voices, find_voices, snap

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Analysis:
    """A piece read as a musician reads it. `timeline` is None when there is no ABC text."""

    score: Score
    timeline: Timeline | None
    key: Key
    voices: Voices
    grid: BarGrid
    beats: Beats
    harmony: Harmony
    melody: Line
    bass: Line | None

    @property
    def melody_label(self) -> str:
        voice = self.voices.melody_voice
        return voice.label if voice is not None else ""

    @property
    def bass_label(self) -> str:
        voice = self.voices.bass_voice
        if voice is None:
            return ""
        return voice.label if self.voices.bass != self.voices.melody else f"{voice.label} (bass)"

    @property
    def harmony_is_clear(self) -> bool:
        """Chord symbols, or an accompaniment to infer chords from (a lone line only hints)."""
        return (
            self.harmony.source == "symbols"
            or len(self.voices.voices) > 1
            or (self.voices.bass is not None)
        )

    def place(self, tick: int) -> tuple[int, int]:
        """(bar number as printed, 1-based beat) of a tick."""
        ticks = np.array([tick], dtype=np.int64)
        bar = int(self.grid.bar_of(ticks)[0])
        beat = int(self.grid.beat_of(ticks)[0])
        return int(self.grid.number[bar]), max(beat, 1)


def analyse(score: Score, abc: str | Timeline | None = None, *, key: Key | None = None) -> Analysis:
    """Read a Score (and its ABC text, for voices, bars and chord symbols) once for every rule.

    The key is the ABC's K: field, else the Score's key signature, else estimated; a caller
    who knows better (Bach wrote C minor with two flats) passes `key`.
    """
    timeline = read_timeline(abc) if isinstance(abc, str) else abc
    voices = find_voices(score, timeline)
    grid: BarGrid | None = None
    performed: list[tuple[int, int]] = []
    if timeline is not None and timeline.voices:
        first = timeline.voices[0].id
        grid = grid_from_timeline(timeline, first, score.resolution)
        if grid is not None and not _fits(grid, score, timeline, voices):
            grid = None  # the text's bars do not match what abc2midi played
        if grid is not None:
            performed = [(int(i), int(t)) for i, t in zip(grid.text_bar, grid.start, strict=True)]
    if grid is None:
        grid = grid_from_score(score)
    end = max(score.end, int(grid.start[-1] + grid.length[-1]) if grid.size else 0)
    harmony = None
    if timeline is not None and performed:
        harmony = harmony_from_symbols(timeline, performed, score.resolution, end)
    if harmony is None:
        harmony = infer_harmony(voices, grid, end)
    return Analysis(
        score=score,
        timeline=timeline,
        key=key or key_of(score, timeline.key if timeline is not None else None),
        voices=voices,
        grid=grid,
        beats=grid.beats(),
        harmony=harmony,
        melody=voices.melody_line(),
        bass=voices.bass_line(),
    )


ALIGNED_SHARE = 0.9  # of written onsets found in the Score for the text's bars to be trusted


def _fits(grid: BarGrid, score: Score, timeline: Timeline, voices: Voices) -> bool:
    """The written bars, played in order, put the first voice's notes where abc2midi played
    them: the performed length matches the Score's (within a bar) and nine in ten written
    onsets (ties and grace notes aside) are onsets of the melody in the Score."""
    end = int(grid.start[-1] + grid.length[-1])
    if abs(end - score.end) > max(int(grid.length.max()), score.resolution):
        return False
    melody = voices.melody_voice
    if melody is None or voices.melody != 0:
        return True
    first = timeline.voices[0].id
    offsets: dict[int, list[int]] = {}
    tied = False
    for note in timeline.notes:
        if note.voice != first:
            continue
        if not note.is_rest and not tied:
            offsets.setdefault(note.bar, []).append(note.onset - timeline.bars[note.bar].start)
        tied = note.tied
    written = [
        int(start) + round(offset * 4 * score.resolution / TICKS_PER_WHOLE)
        for bar, start in zip(grid.text_bar, grid.start, strict=True)
        for offset in offsets.get(int(bar), ())
    ]
    if not written:
        return True
    found = np.isin(snap(np.array(written, dtype=np.int64), score.resolution), melody.time)
    return float(found.mean()) >= ALIGNED_SHARE
