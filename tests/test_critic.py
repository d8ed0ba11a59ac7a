"""The music critic: each rule on a small hand-written tune that breaks it and one that keeps it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pictune.errors import AbcError
from pictune.music import Finding, Review, Severity, review, review_abc
from pictune.music.score import Score


def tune(body: str, meter: str = "4/4", unit: str = "1/4", key: str = "C", head: str = "") -> str:
    return f"X:1\nT:t\nM:{meter}\nL:{unit}\nK:{key}\n{head}{body}\n"


def two_voices(melody: str, bass: str, key: str = "C", program: int | None = None) -> str:
    midi = f"%%MIDI program {program}\n" if program is not None else ""
    return tune(f"V:1\n{midi}{melody}\nV:2 clef=bass\n{bass}", key=key)


def rules(abc: str) -> set[str]:
    return {f.rule for f in review_abc(abc).findings}


def findings(abc: str, rule: str) -> list[Finding]:
    return [f for f in review_abc(abc).findings if f.rule == rule]


# -- cadences ----------------------------------------------------------------------------------


def test_melody_ending_on_the_leading_tone_is_an_error_naming_it():
    [found] = findings(tune("C D E F|G A B2|]"), "cadence.final-melody")
    assert found.severity is Severity.ERROR
    assert found.bar == 2 and found.beat == 3
    assert "leading tone (B)" in found.message and "end the melody on C" in found.fix()


def test_melody_ending_on_the_tonic_passes():
    assert "cadence.final-melody" not in rules(tune("C D E F|G A B c|]"))


def test_bass_ending_off_the_tonic_is_found():
    abc = two_voices("c d e f|g f d c|]", "C, G,, C, F,|E, D, G,, G,,|]")
    [found] = findings(abc, "cadence.final-bass")
    assert found.voice == "voice 2" and "G" in found.message


def test_bass_ending_on_the_tonic_passes():
    abc = two_voices("c d e f|g f d c|]", "C, G,, C, F,|E, D, G,, C,|]")
    assert "cadence.final-bass" not in rules(abc)


def test_final_chord_symbol_other_than_the_tonic_is_found():
    assert "cadence.final-chord" in rules(tune('"C"c4|"G"d4|"G"c4|]'))
    assert "cadence.final-chord" not in rules(tune('"C"c4|"G"d4|"C"c4|]'))


def test_minor_key_cadence_on_the_minor_dominant_asks_for_the_leading_tone():
    [found] = findings(tune('"Am"A4|"Em"G4|"Am"A4|]', key="Am"), "cadence.minor-dominant")
    assert "G#" in found.advice


def test_minor_key_cadence_with_the_raised_leading_tone_passes():
    assert "cadence.minor-dominant" not in rules(tune('"Am"A4|"E"^G4|"Am"A4|]', key="Am"))


def test_minor_dominant_without_symbols_is_judged_from_the_sounding_notes():
    natural = two_voices("A4|G4|A4|]", "A,4|E,4|A,,4|]", key="Am")
    raised = two_voices("A4|^G4|A4|]", "A,4|E,4|A,,4|]", key="Am")
    assert "cadence.minor-dominant" in rules(natural)
    assert "cadence.minor-dominant" not in rules(raised)


PHRASES = "C D E F|G A G F|E D E F|{bar4}|{bar5}|E F G A|G F E D|C4|]"


def test_phrase_ending_outside_tonic_and_dominant_chords_is_noted():
    [found] = findings(tune(PHRASES.format(bar4="G2 F2", bar5="E D C D")), "cadence.phrase-end")
    assert found.bar == 4 and found.severity is Severity.NOTE


def test_phrase_ending_on_the_dominant_passes():
    assert "cadence.phrase-end" not in rules(tune(PHRASES.format(bar4="G2 D2", bar5="E D C D")))


def test_phrases_are_counted_from_where_the_tune_begins_after_an_introduction():
    # Two bars of rest (an introduction for the accompaniment alone): the first phrase ends
    # in bar 6, whose last note F is outside I and V; bar 4 (mid-phrase) is not judged.
    body = "z4|z4|C D E F|G A G D|E D E F|G2 F2|E D C D|E F G A|G F E D|C4|]"
    [found] = findings(tune(body), "cadence.phrase-end")
    assert found.bar == 6
    passing = body.replace("G2 F2", "G2 D2")
    assert "cadence.phrase-end" not in rules(tune(passing))


def test_phrase_stopping_on_an_unresolved_leading_tone_is_found():
    assert "cadence.leading-tone" in rules(tune(PHRASES.format(bar4="G2 B,2", bar5="E D C D")))
    assert "cadence.leading-tone" not in rules(tune(PHRASES.format(bar4="G2 B,2", bar5="C D C D")))


# -- harmony -----------------------------------------------------------------------------------


def test_strong_beat_note_outside_the_chord_clashes():
    [found] = findings(tune('"C"c2 F2|"C"c4|]'), "harmony.strong-beat")
    assert (found.bar, found.beat) == (1, 3)
    assert found.message == "the melody's F clashes with the C chord"
    assert "C, E, G" in found.advice


def test_strong_beat_chord_tones_pass_and_rate_is_measured():
    result = review_abc(tune('"C"c2 e2|"G"d2 B2|"C"c4|]'))
    assert "harmony.strong-beat" not in {f.rule for f in result.findings}
    assert result.rates.strong_beat_chord_tones == 1.0


def test_appoggiatura_resolving_by_step_is_excused_but_counted_in_the_rate():
    result = review_abc(tune('"C"c B/A/ F E|"C"c4|]'))
    assert "harmony.strong-beat" not in {f.rule for f in result.findings}
    assert result.rates.strong_beat_chord_tones == pytest.approx(2 / 3)


def test_suspension_prepared_and_resolved_is_excused():
    assert "harmony.strong-beat" not in rules(tune('"F"c2 F2-|"C"F E c2|"C"c4|]'))


def test_bass_off_the_root_on_downbeats_is_found():
    melody = '"C"c4|"F"c4|"G"B4|"C"c4|]'
    thirds = review_abc(two_voices(melody, "E,4|A,4|B,,4|E,4|]"))
    roots = review_abc(two_voices(melody, "C,4|F,4|G,,4|C,4|]"))
    assert "harmony.bass-root" in {f.rule for f in thirds.findings}
    assert thirds.rates.bass_root_on_downbeats == 0.0
    assert "harmony.bass-root" not in {f.rule for f in roots.findings}
    assert roots.rates.bass_root_on_downbeats == 1.0


# -- voices ------------------------------------------------------------------------------------


def test_bass_above_the_melody_is_a_crossing():
    result = review_abc(two_voices("C D E F|C4|]", "c d e f|c4|]"))
    crossing = [f for f in result.findings if f.rule == "voices.crossing"]
    assert [f.bar for f in crossing] == [1, 2] and crossing[0].severity is Severity.ERROR
    assert result.rates.bass_above_melody == 1.0


def test_bass_below_the_melody_does_not_cross():
    result = review_abc(two_voices("c d e f|c4|]", "C, D, E, F,|C,4|]"))
    assert "voices.crossing" not in {f.rule for f in result.findings}
    assert result.rates.bass_above_melody == 0.0


def test_chords_under_the_bass_are_found():
    """The harp's G2-C3-E3 under a cello's C3: the chord stands on its fifth (a 6/4)."""
    three = "V:1\nc2 e2|g4|]\nV:2 clef=bass\n{chords}|[G,,C,E,]4|]\nV:3 clef=bass\nC,4|C,4|]"
    result = review_abc(tune(three.format(chords="[G,,C,E,]4")))
    [found] = [f for f in result.findings if f.rule == "voices.under-bass"]
    assert (found.bar, found.beat, found.voice) == (1, 1, "voice 2")
    assert "G2 under C3" in found.message and "100%" in found.message
    assert result.rates.accompaniment_under_bass == 1.0
    above = review_abc(tune(three.format(chords="[E,G,C]4").replace("|[G,,C,E,]4", "|[E,G,C]4")))
    assert "voices.under-bass" not in {f.rule for f in above.findings}
    assert above.rates.accompaniment_under_bass == 0.0


def test_accompaniment_doubling_the_melody_in_unison_is_noted():
    assert "voices.unison" in rules(two_voices("c d e f|c4|]", "c B, C D|C4|]"))
    assert "voices.unison" not in rules(two_voices("c d e f|c4|]", "C B,, C, D,|C,4|]"))


def test_notes_outside_the_instruments_range_are_found():
    [found] = findings(
        tune("C, D, E, F,|C,4|]", head="%%MIDI program 73\n"), "voices.instrument-range"
    )
    assert "flute" in found.message and "below" in found.message and "C3" in found.message
    assert "voices.instrument-range" not in rules(tune("c d e f|c4|]", head="%%MIDI program 73\n"))


def test_a_bass_written_high_above_its_staff_needs_ledger_lines():
    high = review_abc(two_voices("c'4|c'4|]", "c' b a g|c'4|]"))
    [found] = [f for f in high.findings if f.rule == "voices.ledger-lines"]
    assert found.voice == "voice 2" and "above the bass staff" in found.message
    assert high.rates.bass_notes_over_two_ledger_lines == 1.0
    low = review_abc(two_voices("c d e f|c4|]", "C, D, E, C,|C,4|]"))
    assert "voices.ledger-lines" not in {f.rule for f in low.findings}
    assert low.rates.bass_notes_over_two_ledger_lines == 0.0


def test_parallel_fifths_between_the_outer_voices_are_found():
    found = findings(two_voices("G A B c|c4|]", "C, D, E, F,|C,4|]"), "voices.parallel-fifths")
    assert [(f.bar, f.beat) for f in found] == [(1, 2), (1, 3), (1, 4)]


def test_a_leading_tone_leaping_away_from_the_final_tonic_is_found():
    [found] = findings(tune("G A B c'|b4|c4|]"), "cadence.leading-tone")
    assert found.bar == 3 and "B5 leaps to the final C5" in found.message
    assert "cadence.leading-tone" not in rules(tune("G A B c'|b4|c'4|]"))


def test_a_note_held_into_a_chord_it_clashes_with_is_found_unless_it_resolves():
    """F tied from the D minor chord into E major sounds against G sharp; a suspension
    that steps down to E is fine."""
    held = tune('"Dm"A G F2- "E"F2|"Am"c6|]', meter="3/4", unit="1/8", key="Am")
    [found] = findings(held, "harmony.held-clash")
    assert (found.bar, found.beat) == (1, 3) and "F, held into the E chord" in found.message
    resolved = tune('"Dm"A G F2- "E"F E|"Am"A6|]', meter="3/4", unit="1/8", key="Am")
    assert "harmony.held-clash" not in rules(resolved)


def test_an_augmented_second_in_minor_is_found():
    [found] = findings(tune("c _A =B c|c4|]", key="Cm"), "melody.augmented-second")
    assert (found.bar, found.beat) == (1, 3) and "Ab4 to B4" in found.message
    assert "melody.augmented-second" not in rules(tune("c =A =B c|c4|]", key="Cm"))  # melodic
    assert "melody.augmented-second" not in rules(tune("c _A =B c|c4|]", key="C"))  # not minor


def test_parallel_octaves_across_a_barline_over_a_held_bass_are_found():
    """The tune's last note over the held bass makes the octave, and both move to the next
    downbeat's octave: the moment before the downbeat counts, not only common onsets."""
    [found] = findings(two_voices("c2 B2|A4|]", "B,,4|A,,4|]"), "voices.parallel-octaves")
    assert (found.bar, found.beat) == (2, 1) and "B2–B4 to A2–A4" in found.message
    oblique = two_voices("c2 B2|B4|]", "B,,4|A,,4|]")  # the tune holds its pitch: oblique
    assert "voices.parallel-octaves" not in rules(oblique)


