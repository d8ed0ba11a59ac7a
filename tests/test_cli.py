"""The pictune command: each subcommand's output and exit codes, one-line errors."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from pictune.cli.app import app
from tests.conftest import SIMPLE_TUNE, TWO_VOICES

runner = CliRunner()


@pytest.fixture
def tune_file(tmp_path):
    path = tmp_path / "tune.abc"
    path.write_text(SIMPLE_TUNE)
    return path


@pytest.fixture
def broken_file(tmp_path):
    path = tmp_path / "broken.abc"
    path.write_text("T:broken\nK:G major\nM:4/4\n[[GABc d,2|]\n")
    return path


def test_check_valid_file_exits_zero(tune_file):
    result = runner.invoke(app, ["abc", "check", str(tune_file)])
    assert result.exit_code == 0
    assert "valid" in result.output


def test_check_broken_file_exits_one_with_json(broken_file):
    result = runner.invoke(app, ["abc", "check", str(broken_file), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert {"severity", "line", "column", "message", "source"} <= set(data["diagnostics"][0])


def test_repair_writes_a_valid_tune(broken_file, tmp_path):
    out = tmp_path / "fixed.abc"
    result = runner.invoke(app, ["abc", "repair", str(broken_file), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("X:1\n")
    assert "fixed" in result.stderr


def test_repair_json(broken_file):
    result = runner.invoke(app, ["abc", "repair", str(broken_file), "--json"])
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert data["fixes"]


def test_extract_prints_tune_and_motivation(tmp_path):
    reply = tmp_path / "reply.txt"
    reply.write_text("Here:\n```abc\n" + SIMPLE_TUNE + "```\nIt is lively.")
    result = runner.invoke(app, ["abc", "extract", str(reply)])
    assert result.exit_code == 0
    assert result.stdout.startswith("X:1")
    assert "lively" in result.stderr


@pytest.mark.parametrize(
    ("target", "magic"), [("mid", b"MThd"), ("wav", b"RIFF"), ("svg", b"<"), ("musicxml", b"<?xml")]
)
def test_convert_to_each_format(tune_file, tmp_path, target, magic):
    out = tmp_path / f"out.{target}"
    result = runner.invoke(app, ["abc", "convert", str(tune_file), "--to", target, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().lstrip()[: len(magic)] == magic


def test_convert_midi_to_abc(tune_file, tmp_path):
    midi = tmp_path / "t.mid"
    runner.invoke(app, ["abc", "convert", str(tune_file), "--to", "mid", "-o", str(midi)])
    result = runner.invoke(
        app, ["abc", "convert", str(midi), "--to", "abc", "-o", str(tmp_path / "back.abc")]
    )
    assert result.exit_code == 0
    assert "K:" in (tmp_path / "back.abc").read_text()


def test_metrics_table_and_json(tune_file, tmp_path):
    other = tmp_path / "two.abc"
    other.write_text(TWO_VOICES)
    table = runner.invoke(app, ["metrics", str(tune_file), str(other)])
    assert table.exit_code == 0
    assert "pitch_class_entropy" in table.output
    data = json.loads(runner.invoke(app, ["metrics", str(other), "--json"]).stdout)
    assert data["meter"] == "3/4"
    assert data["n_notes"] == 13  # 9 in the violin, 4 in the cello


def test_metrics_reads_midi(tune_file, tmp_path):
    midi = tmp_path / "t.mid"
    runner.invoke(app, ["abc", "convert", str(tune_file), "--to", "mid", "-o", str(midi)])
    data = json.loads(runner.invoke(app, ["metrics", str(midi), "--json"]).stdout)
    assert data["n_notes"] == 52


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["abc", "check", "/no/such/file.abc"], "no such file"),
        (["abc", "check", "/"], "is a folder"),
        (["metrics", "/no/such.mid"], "no such file"),
    ],
)
def test_bad_paths_give_one_line_errors(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_empty_file_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty.abc"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["abc", "check", str(empty)])
    assert result.exit_code == 2
    assert "is empty" in result.output


def test_binary_file_is_a_clear_error(tmp_path):
    binary = tmp_path / "image.abc"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    result = runner.invoke(app, ["abc", "check", str(binary)])
    assert result.exit_code == 2
    assert "binary" in result.output


def test_convert_of_unplayable_tune_fails_cleanly(tmp_path):
    bad = tmp_path / "bad.abc"
    bad.write_text("T:no tune here\n")
    result = runner.invoke(app, ["abc", "convert", str(bad), "--to", "mid"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_demo_writes_every_file(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    for name in ("music.abc", "music.mid", "music.wav", "score.svg", "music.musicxml"):
        assert (tmp_path / "demo" / name).stat().st_size > 100


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("pictune ")


@pytest.fixture
def faulty_file(tmp_path):
    path = tmp_path / "faulty.abc"
    path.write_text("X:1\nT:f\nM:4/4\nL:1/8\nK:C\nA2>B c2 d2 | T[ceg]8 |]\n")
    return path


def test_convert_with_errors_writes_what_it_can_and_exits_one(faulty_file, tmp_path):
    out = tmp_path / "out.mid"
    result = runner.invoke(app, ["abc", "convert", str(faulty_file), "--to", "mid", "-o", str(out)])
    assert result.exit_code == 1
    assert out.read_bytes().startswith(b"MThd")
    assert "broken rhythm" in result.output and "error(s)" in result.output


def test_convert_with_errors_and_force_exits_zero(faulty_file, tmp_path):
    out = tmp_path / "out.mid"
    args = ["abc", "convert", str(faulty_file), "--to", "mid", "-o", str(out), "--force"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert out.read_bytes().startswith(b"MThd")


def test_check_shows_a_repeated_finding_once_with_a_count(tmp_path):
    lines = ["X:1", "T:big", "M:4/4", "L:1/8", "K:C"]
    lines += [f"V:{v}\n%%MIDI program {v}" for v in range(1, 21)]
    lines += [f"[V:{v}] c8 | d8 |]" for v in range(1, 21)]
    path = tmp_path / "big.abc"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["abc", "check", str(path)])
    assert result.exit_code == 1
    assert result.output.count("Channel limit exceeded") == 2  # the first, then "N more"
    assert "more time(s)" in result.output


def test_check_does_not_flag_a_pickup_bar(tmp_path):
    path = tmp_path / "pickup.abc"
    path.write_text("X:1\nT:p\nM:3/4\nL:1/8\nK:G\nD2 | G2 B2 d2 | g4 d2 | B2 G2 A2 | G4 :|\n")
    result = runner.invoke(app, ["abc", "check", str(path)])
    assert result.exit_code == 0
    assert "bar" not in result.output


def test_repair_fix_bars_never_writes_a_meter_inside_a_chord(tmp_path):
    path = tmp_path / "overfull.abc"
    path.write_text("X:1\nT:o\nM:4/4\nL:1/8\nK:C\nC8 | [GB]4 c4 d2 | (3ABc d4 e2 f2 | c8 |]\n")
    result = runner.invoke(app, ["abc", "repair", str(path), "--fix-bars", "--json"])
    fixed = json.loads(result.stdout)["abc"]
    assert "[M:5/4] [GB]4" in fixed and "[M:5/4] (3ABc" in fixed
    assert not re.search(r"\[[A-Ga-g][^\]]*\[M:", fixed)
    assert result.exit_code == 0
