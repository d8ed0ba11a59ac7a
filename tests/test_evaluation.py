"""pictune eval: configurations × pictures, measured against the corpus; ablations, caching,
agreement, outputs and bad input."""

from __future__ import annotations

import csv
import json
from typing import ClassVar

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from pictune.cli.app import app, normalise_argv
from pictune.errors import InputError
from pictune.evaluation import configurations, evaluate
from pictune.evaluation.agreement import image_music_agreement
from pictune.evaluation.grid import parse_variations
from pictune.evaluation.stats import overlapping_area


@pytest.fixture
def pictures(pictures):
    """The shared pictures and a fourth, darker one."""
    Image.new("RGB", (80, 60), (60, 40, 90)).save(pictures / "dusk.png")
    return pictures


def test_variations_give_every_combination():
    configs = configurations(["k=0,5", "rounds=0,1"])
    assert [c.name for c in configs] == [
        "k=0, rounds=0", "k=0, rounds=1", "k=5, rounds=0", "k=5, rounds=1"
    ]  # fmt: skip
    assert [(c.config.k, c.config.rounds) for c in configs] == [(0, 0), (0, 1), (5, 0), (5, 1)]
    assert [c.name for c in configurations([])] == ["base"]
    assert parse_variations(["k=0,1 rounds=0,1"]) == {"k": ["0", "1"], "rounds": ["0", "1"]}


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        (["k"], "cannot read the variation"),
        (["colour=red,blue"], "cannot vary 'colour'"),
        (["api_key=a,b"], "cannot vary 'api_key'"),
        (["k=0,0"], "distinct and non-empty"),
        (["k=0,"], "distinct and non-empty"),
        (["k=0", "k=1"], "varied twice"),
        (["k=-1"], "between 0 and 50"),
        (["k=two"], "whole number"),
        (["rounds=x"], "rounds must be a whole number"),
        (["backend=offline,cloud"], "unknown backend"),
    ],
)
def test_bad_variations_are_one_line_errors(terms, message):
    with pytest.raises(InputError, match=message):
        configurations(terms)


def test_overlapping_area_of_same_disjoint_and_shifted_distributions():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 4000), rng.normal(0, 1, 4000)
    assert overlapping_area(a, b, 0.01) == pytest.approx(1.0, abs=0.03)
    assert overlapping_area(a, a + 50, 0.01) == pytest.approx(0.0, abs=1e-6)
    # Two unit normals one standard deviation apart overlap by 2·Φ(−½) ≈ 0.617.
    shifted = overlapping_area(a, rng.normal(1, 1, 4000), 0.01)
    assert shifted == pytest.approx(0.617, abs=0.03)
    assert overlapping_area(a, b + 1, 0.01) == pytest.approx(shifted, abs=0.03)
    assert overlapping_area(np.array([]), b, 0.01) is None
    # A constant metric on both sides (e.g. polyphony 1) overlaps fully, thanks to the floor.
    assert overlapping_area(np.ones(5), np.ones(300), 0.1) == pytest.approx(1.0, abs=1e-3)


class _Embedder:
    """Pictures and texts embed to the same direction when their colour word matches."""

    id, dim, embeds_images = "fake-clip", 3, True
    axes: ClassVar = {"red": [1, 0, 0], "green": [0, 1, 0], "blue": [0, 0, 1]}

    def embed_text(self, texts):
        return np.array([np.add(self.axes[t.split()[0]], 0.1) for t in texts], dtype=np.float32)

    def embed_image(self, images):
        return np.array([np.add(self.axes[i], 0.1) for i in images], dtype=np.float32)


def test_agreement_compares_matched_pairs_with_every_mismatched_pair():
    result = image_music_agreement(
        _Embedder(), ["red", "green", "blue"], ["red a", "green b", "blue c"]
    )
    assert result["win_rate"] == 1.0 and result["margin"] > 0.5
    assert result["matched"] > result["shuffled"]
    shuffled = image_music_agreement(
        _Embedder(), ["red", "green", "blue"], ["green", "blue", "red"]
    )
    assert shuffled["win_rate"] == 0.0 and shuffled["margin"] < 0
    assert image_music_agreement(_Embedder(), ["red"], ["red"]) is None


