"""Each wrong argument a user is likely to try gets one precise line, and nothing before it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pictune.cli.app import app

runner = CliRunner()


def one_error(args: list[str]) -> str:
    """The run's only output line: the error (exit code 2, no banner, no traceback)."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    return lines[0].removeprefix("error: ")


def test_compose_a_folder_says_it_is_a_folder(pictures):
    message = one_error(["compose", str(pictures)])
    assert message == (
        f"{pictures} is a folder; compose takes one picture (a folder: pictune batch {pictures})"
    )


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null here")
def test_compose_a_device_says_it_is_not_a_picture_file():
    assert one_error(["compose", "/dev/null"]) == (
        "/dev/null is not a picture file (a device, pipe or socket)"
    )


def test_compose_a_missing_picture(tmp_path):
    assert one_error(["compose", str(tmp_path / "nope.png")]) == (
        f"no such picture: {tmp_path / 'nope.png'}"
    )


def test_compose_an_empty_file(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert one_error(["compose", str(empty)]) == f"{empty} is empty (0 bytes)"


def test_explain_a_missing_folder_says_no_such_folder(tmp_path):
    assert one_error(["explain", str(tmp_path / "nope")]) == f"no such folder: {tmp_path / 'nope'}"


def test_explain_a_file_says_it_wants_the_folder(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("{}")
    assert one_error(["explain", str(path)]) == (
        f"{path} is a file; give the folder pictune compose wrote"
    )


def test_explain_a_folder_without_a_report(tmp_path):
    assert "holds no report.json" in one_error(["explain", str(tmp_path)])


def test_serve_on_a_busy_port_says_the_port_is_in_use(tmp_path):
    pytest.importorskip("uvicorn")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        message = one_error(["serve", "--port", str(port), "--data-dir", str(tmp_path / "d")])
    assert (
        message == f"port {port} on 127.0.0.1 is in use (another server?); choose one with --port"
    )
    assert not (tmp_path / "d").exists()  # nothing was started


def test_serve_on_an_unknown_host_is_one_line(tmp_path, monkeypatch):
    pytest.importorskip("uvicorn")
    monkeypatch.setenv("PICTUNE_API_TOKEN", "k" * 8 + "abcdefghijklmnopqrstuvwxyz0123456789")
    message = one_error(["serve", "--host", "no-such-host.invalid", "--port", "8123"])
    assert message == "cannot listen on no-such-host.invalid: no such address"
