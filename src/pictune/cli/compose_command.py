"""`pictune compose IMAGE`: a picture → a new piece, its files and its explanation."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from pictune.cli import settings_flags as flag
from pictune.cli.output import console, err_console, guarded
from pictune.music.metrics import REFINEMENT_METRICS


def _cell(value: object) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def compose(
    image: Path = typer.Argument(..., help="The picture (JPEG, PNG, WebP, GIF …)."),
    out: Path | None = typer.Option(
        None, "--out", help="Output folder (default ./pictune-out/<image-stem>/)."
    ),
    prompt: str | None = typer.Option(
        None, "--prompt", help='Your own words, e.g. "a slow waltz for solo piano".'
    ),
    seed: int = typer.Option(0, "--seed", help="Same image and seed → the same piece."),
    config: Path | None = flag.CONFIG,
    backend: str | None = flag.BACKEND,
    model: str | None = flag.MODEL,
    base_url: str | None = flag.BASE_URL,
    corpus: str | None = flag.CORPUS,
    k: int | None = flag.K,
    rounds: int | None = flag.ROUNDS,
    bars: int | None = flag.BARS,
    max_attempts: int | None = flag.MAX_ATTEMPTS,
) -> None:
    """Compose music for a picture. Without a configured VLM this is the offline composer
    (no model weights, no network); see README › Using a real VLM."""

    flags = flag.given(locals())

    def run() -> None:
        from pictune.pipeline.api import open_composer

        settings = flag.settings_from_flags(config, flags)
        started = time.perf_counter()
        composer = open_composer(settings, lambda text: err_console.print(text, markup=False))
        err_console.print(f"[dim]using {composer.about}[/]")
        result = composer.compose(
            image, prompt, seed=seed,
            progress=lambda stage: err_console.print(f"  {stage}…", highlight=False),
        )  # fmt: skip
        target = out or Path("pictune-out") / image.stem
        files = result.save(target)
        seconds = time.perf_counter() - started
        table = Table(
            "round", "valid", "kept", "distance to references", "seconds",
            title=f"{result.title or result.backend} — {result.status} — {seconds:.2f} s",
        )  # fmt: skip
        for number, entry in enumerate(result.rounds):
            mark = " ◀" if number == result.chosen_round else ""
            table.add_row(
                entry.kind + mark,
                "yes" if entry.valid else "no",
                "" if entry.accepted is None else "yes" if entry.accepted else "no",
                _cell(entry.distance),
                f"{entry.seconds:.2f}",
            )
        console.print(table)
        measured = [r for r in result.rounds if r.metrics]
        chosen = result.chosen
        if measured and chosen is not None:
            before = Table("metric", "first playable tune", "chosen tune", title="refinement")
            for name in REFINEMENT_METRICS:
                first, last = measured[0].metrics or {}, chosen.metrics or {}
                before.add_row(name, _cell(first.get(name)), _cell(last.get(name)))
            console.print(before)
        for key, path in files.items():
            console.print(f"{key:>10}  {path}", highlight=False)
        if result.motivation:
            console.print(result.motivation, highlight=False)
        if not result.ok:
            err_console.print(
                f"[red]error:[/] {result.status}; every attempt is in {target / 'report.json'}"
            )
            raise typer.Exit(1)

    guarded(run)