def test_agreement_needs_a_picture_embedder():
    from pictune.corpus import FeatureEmbedder

    with pytest.raises(InputError, match="does not embed pictures"):
        image_music_agreement(FeatureEmbedder(), ["x", "y"], ["a", "b"])


def test_both_ablations_from_one_command_with_table_csv_json_and_plots(home, pictures, tmp_path):
    out = tmp_path / "eval"
    configs = configurations(["k=0,5", "rounds=0,1"])
    run, paths = evaluate(pictures, out, configs, workers=2)
    assert (run.computed, run.reused) == (16, 0)
    summaries = run.summaries
    for name, summary in summaries.items():
        assert summary["runs"] == 4 and summary["valid_rate"] == 1.0, name
        assert 0 <= summary["mean_oa"] <= 1
        assert summary["model_calls_per_image"] == 0
    # Refinement off: nothing changes. On: every kept piece ranks at least as well as the
    # first draft (the critic's penalty first, then the distance: a revision the critic
    # prefers may lie a little further from the bands).
    assert summaries["k=5, rounds=0"]["refinement_improvement"] == 0
    assert summaries["k=5, rounds=1"]["refinement_improvement"] > 0
    for result in run.results["k=0, rounds=1"] + run.results["k=5, rounds=1"]:
        kept = (result.critic_penalty, result.final_distance)
        assert kept <= (result.first_penalty, result.first_distance)
    # Retrieval off: no references, so novelty has nothing to measure.
    assert summaries["k=0, rounds=0"]["novelty_mean_run"] is None
    assert all(r.references == 0 for r in run.results["k=0, rounds=1"])
    assert all(r.references == 5 for r in run.results["k=5, rounds=0"])
    assert summaries["k=5, rounds=0"]["novelty_max_run"] < 8  # never a copied run
    table = paths["table"].read_text()
    assert "| k=0, rounds=0 |" in table and "| corpus |" in table and "mean OA" in table
    rows = list(csv.DictReader(paths["summary_csv"].open()))
    assert [r["configuration"] for r in rows] == [c.name for c in configs]
    assert "pitch_range_oa" in rows[0]
    assert len(list(csv.DictReader(paths["runs_csv"].open()))) == 16
    saved = json.loads(paths["summary_json"].read_text())
    assert saved["seed"] == 0 and saved["images"] == [
        "blue.jpg",
        "dusk.png",
        "red.png",
        "sub/green.png",
    ]
    for name in ("metrics", "pitch_range", "polyphony", "empty_beat_rate"):
        with Image.open(out / "plots" / f"{name}.png") as plot:
            assert plot.format == "PNG" and plot.width > 300


def test_a_rerun_reuses_finished_runs_and_a_new_seed_does_not(home, pictures, tmp_path):
    out = tmp_path / "eval"
    configs = configurations(["rounds=0,1"])
    first, _ = evaluate(pictures, out, configs, workers=1)
    (out / "runs" / "rounds=1" / "red.png.json").unlink()  # as if killed before this run
    again, _ = evaluate(pictures, out, configs, workers=1)
    assert (again.computed, again.reused) == (1, 7)
    assert [r.abc for r in again.results["rounds=1"]] == [r.abc for r in first.results["rounds=1"]]
    other, _ = evaluate(pictures, out, configs, seed=7, workers=1)
    assert (other.computed, other.reused) == (8, 0)
    assert all(r.seed == 7 for r in other.results["rounds=0"])


