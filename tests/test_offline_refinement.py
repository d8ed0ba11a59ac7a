"""The offline composer's retrieval depth (k) and its metric-driven refinement rounds, and
the corpus metric profile that is their yardstick when nothing is retrieved."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pictune.abc import validate
from pictune.corpus import CorpusIndex
from pictune.corpus.profile import metric_profile
from pictune.errors import InputError
from pictune.images import load_image
from pictune.models.offline.analysis import analyse
from pictune.models.offline.composer import compose_piece, training_model
from pictune.models.offline.plan import TEXTURES, plan_from_analysis
from pictune.models.offline.revise import SPAN_LIMITS, revise_plan
from pictune.music.metrics import REFINEMENT_METRICS
from tests.conftest import chosen, offline

EXAMPLE = Path(__file__).parents[1] / "src" / "pictune" / "data" / "example.jpg"


@pytest.fixture(scope="module")
def index(small_index_folder):
    return CorpusIndex(small_index_folder)


@pytest.fixture(scope="module")
def plan():
    return plan_from_analysis(analyse(load_image(EXAMPLE)))


def compose(index, folder, seed=0, **settings):
    """The run's report.json as the output step writes it (nothing rendered: faster)."""
    composition = offline(index, **settings).compose(EXAMPLE, seed=seed)
    return json.loads(json.dumps(composition.to_dict(), default=str))


def test_k_zero_retrieves_nothing_and_refines_towards_the_corpus(index, tmp_path):
    report = compose(index, tmp_path, k=0, rounds=1)
    assert report["references"] == []
    assert chosen(report)["shared_run"] is None  # nothing to copy from
    assert report["refinement"]["ranges_from"].startswith("corpus")
    assert "learned from tunes such as" not in report["motivation"]


def test_k_sets_the_number_of_references(index, tmp_path):
    one = compose(index, tmp_path / "one", k=1, rounds=0)
    five = compose(index, tmp_path / "five", k=5, rounds=0)
    assert len(one["references"]) == 1
    assert len(five["references"]) == 5
    assert five["refinement"]["ranges_from"] == "references"
    assert (five["settings"]["k"], five["settings"]["rounds"]) == (5, 0)


def test_no_rounds_keeps_the_first_draft(index, tmp_path):
    report = compose(index, tmp_path, rounds=0)
    rounds = report["rounds"]
    assert len(rounds) == 1 and report["chosen_round"] == 0
    assert report["refinement"]["stopped"] == "no refinement asked"
    assert rounds[0]["kind"] == "draft" and rounds[0]["accepted"]


def test_a_revision_is_kept_only_when_it_is_better(index, tmp_path):
    report = compose(index, tmp_path, rounds=3)
    rounds = report["rounds"]
    assert 1 <= len(rounds) <= 4
    kept = rounds[0]
    for entry in rounds[1:]:
        assert entry["changes"], "every revision says what it changed"
        # fewer critic findings first, then a smaller distance (a rule of music outranks a band)
        closer = (entry["penalty"], entry["distance"]) < (kept["penalty"], kept["distance"])
        assert entry["accepted"] == closer
        if entry["accepted"]:
            kept = entry
    assert chosen(report) == kept
    assert report["abc"] == kept["abc"]
    assert (kept["penalty"], kept["distance"]) <= (rounds[0]["penalty"], rounds[0]["distance"])
    # The example's first draft (melody over triads) is thicker than any folk reference.
    assert rounds[1]["changes"], "the first draft lies outside the references' ranges"


def test_kept_revisions_are_explained_in_the_motivation(index, tmp_path):
    report = compose(index, tmp_path, rounds=1)
    second = report["rounds"][1:]
    assert second, "the example's first draft lies outside the references' ranges"
    if second[0]["accepted"]:
        assert "the first draft was revised" in report["motivation"]
        assert report["chosen_round"] == 1  # the revised piece is the one kept
    else:
        assert "the first draft was revised" not in report["motivation"]


def test_same_settings_same_piece(index, tmp_path):
    first = compose(index, tmp_path / "a", k=2, rounds=2, seed=4)
    second = compose(index, tmp_path / "b", k=2, rounds=2, seed=4)
    assert first["abc"] == second["abc"]
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in first["rounds"]]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in second["rounds"]]


@pytest.mark.parametrize("options", [{"k": -1}, {"rounds": -2}])
def test_negative_k_or_rounds_is_refused(index, tmp_path, options):
    with pytest.raises(InputError, match="between 0"):
        compose(index, tmp_path, **options)


def test_the_report_carries_checked_motivation_claims(index, tmp_path):
    report = compose(index, tmp_path)
    claims = chosen(report)["claims"]
    assert claims, "the offline motivation names key, tempo and meter"
    assert all(c["verdict"] in ("consistent", "inconsistent", "unchecked") for c in claims)
    assert report["model_calls"] == 0


