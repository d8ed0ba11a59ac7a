"""abc2midi's aborts and dropped notes are never reported as a played tune."""

from __future__ import annotations

import pytest

from pictune.abc import abc_to_midi, abc_to_midi_many, abc_to_score, validate
from pictune.abc.convert import parse_abc2midi_output
from pictune.errors import AbcError
from pictune.music.export import export_tune
from tests.conftest import SIMPLE_TUNE

HEADER = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\n"
# 8,000 valid bars: abc2midi stops with "file runaway" after 500 KB and leaves a cut file.
RUNAWAY = HEADER + "\n".join("CDEF GABc|" * 8 for _ in range(1000)) + "\n"


def many_voices(count: int) -> str:
    return "X:1\nT:t\nM:4/4\nL:1/4\nK:C\n" + "".join(f"V:{i}\nCDEF|\n" for i in range(1, count + 1))


def test_runaway_is_an_error_and_no_midi_is_kept():
    conversion = abc_to_midi(RUNAWAY)
    assert conversion.midi is None
    assert any("file runaway" in d.message for d in conversion.errors)


def test_runaway_tune_is_not_valid():
    assert not validate(RUNAWAY).ok


def test_runaway_tune_has_no_score_and_says_why():
    with pytest.raises(AbcError, match="too long for one MIDI file"):
        abc_to_score(RUNAWAY)


def test_runaway_tune_in_a_batch_is_reported_like_alone():
    first, runaway, last = abc_to_midi_many([SIMPLE_TUNE, RUNAWAY, SIMPLE_TUNE])
    assert first.midi is not None and last.midi is not None
    assert runaway.midi is None and runaway.errors


def test_more_voices_than_channels_is_never_a_success(tmp_path):
    conversion = abc_to_midi(many_voices(20))
    assert conversion.lost_notes
    with pytest.raises(AbcError, match="losing notes"):
        conversion.complete_midi()
    with pytest.raises(AbcError, match="losing notes"):
        abc_to_score(many_voices(20))
    with pytest.raises(AbcError, match="losing notes"):
        export_tune(many_voices(20), tmp_path, formats=("mid",))


def test_sixteen_voices_are_whole():
    assert abc_to_midi(many_voices(15)).complete_midi().startswith(b"MThd")


def test_abort_line_outside_the_diagnostic_format_is_recognised():
    found = parse_abc2midi_output("writing MIDI file x.mid\neputc: aborting because of x\n", 3)
    assert [d.is_error for d in found] == [True]
    assert found[0].message.startswith("abc2midi stopped part-way")
