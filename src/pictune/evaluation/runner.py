"""run_evaluation(): every configuration over every picture, resumable, then the summary.

Each (configuration, picture) run leaves `runs/<configuration>/<picture>.json`; a rerun with
the same settings and seed reuses it, so a killed evaluation resumes where it stopped.
Offline configurations run in a process pool (the corpus index opened once per process);
VLM configurations run one picture at a time with the model loaded once."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pictune.batch.runner import find_images
from pictune.errors import InputError, PictuneError
from pictune.evaluation.grid import EvalConfig
from pictune.evaluation.measure import RunResult, from_composition, from_offline_report

RUNS = "runs"
Job = tuple[Path, str, Path]  # a picture, its name under the folder, its output folder
Progress = Callable[[int, int], None]
_index: Any = None


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


def _open_index(folder: str) -> None:
    global _index
    from pictune.corpus import CorpusIndex

    _index = CorpusIndex(Path(folder))


def _offline_one(
    image: str, relative: str, folder: str, name: str, seed: int, k: int, rounds: int
) -> RunResult:
    from pictune.pipeline.offline import compose_offline

    started = time.perf_counter()
    try:
        composed = compose_offline(
            image, folder, seed=seed, k=k, rounds=rounds, index=_index, render=("abc",)
        )
    except PictuneError as exc:
        return RunResult(relative, name, seed, False, str(exc).splitlines()[0])
    except Exception as exc:  # one picture must never stop the evaluation
        return RunResult(
            relative, name, seed, False, f"internal error: {type(exc).__name__}: {exc}"
        )
    return from_offline_report(composed.report, relative, name, time.perf_counter() - started)


def _vlm_runs(config: EvalConfig, jobs: list[Job], seed: int) -> list[RunResult]:
    from pictune.pipeline.config import ComposerFactory

    factory = ComposerFactory(config.config)
    results = []
    for image, relative, folder in jobs:
        started = time.perf_counter()
        try:
            composition = factory(seed).compose(image)
            composition.save(folder, render=("abc",))
            results.append(
                from_composition(composition, relative, config.name, time.perf_counter() - started)
            )
        except PictuneError as exc:
            results.append(RunResult(relative, config.name, seed, False, str(exc).splitlines()[0]))
        except Exception as exc:  # one picture must never stop the evaluation
            error = f"internal error: {type(exc).__name__}: {exc}"
            results.append(RunResult(relative, config.name, seed, False, error))
    return results


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
    from pictune.pipeline.offline import ensure_builtin_index

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
    offline_jobs: list[tuple[EvalConfig, Job]] = []
    vlm_jobs: dict[str, tuple[EvalConfig, list[Job]]] = {}
    for config in configs:
        settings = _settings(config, seed)
        for picture, name in zip(pictures, relative, strict=True):
            cached = _cached(_result_path(out_dir, config, name), settings)
            if cached is not None:
                found[config.name, name] = cached
                run.reused += 1
                continue
            folder = out_dir / RUNS / config.slug / Path(name).with_suffix("")
            job = (picture, name, folder)
            if config.config.backend == "offline":
                offline_jobs.append((config, job))
            else:
                vlm_jobs.setdefault(config.name, (config, []))[1].append(job)
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
    if offline_jobs:
        count = max(1, min(workers or os.cpu_count() or 1, len(offline_jobs)))
        index_folder = str(ensure_builtin_index().folder)
        with ProcessPoolExecutor(count, initializer=_open_index, initargs=(index_folder,)) as pool:
            futures = {
                pool.submit(
                    _offline_one, str(picture), name, str(folder), config.name, seed,
                    config.config.references, config.config.rounds,
                ): config
                for config, (picture, name, folder) in offline_jobs
            }  # fmt: skip
            for future in as_completed(futures):
                finish(futures[future], future.result())
    for config, jobs in vlm_jobs.values():
        for result in _vlm_runs(config, jobs, seed):
            finish(config, result)
    run.seconds = round(time.perf_counter() - started, 3)
    for config in configs:
        run.results[config.name] = [found[config.name, name] for name in relative]
    return run
