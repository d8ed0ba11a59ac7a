"""`pictune abc review`: findings as a table with the rates, JSON, exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pictune.cli.app import app

runner = CliRunner()
ENDS_ON_LEADING_TONE = 'X:1\nT:t\nM:4/4\nL:1/4\nK:C\n"C"c d e f|"G"g a b2|]\n'


@pytest.fixture
def flawed(tmp_path):
    path = tmp_path / "flawed.abc"
    path.write_text(ENDS_ON_LEADING_TONE)
    return path


def test_review_prints_findings_and_rates_and_exits_zero(flawed):
    result = runner.invoke(app, ["abc", "review", str(flawed)], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "cadence.final-melody" in result.output
    assert "strong beat chord tones" in result.output
    assert "2 finding(s), penalty 4" in result.output


def test_review_json_carries_findings_rates_and_penalty(flawed):
    result = runner.invoke(app, ["abc", "review", str(flawed), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["findings"][0]["rule"] == "cadence.final-melody"
    assert data["rates"]["melody_ends_on_tonic"] is False
    assert data["penalty"] == 4.0  # an error (3) and a warning (1): the last chord is G


def test_review_reads_midi_too(flawed, tmp_path):
    midi = tmp_path / "flawed.mid"
    runner.invoke(app, ["abc", "convert", str(flawed), "--to", "mid", "-o", str(midi)])
    data = json.loads(runner.invoke(app, ["abc", "review", str(midi), "--json"]).stdout)
    assert "cadence.final-melody" in {f["rule"] for f in data["findings"]}
    assert data["rates"]["untied_beat_crossings"] is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"T:no tune here\n", "could not be converted"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10, "binary"),
    ],
)
def test_review_of_bad_input_is_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "bad.abc"
    path.write_bytes(content)
    result = runner.invoke(app, ["abc", "review", str(path)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_review_of_a_missing_file_exits_two():
    result = runner.invoke(app, ["abc", "review", "/no/such/tune.abc"])
    assert result.exit_code == 2 and "no such file" in result.output


def test_review_reads_standard_input():
    result = runner.invoke(app, ["abc", "review", "-", "--json"], input=ENDS_ON_LEADING_TONE)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["findings"][0]["rule"] == "cadence.final-melody"
