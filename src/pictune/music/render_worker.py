"""Child-process entry point of `pictune.music.isolated`: render tasks, files in the cwd.

`python -m pictune.music.render_worker verovio`  tune.abc → score.svg
`python -m pictune.music.render_worker musicxml` tune.abc (and tune.mid) → score.musicxml
`python -m pictune.music.render_worker musicxml-to-midi` score.musicxml → score.mid
A failure ends with one `pictune-render-error: …` line and status 3.

`python -m pictune.music.render_worker serve` is the warm worker (`pictune.music.warm`): it
reads tasks from stdin as messages (`pictune.music.frames`), runs each in the folder the task
names, and answers on stdout, until stdin closes. It leaves after a MemoryError, a
RecursionError or anything unexpected, so that pictune starts a fresh one.
"""

from __future__ import annotations

import errno
import logging
import os
import resource
import sys
import warnings
from pathlib import Path
from typing import Any

from pictune.errors import RenderError
from pictune.music import frames
from pictune.music.isolated import ERROR_MARK


def run_task(task: str) -> tuple[str | None, bool]:
    """Run one render task in the current folder: (error message or None, whether this
    process should end after it because its state can no longer be trusted)."""
    try:
        if task == "verovio":
            from pictune.music.sheet import verovio_svg

            svg = verovio_svg(Path("tune.abc").read_text("utf-8"))
            Path("score.svg").write_text(svg, "utf-8")
        elif task == "musicxml":
            from pictune.music.musicxml import musicxml_in_process

            midi = Path("tune.mid").read_bytes() if Path("tune.mid").is_file() else None
            xml = musicxml_in_process(Path("tune.abc").read_text("utf-8"), midi)
            Path("score.musicxml").write_text(xml, "utf-8")
        elif task == "musicxml-to-midi":
            from pictune.music.musicxml import midi_from_musicxml

            Path("score.mid").write_bytes(midi_from_musicxml(Path("score.musicxml")))
        else:
            raise RenderError(f"unknown render task {task!r}")
    except RenderError as exc:
        return (str(exc).splitlines()[0] if str(exc) else type(exc).__name__), False
    except RecursionError:
        return "the tune nests too deeply to render", True
    except MemoryError:
        return "the tune is too large to render in the memory allowed", True
    return None, False


def main(argv: list[str]) -> int:
    logging.disable(logging.WARNING)  # music21 and verovio warn by the thousand on bad tunes
    warnings.simplefilter("ignore")
    if argv == ["serve"]:
        return serve()
    error, _ = run_task(argv[0] if argv else "")
    if error is not None:
        sys.stdout.write(ERROR_MARK + error + "\n")
        return 3
    return 0


def serve() -> int:
    """Answer tasks until stdin closes. The protocol keeps its own copies of stdin and stdout;
    the standard descriptors then point at /dev/null, so nothing a library prints can break a
    message or fill a pipe (stderr was pictune's to read only if start-up failed)."""
    tasks = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    for standard in (0, 1, 2):
        os.dup2(null, standard)
    os.close(null)
    while True:
        message = frames.read_blocking(tasks)
        if message is None:
            return 0
        reply, leave = _answer(*message)
        frames.write_blocking(replies, *reply)
        if leave:
            return 0


def _answer(
    header: dict[str, Any], blobs: list[bytes]
) -> tuple[tuple[dict[str, Any], list[bytes]], bool]:
    """The reply to one task message, and whether to leave after sending it."""
    try:
        _limit_cpu(float(header["cpu_seconds"]))
        os.chdir(header["folder"])
        for name, data in zip(header["inputs"], blobs, strict=True):
            Path(Path(name).name).write_bytes(data)
        error, leave = run_task(str(header["task"]))
        output = Path(Path(str(header["output"])).name)
        data = output.read_bytes() if error is None and output.is_file() else b""
    except MemoryError:
        message = "the tune is too large to render in the memory allowed"
        return ({"error": message, "leave": True}, []), True
    except Exception as exc:  # anything unexpected: report it, then let a fresh worker go on
        if isinstance(exc, OSError) and exc.errno == errno.EFBIG:  # Python ignores SIGXFSZ
            message = "a file went over the output size limit"
            return ({"error": message, "limit": "output size", "leave": True}, []), True
        message = f"the render worker failed: {type(exc).__name__}: {exc}"
        return ({"error": message, "leave": True}, []), True
    finally:
        os.chdir("/")  # leave the task's folder, which pictune removes now
    if error is not None:
        return ({"error": error, "leave": leave}, []), leave
    return ({"error": None, "leave": False}, [data]), False


def _limit_cpu(seconds: float) -> None:
    """Allow this task `seconds` of CPU beyond what the process has used so far (SIGXCPU
    ends the process past it; the hard limit, if any, stays as it is)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    wanted = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (wanted, hard))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
