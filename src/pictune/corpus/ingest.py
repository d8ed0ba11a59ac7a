"""MIDI → ABC for many files at once: one midi2abc process per file, all cores busy.

The work happens in the midi2abc processes, so threads are enough to keep every core busy
and cost nothing to start (a process pool would re-import pictune in each worker)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pictune.abc.convert import midi_to_abc
from pictune.errors import PictuneError


def convert_midi_files(
    paths: Sequence[str | Path], workers: int | None = None
) -> list[str | PictuneError]:
    """The ABC of each MIDI file, or the error that stopped it, in the order given."""

    def one(path: str | Path) -> str | PictuneError:
        try:
            return midi_to_abc(Path(path).read_bytes(), title=Path(path).stem)
        except PictuneError as exc:
            return exc
        except OSError as exc:
            return PictuneError(f"{path}: {exc.strerror}")

    count = workers or os.cpu_count() or 1
    if count == 1 or len(paths) < 2:
        return [one(p) for p in paths]
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, paths))
