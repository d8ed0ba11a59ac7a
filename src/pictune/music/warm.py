"""A warm render worker: one long-lived, limited child Python per rendering thread.

Starting a child Python for every render cost about 1 s (Python, `pictune.music`, music21)
against 0.1–0.7 s of work. Here a child (`render_worker serve`) is started on first use and
kept: it imports music21 and verovio once and takes tasks over pipes (`frames`). It keeps the
guarantees of the child-per-call design (`isolated`):

- its own session (Ctrl-C reaches only pictune), address-space and file-size limits set
  once with prlimit, a CPU-time budget per task (set by the child before each task), a
  wall-clock deadline per task (the child is killed past it), and a reply-size limit;
- each task runs in a fresh working folder that is removed afterwards, whatever happens;
- a child that timed out, crashed, ran out of memory, hit a recursion limit, answered
  something unexpected or was interrupted is killed and dropped; the next call starts a
  fresh one. A child is also retired after `MAX_TASKS_PER_WORKER` tasks;
- one task at a time per child: a pool hands a child to one thread at a time, keeps at most
  `MAX_IDLE_WORKERS` idle, and belongs to one process (keyed by its pid, forgotten in a forked
  child); every child is stopped when pictune exits, and a child whose pictune died without
  exiting cleanly sees its task pipe close and leaves.
"""

from __future__ import annotations

import atexit
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pictune.abc import tools
from pictune.errors import RenderError, ToolError
from pictune.music import frames

MAX_TASKS_PER_WORKER = 200
MAX_IDLE_WORKERS = 2


@dataclass(frozen=True)
class PoolStats:
    """What this process's pool holds: for tests, benchmarks and logs."""

    idle_pids: tuple[int, ...]
    busy_pids: tuple[int, ...]
    started: int  # children started by this process's pool, ever
    tasks: int  # tasks run, ever (failed ones too)


