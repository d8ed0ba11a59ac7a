"""`pictune compose IMAGE`: a picture → a new piece, its files and its explanation."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from pictune.cli import settings_flags as flag
from pictune.cli.output import console, err_console, guarded
from pictune.errors import InputError
from pictune.explain.summary import tune_facts
from pictune.music.metrics import REFINEMENT_METRICS
from pictune.pipeline.record import OUTPUT_FILES, Composition


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def summary_table(result: Composition, seconds: float) -> Table:
    """Title, then the tune's key, meter, tempo, instruments, bars and seconds (no header)."""
    facts = tune_facts(result.abc or "", result.midi)
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    title = result.title or "(untitled)"
    table.add_row(title, f"{result.status} · {seconds:.1f} s · {result.backend} backend")
    rows = [
        ("key", facts.key),
        ("meter", facts.meter),
        ("tempo", facts.tempo),
        ("instruments", ", ".join(facts.instruments) or None),
        ("bars", str(facts.bars) if facts.bars else None),
        ("seconds", f"{facts.seconds:.1f}" if facts.seconds is not None else None),
    ]
    for name, value in rows:
        table.add_row(f"  {name}", value or "–")
    return table


def rounds_table(result: Composition) -> Table:
    """Every round that wrote a tune: playable, kept, critic penalty, findings, distance."""
    table = Table(
        "round", "playable", "kept", "critic penalty", "findings", "distance to references",
        "seconds", title="rounds (◀ the chosen tune)", title_justify="left",
    )  # fmt: skip
    for number, entry in enumerate(result.rounds):
        if entry.kind == "describe":
            continue  # a description writes no tune
        table.add_row(
            entry.kind + (" ◀" if number == result.chosen_round else ""),
            "yes" if entry.valid else "no",
            "–" if entry.accepted is None else "yes" if entry.accepted else "no",
            "–" if entry.penalty is None else f"{entry.penalty:g}",
            str(len(entry.findings)),
            _cell(entry.distance),
            f"{entry.seconds:.2f}",
        )
    return table


MAX_REFERENCES_SHOWN = 5  # by name on the terminal; report.html lists every one


def references_line(result: Composition, limit: int = MAX_REFERENCES_SHOWN) -> str:
    """The retrieved examples by title (or id), saying how many there are and, when the
    list is cut, how many of them are named ("5 of 8 retrieved examples: …")."""
    count = len(result.references)
    if not count:
        return "no examples retrieved"
    names = "; ".join(ref.title or ref.id for ref in result.references[:limit])
    if count > limit:
        return f"{limit} of {count} retrieved examples (all in report.html): {names}"
    return f"{count} retrieved example{'s' if count != 1 else ''}: {names}"


def files_table(files: dict[str, Path], folder: Path) -> Table:
    """The files written, by their own names, with what each holds."""
    holds = {f.key: f.holds for f in OUTPUT_FILES}
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, path in files.items():
        table.add_row(f"  {path.name}", holds.get(key, ""))
    table.title = f"files in {folder}"
    table.title_justify = "left"
    return table


def picture_problem(path: Path) -> str | None:
    """Why `path` cannot be a picture to compose from, in one line; None when it may be."""
    if not path.exists():
        return f"no such picture: {path}"
    if path.is_dir():
        return f"{path} is a folder; compose takes one picture (a folder: pictune batch {path})"
    if not path.is_file():
        return f"{path} is not a picture file (a device, pipe or socket)"
    if path.stat().st_size == 0:
        return f"{path} is empty (0 bytes)"
    return None


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

        problem = picture_problem(image)
        if problem:
            raise InputError(problem)
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
        console.print(summary_table(result, seconds), highlight=False)
        console.print(rounds_table(result))
        measured = [r for r in result.rounds if r.metrics]
        chosen = result.chosen
        if measured and chosen is not None and measured[0] is not chosen:
            before = Table(
                "metric", "first playable tune", "chosen tune", title="refinement",
                title_justify="left",
            )  # fmt: skip
            for name in REFINEMENT_METRICS:
                first, last = measured[0].metrics or {}, chosen.metrics or {}
                before.add_row(
                    name.replace("_", " "), _cell(first.get(name)), _cell(last.get(name))
                )
            console.print(before)
        console.print(references_line(result), highlight=False)
        console.print(files_table(files, target), highlight=False)
        if result.motivation:
            console.print(f"[bold]why it sounds like this[/]\n{result.motivation}", highlight=False)
        if not result.ok:
            err_console.print(
                f"[red]error:[/] {result.status}; every attempt is in {target / 'report.json'}"
            )
            raise typer.Exit(1)

    guarded(run)