def test_a_failing_picture_is_counted_and_never_stops_the_evaluation(home, pictures, tmp_path):
    (pictures / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    run, _ = evaluate(pictures, tmp_path / "eval", configurations([]), workers=2)
    summary = run.summaries["base"]
    assert summary["valid_rate"] == 0.8
    assert summary["failures"][0]["image"] == "broken.jpg"
    assert "not an image" in summary["failures"][0]["error"]


def test_clip_agreement_with_a_real_clip_model(home, pictures, tmp_path, tiny_clip):
    run, paths = evaluate(pictures, tmp_path / "eval", configurations([]), clip=str(tiny_clip))
    agreement = run.agreement["base"]
    assert agreement["pairs"] == 4 and agreement["embedder"].startswith("clip")
    assert -1 <= agreement["shuffled"] <= 1 and -1 <= agreement["matched"] <= 1
    assert 0 <= agreement["win_rate"] <= 1
    assert "CLIP image–music" in paths["table"].read_text()


def test_a_vlm_configuration_is_measured_from_its_rounds(
    home, pictures, tmp_path, server, monkeypatch
):
    from tests.test_vlm_pipeline import TUNE

    monkeypatch.chdir(tmp_path)
    (tmp_path / "pictune.toml").write_text(
        f'backend = "openai"\nmodel = "fake-vlm"\nbase_url = "{server.url}"\n'
        f'corpus = "{home}"\nmax_calls = 4\n'
    )
    # Per picture: describe, a reply without a tune, its correction, then a refinement.
    script = ((200, "a scene", 0), (200, "Sorry, no tune.", 0), (200, TUNE, 0), (200, TUNE, 0))
    server.replies = [reply for _ in range(4) for reply in script]
    run, _ = evaluate(pictures, tmp_path / "eval", configurations([]))
    summary = run.summaries["base"]
    assert summary["valid_rate"] == 1.0
    assert summary["correction_attempts"] == 1.0
    assert summary["model_calls_per_image"] == 4.0
    assert summary["refinement_improvement"] == 0  # the same tune again is no improvement
    assert run.results["base"][0].caption and run.results["base"][0].abc


def test_cli_eval_prints_the_table_and_rejects_bad_input(home, pictures, tmp_path):
    args = normalise_argv(
        ["eval", str(pictures), "--out", str(tmp_path / "e"), "--vary", "k=0,3", "rounds=0,1"]
    )
    assert args.count("--vary") == 2
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "k=3, rounds=1" in result.output and "16 runs made, 0 reused" in result.output
    for bad, message in (
        (["eval", str(tmp_path / "nope"), "--out", str(tmp_path / "x")], "is not a folder"),
        (["eval", str(pictures), "--out", str(tmp_path / "x"), "--vary", "q=1"], "cannot vary 'q'"),
        (
            [
                "eval",
                str(pictures),
                "--out",
                str(tmp_path / "x"),
                "--config",
                str(tmp_path / "no.toml"),
            ],
            "no such settings file",
        ),
    ):
        failed = CliRunner().invoke(app, bad)
        assert failed.exit_code == 2 and message in failed.output, failed.output


def test_an_empty_folder_is_refused(home, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no pictures"):
        evaluate(tmp_path / "empty", tmp_path / "out", configurations([]))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["batch", "p", "--ray"], ["batch", "p", "--ray", "auto"]),
        (["batch", "--ray", "p", "--out", "o"], ["batch", "--ray", "auto", "p", "--out", "o"]),
        (["batch", "p", "--ray", "ray://head:10001"], ["batch", "p", "--ray", "ray://head:10001"]),
        (["batch", "p", "--ray", "10.0.0.2:6379"], ["batch", "p", "--ray", "10.0.0.2:6379"]),
        (["batch", "--ray", "local", "p"], ["batch", "--ray", "local", "p"]),
        (["eval", "p", "--vary", "k=0,1", "rounds=0,1", "--out", "o"],
         ["eval", "p", "--vary", "k=0,1", "--vary", "rounds=0,1", "--out", "o"]),
        (["eval", "p", "--vary"], ["eval", "p", "--vary"]),
    ],
)  # fmt: skip
def test_argument_spellings_the_parser_cannot_express(argv, expected):
    assert normalise_argv(argv) == expected


def test_a_vlm_run_that_breaks_is_listed_and_the_evaluation_goes_on(
    home, pictures, tmp_path, monkeypatch
):
    from pictune.evaluation import runner

    class Breaking:
        def compose(self, image, prompt=None, *, seed=0, progress=None):
            raise RuntimeError("the model server vanished")

    real = runner.open_composer
    monkeypatch.setattr(
        runner, "open_composer", lambda s: Breaking() if s.backend == "openai" else real(s)
    )
    configs = configurations(["backend=offline,openai"], base={"model": "m"})
    run, _ = evaluate(pictures, tmp_path / "eval", configs, workers=1)
    assert run.summaries["backend=offline"]["valid_rate"] == 1.0
    broken = run.summaries["backend=openai"]
    assert broken["valid_rate"] == 0.0 and len(broken["failures"]) == 4
    assert (
        "internal error: RuntimeError: the model server vanished" in broken["failures"][0]["error"]
    )
