"""Harmony rules: the melody's notes on strong beats belong to the chord (unless a suspension
or appoggiatura resolves them by step), and the bass takes the chord's root on downbeats."""

from __future__ import annotations

import numpy as np

from pictune.music.analysis import Analysis
from pictune.music.findings import Checked, Finding, Severity
from pictune.music.keys import Key

STEP = 2  # semitones: a resolution moves by a step
BASS_ROOT_FLOOR = 0.5  # below this share of downbeats, the bass rarely states the harmony


def _names(key: Key, tones: frozenset[int], root: int) -> str:
    ordered = sorted(tones, key=lambda pc: (pc - root) % 12)
    return ", ".join(key.spell(pc) for pc in ordered)


def check_strong_beats(analysis: Analysis) -> Checked:
    """Chord tones on strong beats; a non-chord tone is excused when it resolves by step to a
    chord tone and is either held over from the note before (suspension) or leapt to
    (appoggiatura)."""
    melody, harmony, beats = analysis.melody, analysis.harmony, analysis.beats
    strong_ticks = beats.tick[beats.strong]
    on_strong = np.isin(melody.time, strong_ticks)
    chord_index = harmony.index_at(melody.time)
    judged = np.flatnonzero(on_strong & (chord_index >= 0))
    if judged.size == 0:
        return Checked((), {"strong_beat_chord_tones": None})
    masks = harmony.masks()
    pitch_class = melody.pitch % 12
    in_chord = masks[np.maximum(chord_index, 0), pitch_class] & (chord_index >= 0)
    found: list[Finding] = []
    doubtful = judged[~in_chord[judged]] if analysis.harmony_is_clear else judged[:0]
    for note in doubtful:
        if _excused(analysis, int(note), in_chord):
            continue
        chord = harmony.chords[int(chord_index[note])]
        bar, beat = analysis.place(int(melody.time[note]))
        name = analysis.key.spell(int(pitch_class[note]))
        tones = _names(analysis.key, chord.tones, chord.root)
        found.append(
            Finding(
                "harmony.strong-beat",
                Severity.WARNING,
                bar,
                beat,
                analysis.melody_label,
                f"the melody's {name} clashes with the {chord.name} chord",
                f"use a chord tone ({tones}) or resolve {name} by step",
            )
        )
    if analysis.harmony_is_clear:
        found.extend(_held_into_chords(analysis, masks))
    rate = float(in_chord[judged].mean())
    return Checked(tuple(found), {"strong_beat_chord_tones": rate})


def _held_into_chords(analysis: Analysis, masks: np.ndarray) -> list[Finding]:
    """A melody note held (tied) into a new chord sounds against it: unless it is one of its
    tones, the next note must resolve it by step to one (a suspension)."""
    melody, harmony = analysis.melody, analysis.harmony
    changes = harmony.start
    if not changes.size or not melody.size:
        return []
    sounding = melody.sounding(changes)
    found: list[Finding] = []
    for tick, note in zip(changes, sounding, strict=True):
        if note < 0 or int(melody.time[note]) >= int(tick):
            continue  # a rest, or a note struck on the change (judged above)
        chord_index = int(harmony.index_at(np.array([tick]))[0])
        pitch = int(melody.pitch[note])
        if chord_index < 0 or masks[chord_index, pitch % 12]:
            continue
        after = note + 1
        if after < melody.size:
            step = 0 < abs(int(melody.pitch[after]) - pitch) <= STEP
            if step and masks[chord_index, int(melody.pitch[after]) % 12]:
                continue  # a suspension, resolved
        chord = harmony.chords[chord_index]
        bar, beat = analysis.place(int(tick))
        name = analysis.key.spell(pitch % 12)
        found.append(
            Finding(
                "harmony.held-clash",
                Severity.WARNING,
                bar,
                beat,
                analysis.melody_label,
                f"the melody's {name}, held into the {chord.name} chord, clashes with it",
                f"end the note at the chord change, or resolve {name} by step to "
                f"{_names(analysis.key, chord.tones, chord.root)}",
            )
        )
    return found


def _excused(analysis: Analysis, note: int, in_chord: np.ndarray) -> bool:
    pitch = analysis.melody.pitch
    if note + 1 >= pitch.size or note == 0:
        return False
    resolves = 0 < abs(int(pitch[note + 1]) - int(pitch[note])) <= STEP and bool(in_chord[note + 1])
    prepared = int(pitch[note - 1]) == int(pitch[note])
    leapt = abs(int(pitch[note]) - int(pitch[note - 1])) > STEP
    return resolves and (prepared or leapt)


def check_bass_roots(analysis: Analysis) -> Checked:
    """Share of downbeats whose bass note is the root of the chord in effect."""
    bass, harmony, beats = analysis.bass, analysis.harmony, analysis.beats
    if bass is None or not bass.size or not harmony.size:
        return Checked((), {"bass_root_on_downbeats": None})
    ticks = beats.tick[beats.downbeat]
    sounding = bass.sounding(ticks)
    chord_index = harmony.index_at(ticks)
    judged = (sounding >= 0) & (chord_index >= 0)
    if not judged.any():
        return Checked((), {"bass_root_on_downbeats": None})
    roots = harmony.roots()[chord_index[judged]]
    rate = float((bass.pitch[sounding[judged]] % 12 == roots).mean())
    found: list[Finding] = []
    if rate < BASS_ROOT_FLOOR and harmony.source == "symbols":
        found.append(
            Finding(
                "harmony.bass-root",
                Severity.WARNING,
                -1,
                0,
                analysis.bass_label,
                f"the bass plays the chord's root on only {rate:.0%} of downbeats",
                "put the root of each chord in the bass on most downbeats",
            )
        )
    return Checked(tuple(found), {"bass_root_on_downbeats": rate})
