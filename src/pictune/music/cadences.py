"""Cadence rules: the piece ends on the tonic (melody, bass, chord), phrase ends rest on the
tonic or dominant chord, the leading tone resolves, and a minor key's dominant is major."""

from __future__ import annotations

import numpy as np

from pictune.music.analysis import Analysis
from pictune.music.findings import Checked, Finding, Severity
from pictune.music.keys import Key
from pictune.music.ranges import pitch_name

PHRASE_BARS = 4


def _degree_words(key: Key, pitch_class: int) -> str:
    """'the leading tone (G#)', 'the flattened seventh (G)' or just 'E'."""
    interval = (pitch_class - key.tonic) % 12
    words = {11: "the leading tone", 10: "the flattened seventh", 7: "the dominant"}
    if interval in words:
        return f"{words[interval]} ({key.spell(pitch_class)})"
    return key.spell(pitch_class)


def _final(analysis: Analysis) -> list[Finding]:
    found: list[Finding] = []
    key, melody, bass = analysis.key, analysis.melody, analysis.bass
    tonic = key.spell(key.tonic)
    if melody.size:
        last = int(melody.pitch[-1]) % 12
        if last != key.tonic:
            bar, beat = analysis.place(int(melody.time[-1]))
            found.append(
                Finding(
                    "cadence.final-melody",
                    Severity.ERROR,
                    bar,
                    beat,
                    analysis.melody_label,
                    f"the piece ends on {_degree_words(key, last)}, not the tonic {tonic}",
                    f"end the melody on {tonic}",
                )
            )
        elif (
            melody.size > 1
            and key.mode in ("major", "minor")
            and int(melody.pitch[-2]) % 12 == key.leading_tone
            and int(melody.pitch[-1]) - int(melody.pitch[-2]) != 1
        ):
            bar, beat = analysis.place(int(melody.time[-1]))
            found.append(
                Finding(
                    "cadence.leading-tone",
                    Severity.WARNING,
                    bar,
                    beat,
                    analysis.melody_label,
                    f"the leading tone {pitch_name(int(melody.pitch[-2]))} leaps to the final "
                    f"{pitch_name(int(melody.pitch[-1]))} instead of rising a semitone",
                    f"end on the {tonic} just above the leading tone",
                )
            )
    if bass is not None and bass.size:
        last = int(bass.pitch[-1]) % 12
        if last != key.tonic:
            bar, beat = analysis.place(int(bass.time[-1]))
            found.append(
                Finding(
                    "cadence.final-bass",
                    Severity.ERROR,
                    bar,
                    beat,
                    analysis.bass_label,
                    f"the bass ends on {key.spell(last)}, not the tonic {tonic}",
                    f"end the bass on {tonic}",
                )
            )
    if melody.size and analysis.harmony.size and analysis.harmony_is_clear:
        tick = int(melody.time[-1])
        index = int(analysis.harmony.index_at(np.array([tick]))[0])
        if index >= 0:
            chord = analysis.harmony.chords[index]
            if chord.root != key.tonic:
                bar, beat = analysis.place(tick)
                found.append(
                    Finding(
                        "cadence.final-chord",
                        Severity.WARNING,
                        bar,
                        beat,
                        "",
                        f"the last chord is {chord.name}, not the tonic chord of {key.name}",
                        f"close on the {tonic} chord",
                    )
                )
    return found


