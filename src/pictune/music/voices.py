"""Which notes belong to which voice, and which voice carries the tune and which the bass.

The melody is the first voice (in a single chordal voice, its highest line); the bass is the
voice that sounds lowest (in a single chordal voice, its lowest line under the tune). Times
are snapped to a grid of 1/24 beat, since abc2midi delays every note by a tick and shortens
it by one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pictune.abc.timeline import Timeline, VoiceInfo
from pictune.music.keys import instrument_name
from pictune.music.ranges import clef_for
from pictune.music.score import Score

IntArray = npt.NDArray[np.int64]
GRID_PER_BEAT = 24  # snapping grid: 1/24 of a quarter note covers sixteenth-note triplets
CHORDAL_SHARE = 0.3  # of a single voice's onsets in chords, for it to carry its own bass
GCHORD_TRACKS = 2  # abc2midi plays a voice's chord symbols as a bass track and a chord track


def snap(ticks: IntArray, resolution: int) -> IntArray:
    """Ticks rounded to the nearest 1/24 of a quarter note."""
    step = max(1, resolution // GRID_PER_BEAT)
    return np.asarray(np.round(ticks / step).astype(np.int64) * step, dtype=np.int64)


def unstagger(time: IntArray, end: IntArray, track: IntArray, resolution: int) -> IntArray:
    """Onsets with abc2midi's chord stagger undone: it starts the notes of a chord 10 ticks
    apart and ends them together, so notes of one track that end together and start within
    an eighth of a beat of each other start with the first."""
    if time.size == 0:
        return time
    order = np.lexsort((time, end, track))
    t, e, k = time[order], end[order], track[order]
    new_group = np.concatenate(([True], (e[1:] != e[:-1]) | (k[1:] != k[:-1])))
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(t.size), 0))
    first = t[group_start]
    merged = np.where(t - first <= resolution // 8, first, t)
    result = np.empty_like(time)
    result[order] = merged
    return result


@dataclass(frozen=True, eq=False)
class Line:
    """One note at a time: onsets, durations and pitches, sorted by onset."""

    time: IntArray
    duration: IntArray
    pitch: IntArray

    @property
    def size(self) -> int:
        return int(self.time.size)

    def sounding(self, ticks: IntArray) -> IntArray:
        """Index of the note sounding at each tick (-1 where the line is silent)."""
        index = np.searchsorted(self.time, ticks, side="right") - 1
        safe = np.clip(index, 0, max(self.size - 1, 0))
        alive = (index >= 0) & (ticks < (self.time + self.duration)[safe]) if self.size else None
        return np.where(alive, index, -1) if alive is not None else np.full(ticks.shape, -1)


@dataclass(frozen=True, eq=False)
class Voice:
    """One voice: a label for messages, its instrument, its clef, and all its notes."""

    label: str
    program: int
    clef: str
    octave_shift: int
    time: IntArray
    duration: IntArray
    pitch: IntArray

    @property
    def instrument(self) -> str:
        return instrument_name(self.program)

    def top_line(self) -> Line:
        """The highest note of each onset."""
        return _line(self.time, self.duration, self.pitch, highest=True)

    def bottom_line(self, only_chords: bool = False) -> Line:
        """The lowest note of each onset (only of onsets with several notes, if asked)."""
        return _line(self.time, self.duration, self.pitch, highest=False, only_chords=only_chords)


def _line(
    time: IntArray, duration: IntArray, pitch: IntArray, highest: bool, only_chords: bool = False
) -> Line:
    if time.size == 0:
        return Line(time, duration, pitch)
    order = np.lexsort((-pitch if highest else pitch, time))
    time, duration, pitch = time[order], duration[order], pitch[order]
    first = np.concatenate(([True], time[1:] != time[:-1]))
    if only_chords:
        counts = np.diff(np.flatnonzero(np.concatenate((first, [True]))))
        first = first & np.repeat(counts > 1, counts)
    keep = np.flatnonzero(first)
    # A note ends where the next onset of the line begins, so that the line stays single.
    line_time, line_pitch = time[keep], pitch[keep]
    line_end = time[keep] + duration[keep]
    line_end[:-1] = np.minimum(line_end[:-1], line_time[1:])
    return Line(line_time, line_end - line_time, line_pitch)


@dataclass(frozen=True, eq=False)
class Voices:
    """The pitched voices of a piece, and which one carries the melody and which the bass."""

    voices: tuple[Voice, ...]
    melody: int  # index into voices (-1 when nothing is pitched)
    bass: int | None  # None for a single line

    @property
    def melody_voice(self) -> Voice | None:
        return self.voices[self.melody] if self.melody >= 0 else None

    @property
    def bass_voice(self) -> Voice | None:
        return self.voices[self.bass] if self.bass is not None else None

    def melody_line(self) -> Line:
        voice = self.melody_voice
        if voice is None:
            empty = np.zeros(0, np.int64)
            return Line(empty, empty, empty)
        return voice.top_line()

    def bass_line(self) -> Line | None:
        """The bass's lowest notes; in a single chordal voice, only under chords."""
        voice = self.bass_voice
        if voice is None:
            return None
        return voice.bottom_line(only_chords=self.bass == self.melody)

    @property
    def is_single_line(self) -> bool:
        """One voice that never sounds two notes at once."""
        return len(self.voices) <= 1 and self.bass is None


