"""run_evaluation(): every configuration over every picture, resumable, then the summary.

Each (configuration, picture) run is a Composition saved by the one output step into
`runs/<configuration>/<picture>/`, and reduced to `runs/<configuration>/<picture>.json`; a
rerun with the same settings and seed reuses that, so a killed evaluation resumes where it
stopped. Each configuration runs in as many processes as its backend runs well side by
side (one a core for the offline composer; one for a local model), each process opening
the corpus index and any model once."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pictune.batch.runner import find_images, make_job, worker_context
from pictune.corpus.profile import MetricProfile
from pictune.errors import InputError, PictuneError
from pictune.evaluation.grid import EvalConfig
from pictune.evaluation.measure import RunResult, from_composition
from pictune.pipeline.api import Composer, default_workers, open_composer
from pictune.pipeline.config import Settings

RUNS = "runs"
Job = tuple[Path, str, Path]  # a picture, its name under the folder, its output folder
Progress = Callable[[int, int], None]
_composer: Composer | None = None  # the composer of a pool process (set by its initializer)


@dataclass
class EvalRun:
    """What an evaluation ran and measured."""

    images_dir: Path
    out_dir: Path
    seed: int
    configs: list[EvalConfig]
    images: list[str]
    results: dict[str, list[RunResult]]  # configuration name → one result per picture
    computed: int = 0
    reused: int = 0
    seconds: float = 0.0
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    agreement: dict[str, Any] = field(default_factory=dict)
    profile: MetricProfile | None = None  # the corpus the summaries were measured against


def _settings(config: EvalConfig, seed: int) -> dict[str, Any]:
    return {**config.config.public(), "references": config.config.references, "seed": seed}


def _result_path(out_dir: Path, config: EvalConfig, image: str) -> Path:
    return out_dir / RUNS / config.slug / f"{image}.json"


def _cached(path: Path, settings: dict[str, Any]) -> RunResult | None:
    try:
        data = json.loads(path.read_text("utf-8"))
        if data.get("settings") != settings:
            return None
        return RunResult.from_dict(data["result"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(path: Path, settings: dict[str, Any], result: RunResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps({"settings": settings, "result": result.to_dict()}), "utf-8")
    partial.replace(path)  # written whole or not at all


def _start(settings: Settings) -> None:
    global _composer
    _composer = open_composer(settings)


def compose_one(
    composer: Composer, image: str, relative: str, folder: str, name: str, seed: int
) -> RunResult:
    """One picture through the configuration's composer, saved and reduced; a failure is a
    result, never the end of the evaluation."""
    started = time.perf_counter()
    try:
        composition = composer.compose(image, seed=seed)
        composition.save(folder)
    except PictuneError as exc:
        return RunResult(relative, name, seed, False, str(exc).splitlines()[0])
    except Exception as exc:  # one picture must never stop the evaluation
        return RunResult(
            relative, name, seed, False, f"internal error: {type(exc).__name__}: {exc}"
        )
    return from_composition(composition, relative, name, time.perf_counter() - started)


def _pooled_one(image: str, relative: str, folder: str, name: str, seed: int) -> RunResult:
    assert _composer is not None, "the pool's initializer did not run"
    return compose_one(_composer, image, relative, folder, name, seed)


def run_evaluation(
    images_dir: Path,
    out_dir: Path,
    configs: list[EvalConfig],
    *,
    seed: int = 0,
    workers: int | None = None,
    progress: Progress | None = None,
) -> EvalRun:
    """Run (or reuse) every configuration on every picture under `images_dir`."""
    if not images_dir.is_dir():
        raise InputError(f"{images_dir} is not a folder")
    pictures = find_images(images_dir)
    if not pictures:
        raise InputError(f"no pictures in {images_dir}")
    if not configs:
        raise InputError("no configuration to evaluate")
    relative = [p.relative_to(images_dir).as_posix() for p in pictures]
    run = EvalRun(images_dir, out_dir, seed, configs, relative, {c.name: [] for c in configs})
    found: dict[tuple[str, str], RunResult] = {}
    todo: dict[str, tuple[EvalConfig, list[Job]]] = {}
    for config in configs:
        settings = _settings(config, seed)
        for picture, name in zip(pictures, relative, strict=True):
            cached = _cached(_result_path(out_dir, config, name), settings)
            if cached is not None:
                found[config.name, name] = cached
                run.reused += 1
                continue
            folder = out_dir / RUNS / config.slug / Path(name).with_suffix("")
            todo.setdefault(config.name, (config, []))[1].append((picture, name, folder))
    total, done = len(configs) * len(pictures), run.reused
    started = time.perf_counter()

    def finish(config: EvalConfig, result: RunResult) -> None:
        nonlocal done
        _store(_result_path(out_dir, config, result.image), _settings(config, seed), result)
        found[config.name, result.image] = result
        run.computed += 1
        done += 1
        if progress:
            progress(done, total)

    if progress:
        progress(done, total)
    for config, jobs in todo.values():
        chosen = make_job(config.config, None, None, seed).config  # the corpus opened once
        count = min(workers or default_workers(chosen, os.cpu_count() or 1), len(jobs))
        if count <= 1:
            composer = open_composer(chosen)
            for picture, name, folder in jobs:
                finish(config, compose_one(composer, str(picture), name, str(folder),
                                           config.name, seed))  # fmt: skip
            continue
        context = worker_context()
        with ProcessPoolExecutor(count, context, initializer=_start, initargs=(chosen,)) as pool:
            futures = [
                pool.submit(_pooled_one, str(picture), name, str(folder), config.name, seed)
                for picture, name, folder in jobs
            ]
            for future in as_completed(futures):
                finish(config, future.result())
    run.seconds = round(time.perf_counter() - started, 3)
    for config in configs:
        run.results[config.name] = [found[config.name, name] for name in relative]
    return run
