"""`pictune eval IMAGES_DIR --out DIR [--config cfg.toml] [--vary k=0,5 rounds=0,1]`, or
`pictune eval IMAGES_DIR --out DIR --requests requests.txt` (how often revision requests
are honoured, per kind)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pictune.cli import settings_flags as flag
from pictune.cli.output import console, guarded
from pictune.errors import InputError
from pictune.evaluation.report import ReportTable, report_intro, report_tables
from pictune.pipeline.config import Settings


def terminal_table(table: ReportTable) -> Table:
    """An evaluation table for the terminal: each column at least as wide as its longest
    word, so headers wrap between words (table.md keeps the Markdown)."""
    drawn = Table(title=table.caption or None, title_justify="left", title_style="bold")
    for number, name in enumerate(table.header):
        cells = [name, *(row[number] for row in table.rows)]
        widest_word = max(len(word) for cell in cells for word in cell.split() or [""])
        drawn.add_column(name, justify="left" if number == 0 else "right", min_width=widest_word)
    for row in table.rows:
        drawn.add_row(*row)
    return drawn


def evaluate_command(
    images_dir: Path = typer.Argument(..., help="A folder of pictures (searched recursively)."),
    out: Path = typer.Option(
        ..., "--out", help="Output folder for the table, CSV, JSON and plots."
    ),
    config: Path | None = flag.CONFIG,
    backend: str | None = flag.BACKEND,
    model: str | None = flag.MODEL,
    base_url: str | None = flag.BASE_URL,
    corpus: str | None = flag.CORPUS,
    k: int | None = flag.K,
    rounds: int | None = flag.ROUNDS,
    bars: int | None = flag.BARS,
    max_attempts: int | None = flag.MAX_ATTEMPTS,
    constrained: str | None = flag.CONSTRAINED,
    server: str | None = flag.SERVER,
    vary: list[str] = typer.Option(
        [],
        "--vary",
        help="NAME=V1,V2 (repeatable, or several after one --vary): every combination is run.",
    ),
    seed: int = typer.Option(
        0, "--seed", help="The same seed for every configuration (paired runs)."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        max=256,
        help="Processes per configuration (default: cores for the offline composer, else 1).",
    ),
    clip: str | None = typer.Option(
        None, "--clip", help="A CLIP model (hub id or folder) for image–music agreement."
    ),
    requests: Path | None = typer.Option(
        None,
        "--requests",
        help="A file of revision requests (one a line): measure how often each kind is "
        "honoured over the pictures, instead of the configuration grid.",
    ),
) -> None:
    """Evaluate configurations over a folder of pictures, like the paper: metrics against the
    corpus, validity, refinement, novelty, motivation consistency and cost. Reruns reuse
    finished runs. Ablations: --vary k=0,5 (retrieval) or --vary rounds=0,1 (refinement)."""

    flags = flag.given(locals())

    def run() -> None:
        from pictune.evaluation import configurations, evaluate

        if config is not None and not config.is_file():
            raise InputError(f"no such settings file: {config}")
        if requests is not None:
            if vary:
                raise InputError("--requests measures one configuration: leave out --vary")
            _requests(images_dir, out, flag.settings_from_flags(config, flags), requests, seed)
            return
        configs = configurations(vary, base=flags, project=config)
        columns = (
            TextColumn("evaluating"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("eval", total=None)
            result, paths = evaluate(
                images_dir, out, configs, seed=seed, workers=workers, clip=clip,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip
        if result.profile is not None:
            console.print(report_intro(result, result.profile), highlight=False, markup=False)
            for table in report_tables(result, result.profile):
                console.print(terminal_table(table), soft_wrap=False)
        files = [path.name for key, path in paths.items() if not key.startswith("plot_")]
        plots = "plots/" if any(key.startswith("plot_") for key in paths) else ""
        console.print(
            f"{result.computed} runs made, {result.reused} reused, in {result.seconds:.1f} s\n"
            f"outputs in {out}: {', '.join([*files, plots] if plots else files)}",
            highlight=False,
        )

    guarded(run)


def _requests(images_dir: Path, out: Path, settings: Settings, path: Path, seed: int) -> None:
    """`--requests`: every picture composed once and revised with every request."""
    from pictune.evaluation.requests import evaluate_requests, read_requests

    asked = read_requests(path)
    with Progress(TextColumn("revising"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as bar:  # fmt: skip
        task = bar.add_task("requests", total=None)
        _, paths = evaluate_requests(
            images_dir, out, settings, asked, seed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    console.print(paths["table"].read_text("utf-8"), highlight=False, markup=False)
    console.print(f"every verdict in {paths['json']}", highlight=False)
