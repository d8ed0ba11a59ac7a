"""`pictune batch IMAGES_DIR --out DIR`: every picture of a folder, in parallel, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from pictune.cli import settings_flags as flag
from pictune.cli.output import console, err_console, guarded
from pictune.errors import InputError


def batch(
    images_dir: Path = typer.Argument(..., help="A folder of pictures (searched recursively)."),
    out: Path = typer.Option(..., "--out", help="Output folder; one sub-folder per picture."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, max=256, help="Processes (default: cores)."
    ),
    prompt: str | None = typer.Option(None, "--prompt", help="The same words for every picture."),
    seed: int = typer.Option(0, "--seed"),
    config: Path | None = flag.CONFIG,
    backend: str | None = flag.BACKEND,
    model: str | None = flag.MODEL,
    base_url: str | None = flag.BASE_URL,
    corpus: str | None = flag.CORPUS,
    k: int | None = flag.K,
    rounds: int | None = flag.ROUNDS,
    bars: int | None = flag.BARS,
    max_attempts: int | None = flag.MAX_ATTEMPTS,
    ray: str | None = typer.Option(
        None,
        "--ray",
        help="Run on Ray: bare --ray joins a running cluster or starts one here; or ray://HOST:10001, HOST:6379, local.",
    ),
    gpus_per_actor: float | None = typer.Option(
        None,
        "--gpus-per-actor",
        min=0,
        help="With --ray: GPUs each actor asks for (default: 1 for transformers on a GPU cluster, else 0).",
    ),
) -> None:
    """Compose music for every picture; a rerun skips finished pictures."""

    flags = flag.given(locals())

    def run() -> None:
        from pictune.batch import find_images, run_batch, run_batch_on_ray

        if not images_dir.is_dir():
            raise InputError(f"{images_dir} is not a folder")
        settings = flag.settings_from_flags(config, flags)
        total = len(find_images(images_dir))
        if total == 0:
            raise InputError(f"no pictures in {images_dir}")
        columns = (
            TextColumn("composing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("batch", total=total, rate="")

            def update(summary) -> None:  # type: ignore[no-untyped-def]
                bar.update(
                    task,
                    completed=summary.skipped + summary.done + len(summary.failed),
                    rate=f"{summary.throughput:.1f}/s",
                )

            options: dict[str, Any] = {
                "workers": workers,
                "prompt": prompt,
                "seed": seed,
                "config": settings,
                "progress": update,
            }
            if ray is None:
                summary = run_batch(images_dir, out, **options)
            else:
                summary = run_batch_on_ray(
                    images_dir, out, address=ray, gpus_per_actor=gpus_per_actor, **options
                )
        console.print(
            f"{summary.done} composed, {summary.skipped} already done, {len(summary.failed)} failed "
            f"in {summary.seconds:.1f} s ({summary.throughput:.2f}/s)\n"
            f"gallery: {out / 'index.html'} · summary: {out / 'summary.json'}",
            highlight=False,
        )
        for failure in summary.failed:
            err_console.print(
                f"  failed: {failure['image']}: {failure['error']}", highlight=False, markup=False
            )
        if summary.failed:
            raise typer.Exit(1)

    guarded(run)
