"""The evaluation's outputs: summary.json, summary.csv, runs.csv, table.md and plots/."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pictune.corpus.profile import MetricProfile
from pictune.evaluation.runner import EvalRun
from pictune.evaluation.stats import CRITIC_RATES
from pictune.music.metrics import REFINEMENT_METRICS

HEADLINE = (
    ("valid", "valid_rate", "{:.0%}"),
    ("mean OA ↑", "mean_oa", "{:.3f}"),
    ("distance first → kept", None, ""),
    ("improved", "improved_share", "{:.0%}"),
    ("corrections", "correction_attempts", "{:.2f}"),
    ("copy run (mean / max)", None, ""),
    ("consistent claims", "consistency_rate", "{:.0%}"),
    ("s / image", "seconds_per_image", "{:.3f}"),
    ("model calls", "model_calls_per_image", "{:.1f}"),
)


def _show(value: Any, pattern: str) -> str:
    return "–" if value is None else pattern.format(value)


def _headline_row(
    name: str, summary: dict[str, Any], agreement: dict[str, Any] | None
) -> list[str]:
    row = [name]
    for label, key, pattern in HEADLINE:
        if key:
            row.append(_show(summary[key], pattern))
        elif label.startswith("distance"):
            row.append(
                f"{_show(summary['first_distance'], '{:.2f}')} → {_show(summary['final_distance'], '{:.2f}')}"
            )
        else:
            row.append(
                f"{_show(summary['novelty_mean_run'], '{:.1f}')} / {_show(summary['novelty_max_run'], '{}')}"
            )
    if agreement is not None:
        row.append(
            f"{agreement['matched']:.3f} vs {agreement['shuffled']:.3f} ({agreement['win_rate']:.0%})"
            if agreement.get("matched") is not None else "–"
        )  # fmt: skip
    return row


@dataclass(frozen=True)
class ReportTable:
    """One table of the evaluation, as text cells: written as Markdown to table.md and drawn
    as a terminal table by the command line."""

    caption: str  # the sentence above the table ("" for the headline table)
    header: list[str]
    rows: list[list[str]]


def report_intro(run: EvalRun, profile: MetricProfile) -> str:
    return (
        f"{len(run.images)} pictures × {len(run.configs)} configurations, seed {run.seed}; "
        f"corpus: {profile.tunes} tunes of `{profile.index}`."
    )


def report_tables(run: EvalRun, profile: MetricProfile) -> list[ReportTable]:
    """The headline table, the music critic's rates and the melody metrics, in that order."""
    agreement = bool(run.agreement)
    header = ["configuration", *[h[0] for h in HEADLINE]] + (
        ["CLIP image–music (win)"] if agreement else []
    )
    headline = [
        _headline_row(
            config.name,
            run.summaries[config.name],
            run.agreement.get(config.name) if agreement else None,
        )
        for config in run.configs
    ]
    rates = ["penalty", *CRITIC_RATES]
    critic = [
        [config.name, *(_show(run.summaries[config.name]["critic"][n], "{:.2f}") for n in rates)]
        for config in run.configs
    ]
    names = list(REFINEMENT_METRICS)
    corpus = [f"{profile.values[n].mean():.2f} ± {profile.values[n].std():.2f}" for n in names]
    melody = [["corpus", *corpus]]
    for config in run.configs:
        metrics = run.summaries[config.name]["metrics"]
        cells = [
            "–" if metrics[n]["mean"] is None
            else f"{metrics[n]['mean']:.2f} ± {metrics[n]['std']:.2f} ({_show(metrics[n]['oa'], '{:.2f}')})"
            for n in names
        ]  # fmt: skip
        melody.append([config.name, *cells])
    return [
        ReportTable("", header, headline),
        ReportTable(
            "The music critic (mean per piece; a share for yes/no rates; penalty: "
            "severity-weighted findings, lower is better):",
            ["configuration", *(n.replace("_", " ") for n in rates)],
            critic,
        ),
        ReportTable(
            "Melody metric mean ± std (overlapping area with the corpus, 1 = same distribution):",
            ["configuration", *(n.replace("_", " ") for n in names)],
            melody,
        ),
    ]


def markdown_table(run: EvalRun, profile: MetricProfile) -> str:
    """table.md: the introduction, then each table under its caption."""
    lines = [report_intro(run, profile)]
    for table in report_tables(run, profile):
        lines += ["", table.caption, ""] if table.caption else [""]
        lines.append("| " + " | ".join(table.header) + " |")
        lines.append("|" + "|".join("---" for _ in table.header) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


def _flat(summary: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in summary.items() if k not in ("metrics", "failures", "critic")}
    for name, value in summary["critic"].items():
        row[f"critic_{name}"] = value
    for name, values in summary["metrics"].items():
        for part, value in values.items():
            row[f"{name}_{part}"] = value
    row["failures"] = len(summary["failures"])
    return row


def write_outputs(run: EvalRun, profile: MetricProfile) -> dict[str, Path]:
    """Write every output of the evaluation into its folder; the paths by name."""
    from pictune.evaluation.plots import write_plots

    out = run.out_dir
    out.mkdir(parents=True, exist_ok=True)
    document = {
        "images_dir": str(run.images_dir), "images": run.images, "seed": run.seed,
        "seconds": run.seconds, "computed": run.computed, "reused": run.reused,
        "corpus": {"index": profile.index, "tunes": profile.tunes},
        "configurations": [
            {"name": c.name, "varied": c.varied, "settings": c.config.public(),
             "summary": run.summaries[c.name], "agreement": run.agreement.get(c.name)}
            for c in run.configs
        ],
    }  # fmt: skip
    paths = {"summary_json": out / "summary.json", "summary_csv": out / "summary.csv",
             "runs_csv": out / "runs.csv", "table": out / "table.md"}  # fmt: skip
    paths["summary_json"].write_text(json.dumps(document, indent=1), "utf-8")
    rows = [{"configuration": c.name, **_flat(run.summaries[c.name])} for c in run.configs]
    with paths["summary_csv"].open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with paths["runs_csv"].open("w", newline="", encoding="utf-8") as stream:
        fields = ["configuration", "image", "seed", "ok", "error", "first_distance", "final_distance",
                  "correction_attempts", "refinement_rounds", "novelty", "references",
                  "claims_consistent", "claims_inconsistent", "seconds", "model_calls",
                  *REFINEMENT_METRICS, "caption"]  # fmt: skip
        writer = csv.DictWriter(stream, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for config in run.configs:
            for result in run.results[config.name]:
                writer.writerow(
                    {"configuration": config.name, **result.to_dict(), **(result.metrics or {})}
                )
    paths["table"].write_text(markdown_table(run, profile), "utf-8")
    for path in write_plots(run.results, profile, out / "plots"):
        paths[f"plot_{path.stem}"] = path
    return paths
