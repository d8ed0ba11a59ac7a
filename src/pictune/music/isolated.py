"""Run an in-process renderer (verovio, music21) in a child Python under limits.

verovio and music21 run inside the Python process and have no limits of their own: a 10 MB
reply drove the engraver to 10 GB, and music21 parsed 10,000 nested slurs for minutes while
ignoring Ctrl-C. Here each runs in a child process with the same kind of limits abc2midi
gets (wall clock, address space, CPU, output size), in a working folder removed afterwards.
The child's entry point is `pictune.music.render_worker`.

By default the child is warm (`pictune.music.warm`): started on first use, kept for later
tasks under the same limits. `PICTUNE_RENDER_WORKER=fresh` starts a child per call instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import pictune
from pictune.abc.tools import run_program
from pictune.errors import InputError, RenderError

RENDER_TIMEOUT_S = 20.0
RENDER_MEMORY_BYTES = 3 << 29  # 1.5 GB address space; Python with music21 maps 65 MB idle
RENDER_FILE_BYTES = 64 << 20
MAX_RENDER_CHARS = 200_000  # a score of about 16,000 bars; longer texts are not engraved
ERROR_MARK = "pictune-render-error: "
# One thread each: every BLAS thread reserves address space that would count against the cap.
_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_renderer(
    task: str,
    inputs: Mapping[str, bytes],
    output: str,
    timeout: float | None = None,
    memory_bytes: int | None = None,
) -> bytes:
    """The bytes of `output` that render task `task` wrote from `inputs`; RenderError else.

    ToolError when the child is stopped by the timeout or the CPU or output-size limit.
    """
    tune = inputs.get("tune.abc", b"")
    if len(tune) > MAX_RENDER_CHARS:
        raise RenderError(
            f"the tune is {len(tune):,} bytes; scores are rendered up to {MAX_RENDER_CHARS:,}"
        )
    source_root = str(Path(pictune.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (source_root, os.environ.get("PYTHONPATH")) if p)
    timeout = RENDER_TIMEOUT_S if timeout is None else timeout
    memory_bytes = RENDER_MEMORY_BYTES if memory_bytes is None else memory_bytes
    env = {**_ENV, "PYTHONPATH": path}
    if render_worker_mode() == "warm":
        from pictune.music.warm import current_pool

        return current_pool().render(
            task, inputs, output, timeout, memory_bytes, RENDER_FILE_BYTES, env
        )
    run = run_program(
        task,
        [sys.executable, "-m", "pictune.music.render_worker", task],
        inputs,
        [output],
        timeout=timeout,
        memory_bytes=memory_bytes,
        file_bytes=RENDER_FILE_BYTES,
        env=env,
    )
    data = run.outputs.get(output)
    if run.returncode == 0 and data:
        return data
    raise RenderError(f"{task} failed: {_reason(run.stdout, run.returncode)}")


def render_worker_mode() -> str:
    """'warm' or 'fresh', from PICTUNE_RENDER_WORKER; warm by default where the warm worker's
    pipes can be waited on with select (not on Windows)."""
    default = "fresh" if sys.platform == "win32" else "warm"
    mode = os.environ.get("PICTUNE_RENDER_WORKER", "").strip().lower() or default
    if mode not in ("warm", "fresh"):
        raise InputError(f"PICTUNE_RENDER_WORKER is {mode!r}; use 'warm' or 'fresh'")
    return mode


def _reason(log: str, returncode: int) -> str:
    for line in reversed(log.splitlines()):
        if line.startswith(ERROR_MARK):
            return line[len(ERROR_MARK) :].strip()
    if "MemoryError" in log or returncode < 0:
        return "it ran out of memory or was stopped (the tune is too large to render)"
    return f"it ended with status {returncode}"
