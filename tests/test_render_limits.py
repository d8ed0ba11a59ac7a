"""Renderers and exporters run in a child under limits; cancelling leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pictune.abc import tools
from pictune.errors import PictuneError, RenderError
from pictune.music import isolated, render_svg, to_musicxml

HEADER = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\n"
NESTED = HEADER + "(" * 10000 + "C" + ")" * 10000 + "\n"
SRC = Path(__file__).parents[1] / "src"


def test_musicxml_of_deeply_nested_slurs_ends_within_the_limit(no_leftovers, monkeypatch):
    monkeypatch.setattr(isolated, "RENDER_TIMEOUT_S", 3.0)
    start = time.monotonic()
    with pytest.raises(PictuneError):
        to_musicxml(NESTED)
    assert time.monotonic() - start < 30  # a hang guard: the limit is 3 s


def test_verovio_refuses_a_runaway_reply_before_starting(no_leftovers):
    with pytest.raises(RenderError, match="engraved up to"):
        render_svg(HEADER + "CDEF GABc|" * 100_000, engine="verovio")


def test_musicxml_refuses_a_runaway_reply_before_starting(no_leftovers):
    with pytest.raises(RenderError, match="rendered up to"):
        to_musicxml(HEADER + "CDEF GABc|" * 100_000)


def test_renderer_memory_limit_ends_in_a_clear_error(no_leftovers):
    with pytest.raises(PictuneError):
        isolated.run_renderer(
            "musicxml", {"tune.abc": HEADER.encode() + b"C|\n"}, "x", memory_bytes=64 << 20
        )


def test_stale_folders_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"pictune-{dead.pid}-abc"
    stale.mkdir()
    (stale / "tune.mid").write_bytes(b"x")
    living = tmp_path / f"pictune-{os.getppid()}-abc"
    living.mkdir()
    other = tmp_path / "pictune-cache"
    other.mkdir()
    assert tools.sweep_stale_folders([str(tmp_path)]) == [stale]
    assert not stale.exists() and living.exists() and other.exists()


def _cwd_of_children(folder: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cwd").readlink() == folder:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_cancelled_export_stops_its_child_and_removes_its_folder(tmp_path, signum):
    tune = tmp_path / "nested.abc"
    tune.write_text(NESTED)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    code = (
        "import sys; from pictune.abc import tools; "
        f"tools._scratch_root = lambda: {str(scratch)!r}; "
        "from pictune.cli.app import main; sys.argv[1:] = "
        + repr(["abc", "convert", str(tune), "--to", "musicxml", "-o", str(tmp_path / "x.xml")])
        + "; main()"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and not workers:
            folders = list(scratch.glob(f"pictune-{proc.pid}-*"))
            workers = _cwd_of_children(folders[0].resolve()) if folders else []
            time.sleep(0.05)
        assert workers, "the export never started its child"
        proc.send_signal(signum)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert list(scratch.iterdir()) == []
    time.sleep(0.2)
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)
