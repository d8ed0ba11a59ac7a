"""Per-metric plots: each configuration's distribution against the corpus band (PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pictune.corpus.profile import MetricProfile
from pictune.evaluation.measure import RunResult
from pictune.evaluation.stats import bandwidth, density, kde_grid, metric_values
from pictune.music.metrics import REFINEMENT_METRICS
from pictune.pipeline.feedback import SCALES


def _panel(axes, name: str, results: dict[str, list[RunResult]], profile: MetricProfile) -> None:  # type: ignore[no-untyped-def]
    corpus = profile.values[name]
    floor = SCALES[name] / 10
    series = {label: metric_values(runs, name) for label, runs in results.items()}
    present = [v for v in series.values() if v.size]
    everything = np.concatenate([corpus, *present]) if present else corpus
    grid = kde_grid(everything, everything, 3 * bandwidth(corpus, floor))
    if corpus.size:
        low, high = profile.band(name)
        axes.axvspan(low, high, color="0.85", label="corpus 10–90 %")
        axes.fill_between(grid, density(corpus, grid, bandwidth(corpus, floor)), color="0.6",
                          alpha=0.5, label=f"corpus ({corpus.size})")  # fmt: skip
    for label, values in series.items():
        if values.size:
            (line,) = axes.plot(grid, density(values, grid, bandwidth(values, floor)), label=label)
            axes.plot(values, np.zeros_like(values), "|", color=line.get_color(), markersize=8)
    axes.set_title(name.replace("_", " "), fontsize=10)
    axes.set_yticks([])


def write_plots(
    results: dict[str, list[RunResult]], profile: MetricProfile, folder: Path
) -> list[Path]:
    """`metrics.png` (all eight metrics) and one PNG per metric."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    figure, grid = pyplot.subplots(2, 4, figsize=(16, 7), constrained_layout=True)
    for axes, name in zip(grid.flat, REFINEMENT_METRICS, strict=True):
        _panel(axes, name, results, profile)
    handles, labels = grid.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=min(6, len(labels)))
    figure.suptitle("Metric distributions per configuration against the corpus")
    figure.savefig(folder / "metrics.png", dpi=90)
    pyplot.close(figure)
    written.append(folder / "metrics.png")
    for name in REFINEMENT_METRICS:
        figure, axes = pyplot.subplots(figsize=(6, 3.6), constrained_layout=True)
        _panel(axes, name, results, profile)
        axes.legend(fontsize=8)
        figure.savefig(folder / f"{name}.png", dpi=90)
        pyplot.close(figure)
        written.append(folder / f"{name}.png")
    return written
