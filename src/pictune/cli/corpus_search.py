"""`pictune corpus search` and `pictune corpus show`: find a tune, then read or play it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from pictune.abc import header_fields
from pictune.cli.output import console, guarded, print_json
from pictune.corpus import CorpusIndex, Hit, list_indexes, resolve_index, retrieve
from pictune.errors import InputError

# A hit is "a good match" when its best cosine similarity reaches this. Measured on the
# builtin index (features-v1, 12,506 tunes) on 2026-11-29: 13 nonsense queries ("xqzv blorf",
# "the quarterly tax report", "banana" …) all score 0.000; 15 real ones ("a slow air",
# "happy dance tune in G", "a slip jig in 9/8" …) score 0.44 to 0.90 at the top, and loose
# ones ("a song about the sea") 0.32. 0.2 sits between them; other embedders may need
# `--min-cosine` (sentence embedders give unrelated text about 0.1).
GOOD_MATCH = 0.2


def open_named_index(name: str, verify: bool = False) -> CorpusIndex:
    """The index `name`; when there is none, an error that lists the indexes that exist."""
    folder = resolve_index(name)
    if not folder.exists():
        names = [found.name for found in list_indexes()]
        if names:
            raise InputError(f"no index named {name!r}; the indexes are: {', '.join(names)}")
        raise InputError(
            f"no index named {name!r}, and none built yet: pictune corpus build builtin"
        )
    return CorpusIndex(folder, verify=verify)


def hit_json(hit: Hit) -> dict[str, Any]:
    """One hit with both of its scores named for what they are."""
    return {
        "id": hit.record.id,
        "fusion_score": hit.score,
        "cosine": round(hit.best_similarity, 6),
        "queries": {
            name: {"rank": rank, "cosine": round(similarity, 6)}
            for name, (rank, similarity) in hit.matches.items()
        },
        "caption": hit.record.caption,
        "tags": hit.record.tags,
    }


def search(
    name: str = typer.Argument(..., help="Index name or folder."),
    text: str | None = typer.Option(None, "--text", help="A text query."),
    image: Path | None = typer.Option(None, "--image", help="An image query (CLIP indexes)."),
    k: int = typer.Option(5, "-k", "--k", min=1, help="Results per query."),
    key: str | None = typer.Option(None, "--key", help="Only this key: G major, F# minor or G."),
    mode: str | None = typer.Option(None, "--mode", help="Only this mode, e.g. minor."),
    meter: str | None = typer.Option(None, "--meter", help="Only this meter, e.g. 3/4."),
    instrument: str | None = typer.Option(None, help="Only records with this instrument."),
    min_cosine: float = typer.Option(
        GOOD_MATCH, "--min-cosine", help="Below this best cosine a hit is no good match."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the hits as JSON."),
) -> None:
    """Search an index with a text and/or image query. Each hit has two scores: the cosine
    similarity of its caption to the query (1 is identical) and the fusion score that ranks
    hits of several queries (reciprocal rank fusion)."""

    def run() -> list[Hit]:
        from pictune.models import load_embedder

        if text is None and image is None:
            raise InputError("give --text, --image or both")
        index = open_named_index(name)
        model = load_embedder(index.embedder_id)
        picture = image_loader()(str(image)) if image else None
        wanted = {"key": key, "mode": mode, "meter": meter, "instrument": instrument}
        filters = {field: value for field, value in wanted.items() if value}
        return retrieve(
            index, model, text=text, image=picture, per_query=k, k=k, filters=filters or None
        )

    hits = guarded(run)
    good = [hit for hit in hits if hit.best_similarity >= min_cosine]
    if as_json:
        print_json([hit_json(hit) for hit in good])
        return
    if not good:
        best = f" (the best cosine is {hits[0].best_similarity:.3f})" if hits else ""
        console.print(f"no good match: no hit reaches cosine {min_cosine:g}{best}", highlight=False)
        return
    table = Table("#", "cosine", "fusion", "id", "caption")
    for rank, hit in enumerate(good, 1):
        table.add_row(
            str(rank), f"{hit.best_similarity:.3f}", f"{hit.score:.4f}", hit.record.id,
            hit.record.caption,
        )  # fmt: skip
    console.print(table)
    console.print(
        "cosine: similarity of the caption to the query (1 = identical); "
        "fusion: the rank-fusion score that orders the hits",
        style="dim",
        highlight=False,
    )


def show(
    record_id: str = typer.Argument(..., metavar="ID", help="A record id from corpus search."),
    name: str = typer.Option("builtin", "--index", help="Index name or folder."),
    play: bool = typer.Option(
        False, "--play", help="Also write the tune as MIDI and WAV (and its ABC) to --out."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for --play (default ./pictune-out/corpus/<id>/)."
    ),
) -> None:
    """Print one tune of an index: its caption, tags and ABC; --play renders it."""

    def run() -> None:
        index = open_named_index(name)
        record = index.record_by_id(record_id)
        if record is None:
            raise InputError(f"no record {record_id!r} in index {index.name}")
        abc = index.abc_for(record)
        title = record.tags.get("title") or header_fields(abc).get("T") or record.id
        console.print(f"[bold]{title}[/]  {record.id} ({record.source})", highlight=False)
        console.print(record.caption, highlight=False)
        hidden = ("features", "title")
        tags = {
            tag: v
            for tag, v in record.tags.items()
            if tag not in hidden and v not in ("", [], None)
        }
        for tag, value in tags.items():
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            console.print(f"  {tag}: {shown}", highlight=False)
        console.print(abc.rstrip(), highlight=False, markup=False)
        if play:
            from pictune.music.export import export_tune

            folder = out or Path("pictune-out") / "corpus" / safe_name(record.id)
            written = export_tune(abc, folder, ("abc", "mid", "wav"))
            names = ", ".join(path.name for path in written.paths.values())
            console.print(f"wrote {names} in {folder}", highlight=False)

    guarded(run)


def safe_name(record_id: str) -> str:
    """A record id as one folder name (ids may hold slashes: `lmd/a/b.mid`)."""
    return re.sub(r"[^\w.-]+", "_", record_id).strip("._") or "tune"


def image_loader() -> Any:
    from PIL import Image

    def load(path: str) -> Any:
        with Image.open(path) as image:
            return image.convert("RGB")

    return load
