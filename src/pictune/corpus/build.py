"""Building an index: resumable, atomic, and never stopped by one bad record.

The build writes into `<dest>.partial/`: records go into SQLite and vectors into numbered
chunk files, with a checkpoint after each chunk. A build that is killed resumes from its
last checkpoint when run again with the same source and embedder. Only a finished build
replaces the previous index, by renaming folders, so a reader never sees half an index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pictune.corpus import store
from pictune.corpus.embedding import Embedder, normalise
from pictune.corpus.records import CorpusError, MusicRecord, Skipped

log = logging.getLogger(__name__)
CHUNK = 512
APPROXIMATE_ABOVE = 250_000  # records; above this an IVF index is built unless told otherwise

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    row INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, caption TEXT NOT NULL,
    source TEXT NOT NULL, abc TEXT, midi_path TEXT, image_path TEXT, tags TEXT NOT NULL,
    meter TEXT, mode TEXT, instruments TEXT
);
"""


@dataclass
class BuildReport:
    """Counts of a build and every record skipped, with its reason."""

    records: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    resumed_from: int = 0

    def to_dict(self) -> dict[str, Any]:
        reasons: dict[str, int] = {}
        for _, reason in self.skipped:
            key = reason.split(":")[0]
            reasons[key] = reasons.get(key, 0) + 1
        return {
            "records": self.records,
            "skipped": len(self.skipped),
            "skipped_by_reason": reasons,
            "seconds": round(self.seconds, 2),
            "resumed_from": self.resumed_from,
            "skipped_records": [{"id": i, "reason": r} for i, r in self.skipped],
        }


class _Checkpoint:
    """The partial folder of a build in progress."""

    def __init__(self, folder: Path, signature: str) -> None:
        self.folder = folder
        self.signature = signature
        self.path = folder / "progress.json"

    def load(self) -> dict[str, Any] | None:
        if not self.path.is_file():
            return None
        try:
            state: dict[str, Any] = json.loads(self.path.read_text("utf-8"))
        except json.JSONDecodeError:
            return None
        return state if state.get("signature") == self.signature else None

    def save(self, state: dict[str, Any]) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({**state, "signature": self.signature}), "utf-8")
        temporary.replace(self.path)


def _insert(db: sqlite3.Connection, row: int, record: MusicRecord) -> None:
    tags = record.tags
    instruments = tags.get("instruments") or []
    db.execute(
        "INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            row,
            record.id,
            record.caption,
            record.source,
            record.abc,
            record.midi_path,
            record.image_path,
            json.dumps(tags, default=str),
            str(tags.get("meter") or ""),
            str(tags.get("mode") or ""),
            "|".join(str(i).lower() for i in instruments) if isinstance(instruments, list) else "",
        ),
    )


def _chunks(
    items: Iterable[MusicRecord | Skipped], size: int
) -> Iterator[list[MusicRecord | Skipped]]:
    batch: list[MusicRecord | Skipped] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def index_is_current(dest: Path, source_description: dict[str, Any], embedder_id: str) -> bool:
    """True when `dest` holds a complete index of this source, embedded by this embedder and
    built by this version of pictune: building it again would give the same index."""
    try:
        manifest = store.read_manifest(dest)
        store.check_files(dest, manifest, full=False)
    except (OSError, CorpusError):
        return False
    return bool(
        manifest.get("source") == source_description
        and manifest.get("embedder", {}).get("id") == embedder_id
        and manifest.get("pictune_version") == _version()
    )


