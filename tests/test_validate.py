"""validate(): diagnostics from the pre-checks and from abc2midi, with places."""

from __future__ import annotations

from pictune.abc import Severity, validate
from pictune.abc.precheck import looks_like_prose
from tests.conftest import SIMPLE_TUNE, TWO_VOICES


def test_valid_tune_has_no_errors_and_yields_midi():
    result = validate(SIMPLE_TUNE)
    assert result.ok
    assert result.errors == ()
    assert result.midi is not None and result.midi.startswith(b"MThd")


def test_multi_voice_tune_is_valid():
    assert validate(TWO_VOICES).ok


def test_abc2midi_errors_carry_line_and_column():
    result = validate("X:1\nT:t\nM:4/4\nL:1/8\nK:G\nGABc [[c4 A2|]\n")
    nested = [d for d in result.errors if d.source == "abc2midi" and "nest" in d.message]
    assert nested and nested[0].line == 6 and nested[0].column == 7


def test_missing_x_is_an_error():
    result = validate("T:t\nK:C\nCDEF|]\n")
    assert not result.ok
    assert any("missing X:" in d.message for d in result.errors)


def test_missing_key_is_an_error():
    result = validate("X:1\nT:t\nM:4/4\nCDEF|]\n")
    assert any("missing K:" in d.message for d in result.errors)


def test_invalid_header_values_are_errors():
    result = validate("X:1\nM:seven\nL:1/1024\nQ:1/4=100000\nK:H major\nC|]\n")
    messages = " ".join(d.message for d in result.errors)
    assert "M:seven" in messages
    assert "L:1/1024" in messages
    assert "tempo 100000" in messages
    assert "K:H major" in messages


def test_unbalanced_marks_are_reported():
    result = validate('X:1\nK:C\n"Am c2 [CE {g A2 (B2 c|]\n')
    messages = [d.message for d in result.diagnostics if d.source == "precheck"]
    assert any("unclosed quote" in m for m in messages)


def test_unclosed_chord_and_grace_reported_by_precheck():
    result = validate("X:1\nK:C\n[CEG c2 {g A2|]\n")
    messages = [d.message for d in result.errors if d.source == "precheck"]
    assert any("[ without ]" in m for m in messages)
    assert any("{ without }" in m for m in messages)


def test_open_slur_is_a_warning():
    result = validate("X:1\nT:t\nM:4/4\nL:1/8\nK:C\n(CDEF GABc|c8|]\n")
    assert any(d.severity is Severity.WARNING and "slur" in d.message for d in result.diagnostics)


def test_bar_length_mismatch_is_a_warning_not_an_error():
    tune = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\nCDEF GABc|CDEF GABc d|CDEF GABc|c8|]\n"
    result = validate(tune)
    over = [d for d in result.warnings if "over-full" in d.message]
    assert len(over) == 1 and over[0].line == 6
    assert result.ok


def test_pickup_and_final_bars_are_not_flagged():
    tune = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\nG|CDEF GABc|CDEF GABc|c4|]\n"
    assert not [d for d in validate(tune).warnings if "bar" in d.message]


def test_lower_case_comma_is_a_warning():
    result = validate("X:1\nT:t\nM:4/4\nL:1/8\nK:C\nd,2 e,2 c4|]\n")
    assert any("d, mixes" in d.message for d in result.warnings)


def test_prose_line_is_detected():
    assert looks_like_prose("Here the melody climbs toward the light.")
    assert looks_like_prose("- Melody:")
    assert not looks_like_prose("GABc dedB|dedB dedB|")
    assert not looks_like_prose('"Am"A2 c2 "Dm"d4|')


def test_diagnostics_are_sorted_by_place():
    result = validate("X:1\nK:C\n[[C|\nHello there my friends\n")
    places = [(d.line, d.column) for d in result.diagnostics]
    assert places == sorted(places)
