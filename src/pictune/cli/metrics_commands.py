"""`pictune metrics FILE…`: the symbolic-music metrics of ABC or MIDI files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from pictune.abc.text import decode_abc
from pictune.cli.output import console, err_console, guarded, print_json, read_input
from pictune.errors import PictuneError
from pictune.music.metrics import Metrics, compute_metrics
from pictune.music.score import Score


def _load(path: Path) -> Metrics:
    data = read_input(path)
    if data.startswith(b"MThd"):
        return compute_metrics(Score.from_midi(data))
    return compute_metrics(Score.from_abc(decode_abc(data)))


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def metrics(
    files: list[Path] = typer.Argument(..., help="ABC or MIDI files."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one object per file)."),
) -> None:
    """Pitch range, pitches and pitch classes used, polyphony, scale consistency, entropies,
    empty-beat rate, groove consistency, duration, tempo, key and meter."""
    results: dict[str, dict[str, object]] = {}
    failed = 0
    for path in files:
        try:
            results[str(path)] = _load(path).to_dict()
        except (PictuneError, OSError) as exc:
            failed += 1
            results[str(path)] = {"error": str(exc).splitlines()[0]}
            if not as_json:
                err_console.print(
                    f"[red]error:[/] {path}: {str(exc).splitlines()[0]}", highlight=False
                )
    if as_json:
        print_json(results if len(files) > 1 else next(iter(results.values())))
    else:
        ok = {name: row for name, row in results.items() if "error" not in row}
        if ok:
            names = list(next(iter(ok.values())))
            table = Table("metric", *[Path(n).name for n in ok])
            for metric in names:
                table.add_row(metric, *[_cell(row[metric]) for row in ok.values()])
            guarded(lambda: console.print(table))
    if failed:
        raise typer.Exit(2 if failed == len(files) else 1)