class _DroppedError(Exception):
    """The child cannot be used again; `error` is what the caller is told. `vanished`: the
    child went away without answering and without hitting a limit (a crash, or a kill from
    outside), so the task itself may be blameless."""

    def __init__(self, error: Exception, vanished: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.vanished = vanished


class RenderWorker:
    """One warm child. Not thread-safe: the pool gives it to one thread at a time."""

    def __init__(self, memory_bytes: int, file_bytes: int, env: Mapping[str, str]) -> None:
        self.memory_bytes = memory_bytes
        self.file_bytes = file_bytes
        self.tasks = 0
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pictune.music.render_worker", "serve"],
                cwd="/",
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,  # read only if it dies; it is /dev/null once serving
                bufsize=0,
                start_new_session=True,
                env={**os.environ, **env},
            )
        except OSError as exc:
            raise ToolError(f"the render worker could not be started: {exc.strerror}") from exc
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr  # all three are pipes
        self._send_fd = self.proc.stdin.fileno()
        self._reply_fd = self.proc.stdout.fileno()
        os.set_blocking(self._send_fd, False)
        os.set_blocking(self._reply_fd, False)
        os.set_blocking(self.proc.stderr.fileno(), False)
        if hasattr(resource, "prlimit"):
            for kind, value in (
                (resource.RLIMIT_AS, memory_bytes),
                (resource.RLIMIT_FSIZE, file_bytes),
            ):
                try:
                    resource.prlimit(self.proc.pid, kind, (value, value))
                except (ProcessLookupError, PermissionError):  # gone already, or not allowed
                    break

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def render(
        self,
        task: str,
        inputs: Mapping[str, bytes],
        output: str,
        folder: Path,
        deadline: float,
        timeout: float,
    ) -> bytes:
        """The bytes of `output` for `task`; RenderError when the task failed in an orderly
        way (the child stays usable), _DroppedError (wrapping the error to raise) when the child
        must be thrown away."""
        header = {
            "task": task,
            "output": output,
            "folder": str(folder),
            "inputs": list(inputs),
            "cpu_seconds": int(timeout) + 1,
        }
        try:
            frames.send(self._send_fd, frames.encode(header, list(inputs.values())), deadline)
            reply, blobs = frames.receive(self._reply_fd, deadline, self.file_bytes)
        except frames.DeadlineError:
            raise _DroppedError(
                ToolError(f"{task} took longer than {timeout:g} s and was stopped")
            ) from None
        except frames.ReplyTooLargeError:
            raise _DroppedError(
                ToolError(f"{task} went over its output size limit and was stopped")
            ) from None
        except frames.FrameError as exc:
            raise _DroppedError(
                RenderError(f"{task} failed: the render worker said {exc}")
            ) from None
        except frames.PeerGoneError:
            death = self._death(task)
            raise _DroppedError(death, vanished=isinstance(death, RenderError)) from None
        self.tasks += 1
        error = reply.get("error")
        if reply.get("limit") == "output size":
            raise _DroppedError(
                ToolError(f"{task} went over its output size limit and was stopped")
            )
        if error is not None or len(blobs) != 1:
            failure = RenderError(f"{task} failed: {error or 'the render worker said nothing'}")
            if error is not None and reply.get("leave") is False:
                raise failure  # an orderly failure: the child stays
            raise _DroppedError(failure)
        if not blobs[0]:
            raise RenderError(f"{task} failed: it wrote no {output}")
        return blobs[0]

    def _death(self, task: str) -> Exception:
        """The error for a child that went away mid-task: a limit it hit, or a crash."""
        self.kill()
        self.proc.wait()
        log = self._startup_log()
        returncode = self.stop()
        limits = {-signal.SIGXCPU: "CPU time", -signal.SIGXFSZ: "output size"}
        if returncode in limits:
            return ToolError(f"{task} went over its {limits[returncode]} limit and was stopped")
        if (
            (returncode is not None and returncode < 0)
            or "MemoryError" in log
            or "Memory allocation" in log
        ):
            why = "it ran out of memory or was stopped (the tune is too large to render)"
        else:
            why = f"the render worker ended with status {returncode}"
        return RenderError(f"{task} failed: {why}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()

    def _startup_log(self) -> str:
        """What the child wrote to stderr before it began serving (a start-up traceback)."""
        assert self.proc.stderr is not None
        try:
            return os.read(self.proc.stderr.fileno(), 1 << 16).decode("utf-8", "replace")
        except (BlockingIOError, OSError, ValueError):
            return ""

    def stop(self) -> int | None:
        """Kill the child (it holds no state worth keeping) and reap it; its exit status."""
        self.kill()
        returncode = self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return returncode

    def forget(self) -> None:
        """Close this process's ends of the pipes without touching the child (after fork:
        the child belongs to the parent process)."""
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    continue


class RenderPool:
    """Warm children for one process: one per rendering thread, a few kept idle."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[RenderWorker] = []
        self._busy: set[RenderWorker] = set()
        self._started = 0
        self._tasks = 0
        self._closed = False

    def render(
        self,
        task: str,
        inputs: Mapping[str, bytes],
        output: str,
        timeout: float,
        memory_bytes: int,
        file_bytes: int,
        env: Mapping[str, str],
    ) -> bytes:
        """Run one task on a warm child under the limits, in a fresh working folder.

        A reused child that dies before answering (killed from outside while idle) gets its
        task again on a fresh child, within the same deadline.
        """
        deadline = time.monotonic() + timeout
        with tools._sigterm_unwinds(), tools.working_folder(tools._scratch_root()) as work:
            retried = False
            while True:
                worker = self._acquire(memory_bytes, file_bytes, env)
                reused = worker.tasks > 0
                kept = False
                try:
                    data = worker.render(task, inputs, output, work, deadline, timeout)
                    kept = True
                    return data
                except RenderError:
                    kept = True
                    raise
                except _DroppedError as dropped:
                    if reused and dropped.vanished and not retried and time.monotonic() < deadline:
                        retried = True
                        continue
                    raise dropped.error from None
                finally:
                    self._release(worker, kept)

    def _acquire(self, memory_bytes: int, file_bytes: int, env: Mapping[str, str]) -> RenderWorker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive() and (worker.memory_bytes, worker.file_bytes) == (
                    memory_bytes,
                    file_bytes,
                ):
                    self._busy.add(worker)
                    return worker
                worker.stop()
        worker = RenderWorker(memory_bytes, file_bytes, env)
        with self._lock:
            self._started += 1
            self._busy.add(worker)
        return worker

    def _release(self, worker: RenderWorker, kept: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
            self._tasks += 1
            keep = (
                kept
                and not self._closed
                and worker.alive()
                and worker.tasks < MAX_TASKS_PER_WORKER
                and len(self._idle) < MAX_IDLE_WORKERS
            )
            if keep:
                self._idle.append(worker)
        if not keep:
            worker.stop()

    def stats(self) -> PoolStats:
        with self._lock:
            return PoolStats(
                idle_pids=tuple(w.pid for w in self._idle),
                busy_pids=tuple(w.pid for w in self._busy),
                started=self._started,
                tasks=self._tasks,
            )

    def close(self) -> None:
        """Stop every child: idle ones here; busy ones are killed, and their threads get an
        error and reap them."""
        with self._lock:
            self._closed = True
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
        for worker in idle:
            worker.stop()
        for worker in busy:
            worker.kill()

    def forget(self) -> None:
        with self._lock:
            workers = [*self._idle, *self._busy]
            self._idle.clear()
            self._busy.clear()
        for worker in workers:
            worker.forget()


_pools: dict[int, RenderPool] = {}
_pools_lock = threading.Lock()


def current_pool() -> RenderPool:
    """This process's pool (a forked process gets its own, never its parent's)."""
    with _pools_lock:
        return _pools.setdefault(os.getpid(), RenderPool())


def close_pool() -> None:
    """Stop this process's warm children (at exit, and for tests and benchmarks)."""
    with _pools_lock:
        pool = _pools.pop(os.getpid(), None)
    if pool is not None:
        pool.close()


def _after_fork_in_child() -> None:
    """A forked process must not use or stop its parent's children: drop its copies of
    their pipes (so they still see EOF when the parent goes) and start with no pool."""
    global _pools_lock
    _pools_lock = threading.Lock()
    for pool in _pools.values():
        pool._lock = threading.Lock()
        pool.forget()
    _pools.clear()


atexit.register(close_pool)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