def voice_label(info: VoiceInfo) -> str:
    """How messages name a written voice: its name, else 'voice 2'."""
    return info.name or f"voice {info.id}"


def _voice_tracks(score: Score, timeline: Timeline | None) -> list[tuple[int, str, str, int]]:
    """(track, label, clef, octave shift) of each written voice, gchord tracks left out."""
    if timeline is not None:
        layout: list[tuple[int, str, str, int]] = []
        track = 0
        for info in timeline.voices:
            layout.append((track, voice_label(info), info.clef, info.octave_shift))
            track += 1 + (
                GCHORD_TRACKS if info.has_chord_symbols and not timeline.gchords_off else 0
            )
        if track == len(score.tracks):
            return layout
    return [(index, "", "", 0) for index in range(len(score.tracks))]


def find_voices(score: Score, timeline: Timeline | None = None) -> Voices:
    """The pitched voices of a Score (written voices when the ABC's timeline is given)."""
    end = snap(score.time + score.duration, score.resolution)
    time = snap(unstagger(score.time, end, score.track, score.resolution), score.resolution)
    voices: list[Voice] = []
    for track, label, clef, shift in _voice_tracks(score, timeline):
        info = score.tracks[track]
        mask = score.track == track
        if info.is_drum or not mask.any():
            continue
        pitch = score.pitch[mask]
        duration = np.maximum(end[mask] - time[mask], 1)
        name = label or f"voice {len(voices) + 1}"
        if not clef:
            clef, shift = clef_for(pitch)
        voices.append(Voice(name, info.program, clef, shift, time[mask], duration, pitch))
    if not voices:
        return Voices((), -1, None)
    if len(voices) == 1:
        # A fiddler's occasional double stop is not a bass line; a part in chords is.
        onsets, counts = np.unique(voices[0].time, return_counts=True)
        chordal = onsets.size > 0 and float((counts > 1).mean()) >= CHORDAL_SHARE
        return Voices(tuple(voices), 0, 0 if chordal else None)
    medians = [float(np.median(v.pitch)) for v in voices]
    # The first written voice carries the tune; in a MIDI file, unless it is the lowest one
    # (a bass track written first).
    melody = 0 if timeline is not None or medians[0] > min(medians) else int(np.argmax(medians))
    others = [i for i in range(len(voices)) if i != melody]
    bass = min(others, key=lambda i: (medians[i], -i))
    return Voices(tuple(voices), melody, bass)
