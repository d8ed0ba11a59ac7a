"""The offline composer's optional parts: a countermelody between tune and bass, and a drum
part on General MIDI channel 10 that follows the meter. Pieces are read back from their
ABC through abc2midi, as a listener's MIDI file would be."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pictune.models.offline.analysis import analyse
from pictune.models.offline.arrangement import HAT, KICK, SNARE, drums
from pictune.models.offline.composer import compose_piece
from pictune.models.offline.melody import MelodyModel
from pictune.models.offline.plan import MusicalPlan, plan_from_analysis
from pictune.music.critic import review_abc
from pictune.music.score import Score

PICTURES = ((250, 190, 70), (40, 60, 120), (120, 200, 140), (200, 60, 90))


def base_plan(colour: tuple[int, int, int], prompt: str | None = None) -> MusicalPlan:
    return plan_from_analysis(analyse(Image.new("RGB", (64, 64), colour)), prompt, 16)


def _grid(tick: int) -> int:
    return 30 * round(tick / 30)  # abc2midi starts notes a tick late and strums chords


def lines(abc: str) -> dict[str, list[tuple[int, int, int]]]:
    """(start, end, pitch) of each voice's notes, by track, in ticks on a 1/64 grid."""
    score = Score.from_abc(abc)
    found: dict[str, list[tuple[int, int, int]]] = {}
    for index, track in enumerate(score.tracks):
        mine = score.track == index
        found[f"{index}:{track.name}"] = [
            (_grid(int(t)), _grid(int(t + d)), int(p))
            for t, d, p in zip(
                score.time[mine], score.duration[mine], score.pitch[mine], strict=True
            )
        ]
    return found


def at(notes: list[tuple[int, int, int]], tick: int) -> int | None:
    return next((p for s, e, p in notes if s <= tick < e), None)


def counter_pieces() -> list[tuple[MusicalPlan, str]]:
    pieces = []
    for colour in PICTURES:
        for texture in ("hymn", "pad", "arpeggio", "waltz"):
            plan = replace(base_plan(colour), countermelody=True, texture=texture)
            if texture == "waltz":
                plan = replace(plan, meter="3/4")
            pieces.append((plan, compose_piece(plan, MelodyModel(), 3, "Test").abc))
    return pieces


@pytest.fixture(scope="module")
def with_counter() -> list[tuple[MusicalPlan, str]]:
    return counter_pieces()


def parts(abc: str) -> tuple[list, list, list, list]:
    found = list(lines(abc).values())
    return found[0], found[1], found[2], found[3]  # tune, counter, chords, bass


def test_the_counter_is_a_voice_of_its_own_between_tune_and_chords(with_counter):
    for plan, abc in with_counter:
        assert "%%score 1 2 3 4" in abc
        assert abc.count("\nV:2\n") == 1
        assert len(lines(abc)) == 4 + plan.percussion


def test_the_counter_never_crosses_or_doubles_the_tune_or_the_bass(with_counter):
    for _, abc in with_counter:
        tune, counter, _, bass = parts(abc)
        assert counter, abc
        for start, end, pitch in counter:
            for tick in range(start, end, 60):
                above, below = at(tune, tick), at(bass, tick)
                if above is not None:
                    assert pitch < above, (start, pitch, above)
                if below is not None:
                    assert pitch > below, (start, pitch, below)


def test_the_counter_sits_in_its_own_register(with_counter):
    for _, abc in with_counter:
        tune, counter, _, bass = parts(abc)
        middle = np.median([p for _, _, p in counter])
        assert np.median([p for _, _, p in bass]) < middle < np.median([p for _, _, p in tune])


def test_the_counter_stays_in_its_instruments_range(with_counter):
    """The bass may sit as low as C2 now (under the chords); the counter's window (a third
    over the bass) must still end at its instrument's lowest note: a viola never goes under
    C3."""
    from pictune.images import load_image
    from pictune.models.offline.analysis import analyse
    from pictune.models.offline.counter import counter_program
    from pictune.models.offline.plan import plan_from_analysis
    from pictune.music.ranges import playable_range

    example = Path(__file__).parents[1] / "src" / "pictune" / "data" / "example.jpg"
    harbour = plan_from_analysis(analyse(load_image(example)), "with a countermelody", 16)
    pieces = [(harbour, compose_piece(harbour, MelodyModel(), s, "T").abc) for s in range(3)]
    for plan, abc in [*with_counter, *pieces]:
        _, counter, _, _ = parts(abc)
        low, high = playable_range(counter_program(plan.melody_program))
        assert low <= min(p for _, _, p in counter) and max(p for _, _, p in counter) <= high
        assert "voices.instrument-range" not in {f.rule for f in review_abc(abc).findings}


