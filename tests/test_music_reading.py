"""What the critic reads: the ABC timeline, voices, bars, chord symbols, keys, staves, and the
per-voice yardsticks."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from pictune.abc.timeline import (
    TICKS_PER_WHOLE,
    Meter,
    expand_parts,
    read_meter,
    read_timeline,
)
from pictune.music import bass_metrics, is_multi_voice, melody_metrics
from pictune.music.analysis import analyse
from pictune.music.harmony import parse_chord_symbol
from pictune.music.keys import Key, parse_key
from pictune.music.metrics import compute_metrics
from pictune.music.ranges import ledger_lines, playable_range
from pictune.music.score import Score
from pictune.music.voices import find_voices

JIG = "X:1\nM:6/8\nL:1/8\nK:G\nD|:G2A B>cd|e3- e2d|1 c3 A2D:|2 c3 G3|]\n"


def test_meters_know_their_beat():
    assert read_meter("6/8") == Meter(6, 8) and Meter(6, 8).beat == Fraction(3, 8)
    assert Meter(6, 8).beats == 2 and Meter(3, 4).beats == 3
    assert read_meter("C") == Meter(4, 4) and read_meter("C|") == Meter(2, 2)
    assert read_meter("none") is None


def test_timeline_numbers_a_pickup_bar_zero_and_aligns_it_to_its_end():
    timeline = read_timeline(JIG)
    pickup = timeline.bars[0]
    assert pickup.number == 0 and pickup.pickup
    assert pickup.downbeat == (Fraction(1, 8) - Fraction(3, 4)) * TICKS_PER_WHOLE
    assert [bar.number for bar in timeline.bars] == [0, 1, 2, 3, 4]


def test_timeline_reads_ties_broken_rhythm_and_endings():
    timeline = read_timeline(JIG)
    b, c = timeline.notes[3], timeline.notes[4]
    assert (b.duration, c.duration) == (TICKS_PER_WHOLE * 3 // 16, TICKS_PER_WHOLE // 16)
    assert timeline.notes[6].tied and not timeline.notes[7].tied
    assert [bar.ending for bar in timeline.bars] == [None, None, None, 1, 2]
    assert timeline.bars[1].start_repeat and timeline.bars[3].end_repeat


def test_performed_bars_expand_repeats_and_take_each_ending_on_its_pass():
    order = [index for index, _ in read_timeline(JIG).performed_bars("1")]
    assert order == [0, 1, 2, 3, 1, 2, 4]


def test_performed_bars_follow_the_header_parts():
    abc = "X:1\nM:2/4\nL:1/8\nP:ABA\nK:C\nP:A\nc2d2|e4|\nP:B\ng2f2|e4|]\n"
    order = [index for index, _ in read_timeline(abc).performed_bars("1")]
    assert order == [0, 1, 2, 3, 0, 1]
    assert expand_parts("(AB)2C") == "ABABC" and expand_parts("A2B") == "AAB"


def test_performed_bars_match_what_abc2midi_plays():
    abc = "X:1\nM:2/4\nL:1/8\nP:ABA\nK:C\nP:A\n|:c2d2:|e4|\nP:B\ng2f2|e4|]\n"
    grid = analyse(Score.from_abc(abc), abc).grid
    assert list(grid.number) == [1, 1, 2, 3, 4, 1, 1, 2]
    assert int(grid.start[-1] + grid.length[-1]) == Score.from_abc(abc).end


def test_beams_are_broken_by_spaces_and_long_notes_but_not_backquotes():
    timeline = read_timeline("X:1\nM:4/4\nL:1/8\nK:C\nAB c`d e4|]\n")
    beams = [note.beam for note in timeline.notes]
    assert beams[0] == beams[1] != beams[2] == beams[3] and beams[4] == -1


def test_chord_symbols_are_placed_and_annotations_ignored():
    timeline = read_timeline('X:1\nM:4/4\nL:1/4\nK:C\n"C"c "^loud"d "G7"e f|]\n')
    assert [(c.name, c.onset) for c in timeline.chords] == [("C", 0), ("G7", TICKS_PER_WHOLE // 2)]


def test_voices_leave_out_the_tracks_abc2midi_makes_from_chord_symbols():
    abc = 'X:1\nM:4/4\nL:1/4\nK:C\nV:1\n"C"c e g e|"G"d4|]\nV:2 clef=bass\nC,4|G,,4|]\n'
    score = Score.from_abc(abc)
    assert len(score.tracks) == 4  # voice 1, its chord bass and chords, voice 2
    voices = find_voices(score, read_timeline(abc))
    assert [v.label for v in voices.voices] == ["voice 1", "voice 2"]
    assert voices.voices[1].clef == "bass" and voices.bass == 1


def test_a_chordal_single_voice_has_its_melody_on_top_and_bass_below():
    abc = "X:1\nM:4/4\nL:1/4\nK:C\n[C,Ec] [D,Fd] [E,Ge] [C,Ec]|]\n"
    voices = find_voices(Score.from_abc(abc), read_timeline(abc))
    assert list(voices.melody_line().pitch) == [72, 74, 76, 72]
    bass = voices.bass_line()
    assert bass is not None and list(bass.pitch) == [48, 50, 52, 48]


@pytest.mark.parametrize(
    ("symbol", "root", "tones"),
    [
        ("Am", 9, {9, 0, 4}),
        ("F#m7b5", 6, {6, 9, 0, 4}),
        ("Bbmaj7", 10, {10, 2, 5, 9}),
        ("G/B", 7, {7, 11, 2}),
        ("Dsus4", 2, {2, 7, 9}),
        ("E7", 4, {4, 8, 11, 2}),
        ("F##dim", 7, {7, 10, 1}),  # G sharp minor's leading-tone chord
        ("Bbb", 9, {9, 1, 4}),
        ("Ab/Cb", 8, {8, 0, 3, 11}),
    ],
)
def test_chord_symbols_parse_to_root_and_tones(symbol, root, tones):
    chord = parse_chord_symbol(symbol)
    assert chord is not None and chord.root == root and chord.tones == tones


def test_words_are_not_chord_symbols():
    assert parse_chord_symbol("Allegro") is None and parse_chord_symbol("Hx") is None


def test_harmony_is_inferred_from_block_chords():
    abc = (
        "X:1\nM:4/4\nL:1/4\nK:C\nV:1\nc d B c|]\nV:2 clef=bass\n[C,E,G,] [F,A,] [G,,D,] [C,E,]|]\n"
    )
    analysis = analyse(Score.from_abc(abc), abc)
    assert analysis.harmony.source == "inferred"
    assert [c.name for c in analysis.harmony.chords] == ["C", "Dm", "G", "C"]


def test_keys_parse_with_modes_and_spell_as_written():
    assert parse_key("Am") == Key(9, "minor") and parse_key("D dor") == Key(2, "dorian")
    assert parse_key("Bb clef=bass") == Key(10, "major") and parse_key("none") is None
    assert Key(9, "minor").spell(8) == "G#" and Key(3, "major").spell(8) == "Ab"
    assert Key(2, "minor").spell(1) == "C#" and Key(2, "minor").spell(10) == "Bb"


def test_ledger_lines_on_each_clef():
    pitches = np.array([60, 64, 81, 84, 40])  # C4, E4, A5, C6, E2
    assert list(ledger_lines(pitches, "treble")) == [1, 0, 1, 2, 7]
    assert list(ledger_lines(np.array([60, 40, 43]), "bass")) == [1, 1, 0]
    assert list(ledger_lines(np.array([60]), "alto")) == [0]
    assert list(ledger_lines(np.array([48]), "treble", octave_shift=-1)) == [1]


def test_instrument_ranges():
    assert playable_range(73) == (60, 96)  # flute
    assert playable_range(33)[0] == 28  # electric bass, from the bass family


def test_melody_metrics_measure_the_melody_voice_alone():
    two = "X:1\nM:4/4\nL:1/4\nK:C\nV:1\nc d e f|g4|]\nV:2 clef=bass\nC,4|G,,4|]\n"
    one = "X:1\nM:4/4\nL:1/4\nK:C\nc d e f|g4|]\n"
    melody = melody_metrics(Score.from_abc(two), two)
    alone = compute_metrics(Score.from_abc(one))
    assert melody.refinement_values() == alone.refinement_values()
    assert compute_metrics(Score.from_abc(two)).pitch_range > melody.pitch_range


def test_a_lead_sheet_is_a_single_line_and_a_duet_is_not():
    lead = 'X:1\nM:4/4\nL:1/4\nK:C\n"C"c d e f|"G"g4|]\n'
    duet = "X:1\nM:4/4\nL:1/4\nK:C\nV:1\nc d e f|g4|]\nV:2 clef=bass\nC,4|G,,4|]\n"
    chords = "X:1\nM:4/4\nL:1/4\nK:C\n[CEc]4|[B,DG]4|]\n"
    assert not is_multi_voice(Score.from_abc(lead), lead)
    assert is_multi_voice(Score.from_abc(duet), duet)
    assert is_multi_voice(Score.from_abc(chords), chords)


def test_occasional_double_stops_do_not_make_a_bass():
    abc = "X:1\nM:4/4\nL:1/4\nK:D\nd e f g|a b a g|f e d c|[Fd]4|]\n"
    voices = find_voices(Score.from_abc(abc), read_timeline(abc))
    assert voices.bass is None and voices.is_single_line


def test_text_bars_that_do_not_fit_the_score_give_way_to_the_scores_bars():
    written = "X:1\nM:4/4\nL:1/4\nK:C\nc d e f|g a b c'|]\n"
    played = "X:1\nM:4/4\nL:1/4\nK:C\nc d e f|g a b c'|c' b a g|f e d c|]\n"
    grid = analyse(Score.from_abc(played), written).grid
    assert list(grid.text_bar) == [-1, -1, -1, -1] and list(grid.number) == [1, 2, 3, 4]
    fitting = analyse(Score.from_abc(written), written).grid
    assert list(fitting.text_bar) == [0, 1]


def test_bass_metrics_measure_the_bass_alone_and_a_single_line_has_none():
    duet = "X:1\nM:4/4\nL:1/4\nK:C\nV:1\nc d e f|g4|]\nV:2 clef=bass\nC,2 E,2|G,,4|]\n"
    bass = bass_metrics(Score.from_abc(duet), duet)
    assert bass is not None and bass.pitch_range == 9 and bass.n_pitches_used == 3
    single = "X:1\nM:4/4\nL:1/4\nK:C\nc d e f|g4|]\n"
    assert bass_metrics(Score.from_abc(single), single) is None