def test_parallel_octaves_are_found_and_contrary_motion_passes():
    assert "voices.parallel-octaves" in rules(two_voices("c d e f|c4|]", "C, D, E, F,|C,4|]"))
    contrary = rules(two_voices("G F E D|C4|]", "C, D, E, F,|C,4|]"))
    assert not contrary & {"voices.parallel-octaves", "voices.parallel-fifths"}


# -- notation ----------------------------------------------------------------------------------


def test_untied_note_across_the_beat_is_found():
    result = review_abc(tune("A B2 c|d4|]", meter="2/4", unit="1/8"))
    [found] = [f for f in result.findings if f.rule == "notation.beat-crossing"]
    assert (found.bar, found.beat) == (1, 1) and "beat 2" in found.message
    assert result.rates.untied_beat_crossings == pytest.approx(1 / 4)


def test_tied_notes_at_the_beat_pass():
    result = review_abc(tune("A B- B c|d4|]", meter="2/4", unit="1/8"))
    assert "notation.beat-crossing" not in {f.rule for f in result.findings}
    assert result.rates.untied_beat_crossings == 0.0


def test_beam_across_a_beat_from_off_the_beat_hides_it():
    assert "notation.beaming" in rules(tune("A Bc d e2 f2|g8|]", unit="1/8"))
    assert "notation.beaming" not in rules(tune("AB cd e2 f2|g8|]", unit="1/8"))


