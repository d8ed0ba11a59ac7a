"""The warm render worker: reused between calls, replaced after any failure, never shared
between threads or processes, never outliving pictune."""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pictune.errors import InputError, RenderError, ToolError
from pictune.music import frames, isolated, render_svg, render_worker, to_musicxml, warm

SRC = Path(__file__).parents[1] / "src"
WORKER_MODULE = "pictune.music.render_worker"
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def tune(title: str) -> str:
    return f"X:1\nT:{title}\nM:4/4\nL:1/8\nK:G\nGABc dedB|c2 A2 G4|]\n"


def _state(pid: int) -> str | None:
    """The process's state letter ('R', 'S', 'Z' …), None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _is_worker(pid: int) -> bool:
    """A live (not zombie) render worker with this pid."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return WORKER_MODULE.encode() in cmdline and _state(pid) not in (None, "Z")


def _worker_children() -> set[int]:
    """Live render workers whose parent is this process."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _is_worker(int(entry.name)):
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) == os.getpid():
                found.add(int(entry.name))
    return found


def _wait_until(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds  # a hang guard, not a timing assertion
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def pool(no_leftovers, monkeypatch):
    """This process's pool, emptied before and after the test; warm mode whatever the env."""
    monkeypatch.delenv("PICTUNE_RENDER_WORKER", raising=False)
    warm.close_pool()
    yield warm.current_pool()
    warm.close_pool()


def test_two_renders_reuse_one_child(pool):
    first = to_musicxml(tune("First"))
    worker = pool.stats().idle_pids
    second = to_musicxml(tune("Second"))
    stats = pool.stats()
    assert "First" in first and "Second" in second
    assert stats.started == 1 and stats.tasks == 2
    assert stats.idle_pids == worker and len(worker) == 1
    assert _worker_children() == set(worker)


def test_verovio_and_musicxml_share_the_warm_child(pool):
    svg, engine = render_svg(tune("Engraved"), engine="verovio")
    assert engine == "verovio" and "<svg" in svg
    assert "Exported" in to_musicxml(tune("Exported"))
    assert pool.stats().started == 1


def test_after_a_timeout_the_child_is_gone_and_the_next_render_succeeds(pool):
    to_musicxml(tune("Before"))
    (timed_out,) = pool.stats().idle_pids
    nested = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\n" + "(" * 10000 + "C" + ")" * 10000 + "\n"
    with pytest.raises(ToolError, match="took longer than 1 s and was stopped"):
        isolated.run_renderer("musicxml", {"tune.abc": nested.encode()}, "x", timeout=1.0)
    assert not _is_worker(timed_out)
    assert _worker_children() == set()
    assert "After" in to_musicxml(tune("After"))
    stats = pool.stats()
    assert stats.started == 2 and timed_out not in stats.idle_pids


def test_a_child_killed_from_outside_between_calls_is_replaced(pool):
    to_musicxml(tune("Before"))
    (killed,) = pool.stats().idle_pids
    os.kill(killed, signal.SIGKILL)
    assert _wait_until(lambda: not _is_worker(killed))
    assert "After" in to_musicxml(tune("After"))
    assert killed not in pool.stats().idle_pids


def test_a_child_that_dies_unseen_between_calls_hands_its_task_to_a_fresh_one(pool, monkeypatch):
    """The kill lands after the pool checked the child (here: it never sees deaths)."""
    to_musicxml(tune("Before"))
    (killed,) = pool.stats().idle_pids
    monkeypatch.setattr(warm.RenderWorker, "alive", lambda self: True)
    os.kill(killed, signal.SIGKILL)
    assert "After" in to_musicxml(tune("After"))
    assert pool.stats().started == 2


def test_four_threads_render_at_once_each_its_own_tune(pool):
    titles = [f"Thread{n}" for n in range(4)]
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def render(title: str) -> None:
        try:
            results[title] = to_musicxml(tune(title))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=render, args=(title,)) for title in titles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    for title in titles:
        assert title in results[title]
        assert all(other not in results[title] for other in titles if other != title)
    stats = pool.stats()
    assert stats.busy_pids == () and len(stats.idle_pids) <= warm.MAX_IDLE_WORKERS
    assert _worker_children() == set(stats.idle_pids)


def test_a_child_is_retired_after_its_quota_of_tasks(pool, monkeypatch):
    monkeypatch.setattr(warm, "MAX_TASKS_PER_WORKER", 2)
    pids = []
    for n in range(3):
        render_svg(tune(f"Tune{n}"), engine="verovio")
        pids.append(pool.stats().idle_pids)
    assert len(pids[0]) == 1 and pids[1] == ()  # the first child retired after its 2nd task
    assert len(pids[2]) == 1 and pids[2] != pids[0] and pool.stats().started == 2


def test_an_orderly_failure_keeps_the_child(pool):
    to_musicxml(tune("Before"))
    worker = pool.stats().idle_pids
    with pytest.raises(RenderError, match="MusicXML export failed"):
        to_musicxml("X:1\nK:C\nC|\n")  # no default note length: music21 refuses it
    assert pool.stats().idle_pids == worker


