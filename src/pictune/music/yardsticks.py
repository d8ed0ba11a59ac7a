"""Compare like with like: the metrics of a piece's melody alone, and whether a piece is a
single line or several voices (whole-piece texture metrics such as polyphony only make sense
against multi-voice references)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pictune.abc.timeline import Timeline, read_timeline
from pictune.music.metrics import Metrics, compute_metrics
from pictune.music.score import Score, Track
from pictune.music.voices import Voices, find_voices


def _voices(score: Score, abc: str | Timeline | None) -> Voices:
    timeline = read_timeline(abc) if isinstance(abc, str) else abc
    return find_voices(score, timeline)


def _line_score(score: Score, voices: Voices, role: str) -> Score:
    """A Score holding only the melody (or bass) voice; in a voice that carries both, its top
    (or bottom) line."""
    index = voices.melody if role == "melody" else voices.bass
    voice = voices.voices[index] if index is not None and index >= 0 else None
    if voice is None:
        empty = np.zeros(0, np.int64)
        return replace(
            score, time=empty, duration=empty, pitch=empty, velocity=empty, track=empty, tracks=()
        )
    if voices.bass == voices.melody:
        line = voice.top_line() if role == "melody" else voice.bottom_line(only_chords=True)
        time, duration, pitch = line.time, line.duration, line.pitch
    else:
        order = np.lexsort((voice.pitch, voice.time))
        time, duration, pitch = voice.time[order], voice.duration[order], voice.pitch[order]
    return replace(
        score,
        time=time,
        duration=duration,
        pitch=pitch,
        velocity=np.full(time.size, 64, dtype=np.int64),
        track=np.zeros(time.size, dtype=np.int64),
        tracks=(Track(voice.label, voice.program, False),),
    )


def melody_score(score: Score, abc: str | Timeline | None = None) -> Score:
    """A Score holding only the melody voice (its top line when one voice carries everything).

    With the ABC text, abc2midi's chord-symbol accompaniment tracks are not mistaken for voices.
    """
    return _line_score(score, _voices(score, abc), "melody")


def melody_metrics(score: Score, abc: str | Timeline | None = None) -> Metrics:
    """The metrics (`pictune.music.metrics`) of the melody voice alone, to set beside corpus
    melodies."""
    return compute_metrics(melody_score(score, abc))


def bass_metrics(score: Score, abc: str | Timeline | None = None) -> Metrics | None:
    """The metrics of the bass voice alone (to set beside bass lines); None for a single
    line."""
    voices = _voices(score, abc)
    if voices.bass is None:
        return None
    return compute_metrics(_line_score(score, voices, "bass"))


def is_multi_voice(score: Score, abc: str | Timeline | None = None) -> bool:
    """True when more than one line sounds: several pitched voices, or chords in one voice.

    A lead sheet (one tune with chord symbols) is a single line: abc2midi's chord tracks do
    not count when the ABC text is given.
    """
    voices = _voices(score, abc)
    return len(voices.voices) > 1 or voices.bass is not None
