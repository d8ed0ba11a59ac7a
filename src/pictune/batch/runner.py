"""run_batch(): compose music for every picture of a folder, in parallel, resumable.

Each picture gets its own output folder; a `.done` marker is written last, so a run that
was killed resumes by skipping finished pictures and redoing unfinished ones. One failing
picture never stops the batch: it is listed in `summary.json` with its error. The same
job runs in a local process pool here, or on a Ray cluster (`pictune.batch.ray_runner`)."""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.context
import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pictune.pipeline.config import Settings

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")
DONE = ".done"
Outcome = tuple[str, str | None, float]  # picture, error (None when composed), seconds
_worker: PictureComposer | None = None


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


@dataclass(frozen=True)
class BatchJob:
    """What every worker needs to compose any picture of the batch (sent to each worker)."""

    config: Settings = field(default_factory=Settings)  # its corpus is an absolute folder
    prompt: str | None = None
    seed: int = 0


class PictureComposer:
    """Composes one picture at a time, with the index and any model opened once."""

    def __init__(self, job: BatchJob) -> None:
        from pictune.pipeline.api import open_composer

        self.job = job
        self.composer = open_composer(job.config)

    def _compose(self, image: str, out: str) -> None:
        job = self.job
        composition = self.composer.compose(image, job.prompt, seed=job.seed)
        composition.save(out)
        if not composition.ok:
            raise _CompositionFailedError(composition.status)

    def __call__(self, image: str, out: str) -> Outcome:
        from pictune.errors import PictuneError

        started = time.perf_counter()
        try:
            self._compose(image, out)
        except (PictuneError, _CompositionFailedError) as exc:
            return image, str(exc).splitlines()[0], time.perf_counter() - started
        except Exception as exc:  # one picture must never stop the batch
            error = f"internal error: {type(exc).__name__}: {exc}"
            return image, error, time.perf_counter() - started
        seconds = time.perf_counter() - started
        Path(out, DONE).write_text(json.dumps({"seconds": seconds}), "utf-8")
        return image, None, seconds


class _CompositionFailedError(Exception):
    """A VLM run that ended without a playable tune (its attempts are saved)."""


def find_images(folder: Path) -> list[Path]:
    """Every picture under `folder`, in a stable order."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def output_folder(image: Path, images_dir: Path, out_dir: Path) -> Path:
    """The folder of one picture when it is alone in the batch (see `output_folders`)."""
    return output_folders([image], images_dir, out_dir)[image]


def output_folders(images: list[Path], images_dir: Path, out_dir: Path) -> dict[Path, Path]:
    """A distinct output folder for every picture, the same on every run over the same set.

    A picture's folder is its name without the suffix (`beach.jpg` → `out/beach`); pictures
    of one folder that share that name (`x.jpg` and `x.png`) each keep their suffix instead
    (`out/x.jpg`, `out/x.png`), so neither result overwrites the other. Names are compared
    ignoring case, as on the file systems of macOS and Windows.
    """
    relatives = {image: image.relative_to(images_dir) for image in images}
    stems: dict[tuple[Path, str], int] = {}
    for relative in relatives.values():
        key = (relative.parent, relative.stem.casefold())
        stems[key] = stems.get(key, 0) + 1
    names: dict[Path, Path] = {}
    for image, relative in relatives.items():
        shared = stems[(relative.parent, relative.stem.casefold())] > 1
        names[image] = relative.parent / (relative.name if shared else relative.stem)
    # A suffixed name can still meet a stem (`x.jpg` kept whole, and `x.jpg.png`): number the
    # later ones, in the sorted order of their pictures, which is the same on every run.
    taken: set[str] = set()
    for image in sorted(names):
        name, number = names[image], 2
        while str(name).casefold() in taken:
            name = names[image].parent / f"{names[image].name}~{number}"
            number += 1
        taken.add(str(name).casefold())
        names[image] = name
    return {image: out_dir / name for image, name in names.items()}


def plan_batch(images_dir: Path, out_dir: Path) -> tuple[BatchSummary, list[tuple[str, str]]]:
    """The summary so far (finished pictures skipped) and the (picture, folder) pairs to do."""
    images = find_images(images_dir)
    summary = BatchSummary(total=len(images))
    folders = output_folders(images, images_dir, out_dir)
    todo = []
    for image in images:
        folder = folders[image]
        if (folder / DONE).is_file():
            summary.skipped += 1
        else:
            todo.append((str(image), str(folder)))
    return summary, todo


def collect(
    outcomes: Iterable[Outcome],
    summary: BatchSummary,
    images_dir: Path,
    out_dir: Path,
    started: float,
    progress: Callable[[BatchSummary], None] | None = None,
) -> BatchSummary:
    """Count the outcomes as they arrive (the run began at `started`, a perf_counter time),
    then write `summary.json` and the gallery, `index.html`."""
    from pictune.batch.gallery import write_gallery

    for name, error, _ in outcomes:
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
    write_gallery(images_dir, out_dir, {f["image"]: f["error"] for f in summary.failed})
    return summary


def make_job(
    config: Settings | None, index_folder: Path | None, prompt: str | None, seed: int
) -> BatchJob:
    """The job every worker receives. The corpus is opened here once (the builtin index is
    built here, not by every worker at once; a missing one fails before any work) and
    handed on as an absolute folder, which every process and Ray actor can open."""
    from pictune.pipeline.indexes import open_index

    config = config or Settings()
    if index_folder is not None:
        config = config.with_values(corpus=str(index_folder))
    index = open_index(config.corpus)
    config = config.with_values(corpus=str(index.folder.resolve()))
    index.close()
    return BatchJob(config, prompt, seed)


def worker_context() -> multiprocessing.context.BaseContext:
    """How pool processes start: forked (fast) unless this process has a model library
    loaded — a fork of a process whose torch threads are running can deadlock, so the
    workers are then started fresh."""
    threaded = any(name in sys.modules for name in ("torch", "transformers"))
    return multiprocessing.get_context("spawn" if threaded else "fork")


def _start_worker(job: BatchJob) -> None:
    global _worker
    _worker = PictureComposer(job)


def _compose_one(image: str, out: str) -> Outcome:
    assert _worker is not None, "the pool's initializer did not run"
    return _worker(image, out)


def run_batch(
    images_dir: Path,
    out_dir: Path,
    *,
    workers: int | None = None,
    prompt: str | None = None,
    seed: int = 0,
    index_folder: Path | None = None,
    config: Settings | None = None,
    progress: Callable[[BatchSummary], None] | None = None,
) -> BatchSummary:
    """Compose every picture under `images_dir` into `out_dir` with `workers` processes
    (default: as many as the backend runs well side by side on this machine)."""
    from pictune.pipeline.api import default_workers

    job = make_job(config, index_folder, prompt, seed)
    summary, todo = plan_batch(images_dir, out_dir)
    default = default_workers(job.config, os.cpu_count() or 1)
    started = time.perf_counter()
    with ProcessPoolExecutor(
        max_workers=max(1, workers or default), mp_context=worker_context(),
        initializer=_start_worker, initargs=(job,),
    ) as pool:  # fmt: skip
        futures = [pool.submit(_compose_one, image, folder) for image, folder in todo]
        outcomes = (f.result() for f in as_completed(futures))
        return collect(outcomes, summary, images_dir, out_dir, started, progress)
