"""`pictune revise DIR "…"`, `pictune revise DIR --undo`, `pictune revise OUT/ "…" --all`
and `pictune history DIR`: change a finished piece in words, and follow its chain.

`--undo` deletes nothing: it prints the folder of the version before DIR (its parent), so
`pictune revise "$(pictune revise DIR --undo)" "…"` goes on from there."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from pictune.cli import settings_flags as flag
from pictune.cli.output import console, err_console, fail, guarded
from pictune.pipeline.record import REPORT, Composition


def _verdicts(result: Composition) -> Table | None:
    """One row a checkable part of the request: asked, before, now, verdict."""
    lineage = result.lineage
    if lineage is None or not lineage.checks:
        return None
    table = Table(
        "asked", "aspect", "wanted", "before", "now", "verdict", title="the request, checked",
        title_justify="left",
    )  # fmt: skip
    for check in lineage.checks:
        colour = {True: "green", False: "red", None: "dim"}[check.honoured]
        table.add_row(
            check.words, check.aspect, check.expected, check.before, check.found,
            f"[{colour}]{check.verdict}[/]",
        )  # fmt: skip
    return table


def _print_revision(result: Composition, folder: Path, seconds: float) -> None:
    lineage = result.lineage
    assert lineage is not None
    console.print(
        f"[bold]{result.title or '(untitled)'}[/] revised in {seconds:.1f} s → {folder}",
        highlight=False,
    )
    console.print(f"  asked: {lineage.request}", highlight=False, markup=False)
    for line in lineage.changes or ("nothing in the music changed",):
        console.print(f"  changed: {line}", highlight=False, markup=False)
    for line in lineage.kept:
        console.print(f"  kept: {line}", highlight=False, markup=False)
    if lineage.unused:
        console.print(f"  no effect: {', '.join(lineage.unused)}", highlight=False, markup=False)
    table = _verdicts(result)
    if table is not None:
        console.print(table)
    if result.motivation:
        console.print(f"[bold]why it sounds like this[/]\n{result.motivation}", highlight=False)


def _batch_folders(out: Path) -> list[Path]:
    """Every composition folder under a batch output, in a stable order."""
    return sorted(p.parent for p in out.rglob(REPORT) if p.parent != out)


def revise(
    folder: Path = typer.Argument(..., help="A composition folder (or, with --all, a batch's)."),
    request: str | None = typer.Argument(
        None, help='What to change, in words: "slower, and in a minor key".'
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Where the revision goes (default: beside DIR, as DIR.r1, DIR.r2 …)."
    ),
    undo: bool = typer.Option(
        False, "--undo", help="Print the folder of the version before DIR; deletes nothing."
    ),
    every: bool = typer.Option(
        False, "--all", help="Revise every composition of a batch output folder."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Draw a new melody with this seed (default: keep the parent's)."
    ),
    config: Path | None = flag.CONFIG,
    backend: str | None = flag.BACKEND,
    model: str | None = flag.MODEL,
    base_url: str | None = flag.BASE_URL,
    corpus: str | None = flag.CORPUS,
) -> None:
    """Change a finished piece as your words ask, keeping what they do not mention; the new
    piece is a composition of its own that records its parent."""
    flags = flag.given(locals())

    def run() -> None:
        from pictune.pipeline.api import open_composer
        from pictune.pipeline.revision import chain, next_folder

        if undo:
            if request is not None or every:
                fail("--undo takes only the folder: it prints the version before it")
            newest = chain(folder, limit=2)
            lineage = newest[0][1].lineage
            if lineage is None:
                fail(f"{folder} is an original, not a revision: there is nothing to undo")
            if not lineage.parent or not (Path(lineage.parent) / REPORT).is_file():
                fail(f"the version before {folder} was in {lineage.parent}, which is gone")
            typer.echo(lineage.parent)
            return
        if request is None:
            fail('say what to change, e.g. pictune revise DIR "slower"')
        folders = _batch_folders(folder) if every else [folder]
        if every and not folders:
            fail(f"{folder} holds no compositions (no */{REPORT})")
        if not every and not (folder / REPORT).is_file():
            fail(f"{folder} holds no {REPORT}: give a folder `pictune compose` wrote")
        settings = flag.settings_from_flags(config, flags)
        composer = open_composer(settings, lambda text: err_console.print(text, markup=False))
        err_console.print(f"[dim]using {composer.about}[/]")
        base = out or (next_folder(folder) if every else None)
        failed = 0
        for source in folders:
            target = (base / source.relative_to(folder)) if every and base else out
            target = target or next_folder(source)
            started = time.perf_counter()
            try:
                result = composer.revise(source, request, seed=seed)
            except (ValueError, OSError) as exc:
                if not every:
                    raise
                failed += 1
                err_console.print(f"[red]{source}: {exc}[/]", highlight=False)
                continue
            result.save(target)
            _print_revision(result, target, time.perf_counter() - started)
            if not result.ok:
                failed += 1
                err_console.print(f"[red]error:[/] {result.status}", highlight=False)
        if failed:
            raise typer.Exit(1)

    guarded(run)


def history(
    folder: Path = typer.Argument(..., help="A composition folder."),
) -> None:
    """The revision chain of a piece, newest first: each version's title and folder, the
    request, what changed, and how many checkable parts of the request were honoured."""

    def run() -> None:
        from pictune.pipeline.revision import chain

        entries = chain(folder)
        for path, record in entries:
            lineage = record.lineage
            version = f"revision {lineage.generation}" if lineage else "original"
            console.print(
                f"[bold]{version}[/]  {record.title or '(untitled)'}  {path}", highlight=False
            )
            if lineage is None:
                prompt = f"prompt: {record.prompt}" if record.prompt else "no prompt"
                console.print(f"  {record.backend} backend · seed {record.seed} · {prompt}",
                              highlight=False, markup=False)  # fmt: skip
                continue
            console.print(f"  asked: {lineage.request}", highlight=False, markup=False)
            changed = "; ".join(lineage.changes) or "nothing in the music"
            console.print(f"  changed: {changed}", highlight=False, markup=False)
            checked = [c for c in lineage.checks if c.honoured is not None]
            if checked:
                honoured = sum(c.honoured is True for c in checked)
                console.print(
                    f"  honoured: {honoured} of {len(checked)} checked parts", highlight=False
                )
        last = entries[-1][1].lineage
        if last is not None:
            err_console.print(
                f"[yellow]the chain goes on in {last.parent}, which is gone[/]", highlight=False
            )

    guarded(run)
