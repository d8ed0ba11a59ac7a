"""Novelty against references: the longest run of melody notes a tune shares with one.

One definition for every backend: the melody line of the candidate (the highest pitched
voice, its top note at each onset) against the melody lines of the references, notes as
(MIDI pitch, sixteenths to the next onset). A shared run of `COPY_RUN` notes or more is a
copy (the "RAG noise" failure: the model reproducing a retrieved example)."""

from __future__ import annotations

import numpy as np

from pictune.music.score import Score

COPY_RUN = 8
Line = list[tuple[int, int]]
DURATIONS = (1, 2, 3, 4, 6, 8, 12, 16)  # sixteenths a melody note is rounded to


def melody_notes(score: Score) -> Line:
    """The melody line: the pitched voice with the highest median pitch (the first voice on
    a tie), its highest note at each onset, durations as inter-onset intervals in sixteenths
    (abc2midi shortens sounding notes, so sounding durations would hide a copy)."""
    pitched = ~score.is_drum_note
    if not pitched.any():
        return []
    voices = sorted(set(score.track[pitched].tolist()))
    medians = [float(np.median(score.pitch[pitched & (score.track == v)])) for v in voices]
    melody = voices[int(np.argmax(medians))]
    mask = pitched & (score.track == melody)
    sixteenth = score.resolution / 4
    onsets = np.round(score.time[mask] / sixteenth).astype(np.int64)
    top: dict[int, int] = {}
    for onset, pitch in zip(onsets.tolist(), score.pitch[mask].tolist(), strict=True):
        top[onset] = max(top.get(onset, 0), pitch)
    times = sorted(top)
    line = []
    for i, onset in enumerate(times):
        gap = (times[i + 1] - onset) if i + 1 < len(times) else 4
        line.append((top[onset], min(DURATIONS, key=lambda d: abs(d - gap))))
    return line


def longest_shared_run(a: Line, b: Line) -> int:
    """Length of the longest run of consecutive (pitch, duration) notes found in both."""
    if not a or not b:
        return 0
    best = 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def copied_run(candidate: Line, references: list[Line]) -> int | None:
    """The longest run the candidate shares with any reference; None with no references."""
    if not references:
        return None
    return max(longest_shared_run(candidate, line) for line in references)