def test_a_reply_over_the_size_limit_is_refused_and_the_child_dropped(pool, monkeypatch):
    monkeypatch.setattr(isolated, "RENDER_FILE_BYTES", 4096)
    with pytest.raises(ToolError, match="output size limit"):
        render_svg(tune("Large") * 3, engine="verovio")
    assert pool.stats().idle_pids == () and _worker_children() == set()


def test_fresh_mode_starts_a_child_per_call(pool, monkeypatch):
    monkeypatch.setenv("PICTUNE_RENDER_WORKER", "fresh")
    assert "Fresh" in to_musicxml(tune("Fresh"))
    assert pool.stats().started == 0


def test_an_unknown_worker_mode_is_one_clear_error(pool, monkeypatch):
    monkeypatch.setenv("PICTUNE_RENDER_WORKER", "lukewarm")
    with pytest.raises(InputError, match="PICTUNE_RENDER_WORKER is 'lukewarm'; use 'warm' or"):
        to_musicxml(tune("Any"))


def _render_in_fork(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    inherited = warm.current_pool().stats()
    render_svg(tune("Forked"), engine="verovio")
    queue.put((inherited.started, warm.current_pool().stats().idle_pids))


def test_a_forked_process_starts_its_own_child_and_leaves_the_parents_alone(pool):
    render_svg(tune("Parent"), engine="verovio")
    (parents,) = pool.stats().idle_pids
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_render_in_fork, args=(queue,))
    process.start()
    inherited_started, forked_idle = queue.get(timeout=60)
    process.join(timeout=60)
    assert process.exitcode == 0
    assert inherited_started == 0 and len(forked_idle) == 1 and forked_idle[0] != parents
    assert _wait_until(lambda: not _is_worker(forked_idle[0]))  # stopped when the fork ended
    assert pool.stats().idle_pids == (parents,) and _is_worker(parents)
    render_svg(tune("Parent again"), engine="verovio")
    assert pool.stats().idle_pids == (parents,)


def _python(code: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("PICTUNE_RENDER_WORKER", None)
    return subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True
    )


RENDER_ONCE = (
    "from pictune.music import render_svg, warm\n"
    "render_svg('X:1\\nT:t\\nL:1/8\\nK:C\\nCDEF|\\n', engine='verovio')\n"
    "print(warm.current_pool().stats().idle_pids[0], flush=True)\n"
)


def test_no_worker_survives_the_interpreter():
    proc = _python(RENDER_ONCE)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert not _is_worker(int(out))


def test_no_worker_survives_an_interpreter_killed_outright():
    """SIGKILL leaves no atexit: the worker sees its task pipe close and leaves."""
    proc = _python(RENDER_ONCE + "import time; time.sleep(600)\n")
    try:
        assert proc.stdout is not None
        worker = int(proc.stdout.readline())
        assert _is_worker(worker)
    finally:
        proc.kill()
        proc.wait()
    assert _wait_until(lambda: not _is_worker(worker))


def test_the_cpu_budget_is_this_tasks_use_on_top_of_what_was_used():
    before = resource.getrlimit(resource.RLIMIT_CPU)
    try:
        render_worker._limit_cpu(7)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        assert usage.ru_utime + usage.ru_stime + 7 <= soft <= usage.ru_utime + usage.ru_stime + 9
        assert hard == before[1]
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, before)


def test_messages_cross_a_pipe_whole():
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    with os.fdopen(write_end, "wb") as writer:
        frames.write_blocking(writer, {"task": "verovio"}, [b"abc", b"", b"\x00" * 30_000])
        header, blobs = frames.receive(read_end, time.monotonic() + 30, 1 << 20)
    os.close(read_end)
    assert header["task"] == "verovio" and blobs == [b"abc", b"", b"\x00" * 30_000]


@pytest.mark.parametrize(
    ("written", "deadline_s", "limit", "error"),
    [
        (frames.encode({}, [b"x" * 100])[:60], 30, 99, frames.ReplyTooLargeError),
        (b"", 0.05, 1 << 20, frames.DeadlineError),
        (b"\x00\x00\x00\x03{{{", 30, 1 << 20, frames.FrameError),
    ],
    ids=["announces-too-many-bytes", "silent-peer", "header-not-json"],
)
def test_a_bad_reply_is_refused_before_it_is_read(written, deadline_s, limit, error):
    """A reply announcing more bytes than allowed is refused before its body is read; a
    silent peer runs into the deadline; a header that is not JSON is a frame error."""
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    try:
        if written:
            os.write(write_end, written)
        with pytest.raises(error):
            frames.receive(read_end, time.monotonic() + deadline_s, limit)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_closed_pipe_is_a_gone_peer():
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    os.close(write_end)
    with pytest.raises(frames.PeerGoneError):
        frames.receive(read_end, time.monotonic() + 30, 1 << 20)
    os.close(read_end)
