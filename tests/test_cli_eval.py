"""`pictune eval` in a terminal: drawn tables that fit the width (Markdown stays in table.md),
and a CLIP model that is checked before anything is composed."""

from __future__ import annotations

import pytest
from PIL import Image
from typer.testing import CliRunner

from pictune.cli.app import app

runner = CliRunner()


@pytest.fixture
def two_pictures(tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    for name, colour in (("red.png", (220, 30, 30)), ("dusk.png", (60, 40, 90))):
        Image.new("RGB", (80, 60), colour).save(folder / name)
    return folder


def test_eval_draws_tables_that_fit_a_120_column_terminal(home, two_pictures, tmp_path):
    out = tmp_path / "e"
    result = runner.invoke(
        app,
        ["eval", str(two_pictures), "--out", str(out), "--bars", "8", "--workers", "1"],
        env={"COLUMNS": "120"},
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert not any(line.startswith("|") for line in lines)  # no raw Markdown
    assert any("┃ configuration" in line for line in lines)
    assert "The music critic" in result.stdout and "Melody metric" in result.stdout
    drawn = [line for line in lines if set(line) & set("│┃━─")]
    assert drawn and max(len(line) for line in drawn) <= 120
    assert "outputs in" in result.stdout and "table.md" in result.stdout
    markdown = (out / "table.md").read_text()
    assert "| configuration | valid |" in markdown and "|---|" in markdown


def test_eval_with_a_missing_clip_model_fails_before_composing(
    home, two_pictures, tmp_path, monkeypatch
):
    pytest.importorskip("transformers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "e"
    result = runner.invoke(
        app, ["eval", str(two_pictures), "--out", str(out), "--clip", "nobody/no-such-clip"]
    )
    assert result.exit_code == 2, result.output
    assert "model nobody/no-such-clip could not be loaded" in result.stderr
    assert "`hf download nobody/no-such-clip`" in result.stderr
    assert "huggingface-cli" not in result.stderr
    assert not out.exists()  # nothing composed, nothing written
