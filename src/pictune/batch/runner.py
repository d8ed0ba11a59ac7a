"""run_batch(): compose music for every picture of a folder, in parallel, resumable.

Each picture gets its own output folder; a `.done` marker is written last, so a run that
was killed resumes by skipping finished pictures and redoing unfinished ones. One failing
picture never stops the batch: it is listed in `summary.json` with its error."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")
DONE = ".done"
_index: Any = None


@dataclass
class BatchSummary:
    total: int = 0
    done: int = 0
    skipped: int = 0  # finished by an earlier run
    failed: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def throughput(self) -> float:
        """Pictures composed a second in this run."""
        return self.done / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "throughput_per_s": round(self.throughput, 3)}


def find_images(folder: Path) -> list[Path]:
    """Every picture under `folder`, in a stable order."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def output_folder(image: Path, images_dir: Path, out_dir: Path) -> Path:
    relative = image.relative_to(images_dir)
    return out_dir / relative.parent / relative.stem


def _open_index(index_folder: str) -> None:
    global _index
    from pictune.corpus import CorpusIndex

    _index = CorpusIndex(Path(index_folder))


def _compose_one(
    image: str, out: str, prompt: str | None, seed: int
) -> tuple[str, str | None, float]:
    from pictune.errors import PictuneError
    from pictune.pipeline.offline import compose_offline

    started = time.perf_counter()
    try:
        compose_offline(image, out, prompt=prompt, seed=seed, index=_index)
    except PictuneError as exc:
        return image, str(exc).splitlines()[0], time.perf_counter() - started
    except Exception as exc:  # one picture must never stop the batch
        return image, f"internal error: {type(exc).__name__}: {exc}", time.perf_counter() - started
    Path(out, DONE).write_text(json.dumps({"seconds": time.perf_counter() - started}), "utf-8")
    return image, None, time.perf_counter() - started


def run_batch(
    images_dir: Path,
    out_dir: Path,
    *,
    workers: int | None = None,
    prompt: str | None = None,
    seed: int = 0,
    index_folder: Path | None = None,
    progress: Callable[[BatchSummary], None] | None = None,
) -> BatchSummary:
    """Compose every picture under `images_dir` into `out_dir` with `workers` processes."""
    from pictune.pipeline.offline import ensure_builtin_index

    index_folder = index_folder or ensure_builtin_index().folder
    images = find_images(images_dir)
    summary = BatchSummary(total=len(images))
    todo = []
    for image in images:
        folder = output_folder(image, images_dir, out_dir)
        if (folder / DONE).is_file():
            summary.skipped += 1
        else:
            todo.append((image, folder))
    started = time.perf_counter()
    count = max(1, workers or os.cpu_count() or 1)
    with ProcessPoolExecutor(
        max_workers=count, initializer=_open_index, initargs=(str(index_folder),)
    ) as pool:
        futures = [
            pool.submit(_compose_one, str(image), str(folder), prompt, seed)
            for image, folder in todo
        ]
        for future in as_completed(futures):
            name, error, _ = future.result()
            if error is None:
                summary.done += 1
            else:
                summary.failed.append(
                    {"image": str(Path(name).relative_to(images_dir)), "error": error}
                )
            summary.seconds = time.perf_counter() - started
            if progress:
                progress(summary)
    summary.seconds = time.perf_counter() - started
    summary.failed.sort(key=lambda f: f["image"])
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(summary.to_dict(), indent=1), "utf-8")
    return summary
