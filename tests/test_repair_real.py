"""Repair of ABC as real music models write it: large scores, inline fields, repeats, ties.

Each fault class has its own test on a small tune that abc2midi rejects without the fix.
"""

from __future__ import annotations

import importlib

import pytest

from pictune.abc import abc_to_midi, abc_to_midi_many, make_playable, midi_to_score, repair
from pictune.abc.notecount import as_written, written_notes
from pictune.abc.validate import validate
from pictune.abc.voices import split_by_voices
from tests.conftest import DATA, read_reply

REAL_REPLIES = sorted((DATA / "replies" / "real").glob("*.txt"))
HEAD = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\n"


def abc2midi_errors(abc: str) -> list[str]:
    return [d.message for d in validate(abc).errors if d.source == "abc2midi"]


def repaired(abc: str) -> tuple[str, list[str]]:
    """The repaired tune (asserted free of abc2midi errors) and the fix messages."""
    assert abc2midi_errors(abc), "the test tune must be rejected before repair"
    result = repair(abc, validate(abc).diagnostics)
    assert abc2midi_errors(result.abc) == []
    return result.abc, [f.message for f in result.fixes]


def midi_notes(abc: str) -> list[int]:
    conversion = abc_to_midi(as_written(abc))
    assert conversion.midi is not None
    return [len(track.notes) for track in midi_to_score(conversion.midi).tracks]


def orchestral_score(voices: int, bars: int, numbered: bool = True) -> str:
    """A score of `voices` voices in eight instruments (no %%MIDI channel lines)."""
    lines = ["X:1", "T:score", "M:4/4", "L:1/8", "Q:1/4=100", "K:C"]
    for voice in range(1, voices + 1):
        lines += [f"V:{voice}", f"%%MIDI program {40 + voice % 8}"]
    figures = ["c2 e2 g2 e2", "d4 B4", "[ceg]8", "G2 A2 B2 c2"]
    for voice in range(1, voices + 1):
        music = " | ".join(figures[(voice + bar) % 4] for bar in range(bars))
        lines.append(f"[V:{voice}] {music} |]")
    return "\n".join(lines) + "\n"


# -- the fixture set ------------------------------------------------------------------------


def test_real_fixture_set_is_large_and_covers_each_kind():
    texts = [read_reply(p) for p in REAL_REPLIES]
    assert len(texts) >= 60
    assert sum("[I:staff" in t for t in texts) >= 5
    assert sum(len(set(t.split("[V:")[1:])) >= 17 for t in texts) >= 5
    assert sum('"Am' in t or '"C7"' in t or '"G"' in t for t in texts) >= 8
    assert sum("```abc" in t for t in texts) >= 15


@pytest.mark.parametrize("path", REAL_REPLIES, ids=lambda p: p.stem)
def test_real_fixture_ends_with_no_abc2midi_errors_and_every_note(path):
    text = read_reply(path)
    tune = make_playable(text)
    assert [d for d in tune.validation.errors if d.source == "abc2midi"] == []
    source = tune.extraction.abc or ""
    assert sum(midi_notes(tune.abc)) == sum(written_notes(source).values())


@pytest.mark.parametrize("path", REAL_REPLIES[::4], ids=lambda p: p.stem)
def test_repair_is_idempotent_on_real_fixtures(path):
    abc = make_playable(read_reply(path)).abc
    assert repair(abc).abc == abc


def test_tunes_abc2midi_accepts_are_never_changed(corpus_sample):
    tunes = [t.abc for t in corpus_sample[:300]]
    accepted = [
        tune
        for tune, conversion in zip(tunes, abc_to_midi_many(tunes), strict=True)
        if conversion.midi is not None and not conversion.errors
    ]
    assert len(accepted) > 250
    for tune in accepted:
        result = repair(tune)
        assert result.abc == tune and result.fixes == ()


# -- more than 16 voices ---------------------------------------------------------------------


def test_twenty_voices_share_channels_by_instrument():
    abc = orchestral_score(20, 4)
    assert "Channel limit exceeded" in abc2midi_errors(abc)
    fixed, messages = repaired(abc)
    assert fixed.count("%%MIDI channel") == 20
    assert any("share MIDI channel" in m for m in messages)
    assert sum(midi_notes(fixed)) == sum(written_notes(abc).values())