def _minor_dominant(analysis: Analysis) -> list[Finding]:
    """In a minor key, a cadence's dominant chord carries the raised seventh (harmonic
    minor's V): checked wherever the dominant goes to the tonic in a phrase's last bar."""
    key, harmony, grid = analysis.key, analysis.harmony, analysis.grid
    if key.mode != "minor" or harmony.size < 2:
        return []
    roots = harmony.roots()
    bars = grid.bar_of(harmony.start)
    numbers = grid.number[bars]
    cadence_bar = (numbers % PHRASE_BARS == 0) | (bars == grid.size - 1)
    arrivals = np.flatnonzero(
        (roots[1:] == key.tonic) & (roots[:-1] == key.dominant) & cadence_bar[1:]
    )
    natural, raised = (key.tonic + 10) % 12, key.leading_tone
    dominant = key.spell(key.dominant)
    found: list[Finding] = []
    for arrival in arrivals:
        last = int(arrival)
        first = last
        while first > 0 and roots[first - 1] == key.dominant:
            first -= 1
        if harmony.source == "symbols":
            tones = set().union(*(harmony.chords[i].tones for i in range(first, last + 1)))
        else:
            tones = _pitch_classes(analysis, int(harmony.start[first]), int(harmony.end[last]))
        if natural not in tones or raised in tones:
            continue
        bar, beat = analysis.place(int(harmony.start[first]))
        found.append(
            Finding(
                "cadence.minor-dominant",
                Severity.WARNING,
                bar,
                beat,
                "",
                f"the cadence uses the minor dominant ({dominant}m) with {key.spell(natural)}",
                f"raise the leading tone to {key.spell(raised)} ({dominant} major chord)",
            )
        )
    return found


def _pitch_classes(analysis: Analysis, start: int, end: int) -> set[int]:
    found: set[int] = set()
    for voice in analysis.voices.voices:
        inside = (voice.time < end) & (voice.time + voice.duration > start)
        found.update(int(p) for p in np.unique(voice.pitch[inside] % 12))
    return found


def _phrase_ends(analysis: Analysis) -> list[Finding]:
    """The last melody note of each 4-bar phrase (not the last one) sits in I or V. Phrases
    are counted from the bar where the tune begins, so an introduction in which the melody
    rests (accompaniment alone) does not shift them."""
    grid, melody, key = analysis.grid, analysis.melody, analysis.key
    if grid.size < 2 * PHRASE_BARS or not melody.size:
        return []
    found: list[Finding] = []
    allowed = key.tonic_triad | key.dominant_triad
    bar_of_note = grid.bar_of(melody.time)
    last_bar = int(grid.number[-1])
    before = max(0, int(grid.number[int(bar_of_note.min())]) - 1)  # bars of introduction
    for index in range(grid.size):
        number = int(grid.number[index])
        counted = number - before
        if counted <= 0 or counted % PHRASE_BARS or number >= last_bar:
            continue
        notes = np.flatnonzero(bar_of_note == index)
        if notes.size == 0:
            continue
        note = int(notes[-1])
        pitch_class = int(melody.pitch[note]) % 12
        following = note + 1 < melody.size and int(melody.pitch[note + 1]) % 12 == key.tonic
        if pitch_class == key.leading_tone and key.mode in ("major", "minor") and not following:
            _, beat = analysis.place(int(melody.time[note]))
            found.append(
                Finding(
                    "cadence.leading-tone",
                    Severity.WARNING,
                    number,
                    beat,
                    analysis.melody_label,
                    f"the phrase stops on the leading tone {key.spell(pitch_class)}, "
                    "which does not resolve",
                    f"move it up to {key.spell(key.tonic)}",
                )
            )
        elif pitch_class not in allowed:
            _, beat = analysis.place(int(melody.time[note]))
            found.append(
                Finding(
                    "cadence.phrase-end",
                    Severity.NOTE,
                    number,
                    beat,
                    analysis.melody_label,
                    f"the phrase ends on {key.spell(pitch_class)}, outside the tonic and dominant "
                    f"chords",
                    "end phrases on a note of the tonic or dominant chord",
                )
            )
    return found


def check_cadences(analysis: Analysis) -> Checked:
    findings = [*_final(analysis), *_minor_dominant(analysis), *_phrase_ends(analysis)]
    melody, bass, tonic = analysis.melody, analysis.bass, analysis.key.tonic
    rates = {
        "melody_ends_on_tonic": bool(melody.pitch[-1] % 12 == tonic) if melody.size else None,
        "bass_ends_on_tonic": (
            bool(bass.pitch[-1] % 12 == tonic) if bass is not None and bass.size else None
        ),
    }
    return Checked(tuple(findings), rates)