def test_the_counter_takes_chord_tones_on_the_beats(with_counter):
    # Judged where the chord part sounds whole triads (block and sustained chords); the
    # writer chooses its notes the same way over every texture.
    for plan, abc in with_counter:
        if plan.texture not in ("hymn", "pad"):
            continue
        score = Score.from_abc(abc)
        beat = score.resolution
        _, counter, chords, bass = parts(abc)
        judged = hits = 0
        for start, _, pitch in counter:
            if start % beat:
                continue
            harmony = {p % 12 for s, e, p in chords + bass if s <= start + 30 and start < e}
            judged += 1
            hits += pitch % 12 in harmony
        assert hits / judged >= 0.95, abc


def test_the_counter_moves_against_the_tune(with_counter):
    contrary = similar = 0
    for _, abc in with_counter:
        tune, counter, _, _ = parts(abc)
        beat = Score.from_abc(abc).resolution
        end = max(e for _, e, _ in counter)
        points = [(at(tune, t), at(counter, t)) for t in range(0, end, beat)]
        for (a, b), (c, d) in itertools.pairwise(points):
            if None in (a, b, c, d) or a == c or b == d:
                continue
            if (c - a > 0) == (d - b > 0):
                similar += 1
            else:
                contrary += 1
    assert contrary > 1.5 * similar


def test_the_counter_adds_no_parallels_unisons_or_notation_findings(with_counter):
    for _, abc in with_counter:
        without = review_abc(abc.replace("\nV:2\n", "\nV:9\n", 1))
        rules = {f.rule for f in review_abc(abc).findings}
        assert not rules & {"voices.unison", "voices.crossing", "notation.beat-crossing"}
        assert "notation.unbeamed" not in {f.rule for f in review_abc(abc).findings} - {
            f.rule for f in without.findings
        }


def test_the_counter_is_asked_for_and_refused_in_words():
    plain = base_plan((250, 190, 70))
    assert not plain.countermelody
    asked = base_plan((250, 190, 70), "with a countermelody")
    assert asked.countermelody and asked.overrides["voices"] == "countermelody"
    refused = base_plan((250, 190, 70), "a hymn, no counterpoint")
    assert not refused.countermelody


# -- drums -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bar", "beat", "kicks", "snares"),
    [(16, 4, {0, 8}, {4, 12}), (12, 4, {0}, {4, 8}), (12, 6, {0}, {6}), (8, 4, {0}, {4})],
)
def test_drums_follow_the_meter(bar, beat, kicks, snares):
    events = drums(3, bar, beat)
    first = [e for e in events if e.start < bar]
    assert {e.start for e in first if KICK in e.pitches} == kicks
    assert {e.start for e in first if SNARE in e.pitches} == snares
    assert {e.start for e in first if HAT in e.pitches} == set(range(0, bar, 2))
    last = [e for e in events if e.start >= 2 * bar and e.pitches]
    assert [(e.start, e.pitches) for e in last] == [(2 * bar, (KICK,))]


def test_drums_rest_through_an_introduction():
    events = drums(4, 16, 4, first_bar=2)
    assert events[0].start == 0 and events[0].length == 32 and not events[0].pitches
    assert min(e.start for e in events if e.pitches) == 32


def test_a_drum_part_plays_on_channel_ten_in_time_with_the_piece():
    plan = replace(base_plan((200, 60, 90), "energetic, with drums"), meter="3/4", intro=False)
    assert plan.percussion
    abc = compose_piece(plan, MelodyModel(), 1, "Test").abc
    assert "%%MIDI channel 10" in abc
    score = Score.from_abc(abc)
    [drum] = [i for i, t in enumerate(score.tracks) if t.is_drum]
    hits = np.array([_grid(int(t)) for t in score.time[score.track == drum]])
    keys = set(score.pitch[score.track == drum].tolist())
    assert keys <= {KICK, SNARE, HAT} and KICK in keys and SNARE in keys
    beat = score.resolution
    assert set((hits % (3 * beat)).tolist()) <= set(range(0, 3 * beat, beat // 2))
    assert set((hits[score.pitch[score.track == drum] == KICK] % (3 * beat)).tolist()) == {0}


def test_each_part_is_written_in_the_clef_with_fewer_ledger_lines(with_counter):
    """Treble or bass, whichever needs fewer ledger lines; a viola reads the alto clef unless
    another needs fewer."""
    staffs = {"treble": (62, 79), "bass": (41, 59), "alto": (52, 69)}

    def ledgers(pitches: list[int], clef: str) -> int:
        low, high = staffs[clef]
        return sum(max(0, low - p) + max(0, p - high) for p in pitches)

    for _, abc in with_counter:
        tracks = list(lines(abc).values())
        for number, notes in ((2, tracks[1]), (3, tracks[2])):  # counter, chords
            header = abc.split(f"\nV:{number} ", 1)[1].split("\n", 1)[0]
            clef = header.split("clef=", 1)[1].split()[0]
            viola = 'name="Viola"' in header
            assert clef in (("alto", "treble", "bass") if viola else ("treble", "bass"))
            pitches = [p for _, _, p in notes]
            for other in set(staffs if viola else ("treble", "bass")) - {clef}:
                assert ledgers(pitches, clef) <= ledgers(pitches, other), (number, clef)
