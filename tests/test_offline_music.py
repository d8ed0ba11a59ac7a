"""The offline composer as a musician hears it: the gates on a small sample (measured by the
music critic), determinism, the prompt vocabulary with negation, and the motivation's
sentences for every combination of instruments."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from pictune.models.offline.analysis import analyse
from pictune.models.offline.composer import compose_piece
from pictune.models.offline.explanation import ensemble_sentence
from pictune.models.offline.melody import MelodyModel
from pictune.models.offline.plan import plan_from_analysis
from pictune.models.offline.prompt import VOCABULARY, vocabulary

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))


def plan_for(colour: tuple[int, int, int], prompt: str | None = None):
    return plan_from_analysis(analyse(Image.new("RGB", (64, 64), colour)), prompt, 16)


WARM = (250, 190, 70)


def test_the_gates_hold_on_a_small_sample(small_index_folder):
    from bench_musicianship import corpus_reference, gates, measure
    from bench_offline import colour_fields, scenes
    from pictune.corpus import CorpusIndex

    pictures = (colour_fields() + scenes())[::11]
    prompts = (None, "not fast, in a minor key", "energetic, with drums")
    results = measure(pictures, prompts, CorpusIndex(small_index_folder))
    corpus = corpus_reference(120)
    # Speed is the benchmark's gate, never a test's: a loaded CI machine must not fail it.
    failed = [
        (gate, value, target)
        for gate, value, target, holds in gates(results, corpus)
        if not holds and not gate.startswith("compose median")
    ]
    assert failed == []


def test_same_plan_and_seed_give_byte_identical_music():
    plan = plan_for(WARM)
    first = compose_piece(plan, MelodyModel(), 7, "T").abc
    assert compose_piece(plan, MelodyModel(), 7, "T").abc == first
    assert compose_piece(plan, MelodyModel(), 8, "T").abc != first


def test_the_picture_is_mixed_into_the_seed():
    plan = plan_for(WARM)
    other = replace(plan, fingerprint=plan.fingerprint + 1)
    assert (
        compose_piece(plan, MelodyModel(), 1, "T").abc
        != compose_piece(other, MelodyModel(), 1, "T").abc
    )


@pytest.mark.parametrize(
    ("prompt", "check"),
    [
        ("not fast", lambda p: p.tempo_qpm <= 100),
        ("not slow", lambda p: p.tempo_qpm >= 96),
        ("not in a major key", lambda p: p.mode == "minor"),
        ("slow and mysterious", lambda p: p.mode == "minor" and p.tempo_qpm < 90),
        ("not sad", lambda p: p.mode == "major"),
        ("no drums", lambda p: not p.percussion),
        ("not a waltz", lambda p: p.meter != "3/4"),
    ],
)
def test_negations_are_honoured(prompt, check):
    colour = (20, 30, 70) if prompt in ("not slow", "not a waltz") else WARM
    # "not a waltz" is tried on a plan a waltz was asked for first: the negation must undo it.
    words = ("a waltz, " if "waltz" in prompt else "") + prompt
    assert check(plan_for(colour, words))


def test_a_minor_key_is_a_mode_and_a_minor_is_a_key():
    mode_only = plan_for(WARM, "something in a minor key")
    assert mode_only.mode == "minor" and "key" not in mode_only.overrides
    keyed = plan_for(WARM, "in A minor")
    assert (keyed.tonic, keyed.mode) == ("A", "minor")


def test_every_vocabulary_word_changes_the_plan_or_is_reported():
    for colour in (WARM, (20, 30, 70)):
        base = plan_for(colour)
        for word in VOCABULARY:
            plan = plan_for(colour, word)
            changed = replace(plan, overrides={}, unused_words=()) != replace(
                base, overrides={}, unused_words=()
            )
            reported = {u.removesuffix(" (already so)") for u in plan.unused_words}
            assert changed or word in reported, word
    assert {"calm", "energetic", "lullaby", "brass", "woodwinds", "choir", "angry"} <= {
        w for w, _, _ in vocabulary()
    }


def test_words_that_change_nothing_are_named():
    plan = plan_for(WARM, "a purple elephant waltz")
    assert {"purple", "elephant"} <= set(plan.unused_words)
    assert plan.meter == "3/4"


@pytest.mark.parametrize(
    ("programs", "sentence"),
    [
        ((0, 0, 0), "The piano plays the tune, the chords and the lowest line."),
        (
            (73, 0, 42),
            "The flute plays the tune, the piano plays the chords and the cello plays the "
            "lowest line.",
        ),
        (
            (40, 48, 48),
            "The violin plays the tune, and the strings play the chords and the lowest line.",
        ),
        (
            (48, 48, 42),
            "The strings play the tune and the chords, and the cello plays the lowest line.",
        ),
        (
            (42, 0, 42),
            "The cello plays the tune and the lowest line, and the piano plays the chords.",
        ),
    ],
)
def test_instrument_sentences_are_grammatical(programs, sentence):
    assert ensemble_sentence(*programs) == sentence


def test_the_readme_publishes_every_vocabulary_word():
    readme = (Path(__file__).parents[1] / "README.md").read_text("utf-8")
    table = readme[readme.index("| aspect | words |") :].split("\n\n")[0]
    missing = [word for word in VOCABULARY if word not in table]
    assert missing == []


def test_no_instrument_takes_it_out_of_every_part():
    from pictune.models.offline.plan import apply_prompt

    piano = plan_for(WARM, "for piano")
    assert 0 in (piano.melody_program, piano.accompaniment_program, piano.bass_program)
    without = apply_prompt(piano, "no piano")
    assert 0 not in (without.melody_program, without.accompaniment_program, without.bass_program)
    assert apply_prompt(without, "no piano").unused_words[-1] == "no piano (already so)"


SETTINGS_TO_TRY = (
    ("4/4", "hymn"),
    ("3/4", "waltz"),
    ("6/8", "march"),
    ("6/8", "strummed"),
    ("6/8", "arpeggio"),
    ("4/4", "pad"),
)


def test_phrases_end_on_the_home_chords_and_short_notes_are_beamed():
    # Across meters and textures: the last note of every phrase belongs to the home tonic or
    # dominant chord (never a passing note), and no voice leaves its short notes unbeamed.
    from pictune.music.critic import review_abc

    found = []
    for colour in ((250, 190, 70), (40, 60, 120), (120, 200, 140)):
        for meter, texture in SETTINGS_TO_TRY:
            plan = replace(plan_for(colour), meter=meter, texture=texture, intro=False)
            for seed in (1, 2):
                abc = compose_piece(plan, MelodyModel(), seed, "Test").abc
                rules = {f.rule for f in review_abc(abc).findings}
                found += [(colour, meter, texture, seed, rule) for rule in sorted(rules)
                          if rule in ("cadence.phrase-end", "notation.unbeamed")]  # fmt: skip
    assert found == []


@pytest.mark.parametrize("instrument", ["flute", "violin", "trumpet", "clarinet"])
def test_a_single_line_instrument_takes_the_tune_not_the_chords(instrument):
    from pictune.models.offline.prompt import CHORD_CAPABLE, INSTRUMENTS

    plan = plan_for(WARM, f"for {instrument}")
    assert plan.melody_program == INSTRUMENTS[instrument]
    assert plan.accompaniment_program in CHORD_CAPABLE
    assert plan.accompaniment_program != INSTRUMENTS[instrument]


def test_an_instrument_that_plays_chords_takes_the_whole_piece():
    plan = plan_for(WARM, "for piano")
    assert plan.melody_program == plan.accompaniment_program == plan.bass_program == 0


def test_accidentals_are_written_once_a_bar_and_read_alike_by_abc2midi_and_a_musician():
    """In E flat: E natural stated once for the bar, not on every chord; an E natural in
    another octave gets a courtesy sign (a musician reads accidentals per note, abc2midi per
    letter); E flat again states its flat; the next bar starts from the key signature."""
    from pictune.models.offline.arrangement import Event
    from pictune.models.offline.notation import VoiceText, voice_bars
    from pictune.models.offline.theory import Key
    from pictune.music.score import Score

    key = Key("Eb", "major")
    pitches = [(60, 64), (60, 64), (76,), (63,), (64,), (64,), (63,), (63,)]
    events = [Event(2 * k, 2, p) for k, p in enumerate(pitches)]
    bars = voice_bars(events, 8, 4, VoiceText(key, lambda t: key))
    assert bars == ["[C=E][CE] =e_E", "=EE _EE"]
    played = Score.from_abc("X:1\nT:t\nM:2/4\nL:1/16\nK:Eb\n" + " | ".join(bars) + " |]\n")
    assert [int(p) for p in played.pitch] == [p for chord in pitches for p in chord]


def test_chord_symbols_spell_double_sharps():
    """G sharp minor's leading-tone chord is F double sharp diminished (its notes were
    written ^^F while the symbol said 'Fdim')."""
    from pictune.models.offline.theory import Key, triad

    assert triad(6, 8, "minor").symbol(Key("G#", "minor")) == "F##dim"
    assert triad(4, 8, "minor").symbol(Key("G#", "minor")) == "D#"


def test_a_chord_that_goes_on_within_a_bar_is_named_once():
    """Two chord slots of a bar holding the same chord: one symbol ("Cm" E F G A "Cm" G was
    written for two of the generated pictures)."""
    import itertools
    import re

    from bench_offline import colour_fields, scenes

    pictures = dict(colour_fields() + scenes())
    for name in ("dark-cool-11", "bright-warm-07"):
        plan = plan_from_analysis(analyse(pictures[name]), None, 16)
        abc = compose_piece(plan, MelodyModel(), 1, "T").abc
        melody = abc.split("\nV:1\n", 1)[1].split("\nV:2", 1)[0].replace("\n", "")
        for bar in melody.split("|"):
            symbols = re.findall(r'"([^"]+)"', bar)
            assert all(a != b for a, b in itertools.pairwise(symbols)), (name, bar)


@pytest.mark.parametrize(
    ("prompt", "kind"), [("a calm lullaby", "Lullaby"), ("a march with drums", "March")]
)
def test_the_close_slows_with_rit_and_a_diminuendo_but_a_march_keeps_its_step(prompt, kind):
    """A musician writes "rit." and a hairpin, not only metronome changes; a march ends in
    tempo. A dynamic is written where it changes, not again at every phrase."""
    import itertools
    import re

    from pictune.models.offline.plan import piece_kind

    plan = replace(plan_for(WARM, prompt), ending=True)
    assert piece_kind(plan) == kind
    abc = compose_piece(plan, MelodyModel(), 2, "T").abc
    melody = abc.split("\nV:1\n", 1)[1].split("\nV:2", 1)[0]
    marks = ('"_rit."', "!>(!", "!>)!", "[Q:")
    if kind == "March":
        assert not any(mark in melody for mark in marks)
    else:
        last_bars = melody.replace("\n", "").split("|")[-3:]
        assert all(mark in "|".join(last_bars) for mark in marks)
    dynamics = re.findall(r"!(pp|p|mp|mf|f|ff)!", melody)
    assert dynamics and all(a != b for a, b in itertools.pairwise(dynamics))


def test_a_note_is_not_held_into_a_chord_it_clashes_with():
    """F held from D minor into E major: cut at the change, where it steps down to E; a
    note that belongs to the new chord is held on."""
    from pictune.models.offline.harmony import Slot
    from pictune.models.offline.theory import triad
    from pictune.models.offline.tune import Note, resolve_held_clashes

    dm, e = triad(3, 9, "minor"), triad(4, 9, "minor")  # iv and V of A minor
    bars = [[Slot(0, 8, dm), Slot(8, 4, e)]]
    notes = [Note(0, 4, 69, True), Note(4, 8, 65, False)]
    assert resolve_held_clashes(notes, bars, 12, 4, 57, 81) == [
        Note(0, 4, 69, True),
        Note(4, 4, 65, False),
        Note(8, 4, 64, True),
    ]
    held = [Note(0, 4, 69, True), Note(4, 8, 64, False)]  # E belongs to the E chord: held on
    assert resolve_held_clashes(held, bars, 12, 4, 57, 81) == held


def test_the_chords_leave_the_tunes_note_to_the_tune():
    """Where the tune dips into the chords and both strike the same note, that chord tone
    moves an octave down, or is left out when the octave below would sit under the bass."""
    from pictune.models.offline.arrangement import Event, clear_unisons

    chords = [Event(0, 4, (60, 64, 67)), Event(4, 4, (60, 64, 67)), Event(8, 4, (55, 60, 64))]
    tune = [(0, 4, 67), (4, 4, 72), (8, 4, 55)]
    bass = [Event(0, 12, (48,))]
    assert [e.pitches for e in clear_unisons(chords, tune, bass)] == [
        (55, 60, 64),  # G4 doubled: down to G3, over the bass's C3
        (60, 64, 67),  # no unison
        (60, 64),  # G3 doubled: G2 would sit under the bass, so it is left out
    ]


def test_the_final_leading_tone_rises_into_the_tonic():
    from pictune.models.offline.tune import Note, resolve_final_leading_tone

    notes = [Note(0, 4, 83, True), Note(4, 4, 72, True)]  # B5 falling a seventh to C5
    assert [n.pitch for n in resolve_final_leading_tone(notes, 60, 86)] == [83, 84]
    assert [n.pitch for n in resolve_final_leading_tone(notes, 60, 83)] == [71, 72]
    rising = [Note(0, 4, 71, True), Note(4, 4, 72, True)]
    assert resolve_final_leading_tone(rising, 60, 86) == rising


def test_augmented_seconds_are_written_as_melodic_minor():
    """A minor: F to G sharp over D minor then E. Off the beat F is raised to F sharp; on
    the beat of the D minor chord (F is its tone) it becomes the A above instead."""
    from pictune.models.offline.harmony import Slot
    from pictune.models.offline.theory import triad
    from pictune.models.offline.tune import Note, smooth_augmented_seconds

    bars = [[Slot(0, 8, triad(3, 9, "minor")), Slot(8, 8, triad(4, 9, "minor"))]]
    passing = [Note(6, 2, 77, False), Note(8, 8, 80, True)]
    assert [n.pitch for n in smooth_augmented_seconds(passing, bars, 16, 60, 84)] == [78, 80]
    struck = [Note(4, 4, 77, True), Note(8, 8, 80, True)]
    assert [n.pitch for n in smooth_augmented_seconds(struck, bars, 16, 60, 84)] == [81, 80]


def test_the_bass_clears_parallel_octaves_across_the_barline():
    """C5 over C3, then F5 over F3: octaves in similar motion. The bass takes the F chord's
    third (A2, under the chords), moving against the tune."""
    from pictune.models.offline.arrangement import Event, clear_parallels
    from pictune.models.offline.harmony import Slot
    from pictune.models.offline.theory import triad

    c, f = triad(0, 0, "major"), triad(3, 0, "major")
    bars = [[Slot(0, 16, c)], [Slot(0, 16, f)], [Slot(0, 16, c)]]
    tune = [(0, 16, 72), (16, 16, 77), (32, 16, 72)]
    bass = [Event(0, 16, (48,)), Event(16, 16, (53,)), Event(32, 16, (48,))]
    chords = [Event(0, 16, (55, 60, 64)), Event(16, 16, (57, 60, 65)), Event(32, 16, (55, 60, 64))]
    cleared = clear_parallels(bass, tune, chords, bars, 16, 57)
    assert [e.pitches for e in cleared] == [(48,), (45,), (48,)]
