"""`pictune corpus …`: build, list, inspect and search indexes."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from pictune.cli.corpus_search import image_loader, open_named_index, search, show
from pictune.cli.output import console, guarded, print_json
from pictune.corpus import (
    BuiltinSource,
    FolderSource,
    MidiCapsSource,
    build_index,
    index_is_current,
    list_indexes,
    resolve_index,
)
from pictune.corpus.records import CorpusError
from pictune.corpus.store import read_manifest
from pictune.errors import InputError

app = typer.Typer(help="Build and search captioned music corpora.", no_args_is_help=True)


class SourceKind(str, Enum):
    builtin = "builtin"
    midicaps = "midicaps"
    folder = "folder"


def _source(
    kind: SourceKind,
    path: Path | None,
    midi_root: Path | None,
    limit: int | None,
    abc_at_build: bool = False,
) -> tuple[Any, dict[str, Any]]:
    if kind is SourceKind.builtin:
        return BuiltinSource(limit=limit), {"kind": "builtin", "limit": limit}
    if path is None:
        raise InputError(f"the {kind.value} source needs a PATH")
    if kind is SourceKind.midicaps:
        if not path.is_file():
            raise InputError(f"no captions file at {path} (MidiCaps ships train.json)")
        captions = MidiCapsSource(path, midi_root, limit=limit, abc_at_build=abc_at_build)
        return captions, {
            "kind": "midicaps",
            "captions": str(path.resolve()),
            "midi_root": str(midi_root),
            "abc_at_build": abc_at_build,
            "limit": limit,
            "fingerprint": captions.fingerprint(),
        }
    if not path.is_dir():
        raise InputError(f"{path} is not a folder")
    source = FolderSource(path, limit=limit)
    return source, {
        "kind": "folder",
        "folder": str(path.resolve()),
        "limit": limit,
        "fingerprint": source.fingerprint(),
    }


@app.command()
def build(
    kind: SourceKind = typer.Argument(..., help="builtin, midicaps or folder."),
    path: Path | None = typer.Argument(None, help="midicaps: train.json; folder: the folder."),
    name: str | None = typer.Option(
        None, "--name", help="Index name or folder (default: the source kind)."
    ),
    embedder: str = typer.Option(
        "features", "--embedder", help="features, sentence[:MODEL] or clip[:MODEL]."
    ),
    midi_root: Path | None = typer.Option(None, help="midicaps: folder the locations point into."),
    limit: int | None = typer.Option(None, help="Index only the first N records."),
    abc_at_build: bool = typer.Option(
        False, "--abc-at-build", help="midicaps: convert every MIDI to ABC now (else on first use)."
    ),
    approximate: bool | None = typer.Option(
        None, "--approximate/--exact", help="Force IVF or exact search."
    ),
    force: bool = typer.Option(
        False, "--force", help="Build again even when the index is up to date."
    ),
) -> None:
    """Build (or resume building) an index; bad records are skipped and listed. An index
    already built from the same source, embedder and pictune version is left as it is."""

    def run() -> None:
        from pictune.models import embedder_id, load_embedder

        source, description = _source(kind, path, midi_root, limit, abc_at_build)
        dest = resolve_index(name or kind.value)
        if not force and index_is_current(dest, description, embedder_id(embedder)):
            count = read_manifest(dest)["count"]
            console.print(
                f"{dest.name} is up to date ({count:,} records from the same source and "
                f"embedder); nothing to do. --force builds it again.",
                highlight=False,
            )
            return
        model = load_embedder(embedder)
        dest.parent.mkdir(parents=True, exist_ok=True)
        loader = image_loader() if model.embeds_images else None
        console.print(f"counting the {kind.value} source…", style="dim", highlight=False)
        total = source.expected_items()
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[status]} · time left"),
            TimeRemainingColumn(compact=True),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(f"building {dest.name}", total=total, status="")

            def progress(records: int, skipped: int) -> None:
                done = records + skipped
                bar.update(
                    task,
                    completed=min(done, total) if total else done,
                    status=f"{records:,} records, {skipped:,} skipped",
                )

            report = build_index(
                source,
                model,
                dest,
                source_description=description,
                approximate=approximate,
                progress=progress,
                image_loader=loader,
            )
        console.print(
            f"[green]built[/] {dest} — {report.records} records, "
            f"{len(report.skipped)} skipped, {report.seconds:.1f} s"
        )
        reasons = report.to_dict()["skipped_by_reason"]
        for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
            console.print(f"  skipped {count}: {reason}", highlight=False)
        if report.skipped:
            console.print(f"  every skipped record is listed in {dest / 'report.json'}")

    guarded(run)


@app.command("list")
def list_command() -> None:
    """The indexes in the index folder ($PICTUNE_INDEX_DIR or the user cache)."""
    rows = []
    for folder in list_indexes():
        try:
            manifest = read_manifest(folder)
            source = manifest.get("source")
            rows.append(
                (
                    folder.name,
                    str(manifest["count"]),
                    manifest["embedder"]["id"],
                    manifest["search"]["kind"],
                    str(source.get("kind", "?")) if isinstance(source, dict) else "?",
                )
            )
        except (OSError, CorpusError) as exc:
            reason = str(exc).split(": ", 1)[-1].split("; rebuild", 1)[0]
            rows.append((folder.name, "?", "?", "?", f"damaged: {reason}"))
    if not rows:
        console.print("no indexes yet: pictune corpus build builtin")
        return
    table = Table("name", "records", "embedder", "search", "source")
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command()
def info(
    name: str = typer.Argument(..., help="Index name or folder."),
    verify: bool = typer.Option(False, "--verify", help="Check full checksums of every file."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The manifest of an index (after checking its files)."""
    index = guarded(lambda: open_named_index(name, verify=verify))
    if as_json:
        print_json(index.manifest)
        return
    manifest = index.manifest
    console.print(f"[bold]{index.name}[/] at {index.folder}")
    for key in ("count", "image_count", "created", "pictune_version"):
        console.print(f"  {key}: {manifest.get(key)}", highlight=False)
    console.print(
        f"  embedder: {manifest['embedder']['id']} ({manifest['embedder']['dim']}-d)",
        highlight=False,
    )
    console.print(f"  search: {manifest['search']}", highlight=False)
    console.print(f"  source: {manifest['source']}", highlight=False)
    console.print(f"  build: {manifest['build']}", highlight=False)


app.command()(search)
app.command()(show)


__all__ = ["CorpusError", "app"]
