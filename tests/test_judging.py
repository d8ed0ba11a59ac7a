"""Both refinement loops judge like with like and listen to the music critic: the melody
against melodies, texture only against multi-voice references, critic findings before
metric distance, and the critic's fixes stated in the VLM's refinement prompt."""

from __future__ import annotations

from pathlib import Path

from pictune.corpus import CorpusIndex, FeatureEmbedder
from pictune.music.score import Score
from pictune.pipeline.composer import VlmComposer
from pictune.pipeline.judge import better, judge, measure_reference, yardstick_of
from pictune.pipeline.record import Round
from tests.test_vlm_pipeline import TUNE, backend, settings

EXAMPLE = Path(__file__).parents[1] / "src" / "pictune" / "data" / "example.jpg"
MELODY = "X:1\nT:m\nM:4/4\nL:1/8\nK:C\nC2 E2 G2 c2|B2 A2 G2 F2|E2 D2 E2 F2|G6 z2|]\n"
TWO_VOICES = (
    "X:1\nT:t\nM:4/4\nL:1/8\nK:C\nV:1\nC2 E2 G2 c2|B2 A2 G2 F2|E2 D2 E2 F2|G6 z2|]\n"
    "V:2 clef=bass\nC,8|G,,8|C,8|G,,8|]\n"
)
# Ends on the leading tone, over nothing: a musician objects.
OFF_TONIC = TUNE.replace("G2 E2 C2|D6|]", "G2 E2 C2|^C6|]")


def test_single_line_references_set_no_texture_target():
    melody = measure_reference(Score.from_abc(MELODY), MELODY)
    assert not melody.multi_voice
    assert yardstick_of([melody]).texture == {}
    duet = measure_reference(Score.from_abc(TWO_VOICES), TWO_VOICES)
    assert duet.multi_voice
    stick = yardstick_of([melody, duet])
    assert set(stick.texture) == {"polyphony"} and "polyphony" not in stick.melody
    assert stick.texture["polyphony"].low > 1.0  # from the duet alone


def test_the_melody_is_measured_against_melodies_not_the_whole_piece():
    stick = yardstick_of([measure_reference(Score.from_abc(MELODY), MELODY)])
    duet = judge(Score.from_abc(TWO_VOICES), TWO_VOICES, stick, [])
    # The bass makes the whole piece's range wide; the melody alone matches the reference.
    assert duet.metrics.pitch_range > duet.melody.pitch_range == 12
    assert duet.distance == 0.0


def test_fewer_critic_findings_beat_a_smaller_distance():
    rough = Round("compose", "", "", 0.0, valid=True, penalty=6.0, distance=0.0)
    clean = Round("refine", "", "", 0.0, valid=True, penalty=1.0, distance=3.0)
    assert better(clean, rough) and not better(rough, clean)
    invalid = Round("refine", "", "", 0.0, valid=False)
    assert not better(invalid, rough)


def test_the_refinement_prompt_states_the_critics_fixes(server, small_index_folder):
    server.replies = [(200, "a description", 0), (200, OFF_TONIC, 0), (200, TUNE, 0)]
    composer = VlmComposer(
        backend(server), CorpusIndex(small_index_folder), FeatureEmbedder(), settings(rounds=1)
    )
    result = composer.compose(EXAMPLE)
    compose_round = result.rounds[1]
    assert any(f.rule.startswith("cadence") for f in compose_round.findings)
    refine = server.requests[2]["body"]["messages"][0]["content"][-1]["text"]
    assert "A musician read your score" in refine
    assert "bar 8" in refine and "tonic" in refine
    assert "the melody's pitch_range =" in refine
    assert result.rounds[result.chosen_round].penalty <= compose_round.penalty
