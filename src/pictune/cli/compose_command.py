"""`pictune compose IMAGE`: a picture → a new piece, its files and its explanation."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from pictune.cli.output import console, err_console, guarded
from pictune.music.metrics import REFINEMENT_METRICS
from pictune.pipeline.config import RunConfig, load_config


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
    bars: int = typer.Option(
        16, "--bars", min=4, max=64, help="Length in bars (offline composer)."
    ),
    backend: str | None = typer.Option(None, "--backend", help="offline, transformers or openai."),
    model: str | None = typer.Option(
        None, "--model", help="Hub id or folder, or the served model name."
    ),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible server URL."),
    corpus: str | None = typer.Option(
        None, "--corpus", help="Index name or folder (default builtin)."
    ),
    k: int | None = typer.Option(
        None, "--k", min=0, help="References per query (the paper: 1; offline default 5)."
    ),
    rounds: int | None = typer.Option(
        None, "--rounds", min=0, help="Refinement rounds (the paper: 1)."
    ),
    max_attempts: int | None = typer.Option(
        None, "--max-attempts", min=1, help="Tries for a playable tune."
    ),
) -> None:
    """Compose music for a picture. Without a configured VLM this is the offline composer
    (no model weights, no network); see README › Using a real VLM."""
    flags = {
        "backend": backend,
        "model": model,
        "base_url": base_url,
        "corpus": corpus,
        "k": k,
        "rounds": rounds,
        "max_attempts": max_attempts,
    }

    def run_vlm(config: RunConfig) -> None:
        from pictune.pipeline.config import ComposerFactory

        composer = ComposerFactory(config)(seed, lambda kind: err_console.print(f"  {kind}…"))
        result = composer.compose(image, prompt)
        target = out or Path("pictune-out") / image.stem
        result.save(target)
        attention = result.rounds[0].attention if result.rounds else None
        if attention:
            import numpy as np

            from pictune.explain.heatmap import save_heatmap
            from pictune.models.offline.image import load_image

            picture = load_image(image)
            save_heatmap(picture, np.array(attention), target / "heatmap.png")
            chosen = result.rounds[result.chosen_round] if result.chosen_round is not None else None
            if chosen is not None and chosen.phrase_attention:
                from pictune.explain.heatmap import save_sheet

                grids = {k: np.array(v) for k, v in chosen.phrase_attention.items()}
                save_sheet(picture, grids, target / "phrases.png")
        from pictune.explain.report import build_report

        build_report(target)
        table = Table(
            "round",
            "valid",
            "distance to references",
            "seconds",
            title=f"{result.backend} — {result.status}",
        )
        for number, entry in enumerate(result.rounds):
            mark = " ◀" if number == result.chosen_round else ""
            table.add_row(
                entry.kind + mark,
                "yes" if entry.valid else "no",
                "" if entry.distance is None else f"{entry.distance:.3f}",
                f"{entry.seconds:.1f}",
            )
        console.print(table)
        measured = [r for r in result.rounds if r.metrics]
        if measured:
            chosen = (
                result.rounds[result.chosen_round]
                if result.chosen_round is not None
                else measured[-1]
            )
            before = Table("metric", "first playable tune", "chosen tune", title="refinement")
            for name in REFINEMENT_METRICS:
                first, last = measured[0].metrics or {}, chosen.metrics or {}
                before.add_row(name, _cell(first.get(name)), _cell(last.get(name)))
            console.print(before)
        console.print(f"files in {target}", highlight=False)
        if not result.ok:
            err_console.print(
                f"[red]error:[/] {result.status}; every attempt is in {target / 'report.json'}"
            )
            raise typer.Exit(1)

    def run() -> None:
        config = load_config(flags)
        if config.backend != "offline":
            run_vlm(config)
            return
        from pictune.corpus import CorpusIndex, index_root
        from pictune.corpus.records import CorpusError
        from pictune.pipeline.offline import compose_offline, ensure_builtin_index

        err_console.print(
            "[dim]using the offline composer; for a vision-language model "
            "see README › Using a real VLM[/]"
        )
        try:
            index = CorpusIndex(index_root() / "builtin")
        except CorpusError as exc:
            if (index_root() / "builtin").exists():  # damaged, not missing: say so
                err_console.print(f"{exc}; rebuilding it now (about 10 s)…", markup=False)
            else:
                err_console.print(
                    "first run: building the builtin corpus index (about 10 s, once)…"
                )
            index = ensure_builtin_index(lambda n, s: None)
        target = out or Path("pictune-out") / image.stem
        started = time.perf_counter()

        def stage(name: str) -> None:
            err_console.print(f"  {name}…", highlight=False)

        result = compose_offline(
            image, target, prompt=prompt, seed=seed, bars=bars, k=config.references,
            rounds=config.rounds, index=index, progress=stage,
        )  # fmt: skip
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