def test_beam_across_the_middle_of_a_four_four_bar_hides_it():
    assert "notation.beaming" in rules(tune("A2 Bcde f2|g8|]", unit="1/8"))
    assert "notation.beaming" not in rules(tune("ABcd efga|g8|]", unit="1/8"))


def test_compound_meter_beams_by_dotted_quarter():
    assert "notation.beaming" in rules(tune("ABcdef|g6|]", meter="6/8", unit="1/8"))
    assert "notation.beaming" not in rules(tune("ABc def|g6|]", meter="6/8", unit="1/8"))


def test_backquotes_keep_a_beam():
    assert "notation.beaming" not in rules(tune("A`B c`d e2 f2|g8|]", unit="1/8"))


def test_short_notes_never_beamed_are_noted():
    assert "notation.unbeamed" in rules(tune("A B c d e f g a|b8|]", unit="1/8"))
    assert "notation.unbeamed" not in rules(tune("AB cd ef ga|b8|]", unit="1/8"))


def test_short_notes_with_no_neighbour_to_beam_with_are_not_called_unbeamed():
    # 6/8 quarter-eighth and eighth-quarter: each eighth is alone in its beat.
    jig = tune("d2f a2f|B2d f2g|e2a c2e|d6|]", meter="6/8", unit="1/8")
    assert "notation.unbeamed" not in rules(jig)
    apart = tune("d f a d f a|B d f B d f|e a c e a c|d6|]", meter="6/8", unit="1/8")
    assert "notation.unbeamed" in rules(apart)


