"""pictune batch: every picture, in parallel; failures listed; a rerun resumes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pictune.batch import run_batch
from pictune.cli.app import app


@pytest.fixture(scope="module")
def index_folder(small_index_folder):
    return small_index_folder


@pytest.fixture
def pictures(pictures):
    """The shared pictures and one broken file."""
    (pictures / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    return pictures


def test_batch_composes_all_and_lists_the_failure(index_folder, pictures, tmp_path):
    out = tmp_path / "out"
    summary = run_batch(pictures, out, workers=2, index_folder=index_folder)
    assert (summary.total, summary.done, summary.skipped) == (4, 3, 0)
    assert [f["image"] for f in summary.failed] == ["broken.jpg"]
    assert "not an image" in summary.failed[0]["error"]
    for name in ("red", "blue", "sub/green"):
        assert (out / name / "music.abc").is_file() and (out / name / ".done").is_file()
    saved = json.loads((out / "summary.json").read_text())
    assert saved["done"] == 3 and saved["failed"][0]["image"] == "broken.jpg"


def test_a_rerun_skips_finished_pictures_and_redoes_unfinished_ones(
    index_folder, pictures, tmp_path
):
    out = tmp_path / "out"
    run_batch(pictures, out, workers=1, index_folder=index_folder)
    (out / "blue" / ".done").unlink()  # as if the run had been killed while composing it
    before = (out / "red" / "music.abc").stat().st_mtime_ns
    summary = run_batch(pictures, out, workers=2, index_folder=index_folder)
    assert (summary.done, summary.skipped, len(summary.failed)) == (1, 2, 1)
    assert (out / "red" / "music.abc").stat().st_mtime_ns == before
    assert (out / "blue" / ".done").is_file()


def test_cli_batch_reports_and_exits_one_on_failures(index_folder, pictures, tmp_path, monkeypatch):
    monkeypatch.setenv("PICTUNE_INDEX_DIR", str(index_folder.parent))
    result = CliRunner().invoke(
        app, ["batch", str(pictures), "--out", str(tmp_path / "o"), "--workers", "2"]
    )
    assert result.exit_code == 1
    assert "3 composed, 0 already done, 1 failed" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = CliRunner().invoke(app, ["batch", str(empty), "--out", str(tmp_path / "o2")])
    assert nothing.exit_code == 2 and "no pictures" in nothing.output