def test_percussion_keeps_channel_ten():
    abc = orchestral_score(18, 2).replace("V:18\n%%MIDI program 42", "V:18\n%%MIDI channel 10")
    fixed, _ = repaired(abc)
    channels = [ln for ln in fixed.split("\n") if ln.startswith("%%MIDI channel 10")]
    assert len(channels) == 1


def test_forty_voices_convert_with_every_voice_note_for_note():
    abc = orchestral_score(40, 6)
    fixed, _ = repaired(abc)
    per_voice = written_notes(abc)
    assert midi_notes(fixed) == [per_voice[str(v)] for v in range(1, 41)]


def test_split_groups_number_their_voices_from_one():
    groups = split_by_voices(orchestral_score(30, 1), per_run=24)
    assert len(groups) == 2
    assert "[V:1]" in groups[1].abc and "[V:25]" not in groups[1].abc


# -- inline fields ---------------------------------------------------------------------------


def test_inline_staff_fields_go_and_remarks_stay():
    fixed, messages = repaired(HEAD + "[r:bar 1] c2 [I:staff +1] C,2 [I:staff -1] e4 | g8 |]\n")
    assert "[I:staff" not in fixed and "[r:bar 1]" in fixed
    assert "C,2" in fixed
    assert sum("engraving only" in m for m in messages) == 2


def test_inline_key_and_meter_are_validated():
    fixed, _ = repaired(HEAD + "c8 | [K:A major] [M:three-four] c2 e2 a2 | [Q:fast] a6 |]\n")
    assert "[K:A]" in fixed
    assert "[M:" not in fixed and "[Q:" not in fixed


def test_voice_id_with_a_space_is_normalised():
    abc = HEAD.replace("K:C", "V:RH\nK:C") + "[V: RH] c8 [I:staff +1] |]\n"
    fixed, _ = repaired(abc)
    assert "[V:RH]" in fixed and "[V: RH]" not in fixed


# -- ties, repeats, rhythm -------------------------------------------------------------------


def test_tie_to_another_pitch_is_dropped():
    fixed, messages = repaired(HEAD + 'c2-d2 e2-"G"e2 | f8 |]\n')
    assert "c2d2" in fixed and "e2-" in fixed
    assert any("another pitch" in m for m in messages)


def test_tie_across_a_voice_change_to_another_pitch_is_dropped():
    abc = HEAD + "[V:1] c8- |\n[V:2] C,8 |\n[V:1] d8 |]\n[V:2] C,8 |]\n"
    fixed, _ = repaired(abc)
    assert "c8 |" in fixed


def test_tie_across_lines_to_the_same_pitch_is_kept():
    abc = HEAD + "[V:1] c8- |\n[V:2] C,8 |\n[V:1] c8 |]\n[V:2] C,8 [I:staff +1] |]\n"
    fixed, _ = repaired(abc)
    assert "c8- |" in fixed


def test_open_repeat_is_closed_at_the_last_bar():
    fixed, _ = repaired(HEAD + "|: c2 d2 e2 f2 | g8 |]\n")
    assert fixed.endswith("g8 :|]\n")
    assert len(midi_of(fixed)) == 10


def test_lone_close_repeat_is_kept():
    abc = HEAD + "c8 | d8 :| e8 |] [I:staff +1]\n"
    fixed, _ = repaired(abc)
    assert "d8 :| e8" in fixed


def test_second_open_repeat_becomes_a_double_repeat():
    fixed, _ = repaired(HEAD + "|: c8 | d8 |: e8 | f8 :|\n")
    assert "d8 :: e8" in fixed


def test_first_ending_after_a_closed_repeat_reopens_it():
    fixed, _ = repaired(HEAD + "c8 | d8 :| e8 | [1 f8 :| [2 g8 |]\n")
    assert "d8 :: e8" in fixed


