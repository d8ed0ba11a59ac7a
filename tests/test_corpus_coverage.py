"""Every tune of music21's ABC corpus must become a Score with metrics (a sample here;
the benchmark covers all of them)."""

from __future__ import annotations

import pytest

from pictune.abc import abc_to_midi_many, make_playable
from pictune.music import Score, compute_metrics


def test_corpus_is_the_size_we_expect(corpus_tunes):
    assert len(corpus_tunes) > 11_000


@pytest.mark.slow
def test_sample_converts_and_measures_without_exception(corpus_sample):
    conversions = abc_to_midi_many([t.abc for t in corpus_sample])
    for tune, conversion in zip(corpus_sample, conversions, strict=True):
        midi = conversion.midi
        if midi is None:  # an invalid corpus tune: repair must make it playable
            fixed = make_playable(tune.abc)
            assert fixed.validation.midi is not None, f"{tune.id}: {fixed.validation.errors[:2]}"
            midi = fixed.validation.midi
        metrics = compute_metrics(Score.from_midi(midi))
        assert metrics.n_notes > 0, tune.id
