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


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise CorpusError(f"{folder} is not a pictune index (no {MANIFEST})")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path} is corrupt: {exc.msg}") from exc
    if manifest.get("format") != FORMAT:
        raise CorpusError(f"{folder} has index format {manifest.get('format')}; rebuild it")
    return manifest


def check_files(folder: Path, manifest: dict[str, Any], full: bool = False) -> None:
    """Raise CorpusError when a listed file is missing, truncated or altered."""
    for name, expected in manifest.get("checksums", {}).items():
        path = folder / name
        if not path.is_file():
            raise CorpusError(f"index {folder.name}: {name} is missing; rebuild the index")
        if path.stat().st_size != expected["size"]:
            raise CorpusError(
                f"index {folder.name}: {name} is {path.stat().st_size} bytes, "
                f"expected {expected['size']} (truncated?); rebuild the index"
            )
        actual = full_checksum(path) if full else fingerprint(path)
        if actual != expected["sha256" if full else "fingerprint"]:
            raise CorpusError(f"index {folder.name}: {name} fails its checksum; rebuild the index")


def load_vectors(path: Path, mmap: bool) -> np.ndarray[Any, np.dtype[np.float32]]:
    array: np.ndarray[Any, np.dtype[np.float32]] = np.load(
        path, mmap_mode="r" if mmap else None, allow_pickle=False
    )
    if array.dtype != np.float32 or array.ndim != 2:
        raise CorpusError(f"{path} does not hold float32 vectors")
    return array