def test_broken_rhythm_between_unequal_notes_keeps_the_total():
    fixed, messages = repaired(HEAD + "A2>B c>d e<f2 g2 | c8 |]\n")
    assert "A3 B/2" in fixed and "e/2 f3" in fixed and "c>d" in fixed
    assert sum("broken rhythm" in m for m in messages) == 2


def test_nested_tuplet_mark_is_dropped():
    fixed, _ = repaired(HEAD + "(3c(3de f2 (3gab c'2 | c8 |]\n")
    assert fixed.count("(3") == 2


def test_trill_on_a_chord_is_dropped_but_on_a_note_kept():
    fixed, _ = repaired(HEAD + "T[ceg]4 !trill![ceg]2 Tc2 | ~[ce]8 |]\n")
    assert "T[" not in fixed and "!trill![" not in fixed and "~[" not in fixed
    assert "Tc2" in fixed


def test_stray_slash_lowercase_comma_and_unmatched_brace():
    fixed, _ = repaired(HEAD + "c2 / d2 c,2 e2} | {g}f8 |]\n")
    assert "/" not in fixed.split("K:C\n")[1]
    assert "C2" in fixed and "}" not in fixed.replace("{g}", "")


# -- voice declarations ----------------------------------------------------------------------


def test_voice_used_but_not_declared_is_declared():
    abc = "X:1\nT:t\nM:4/4\nL:1/8\nV:S\nK:C\n[V:S] c8 |]\n[V:B] C,8 [I:staff +1] |]\n"
    fixed, messages = repaired(abc)
    assert "V:B\nK:C" in fixed
    assert any("never declared" in m for m in messages)


def test_score_keeps_to_the_voices_that_remain():
    abc = (
        "X:1\nT:t\nM:4/4\nL:1/8\n%%score { ( S A ) | T }\nV:S\nV:A\nV:T\nK:C\n"
        "[V:S] c8 [I:staff +1] |]\n[V:T] C8 |]\n[V:B] C,8 |]\n[V:A]\n"
    )
    fixed, _ = repaired(abc)
    score = next(ln for ln in fixed.split("\n") if ln.startswith("%%score"))
    assert score == "%%score { ( S ) | T } B"


# -- helpers used above ----------------------------------------------------------------------


def midi_of(abc: str) -> list[int]:
    conversion = abc_to_midi(abc)
    assert conversion.midi is not None
    return [n.pitch for t in midi_to_score(conversion.midi).tracks for n in t.notes]


def test_fix_bars_falls_back_to_the_bars_as_written_when_marking_is_worse(monkeypatch):
    repair_module = importlib.import_module("pictune.abc.repair")  # the module, not the function

    def breaks_the_tune(self):
        self.lines[-1] = self.lines[-1] + " [M:x/0"
        self.note("bar length", 6, "marked an over-full bar")

    monkeypatch.setattr(repair_module._Repairer, "pad_bars", breaks_the_tune)
    abc = HEAD + "C8 | c4 d4 e2 | G8 |]\n"
    result = repair(abc, validate(abc).diagnostics, fix_bar_lengths=True)
    assert result.abc == abc
    assert [f.message for f in result.fixes] == [
        "left the bar lengths as written: the fixed bars made abc2midi report more errors"
    ]


def test_repair_takes_the_validation_and_leaves_a_valid_tune_alone():
    abc = HEAD + "c2 d2 e2 f2 | g8 |]\n"
    report = validate(abc)
    assert report.ok
    assert repair(abc, report).abc == abc
    broken = HEAD + "c2 [I:staff +1] d2 e2 f2 | g8 |]\n"
    assert "[I:" not in repair(broken, validate(broken)).abc


def test_score_groups_left_empty_by_dropped_voices_are_removed():
    abc = (
        "X:1\nT:t\nM:4/4\nL:1/8\n%%score { ( S A ) | T }\nV:S\nV:A\nV:T\nK:C\n"
        "[V:T] C8 |]\n[V:S]\n[V:A]\n[V:T] C8 [I:staff +1] |]\n"
    )
    fixed, _ = repaired(abc)
    assert "%%score { T }" in fixed.split("\n")
    assert "V:S" not in fixed and "V:A" not in fixed
