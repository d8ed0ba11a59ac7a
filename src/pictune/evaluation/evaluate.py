"""evaluate(): run the configurations, summarise them against the corpus, measure
image–music agreement when a CLIP model is given, and write every output."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pictune.corpus.profile import MetricProfile, metric_profile
from pictune.evaluation.agreement import image_music_agreement
from pictune.evaluation.grid import EvalConfig
from pictune.evaluation.report import write_outputs
from pictune.evaluation.runner import EvalRun, Progress, run_evaluation
from pictune.evaluation.stats import summarise
from pictune.pipeline.config import Settings


def corpus_profile(config: Settings) -> MetricProfile:
    """The metric distribution of the corpus the configuration composes from."""
    from pictune.pipeline.indexes import open_index

    return metric_profile(open_index(config.corpus))


def load_clip(clip: str) -> Any:
    """The CLIP embedder `clip` names (a hub id, a folder, or `clip:…`)."""
    from pictune.models import load_embedder

    return load_embedder(clip if clip.startswith("clip") else f"clip:{clip}")


def clip_agreement(run: EvalRun, embedder: Any) -> dict[str, Any]:
    """Per configuration: how much closer each picture sits to its own music's caption."""
    from pictune.images import load_image

    pictures = {name: load_image(run.images_dir / name) for name in run.images}
    result = {}
    for config in run.configs:
        pairs = [(r.image, r.caption) for r in run.results[config.name] if r.ok and r.caption]
        result[config.name] = image_music_agreement(
            embedder, [pictures[name] for name, _ in pairs], [caption for _, caption in pairs]
        ) or {"pairs": len(pairs), "matched": None}
    return result


def evaluate(
    images_dir: Path,
    out_dir: Path,
    configs: Sequence[EvalConfig],
    *,
    seed: int = 0,
    workers: int | None = None,
    clip: str | None = None,
    progress: Progress | None = None,
) -> tuple[EvalRun, dict[str, Path]]:
    """Everything `pictune eval` does; returns the run and the paths of what it wrote.

    A CLIP model is loaded first: a missing one fails before any picture is composed."""
    embedder = load_clip(clip) if clip else None
    run = run_evaluation(
        images_dir, out_dir, list(configs), seed=seed, workers=workers, progress=progress
    )
    profile = corpus_profile(run.configs[0].config)
    run.summaries = {c.name: summarise(run.results[c.name], profile) for c in run.configs}
    if embedder is not None:
        run.agreement = clip_agreement(run, embedder)
    run.profile = profile
    return run, write_outputs(run, profile)
