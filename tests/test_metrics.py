"""Metrics: hand-checked values, documented empty-music values, agreement with muspy."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest

from pictune.abc import abc_to_midi_many
from pictune.music import Score, compute_metrics
from pictune.music import metrics as m
from pictune.music.score import Track


def make_score(notes, resolution=4, drums=(False,), meter=(4, 4)) -> Score:
    """notes: (time, duration, pitch, track)."""
    arr = np.array(notes, dtype=np.int64).reshape(-1, 4)
    order = np.lexsort((arr[:, 2], arr[:, 0])) if len(arr) else np.zeros(0, np.int64)
    arr = arr[order]
    return Score(
        resolution=resolution,
        time=arr[:, 0],
        duration=arr[:, 1],
        pitch=arr[:, 2],
        velocity=np.full(len(arr), 80, np.int64),
        track=arr[:, 3],
        tracks=tuple(Track(f"t{i}", 0, d) for i, d in enumerate(drums)),
        tempos=((0, 120.0),),
        time_signatures=((0, *meter),),
        key_signatures=(),
    )


def test_hand_computed_values():
    # C major triad as a chord for one beat, then a single G for one beat, then one beat silent,
    # then an F# for one beat (resolution 4 ticks a beat).
    score = make_score([(0, 4, 60, 0), (0, 4, 64, 0), (0, 4, 67, 0), (4, 4, 67, 0), (12, 3, 66, 0)])
    assert m.pitch_range(score) == 7
    assert m.n_pitches_used(score) == 4
    assert m.n_pitch_classes_used(score) == 4
    # sounding steps: 0-8 and 12-15 → 11; cells: 12 + 4 + 3 = 19
    assert m.polyphony(score) == pytest.approx(19 / 11)
    assert m.scale_consistency(score) == pytest.approx(1.0)  # G major holds C, E, G, G and F#
    assert m.pitch_class_entropy(score) == pytest.approx(
        -(3 * 0.2 * math.log2(0.2) + 0.4 * math.log2(0.4))
    )
    # beats 0..3 (end 15//4 = 3): 0, 1, 2 (a note ending on tick 8 marks beat 2, as in MusPy)
    # and 3 → none empty
    assert m.empty_beat_rate(score) == pytest.approx(0.0)


def test_empty_beat_rate_counts_silent_beats():
    score = make_score([(0, 2, 60, 0), (20, 2, 62, 0)])
    # length 22 → 6 beats; occupied: beat 0, beat 5 → 4 of 6 empty
    assert m.empty_beat_rate(score) == pytest.approx(4 / 6)


def test_groove_consistency_identical_measures_is_one():
    bar = [(0, 2, 60, 0), (4, 2, 62, 0), (8, 2, 64, 0)]
    notes = [(t + k * 16, d, p, tr) for k in range(4) for t, d, p, tr in bar]
    assert m.groove_consistency(make_score(notes)) == pytest.approx(1.0)


def test_drums_are_ignored_by_pitch_metrics_but_count_for_time():
    score = make_score([(0, 4, 60, 0), (0, 4, 36, 1), (16, 4, 38, 1)], drums=(False, True))
    assert m.pitch_range(score) == 0
    assert m.n_pitches_used(score) == 1
    # length 20 → 6 beats; occupied 0, 1 (piano and drum) and 4, 5 (drum) → 2 of 6 empty
    assert m.empty_beat_rate(score) == pytest.approx(2 / 6)


def test_empty_music_has_documented_values_and_never_nan():
    result = compute_metrics(make_score([]))
    assert result.pitch_range == 0
    assert result.n_pitches_used == 0
    for name in (
        "polyphony",
        "scale_consistency",
        "pitch_entropy",
        "pitch_class_entropy",
        "empty_beat_rate",
        "groove_consistency",
    ):
        assert getattr(result, name) is None
    assert result.n_notes == 0 and result.duration_seconds == 0.0


def test_drums_only_gives_pitch_range_zero():
    assert m.pitch_range(make_score([(0, 4, 36, 0)], drums=(True,))) == 0


def test_very_long_note_costs_no_pianoroll():
    score = make_score([(0, 10**9, 60, 0), (5, 10, 64, 0)], resolution=480)
    assert m.polyphony(score) == pytest.approx((10**9 + 10) / 10**9)


def test_compute_metrics_of_a_tune():
    result = compute_metrics(Score.from_abc("X:1\nT:t\nM:3/4\nL:1/4\nQ:1/4=60\nK:Am\nA c e|a3|]\n"))
    assert result.n_notes == 4
    assert result.meter == "3/4"
    assert result.key == "A minor"
    assert result.duration_seconds == pytest.approx(6.0, abs=0.01)
    assert result.pitch_range == 12


def _equal(ours, theirs) -> bool:
    if ours is None:
        return math.isnan(theirs)
    return abs(ours - theirs) <= 1e-9


@pytest.mark.slow
def test_agreement_with_muspy_on_500_corpus_tunes(corpus_sample):
    muspy = pytest.importorskip("muspy")
    conversions = abc_to_midi_many([t.abc for t in corpus_sample])
    checked = 0
    with tempfile.TemporaryDirectory() as folder:
        for tune, conversion in zip(corpus_sample, conversions, strict=True):
            if conversion.midi is None or checked >= 520:
                continue
            path = Path(folder, "t.mid")
            path.write_bytes(conversion.midi)
            theirs = muspy.read_midi(str(path))
            ours = Score.from_midi(conversion.midi)
            size = m.measure_resolution(ours)
            pairs = {
                "pitch_range": (m.pitch_range(ours), muspy.pitch_range(theirs)),
                "n_pitches_used": (m.n_pitches_used(ours), muspy.n_pitches_used(theirs)),
                "n_pitch_classes_used": (
                    m.n_pitch_classes_used(ours),
                    muspy.n_pitch_classes_used(theirs),
                ),
                "polyphony": (m.polyphony(ours), muspy.polyphony(theirs)),
                "scale_consistency": (m.scale_consistency(ours), muspy.scale_consistency(theirs)),
                "pitch_entropy": (m.pitch_entropy(ours), muspy.pitch_entropy(theirs)),
                "pitch_class_entropy": (
                    m.pitch_class_entropy(ours),
                    muspy.pitch_class_entropy(theirs),
                ),
                "empty_beat_rate": (m.empty_beat_rate(ours), muspy.empty_beat_rate(theirs)),
                "groove_consistency": (
                    m.groove_consistency(ours, size),
                    muspy.groove_consistency(theirs, size),
                ),
            }
            for name, (a, b) in pairs.items():
                assert _equal(a, b), f"{tune.id}: {name} {a} != {b}"
            checked += 1
    assert checked >= 500
