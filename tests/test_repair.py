"""repair(): each common fault of model-written ABC, and the fixture set of real-looking replies."""

from __future__ import annotations

import pytest

from pictune.abc import make_playable, repair, validate
from tests.conftest import REPLIES, SIMPLE_TUNE, TWO_VOICES, read_reply


def fixed(abc: str, **options) -> tuple[str, list[str]]:
    options.setdefault("force", True)
    result = repair(abc, validate(abc).diagnostics, **options)
    return result.abc, [f.kind for f in result.fixes]


def test_valid_tune_is_left_alone():
    result = repair(SIMPLE_TUNE)
    assert result.fixes == ()
    assert result.abc == SIMPLE_TUNE


def test_valid_multi_voice_tune_is_left_alone():
    assert repair(TWO_VOICES).fixes == ()


def test_missing_headers_are_added_with_defaults():
    abc, kinds = fixed("GABc dBGB|cBAG FGAB|GABc dBGB|G8|]\n")
    assert abc.startswith("X:1\nT:Untitled\nM:4/4\nL:1/8\nK:C\n")
    assert kinds.count("header") == 5
    assert validate(abc).ok


def test_missing_meter_is_inferred_from_the_bars():
    abc, _ = fixed("X:1\nT:w\nL:1/8\nK:G\nG2B2d2|c4B2|A2F2D2|G6|]\n")
    assert "M:3/4" in abc


def test_key_is_moved_to_the_end_of_the_header():
    abc, kinds = fixed("X:1\nT:t\nK:G\nM:3/4\nL:1/8\nG2B2d2|g6|]\n")
    assert abc.split("\n")[:5] == ["X:1", "T:t", "M:3/4", "L:1/8", "K:G"]
    assert "header" in kinds


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("K:G major", "K:G"),
        ("K:E minor", "K:Em"),
        ("K:F# Minor", "K:F#m"),
        ("K:D dorian", "K:D Dor"),
        ("K:B♭", "K:Bb"),
        ("K:nonsense key", "K:C"),
        ("M:3 / 4", "M:3/4"),
        ("M:common time", "M:C"),
        ("M:seven", "M:4/4"),
        ("L:8", "L:1/8"),
        ("L:1/1024", "L:1/8"),
        ("Q:120", "Q:1/4=120"),
        ("Q:1/4=100000", "Q:1/4=400"),
        ("Q:1/4.=52", "Q:3/8=52"),
    ],
)
def test_invalid_header_values_are_normalised(field, expected):
    letter = field[0]
    base = {"K": "K:C", "M": "M:4/4", "L": "L:1/8", "Q": ""}
    header = ["X:1", "T:t"]
    for key in ("M", "L", "Q"):
        header.append(field if key == letter else base[key])
    header.append(field if letter == "K" else base["K"])
    abc, _ = fixed("\n".join(h for h in header if h) + "\nC2D2 E2F2|G8|]\n")
    assert expected in abc.split("\n")


def test_unreadable_tempo_is_dropped_and_reported():
    abc, kinds = fixed("X:1\nT:t\nM:4/4\nL:1/8\nQ:fast-ish\nK:C\nC8|]\n")
    assert "Q:" not in abc
    assert "tempo" in kinds


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[CEG2 c2 G2 E2|", "[CEG2] c2 G2 E2|"),
        ("[[CEG] c2 G2 E2|", "[CEG] c2 G2 E2|"),
        ("CEG] c2 G2 E2|", "CEG c2 G2 E2|"),
        ('"Am c2 d2 e4|', '"Am" c2 d2 e4|'),
        ('"hello c2 d2 e4|', '"hello" c2 d2 e4|'),
        ("{g A2 B2 c4|", "{g} A2 B2 c4|"),
        ("A2 B2} c4|", "A2 B2 c4|"),
        ("(A2 B2 c4|", "A2 B2 c4|"),
        ("A2 B2) c4|", "A2 B2 c4|"),
        ("!trill A2 B2 c4|", " A2 B2 c4|"),
        ("d,2 e,,2 c4|", "D2 E,2 c4|"),
        ("f#2 c#2 e4|", "^f2 ^c2 e4|"),
        ('"B♭"B4 b4|', '"Bb"B4 b4|'),
        ("A2 @ B2 c4|", "A2  B2 c4|"),
    ],
)
def test_body_faults_are_fixed(body, expected):
    abc, kinds = fixed(f"X:1\nT:t\nM:4/4\nL:1/8\nK:C\n{body}\n")
    assert abc.split("\n")[5] == expected
    assert kinds


