"""`pictune demo`: the ABC toolkit on a bundled model reply, end to end."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import typer
from rich.table import Table

from pictune.abc import make_playable
from pictune.cli.output import console, guarded
from pictune.music.export import export_tune
from pictune.music.metrics import compute_metrics
from pictune.music.score import Score


def demo(
    out: Path = typer.Option(Path("pictune-out/demo"), "--out", help="Folder for the files."),
) -> None:
    """Extract, validate, repair, render and measure the tune in a bundled model reply."""

    def run() -> None:
        reply = resources.files("pictune.data").joinpath("example_reply.txt").read_text("utf-8")
        console.print(
            "[bold]1. extract[/] the tune from a model's reply (chatter, fences, motivation)"
        )
        tune = make_playable(reply)
        console.print(
            f"   {len(tune.extraction.tunes)} tune(s) found; motivation: {tune.motivation[:70]}…"
        )
        console.print(f"[bold]2. repair[/] {len(tune.fixes)} fault(s):")
        for fix in tune.fixes:
            console.print(f"   - {fix}", highlight=False, markup=False)
        state = "valid" if tune.ok else f"{len(tune.validation.errors)} error(s) left"
        console.print(f"[bold]3. validate[/] abc2midi: {state}")
        exported = export_tune(tune.abc, out)
        console.print(
            f"[bold]4. render[/] into {out}/ (audio: {exported.engines.get('wav')}, "
            f"score: {exported.engines.get('svg')})"
        )
        for path in exported.paths.values():
            console.print(f"   {path}", highlight=False)
        measured = compute_metrics(Score.from_midi(exported.paths["mid"].read_bytes()))
        table = Table("metric", "value", title="5. metrics")
        for name, value in measured.to_dict().items():
            table.add_row(name, f"{value:.3f}" if isinstance(value, float) else str(value))
        console.print(table)

    guarded(run)
