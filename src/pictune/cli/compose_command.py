"""`pictune compose IMAGE`: a picture → a new piece, its files and its explanation."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from pictune.cli.output import console, err_console, guarded


def compose(
    image: Path = typer.Argument(..., help="The picture (JPEG, PNG, WebP, GIF …)."),
    out: Path | None = typer.Option(
        None, "--out", help="Output folder (default ./pictune-out/<image-stem>/)."
    ),
    prompt: str | None = typer.Option(
        None, "--prompt", help='Your own words, e.g. "a slow waltz for solo piano".'
    ),
    seed: int = typer.Option(0, "--seed", help="Same image and seed → the same piece."),
    bars: int = typer.Option(16, "--bars", min=4, max=64, help="Length in bars."),
) -> None:
    """Compose music for a picture (the offline composer: no model weights, no network)."""

    def run() -> None:
        from pictune.corpus import CorpusIndex, index_root
        from pictune.corpus.records import CorpusError
        from pictune.pipeline.offline import compose_offline, ensure_builtin_index

        err_console.print(
            "[dim]using the offline composer; for a vision-language model "
            "see README › Using a real VLM[/]"
        )
        try:
            index = CorpusIndex(index_root() / "builtin")
        except CorpusError:
            err_console.print("first run: building the builtin corpus index (about 10 s, once)…")
            index = ensure_builtin_index(lambda n, s: None)
        target = out or Path("pictune-out") / image.stem
        started = time.perf_counter()

        def stage(name: str) -> None:
            err_console.print(f"  {name}…", highlight=False)

        result = compose_offline(
            image, target, prompt=prompt, seed=seed, bars=bars, index=index, progress=stage
        )
        report = result.report
        table = Table(
            title=f"{report['abc'].splitlines()[1][2:]} — {time.perf_counter() - started:.2f} s"
        )
        table.add_column("")
        table.add_column("")
        plan = report["plan"]
        table.add_row("key", f"{plan['tonic']} {plan['mode']}")
        table.add_row("meter / tempo", f"{plan['meter']} at {plan['tempo_qpm']} bpm")
        table.add_row("form", f"{report['form']} ({plan['bars']} bars)")
        table.add_row(
            "references", ", ".join(r["id"] for r in report["retrieval"]["references"][:3])
        )
        for name, path in result.files.items():
            table.add_row(name, str(path))
        console.print(table)
        console.print(result.motivation, highlight=False)

    guarded(run)