def test_prose_lines_become_comments_and_lose_nothing():
    abc, kinds = fixed("X:1\nT:t\nM:4/4\nL:1/8\nK:G\nThis phrase is the wind.\nG2AB c2BA|G8|]\n")
    assert "% This phrase is the wind." in abc
    assert "prose" in kinds


def test_unknown_directives_become_comments():
    abc, kinds = fixed(
        "X:1\nT:t\nM:4/4\nL:1/8\n%%mood sad\nI:instrument violin\nK:C\n%%MIDI program 40\nC8|]\n"
    )
    assert "% %%mood sad" in abc
    assert "% I:instrument violin" in abc
    assert "%%MIDI program 40" in abc.split("\n")
    assert kinds.count("directive") == 2


def test_empty_voices_are_removed():
    tune = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\nV:1\nV:2\nV:3\nV:1\nC8|]\nV:2\nE8|]\nV:3\n"
    abc, kinds = fixed(tune)
    assert "V:3" not in abc
    assert "V:2" in abc
    assert "voices" in kinds


def test_voices_used_only_inline_are_kept():
    tune = 'X:1\nT:t\nM:4/4\nL:1/8\nK:C\nV:1 name="A"\nV:2 name="B"\n[V:1] C8|]\n[V:2] E8|]\n'
    abc, kinds = fixed(tune)
    assert "voices" not in kinds
    assert 'V:1 name="A"' in abc


def test_bar_lengths_are_left_alone_by_default():
    tune = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\nC8|CDE|C8|C8|]\n"
    assert repair(tune).fixes == ()


def test_bar_lengths_fixed_when_asked_pads_underfull_and_marks_overfull():
    tune = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\nC8|CDE|C8 D|C8|]\n"
    result = repair(tune, fix_bar_lengths=True)
    body = result.abc.split("\n")[5]
    assert "CDEz5|" in body
    assert "[M:9/8]C8 D|[M:4/4]" in body
    after = validate(result.abc)
    assert after.ok
    assert not [d for d in after.warnings if "bar" in d.message]


def test_repair_is_idempotent():
    tune = "T:t\nK:G major\nM:4/4\n[CEG2 c2 (G2 E2|d,8|]\n"
    once = repair(tune).abc
    assert repair(once).fixes == ()


def test_repair_never_invents_notes():
    tune = 'X:1\nK:C\n[[CEG] "Am c2 {g A2 (B2 d,2 c|]\n'
    before = sorted(c.upper() for c in tune.split("K:C\n")[1] if c.upper() in "ABCDEFG")
    after_body = repair(tune).abc.split("K:C\n")[1]
    after = sorted(c.upper() for c in after_body if c.upper() in "ABCDEFG")
    assert after == before


@pytest.mark.parametrize("path", REPLIES, ids=lambda p: p.stem)
def test_fixture_reply_ends_with_no_abc2midi_errors(path):
    tune = make_playable(read_reply(path))
    assert tune.validation.midi is not None
    assert [d for d in tune.validation.errors if d.source == "abc2midi"] == []


def test_fixture_set_is_large_and_varied():
    assert len(REPLIES) >= 40
    multi_voice = [p for p in REPLIES if read_reply(p).count("V:") >= 4]
    assert len(multi_voice) >= 3