def build_index(
    source: Iterable[MusicRecord | Skipped],
    embedder: Embedder,
    dest: Path,
    *,
    source_description: dict[str, Any],
    approximate: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
    image_loader: Callable[[str], Any] | None = None,
) -> BuildReport:
    """Embed every record's caption (and image, when the embedder and record have one) and
    write the index folder `dest`. `progress(records, skipped)` is called after each chunk."""
    started = time.perf_counter()
    signature = hashlib.sha256(
        json.dumps({"source": source_description, "embedder": embedder.id}, sort_keys=True).encode()
    ).hexdigest()
    partial = dest.with_name(dest.name + ".partial")
    checkpoint = _Checkpoint(partial, signature)
    state = checkpoint.load() if partial.is_dir() else None
    if state is None:
        shutil.rmtree(partial, ignore_errors=True)
        (partial / "chunks").mkdir(parents=True)
        state = {"chunks": 0, "consumed": 0, "records": 0, "skipped": []}
    report = BuildReport(resumed_from=state["consumed"])
    report.skipped = [(i, r) for i, r in state["skipped"]]
    db = sqlite3.connect(partial / store.RECORDS)
    db.executescript(SCHEMA)
    # Drop rows written after the last checkpoint (a kill between insert and checkpoint).
    db.execute("DELETE FROM records WHERE row >= ?", (state["records"],))
    db.commit()
    iterator = iter(source)
    for _ in range(state["consumed"]):  # sources are deterministic: skip what is done
        next(iterator, None)
    rows = state["records"]
    for batch in _chunks(iterator, CHUNK):
        records = [item for item in batch if isinstance(item, MusicRecord)]
        for item in batch:
            if isinstance(item, Skipped):
                state["skipped"].append([item.id, item.reason])
        if records:
            vectors = normalise(embedder.embed_text([r.caption for r in records]))
            if vectors.shape != (len(records), embedder.dim):
                raise CorpusError(
                    f"embedder {embedder.id} returned vectors of shape {vectors.shape}"
                )
            images = _embed_images(records, embedder, image_loader)
            for offset, record in enumerate(records):
                _insert(db, rows + offset, record)
            np.save(partial / "chunks" / f"{state['chunks']:06d}.npy", vectors)
            if images:
                np.save(partial / "chunks" / f"{state['chunks']:06d}.images.npy", images[1])
                np.save(
                    partial / "chunks" / f"{state['chunks']:06d}.image_rows.npy",
                    np.array(images[0]) + rows,
                )
            db.commit()
            rows += len(records)
            state["chunks"] += 1
        state["consumed"] += len(batch)
        state["records"] = rows
        checkpoint.save(state)
        if progress:
            progress(rows, len(state["skipped"]))
    db.execute("CREATE INDEX IF NOT EXISTS by_id ON records(id)")
    db.commit()
    db.close()
    report.records = rows
    report.skipped = [(i, r) for i, r in state["skipped"]]
    if rows == 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise CorpusError("no usable record in the source; nothing to index")
    kind = _finish(partial, embedder, rows, approximate)
    report.seconds = time.perf_counter() - started
    names = [
        store.VECTORS,
        store.RECORDS,
        store.IMAGE_VECTORS,
        store.IMAGE_ROWS,
        store.IVF,
        store.PREFILTER,
    ]
    (partial / store.REPORT).write_text(json.dumps(report.to_dict(), indent=1), "utf-8")
    manifest = {
        "format": store.FORMAT,
        "name": dest.name,
        "source": source_description,
        "embedder": {"id": embedder.id, "dim": embedder.dim},
        "count": rows,
        "image_count": int(np.load(partial / store.IMAGE_ROWS).size)
        if (partial / store.IMAGE_ROWS).is_file()
        else 0,
        "search": kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pictune_version": _version(),
        "build": {k: v for k, v in report.to_dict().items() if k != "skipped_records"},
        "checksums": store.checksums(partial, names),
    }
    (partial / store.MANIFEST).write_text(json.dumps(manifest, indent=1), "utf-8")
    (partial / "progress.json").unlink()
    swap_into_place(partial, dest)
    return report


def _embed_images(
    records: list[MusicRecord], embedder: Embedder, loader: Callable[[str], Any] | None
) -> tuple[list[int], Any] | None:
    if not embedder.embeds_images or loader is None:
        return None
    pairs = []
    for offset, record in enumerate(records):
        if record.image_path:
            try:
                pairs.append((offset, loader(record.image_path)))
            except Exception as exc:  # one unreadable image must not stop the build
                log.warning("image of %s skipped: %s", record.id, exc)
    if not pairs:
        return None
    return [p[0] for p in pairs], normalise(embedder.embed_image([p[1] for p in pairs]))


def _finish(
    partial: Path, embedder: Embedder, rows: int, approximate: bool | None
) -> dict[str, Any]:
    """Concatenate the chunks; train the approximate index when asked or when large."""
    chunk_files = sorted(p for p in (partial / "chunks").glob("*.npy") if p.name.count(".") == 1)
    vectors = np.lib.format.open_memmap(
        partial / store.VECTORS, mode="w+", dtype=np.float32, shape=(rows, embedder.dim)
    )
    position = 0
    for path in chunk_files:
        block = np.load(path)
        vectors[position : position + len(block)] = block
        position += len(block)
    vectors.flush()
    image_files = sorted((partial / "chunks").glob("*.images.npy"))
    if image_files:
        np.save(partial / store.IMAGE_VECTORS, np.concatenate([np.load(p) for p in image_files]))
        np.save(
            partial / store.IMAGE_ROWS,
            np.concatenate(
                [np.load(str(p).replace(".images.", ".image_rows.")) for p in image_files]
            ),
        )
    shutil.rmtree(partial / "chunks")
    use_ivf = approximate if approximate is not None else rows > APPROXIMATE_ABOVE
    from pictune.corpus.ann import PREFILTER_ABOVE, build_ivf, build_prefilter

    if not use_ivf:
        if rows < PREFILTER_ABOVE:
            return {"kind": "exact"}
        return build_prefilter(
            np.load(partial / store.VECTORS, mmap_mode="r"), partial / store.PREFILTER
        )

    return build_ivf(np.load(partial / store.VECTORS, mmap_mode="r"), partial / store.IVF)


def swap_into_place(partial: Path, dest: Path) -> None:
    """Replace `dest` by `partial` with renames only; the old index is removed afterwards."""
    old = dest.with_name(dest.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        dest.replace(old)
    partial.replace(dest)
    shutil.rmtree(old, ignore_errors=True)


def _version() -> str:
    from pictune import __version__

    return __version__
