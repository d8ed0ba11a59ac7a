"""The command line on hostile files: floods of findings are summed up, wrong answers refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pictune.cli.app import app
from pictune.cli.output import MAX_SHOWN, capped

runner = CliRunner()
HEADER = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\n"


@pytest.fixture
def underfull_bars(tmp_path):
    path = tmp_path / "flood.abc"
    path.write_text(HEADER + "\n".join("CDEF GAB|" for _ in range(400)) + "\n")
    return path


def test_repair_sums_up_a_flood_of_fixes(underfull_bars, tmp_path):
    result = runner.invoke(
        app, ["abc", "repair", "--fix-bars", str(underfull_bars), "-o", str(tmp_path / "o.abc")]
    )
    lines = result.stderr.splitlines()
    assert len(lines) <= MAX_SHOWN + 5
    assert any("more like this (bar length)" in line for line in lines)


def test_check_sums_up_a_flood_of_warnings(underfull_bars):
    result = runner.invoke(app, ["abc", "check", str(underfull_bars)])
    assert "more" in result.stdout  # the rest summed up ("386 more bars of the wrong length")
    assert result.stdout.count("warning") <= MAX_SHOWN


def test_check_puts_errors_before_warnings(tmp_path):
    path = tmp_path / "mixed.abc"
    path.write_text(HEADER + "\n".join("CDEF GAB|" for _ in range(100)) + "\n[[GABc d,2|]\n")
    result = runner.invoke(app, ["abc", "check", str(path)])
    assert result.exit_code == 1
    assert "error" in result.stdout.split("warning")[0]


def test_capped_names_each_kind_when_they_differ():
    shown, summary = capped(list("aaab" * 10), str, limit=4)
    assert shown == list("aaab") and summary == "… and 36 more: 27 a, 9 b"


def test_capped_says_nothing_when_all_are_shown():
    assert capped([1, 2], str) == ([1, 2], None)


def test_convert_refuses_a_tune_that_loses_notes(tmp_path):
    path = tmp_path / "voices.abc"
    path.write_text(HEADER + "".join(f"V:{i}\nCDEF|\n" for i in range(1, 21)))
    result = runner.invoke(app, ["abc", "convert", str(path), "--to", "mid"])
    assert result.exit_code == 2
    assert "losing notes" in result.stderr
    assert not Path(tmp_path / "voices.mid").exists()


def test_metrics_says_why_for_a_runaway_tune(tmp_path):
    path = tmp_path / "long.abc"
    path.write_text(HEADER + "\n".join("CDEF GABc|" * 8 for _ in range(1000)) + "\n")
    result = runner.invoke(app, ["metrics", str(path)])
    assert result.exit_code == 2
    assert "too long for one MIDI file" in result.stderr
    assert "truncated" not in result.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
@pytest.mark.parametrize("command", [["abc", "check"], ["abc", "repair"], ["metrics"]])
def test_a_link_to_dev_zero_is_one_line(tmp_path, command):
    link = tmp_path / "tune.abc"
    link.symlink_to("/dev/zero")
    result = runner.invoke(app, [*command, str(link)])
    assert result.exit_code == 2
    assert "larger than 20 MB" in result.stderr