@pytest.mark.parametrize("texture", TEXTURES)
@pytest.mark.parametrize("meter", ["4/4", "3/4", "6/8", "2/4", "9/8", "12/8"])
def test_every_texture_writes_valid_abc_in_every_meter(index, plan, texture, meter):
    varied = replace(plan, meter=meter, texture=texture)
    piece = compose_piece(varied, training_model(index, varied, []), 3, "Test")
    result = validate(piece.abc)
    assert result.ok, result.errors[:2]


def test_every_texture_keeps_the_bass_under_the_tune_on_the_roots(index, plan):
    from pictune.music.critic import review_abc

    model = training_model(index, plan, [])
    parts = set()
    piano = replace(plan, accompaniment_program=0)  # a harp breaks a strum (below)
    for texture in TEXTURES:
        meter = "3/4" if texture == "waltz" else "4/4"  # march in 3/4 would be a waltz
        abc = compose_piece(replace(piano, texture=texture, meter=meter), model, 1, "T").abc
        rates = review_abc(abc).rates
        assert rates.bass_above_melody == 0 and rates.bass_root_on_downbeats >= 0.7, texture
        assert rates.accompaniment_under_bass == 0, texture
        parts.add(abc.split("V:2\n")[1].split("V:3")[0])
    assert len(parts) == len(TEXTURES), "each texture writes its own accompaniment"
    harp = replace(plan, accompaniment_program=46, meter="4/4")
    strummed, broken = (
        compose_piece(replace(harp, texture=t), model, 1, "T").abc for t in ("strummed", "arpeggio")
    )
    assert strummed == broken, "a harp does not strum: it breaks the chords"


def test_revise_plan_moves_each_setting_the_right_way(plan):
    wider, changes = revise_plan(plan, {"pitch_range": "low", "pitch_entropy": "low"})
    assert wider.melody_span == plan.melody_span + 1 and "wider" in changes[0]
    narrower, _ = revise_plan(plan, {"n_pitches_used": "high"})
    assert narrower.melody_span == plan.melody_span - 1
    same, changes = revise_plan(plan, {"polyphony": "high"})
    assert same == plan and changes == [], "single-line bands never thin the accompaniment"
    denser, _ = revise_plan(plan, {"empty_beat_rate": "high"})
    assert denser.notes_per_beat > plan.notes_per_beat


def test_revise_plan_stops_at_its_limits_and_on_unmovable_metrics(plan):
    narrowest = replace(plan, melody_span=SPAN_LIMITS[0])
    same, changes = revise_plan(narrowest, {"pitch_range": "high", "polyphony": "high"})
    assert same == narrowest and changes == []
    same, changes = revise_plan(plan, {"scale_consistency": "low", "pitch_class_entropy": "high"})
    assert same == plan and changes == []


def test_metric_profile_is_measured_once_and_cached_beside_the_index(small_index_folder):
    index = CorpusIndex(small_index_folder)
    profile = metric_profile(index, sample=120, seed=3)
    assert profile.tunes > 100 and set(profile.values) == set(REFINEMENT_METRICS)
    assert metric_profile(index, sample=120, seed=3) is profile  # kept by the opened index
    cached = small_index_folder / f"metric-profile-{index.content_key}-120-3.json"
    assert json.loads(cached.read_text())["tunes"] == profile.tunes
    again = metric_profile(CorpusIndex(small_index_folder), sample=120, seed=3)  # from the file
    assert all((again.values[n] == profile.values[n]).all() for n in REFINEMENT_METRICS)
    low, high = profile.band("pitch_range")
    assert low <= high


def test_metric_profile_works_in_a_read_only_index_folder(small_index_folder, tmp_path):
    import shutil

    copy = tmp_path / "ro"
    shutil.copytree(small_index_folder, copy)
    copy.chmod(0o555)
    try:
        profile = metric_profile(CorpusIndex(copy), sample=50, seed=9)
        assert profile.tunes > 40
    finally:
        copy.chmod(0o755)


def test_an_index_rebuilt_in_place_is_never_served_a_stale_profile(tmp_path):
    from pictune.corpus import BuiltinSource, FeatureEmbedder, build_index

    folder = tmp_path / "idx"
    build_index(BuiltinSource(limit=150), FeatureEmbedder(), folder, source_description={})
    before = CorpusIndex(folder)
    first = metric_profile(before, sample=60, seed=1)
    build_index(BuiltinSource(limit=400), FeatureEmbedder(), folder, source_description={})
    after = CorpusIndex(folder)
    assert after.content_key != before.content_key
    second = metric_profile(after, sample=60, seed=1)
    assert any((first.values[n] != second.values[n]).any() for n in REFINEMENT_METRICS) or (
        first.tunes != second.tunes
    )