# -- repetition --------------------------------------------------------------------------------


def test_bar_repeated_note_for_note_is_found():
    result = review_abc(tune("C D E F|C D E F|G A B c|c4|]"))
    [found] = [f for f in result.findings if f.rule == "repetition.bar"]
    assert found.bar == 2 and found.message == "bar 2 repeats bar 1 note for note"
    assert result.rates.repeated_bars == pytest.approx(1 / 3)


def test_repeat_signs_are_the_form_not_a_repeated_bar():
    result = review_abc(tune("|:C D E F:|G A B c|c4|]"))
    assert "repetition.bar" not in {f.rule for f in result.findings}
    assert result.rates.repeated_bars == 0.0


PHRASE = "C D E F|G A G F|E D E F|G2 D2|"


def test_phrase_written_out_twice_is_noted():
    [found] = findings(tune(PHRASE * 2 + "C4|]"), "repetition.phrase")
    assert found.message == "bars 5–8 repeat bars 1–4 note for note"


def test_phrase_repeated_with_repeat_signs_passes():
    assert "repetition.phrase" not in rules(tune("|:" + PHRASE[:-1] + ":|C4|]"))


# -- the review --------------------------------------------------------------------------------


def test_fixes_are_one_line_each_with_place_voice_and_remedy():
    result = review_abc(tune('"C"c2 F2|"G"G A B2|]'))
    fixes = result.fixes()
    assert fixes[0] == (
        "bar 2, beat 3 (voice 1): the piece ends on the leading tone (B), not the tonic C; "
        "end the melody on C"
    )
    assert all("\n" not in line for line in fixes)
    assert result.fixes(limit=1) == fixes[:1]


