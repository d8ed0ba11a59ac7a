"""extract(): tunes out of free text, the rest kept as motivation."""

from __future__ import annotations

import pytest

from pictune.abc import extract
from tests.conftest import REPLIES, read_reply


def test_code_fence_with_chatter_and_motivation():
    reply = (
        "Sure! Here it is:\n```abc\nX:1\nT:A\nM:4/4\nL:1/8\nK:G\nGABc d4|]\n```\n"
        "Motivation: green fields."
    )
    result = extract(reply)
    assert result.abc == "X:1\nT:A\nM:4/4\nL:1/8\nK:G\nGABc d4|]"
    assert "green fields" in result.motivation
    assert "Motivation:" not in result.motivation
    assert "X:1" not in result.motivation


def test_unfenced_tune_between_prose():
    reply = "Intro words here.\nX:1\nT:B\nK:D\nDFA d2|]\nThis rises like the sun."
    result = extract(reply)
    assert result.abc == "X:1\nT:B\nK:D\nDFA d2|]"
    assert result.motivation == "Intro words here.\nThis rises like the sun."


def test_missing_x_line_is_still_found():
    result = extract("Here:\nT:No X\nM:3/4\nL:1/4\nK:Am\nA c e|a3|]\nDone.")
    assert result.abc is not None and result.abc.startswith("T:No X")


def test_think_block_is_separated_and_ignored_when_a_tune_follows():
    reply = "<think>draft X:1\nK:C\nC|</think>\nX:1\nT:Final\nK:F\nFAc f2|]"
    result = extract(reply)
    assert result.abc is not None and "T:Final" in result.abc
    assert "draft" in result.thinking
    assert "draft" not in result.motivation


def test_cut_off_think_block_still_yields_its_tune():
    reply = "<think>I will write this:\nX:1\nT:Inside\nM:4/4\nK:C\nCDEF GABc|]"
    result = extract(reply)
    assert result.abc is not None and "T:Inside" in result.abc


def test_several_tunes_keeps_all_and_chooses_the_most_complete():
    reply = "X:1\nT:Draft\nK:G\nG2|\n\nNow better:\nX:2\nT:Full\nK:G\nGABc dBGB|cBAG FGAB|G8|]"
    result = extract(reply)
    assert len(result.tunes) == 2
    assert result.abc is not None and "T:Full" in result.abc


def test_reply_without_music_returns_none():
    result = extract("I am sorry, I cannot compose music for this image.")
    assert result.abc is None
    assert result.tunes == ()
    assert "sorry" in result.motivation


def test_indented_tune_lines_are_dedented():
    result = extract("    X:1\n    T:I\n    K:G\n    GABc|]")
    assert result.abc == "X:1\nT:I\nK:G\nGABc|]"


def test_fence_in_other_language_keeps_its_text_as_motivation():
    reply = '```json\n{"mood": "calm"}\n```\nX:1\nK:C\nCDEF|]'
    result = extract(reply)
    assert result.abc == "X:1\nK:C\nCDEF|]"
    assert "calm" in result.motivation


@pytest.mark.parametrize("path", REPLIES, ids=lambda p: p.stem)
def test_every_fixture_reply_yields_a_tune(path):
    result = extract(read_reply(path))
    assert result.abc is not None
    assert "K:" in result.abc or "T:" in result.abc


def test_a_line_with_an_inline_field_after_its_first_bar_stays_in_the_tune():
    tune = (
        "X:1\nT:t\nM:6/8\nL:1/8\nK:G\nV:1\n"
        '("Em"ede "C"e2c) | ("D"A3 ABc) |\n'
        '("Am"A2B "D"AGA) | [Q:3/8=75]("D"A3 "G"G3) | [K:D][Q:3/8=65]"G"G6 |]\n'
        "V:2\nG,6 | D,6 | D,6 | G,6 |]\n"
    )
    assert extract(tune).abc == tune.strip("\n")
