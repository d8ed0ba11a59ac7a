"""Summaries of a configuration's runs, and how close its metrics come to the corpus.

Closeness is the overlapping area (OA) of two densities, after Yang & Lerch (2018), "On the
evaluation of generative models in music": each metric's values over the generated pieces
and over a corpus sample are smoothed with Gaussian kernels (Scott's bandwidth, with a floor
for metrics that take few values) and OA = ∫ min(p, q): 1 for identical distributions,
0 for disjoint ones."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from pictune.corpus.profile import MetricProfile
from pictune.evaluation.measure import RunResult
from pictune.music.metrics import REFINEMENT_METRICS
from pictune.pipeline.feedback import SCALES

GRID_POINTS = 1024
Array = npt.NDArray[np.float64]


def bandwidth(values: Array, floor: float) -> float:
    """Scott's rule, never below `floor` (a tenth of the metric's unit)."""
    if values.size < 2:
        return floor
    spread = float(values.std(ddof=1)) * math.pow(values.size, -0.2)
    return max(spread, floor)


def density(values: Array, grid: Array, width: float) -> Array:
    """A Gaussian kernel density of `values` on `grid` (integrates to 1 over a wide grid)."""
    scaled = (grid[:, None] - values[None, :]) / width
    total: Array = np.exp(-0.5 * scaled**2).sum(axis=1)
    return total / (values.size * width * math.sqrt(2 * math.pi))


def kde_grid(a: Array, b: Array, pad: float) -> Array:
    low = min(a.min(), b.min()) - pad
    high = max(a.max(), b.max()) + pad
    return np.linspace(low, high, GRID_POINTS)


def overlapping_area(generated: Array, reference: Array, floor: float) -> float | None:
    """OA of the two smoothed densities; None when either side has no value."""
    if generated.size == 0 or reference.size == 0:
        return None
    widths = bandwidth(generated, floor), bandwidth(reference, floor)
    grid = kde_grid(generated, reference, 5 * max(widths))
    p, q = density(generated, grid, widths[0]), density(reference, grid, widths[1])
    overlap = np.minimum(p, q)
    step = float(grid[1] - grid[0])
    return round(step * float(overlap.sum() - (overlap[0] + overlap[-1]) / 2), 4)  # trapezoid


def metric_values(results: list[RunResult], name: str) -> Array:
    """A metric over the runs, measured on the melody (like with like: the corpus is mostly
    single melodies); on the whole piece only for a run that kept no melody measure."""
    values = []
    for r in results:
        measured = r.melody_metrics or r.metrics
        if r.ok and measured and measured.get(name) is not None:
            values.append(measured[name])
    return np.asarray(values, dtype=np.float64)


CRITIC_RATES = (
    "strong_beat_chord_tones", "bass_root_on_downbeats", "untied_beat_crossings",
    "ledger_lines_per_note", "bass_above_melody", "melody_range", "repeated_bars",
    "melody_ends_on_tonic", "bass_ends_on_tonic",
)  # fmt: skip


def critic_summary(results: list[RunResult]) -> dict[str, float | None]:
    """The music critic's mean penalty and mean rates (a share for yes/no rates)."""
    ok = [r for r in results if r.ok and r.critic_rates is not None]
    summary: dict[str, float | None] = {
        "penalty": _mean([r.critic_penalty for r in ok if r.critic_penalty is not None])
    }
    for name in CRITIC_RATES:
        values = [
            float(value)
            for r in ok
            if r.critic_rates is not None and (value := r.critic_rates.get(name)) is not None
        ]
        summary[name] = _mean(values)
    return summary


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def summarise(results: list[RunResult], profile: MetricProfile) -> dict[str, Any]:
    """Everything the evaluation table reports for one configuration."""
    ok = [r for r in results if r.ok]
    metrics: dict[str, Any] = {}
    for name in REFINEMENT_METRICS:
        values = metric_values(results, name)
        metrics[name] = {
            "mean": round(float(values.mean()), 4) if values.size else None,
            "std": round(float(values.std()), 4) if values.size else None,
            "oa": overlapping_area(values, profile.values[name], SCALES[name] / 10),
        }
    overlaps = [m["oa"] for m in metrics.values() if m["oa"] is not None]
    improvements = [
        r.first_distance - r.final_distance
        for r in ok
        if r.first_distance is not None and r.final_distance is not None
    ]
    novelty = [r.novelty for r in ok if r.novelty is not None]
    checked = sum(r.claims_consistent + r.claims_inconsistent for r in ok)
    return {
        "runs": len(results),
        "valid_rate": round(len(ok) / len(results), 4) if results else None,
        "metrics": metrics,
        "mean_oa": _mean(overlaps),
        "critic": critic_summary(results),
        "correction_attempts": _mean([float(r.correction_attempts) for r in ok]),
        "first_distance": _mean([r.first_distance for r in ok if r.first_distance is not None]),
        "final_distance": _mean([r.final_distance for r in ok if r.final_distance is not None]),
        "refinement_improvement": _mean(improvements),
        "improved_share": _mean([float(d > 1e-9) for d in improvements]),
        "novelty_mean_run": _mean([float(n) for n in novelty]),
        "novelty_max_run": max(novelty) if novelty else None,
        "copied_share": _mean([float(n >= 8) for n in novelty]),
        "consistency_rate": round(
            sum(r.claims_consistent for r in ok) / checked, 4
        ) if checked else None,
        "contradiction_free_share": _mean([float(r.claims_inconsistent == 0) for r in ok]),
        "seconds_per_image": _mean([r.seconds for r in results]),
        "model_calls_per_image": _mean([float(r.model_calls) for r in results]),
        "failures": [{"image": r.image, "error": r.error} for r in results if not r.ok],
    }  # fmt: skip