def test_penalty_weights_errors_above_warnings():
    wrong = review_abc(tune("C D E F|G A B2|]"))
    right = review_abc(tune("C D E F|G A B c|]"))
    assert wrong.penalty >= right.penalty + Severity.ERROR.weight
    assert Severity.ERROR.weight > Severity.WARNING.weight > Severity.NOTE.weight


def test_review_uses_the_callers_score_without_converting_again(monkeypatch):
    text = tune("C D E F|G A B c|]")
    score = Score.from_abc(text)

    def refuse(_: str) -> Score:
        raise AssertionError("converted twice")

    monkeypatch.setattr(Score, "from_abc", refuse)
    assert isinstance(review(score, text), Review)


def test_review_of_a_score_without_text_still_judges_music():
    score = Score.from_abc(tune("C D E F|G A B2|]"))
    result = review(score)
    assert "cadence.final-melody" in {f.rule for f in result.findings}
    assert result.rates.untied_beat_crossings is None


def test_review_serialises_to_json():
    data = json.loads(json.dumps(review_abc(tune('"C"c2 F2|"G"G A B2|]')).to_dict()))
    assert data["key"] == "C major" and data["harmony"] == "symbols"
    assert {"rule", "severity", "bar", "beat", "voice", "message", "advice"} <= set(
        data["findings"][0]
    )


def test_a_tune_of_rests_has_nothing_to_review():
    result = review_abc(tune("z4|z4|]"))
    assert result.findings == () and result.rates.melody_range is None


def test_unplayable_abc_raises_abc_error():
    with pytest.raises(AbcError):
        review_abc("X:1\nT:no key field\n")


def test_a_fault_inside_a_repeat_is_reported_once():
    result = review_abc(tune('|:"C"c2 F2|"C"e2 g2:|"C"c4|]'))
    assert [f.bar for f in result.findings if f.rule == "harmony.strong-beat"] == [1]


def test_chord_symbols_of_a_lower_voice_set_the_harmony():
    abc = tune('V:1\nc2 F2|c4|]\nV:2 clef=bass\n"C"C,4|"C"C,4|]')
    assert "harmony.strong-beat" in rules(abc)


def test_every_rule_the_critic_emits_is_listed_with_a_description():
    import pictune.music.cadences as cadences
    import pictune.music.consonance as consonance
    import pictune.music.notation as notation
    import pictune.music.repetition as repetition
    import pictune.music.voicing as voicing
    from pictune.music import RULES

    sources = "".join(
        Path(str(module.__file__)).read_text("utf-8")
        for module in (cadences, consonance, notation, repetition, voicing)
    )
    emitted = set(
        re.findall(r'"((?:cadence|harmony|voices|melody|notation|repetition)\.[a-z-]+)"', sources)
    )
    emitted |= {"voices.parallel-fifths", "voices.parallel-octaves"}  # built from the interval
    assert emitted == set(RULES)


def test_fixes_name_every_place_of_the_same_fault_on_one_line():
    abc = tune("A B2 c|A B2 c|A B2 c|A B2 c|A B2 c|d4|]", meter="2/4", unit="1/8")
    [line] = [fix for fix in review_abc(abc).fixes() if "runs across" in fix]
    assert line.startswith("bar 1, beat 1; bar 2, beat 1; bar 3, beat 1; bar 4, beat 1 and 1 more")
    assert line.count("split it at the beat") == 1


def test_minor_key_half_way_cadence_needs_the_leading_tone_too():
    phrase = '"Am"A2 c2|"Dm"d2 f2|"Em"e2 G2|"Am"A4|'
    [found] = findings(
        tune(phrase + '"Am"c2 e2|"Dm"f2 d2|"E"e2 ^G2|"Am"A4|]', key="Am"), "cadence.minor-dominant"
    )
    assert found.bar == 3
    assert "cadence.minor-dominant" not in rules(
        tune('"Am"A2 c2|"Em"e2 G2|"Dm"d2 f2|"Am"A4|]', key="Am")
    )
