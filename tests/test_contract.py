"""One contract for every backend and every front end: the same picture through the offline
composer, a local transformers model and an OpenAI-compatible server, each through the
Python API, the CLI, the web API, batch and eval, gives the same files and a report.json
that loads as one schema. Also: the tune is converted once, and settings mean one thing."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pictune.batch import run_batch
from pictune.cli.app import app
from pictune.evaluation import configurations, evaluate
from pictune.pipeline.api import open_composer
from pictune.pipeline.config import load_settings
from pictune.pipeline.record import OUTPUT_FILES, SCHEMA, Composition
from pictune.web.app import ServerSettings, create_app
from tests.test_vlm_pipeline import TUNE

EXAMPLE = Path(__file__).parents[1] / "src" / "pictune" / "data" / "example.jpg"
NAMES = {f.name: f.key for f in OUTPUT_FILES}
FRONT_ENDS = ("api", "cli", "web", "batch", "eval")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tests.models_fixtures import build_tiny_llava

    return build_tiny_llava(tmp_path_factory.mktemp("tiny-llava"))


def settings_file(folder: Path, backend: str, index: Path, server, model: Path) -> Path:
    lines = {
        "offline": ["rounds = 1"],
        "openai": ['backend = "openai"', 'model = "fake-vlm"', f'base_url = "{server.url}"',
                   "rounds = 0"],
        "transformers": ['backend = "transformers"', f'model = "{model}"', "max_attempts = 1",
                         "max_tokens = 16", "rounds = 0"],
    }[backend]  # fmt: skip
    path = folder / "pictune.toml"
    path.write_text("\n".join([*lines, f'corpus = "{index}"']) + "\n")
    return path


def run_front_end(name: str, config: Path, work: Path, monkeypatch) -> Path:
    """Compose EXAMPLE through one front end; the folder its files went to."""
    pictures = work / "pictures"
    pictures.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLE, pictures / "harbour.jpg")
    if name == "api":
        composition = open_composer(load_settings(config_file=config)).compose(EXAMPLE, seed=2)
        composition.save(work / "api")
        return work / "api"
    if name == "cli":
        result = CliRunner().invoke(
            app, ["compose", str(EXAMPLE), "--config", str(config), "--out", str(work / "cli"),
                  "--seed", "2"],
        )  # fmt: skip
        assert result.exit_code in (0, 1), result.output  # 1: a run that wrote no tune
        return work / "cli"
    if name == "web":
        monkeypatch.chdir(config.parent)  # the server's configuration: ./pictune.toml
        with TestClient(create_app(ServerSettings(work / "web"))) as client:
            response = client.post(
                "/api/compositions",
                files={"image": ("h.jpg", EXAMPLE.read_bytes(), "image/jpeg")},
                data={"seed": "2"},
            )
            job_id = response.json()["id"]
            deadline = time.time() + 120
            while client.get(f"/api/compositions/{job_id}").json()["status"] not in (
                "done", "failed",
            ):  # fmt: skip
                assert time.time() < deadline, "the web job did not finish"
                time.sleep(0.1)
        return work / "web" / "jobs" / job_id
    if name == "batch":
        run_batch(pictures, work / "batch", config=load_settings(config_file=config), seed=2)
        return work / "batch" / "harbour"
    evaluate(pictures, work / "eval", configurations([], project=config), seed=2, workers=1)
    return next((work / "eval" / "runs").glob("*/harbour"))


@pytest.mark.parametrize("backend", ["offline", "openai", "transformers"])
def test_every_backend_through_every_front_end_writes_one_contract(
    backend, small_index_folder, server, tiny_model, tmp_path, monkeypatch
):
    server.replies = [(200, "A harbour at dusk.", 0), (200, TUNE, 0)] * len(FRONT_ENDS)
    config = settings_file(tmp_path, backend, small_index_folder, server, tiny_model)
    written = {}
    for name in FRONT_ENDS:
        folder = run_front_end(name, config, tmp_path / name, monkeypatch)
        record = Composition.load(folder)  # one schema, whoever wrote it
        assert record.schema == SCHEMA and record.corpus == small_index_folder.name
        assert json.loads((folder / "report.json").read_text()) == record.to_dict()
        files = {NAMES[p.name] for p in folder.iterdir() if p.name in NAMES}
        assert files == set(record.file_keys()), name
        written[name] = (frozenset(files), record.abc, record.status)
    assert len({(files, status) for files, _, status in written.values()}) == 1, written
    if backend != "transformers":  # the tiny random model writes no tune, so nothing to hear
        assert all(abc for _, abc, _ in written.values())
        assert {"abc", "mid", "wav", "svg", "musicxml", "report"} <= written["api"][0]
    if backend != "openai":  # a server gives no attention; the others have a heat-map
        assert "heatmap" in written["api"][0]
    if backend == "offline":  # same picture and seed → the same music, whoever asked
        assert len({abc for _, abc, _ in written.values()}) == 1


def count_abc2midi(monkeypatch) -> list[str]:
    """Every abc2midi run from now on, as the text it was given."""
    import pictune.abc.convert as convert

    runs: list[str] = []
    real = convert.run_tool

    def counting(name, args, inputs, collect, **options):
        if name == "abc2midi":
            runs.append(b"".join(inputs.values()).decode("utf-8", "replace"))
        return real(name, args, inputs, collect, **options)

    monkeypatch.setattr(convert, "run_tool", counting)
    return runs


def test_the_offline_tune_is_converted_once_per_draft(small_index_folder, tmp_path, monkeypatch):
    from pictune.corpus import CorpusIndex
    from tests.conftest import offline

    composer = offline(CorpusIndex(small_index_folder), rounds=2)
    composer.compose(EXAMPLE, seed=1)  # the corpus part of the melody model is learned once
    runs = count_abc2midi(monkeypatch)
    composition = composer.compose(EXAMPLE, seed=1)
    composition.save(tmp_path / "out")
    own = [text for text in runs if "C:pictune offline composer" in text]
    drafts = sum(r.attempts for r in composition.rounds)
    assert len(own) == drafts  # validation's MIDI serves metrics, claims, export and report
    assert len(runs) - len(own) <= 1  # the references: one batch run for all of them


def test_a_vlm_candidate_is_converted_once_and_each_reference_once(
    small_index_folder, server, tmp_path, monkeypatch
):
    from pictune.corpus import CorpusIndex, FeatureEmbedder
    from pictune.pipeline.composer import VlmComposer
    from tests.test_vlm_pipeline import backend, settings

    server.replies = [(200, "a scene", 0), (200, TUNE, 0), (200, TUNE, 0)]
    composer = VlmComposer(
        backend(server), CorpusIndex(small_index_folder), FeatureEmbedder(), settings(k=2)
    )
    runs = count_abc2midi(monkeypatch)
    composition = composer.compose(EXAMPLE, seed=1)
    composition.save(tmp_path / "out")
    candidates = [r for r in composition.rounds if r.kind != "describe"]
    assert [r.kind for r in candidates] == ["compose", "refine"] and all(
        r.valid for r in candidates
    )
    assert len(runs) == len(candidates) + len(composition.references)


def test_a_named_corpus_is_the_one_searched_for_every_backend(
    small_index_folder, tmp_path, monkeypatch
):
    mine = tmp_path / "indexes" / "mine"
    shutil.copytree(small_index_folder, mine)
    monkeypatch.setenv("PICTUNE_INDEX_DIR", str(mine.parent))
    runner = CliRunner()
    result = runner.invoke(app, ["compose", str(EXAMPLE), "--corpus", "mine", "--out",
                                 str(tmp_path / "o"), "--rounds", "0"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert Composition.load(tmp_path / "o").corpus == "mine"
    missing = runner.invoke(app, ["compose", str(EXAMPLE), "--corpus", "nope"])
    assert missing.exit_code == 2
    errors = [line for line in missing.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no corpus index 'nope'" in errors[0]
    assert "Traceback" not in missing.output


def test_nothing_in_the_front_ends_branches_on_the_backend_name():
    import re

    root = Path(__file__).parents[1] / "src" / "pictune"
    pattern = re.compile(r"backend\s*(==|!=|\bin\b)|[=!]=\s*\"(offline|openai|transformers)\"")
    for layer in ("cli", "web", "batch", "evaluation"):
        for path in (root / layer).rglob("*.py"):
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                assert not pattern.search(line), f"{path.name}:{number}: {line.strip()}"


def test_the_readme_lists_every_file_every_setting_and_the_web_serves_them():
    from dataclasses import fields

    from pictune.pipeline.config import Settings
    from pictune.web.app import FILES

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for output in OUTPUT_FILES:
        assert f"| `{output.name}` | {output.holds}" in readme, output.name
        assert FILES[output.key] == (output.name, output.media_type)
    for setting in fields(Settings):
        assert f"| `{setting.name}` |" in readme, setting.name
