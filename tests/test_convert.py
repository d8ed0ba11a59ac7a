"""ABC ⇄ MIDI ⇄ Score: voices, programs, tempo, key and meter survive."""

from __future__ import annotations

import pytest

from pictune.abc import abc_to_midi, abc_to_midi_many, abc_to_score, midi_to_abc, score_to_abc
from pictune.errors import AbcError, InputError
from pictune.music import Score
from tests.conftest import SIMPLE_TUNE, TWO_VOICES


def test_two_voices_become_two_tracks_with_their_programs():
    score = abc_to_score(TWO_VOICES)
    assert [t.program for t in score.tracks] == [40, 42]
    assert all(t.note_num() == 4 or t.note_num() > 0 for t in score.tracks)


def test_tempo_key_and_meter_are_carried_into_the_score():
    view = Score.from_abc(TWO_VOICES)
    assert round(view.tempo_qpm) == 90
    assert view.meter == (3, 4)
    assert view.key == "Bb major"


def test_repeats_are_expanded_in_the_canonical_notes():
    once = Score.from_abc(SIMPLE_TUNE.replace("|:", "|").replace(":|", "|"))
    twice = Score.from_abc(SIMPLE_TUNE)
    assert twice.n_notes == 2 * once.n_notes


def test_midi_back_to_abc_keeps_voices_programs_key_and_tempo():
    midi = abc_to_midi(TWO_VOICES).midi
    assert midi is not None
    text = midi_to_abc(midi, title="Back")
    assert "T:Back" in text
    assert text.count("V:") >= 2
    assert "%%MIDI program 40" in text and "%%MIDI program 42" in text
    assert "K:Bb" in text
    assert "Q:1/4=90" in text
    again = Score.from_abc(text)
    assert again.n_notes == Score.from_midi(midi).n_notes
    assert sorted(again.pitch.tolist()) == sorted(Score.from_midi(midi).pitch.tolist())


def test_score_to_abc_round_trip():
    text = score_to_abc(abc_to_score(SIMPLE_TUNE))
    assert Score.from_abc(text).n_notes == Score.from_abc(SIMPLE_TUNE).n_notes


def test_batch_conversion_equals_one_by_one():
    tunes = [SIMPLE_TUNE, "X:9\nK:C\n[[[c|", TWO_VOICES, "no music at all"]
    batch = abc_to_midi_many(tunes)
    single = [abc_to_midi(t) for t in tunes]
    assert [b.midi for b in batch] == [s.midi for s in single]
    assert [len(b.errors) > 0 for b in batch] == [len(s.errors) > 0 for s in single]


def test_unconvertible_tune_raises_abc_error():
    with pytest.raises(AbcError, match="could not be converted"):
        abc_to_score("T:nothing here\n")


def test_bytes_that_are_not_midi_are_refused():
    with pytest.raises(InputError, match="not a MIDI file"):
        midi_to_abc(b"RIFF....WAVEfmt ")


def test_truncated_midi_is_refused():
    midi = abc_to_midi(SIMPLE_TUNE).midi
    assert midi is not None
    with pytest.raises(InputError):
        Score.from_midi(midi[:20])


def test_notes_are_sorted_arrays_of_equal_length():
    view = Score.from_abc(TWO_VOICES)
    sizes = {
        view.time.size,
        view.duration.size,
        view.pitch.size,
        view.velocity.size,
        view.track.size,
    }
    assert sizes == {view.n_notes}
    assert (view.time[1:] >= view.time[:-1]).all()
