"""On-disk layout of one index folder: manifest, vectors, records database, checksums.

manifest.json     embedder id and dimension, source, counts, search kind, checksums,
                  pictune version, build report summary
vectors.npy       caption vectors, float32, unit length, one row per record
images.npy        corpus-image vectors (optional) and image_rows.npy, their record rows
records.sqlite    the records (id, caption, ABC or MIDI path, tags) and a lazy ABC cache
ivf.faiss         the approximate index (optional)
report.json       every skipped record and why
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from pictune.corpus.records import CorpusError

FORMAT = 2
MANIFEST = "manifest.json"
VECTORS = "vectors.npy"
IMAGE_VECTORS = "images.npy"
IMAGE_ROWS = "image_rows.npy"
RECORDS = "records.sqlite"
IVF = "ivf.faiss"
PREFILTER = "fp16.faiss"
REPORT = "report.json"
_SAMPLES = 64
_BLOCK = 1 << 16
FULL_CHECK_BYTES = 64 << 20


def fingerprint(path: Path) -> str:
    """What every load checks: the full sha256 up to 64 MB; above, the sha256 of the size
    and 64 evenly spaced 64 KB blocks (constant time at any size; catches truncation and
    most corruption; `--verify` checks the full sum)."""
    size = path.stat().st_size
    if size <= FULL_CHECK_BYTES:
        return full_checksum(path)
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as handle:
        for i in range(_SAMPLES):
            handle.seek(max(0, (size - _BLOCK) * i // max(_SAMPLES - 1, 1)))
            digest.update(handle.read(_BLOCK))
    return digest.hexdigest()


def full_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums(folder: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "size": (folder / name).stat().st_size,
            "fingerprint": fingerprint(folder / name),
            "sha256": full_checksum(folder / name),
        }
        for name in names
        if (folder / name).is_file()
    }


def rebuild_hint(folder: Path, manifest: Any = None) -> str:
    """The command that rebuilds an index, from what its manifest says of its source."""
    source = manifest.get("source") if isinstance(manifest, dict) else None
    kind = source.get("kind") if isinstance(source, dict) else None
    if kind == "folder" and isinstance(source, dict) and source.get("folder"):
        where = f" {source['folder']}"
    elif kind in ("builtin", "midicaps", "folder"):
        where = " PATH" if kind != "builtin" else ""
    else:
        kind, where = "builtin|midicaps|folder", " …"
    return f"rebuild it: pictune corpus build {kind}{where} --name {folder}"


def damaged(folder: Path, what: str, manifest: Any = None) -> CorpusError:
    """One line naming the file, what is wrong, and the command that rebuilds the index."""
    return CorpusError(f"index {folder}: {what}; {rebuild_hint(folder, manifest)}")


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of `folder`, checked against `validate_manifest`."""
    path = folder / MANIFEST
    if not path.is_file():
        raise CorpusError(f"{folder} is not a pictune index (no {MANIFEST})")
    try:
        manifest: Any = json.loads(path.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise damaged(folder, f"{MANIFEST} is not valid JSON ({exc})") from exc
    validate_manifest(folder, manifest)
    return dict(manifest)


def validate_manifest(folder: Path, manifest: Any) -> None:
    """Check a manifest against the one schema every index is written with.

    A missing or incomplete `checksums` table counts as damage: without it flipped bytes in
    the vectors would go unnoticed. Every failure is one CorpusError naming the file.
    """
    problem = _schema_problem(manifest)
    if problem:
        raise damaged(folder, f"{MANIFEST} {problem}", manifest)


def _schema_problem(manifest: Any) -> str | None:
    if not isinstance(manifest, dict):
        kind = {list: "an array", str: "a string", type(None): "null"}.get(
            type(manifest), "a value"
        )
        return f"is {kind}, not a JSON object"
    if manifest.get("format") != FORMAT:
        return f"has format {manifest.get('format')!r}; this pictune reads format {FORMAT}"
    count = manifest.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        return "has no valid record count"
    embedder = manifest.get("embedder")
    if not (
        isinstance(embedder, dict)
        and isinstance(embedder.get("id"), str)
        and isinstance(embedder.get("dim"), int)
        and embedder["dim"] > 0
    ):
        return "has no valid embedder (id and dimension)"
    search = manifest.get("search")
    if not isinstance(search, dict) or search.get("kind") not in ("exact", "ivf"):
        return "has no valid search kind"
    if search["kind"] == "ivf" and not isinstance(search.get("nprobe"), int):
        return "has an approximate search without nprobe"
    if search.get("prefilter") is not None and not isinstance(
        search.get("max_error"), (int, float)
    ):
        return "has a prefilter without its error bound"
    table = manifest.get("checksums")
    if not isinstance(table, dict):
        return "has no checksums"
    required = [VECTORS, RECORDS]
    required += [IVF] if search["kind"] == "ivf" else []
    required += [PREFILTER] if search.get("prefilter") else []
    for name in required:
        if name not in table:
            return f"has no checksum for {name}"
    for name, entry in table.items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("fingerprint"), str)
            and isinstance(entry.get("sha256"), str)
        ):
            return f"has a damaged checksum entry for {name}"
    return None


def check_files(folder: Path, manifest: dict[str, Any], full: bool = False) -> None:
    """Raise CorpusError when a listed file is missing, truncated or altered."""
    for name, expected in manifest["checksums"].items():
        path = folder / name
        if not path.is_file():
            raise damaged(folder, f"{name} is missing", manifest)
        if path.stat().st_size != expected["size"]:
            raise damaged(
                folder,
                f"{name} is {path.stat().st_size} bytes, expected {expected['size']} (truncated?)",
                manifest,
            )
        actual = full_checksum(path) if full else fingerprint(path)
        if actual != expected["sha256" if full else "fingerprint"]:
            raise damaged(folder, f"{name} fails its checksum", manifest)


def load_vectors(path: Path, mmap: bool) -> np.ndarray[Any, np.dtype[np.float32]]:
    array: np.ndarray[Any, np.dtype[np.float32]] = np.load(
        path, mmap_mode="r" if mmap else None, allow_pickle=False
    )
    if array.dtype != np.float32 or array.ndim != 2:
        raise CorpusError(f"{path} does not hold float32 vectors")
    return array
