"""Reading and searching an index folder."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pictune.corpus import store
from pictune.corpus.records import CorpusError, MusicRecord

MMAP_ABOVE_BYTES = 2 << 30  # vectors larger than this are memory-mapped, not loaded


def index_root() -> Path:
    """Where named indexes live: $PICTUNE_INDEX_DIR, else the user cache folder."""
    configured = os.environ.get("PICTUNE_INDEX_DIR")
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("pictune")) / "indexes"


def resolve_index(name_or_path: str | Path) -> Path:
    """A path as given when it is a folder (or looks like one), else a name under index_root()."""
    path = Path(name_or_path).expanduser()
    if path.is_dir() or len(path.parts) > 1:
        return path
    return index_root() / str(name_or_path)


def list_indexes(root: Path | None = None) -> list[Path]:
    root = root or index_root()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / store.MANIFEST).is_file())


@dataclass(frozen=True)
class Hit:
    """One retrieved record: its fused score, and its rank and similarity in each query."""

    record: MusicRecord
    score: float
    matches: dict[str, tuple[int, float]]  # query name → (1-based rank, cosine similarity)

    @property
    def best_similarity(self) -> float:
        return max(sim for _, sim in self.matches.values())


class CorpusIndex:
    """An opened index: vectors (in memory or memory-mapped), records, optional IVF."""

    def __init__(self, folder: Path, verify: bool = False, mmap: bool | None = None) -> None:
        self.folder = folder
        old = folder.with_name(folder.name + ".old")
        if not folder.exists() and old.is_dir():  # a swap interrupted between its two renames
            old.replace(folder)
        self.manifest = store.read_manifest(folder)
        store.check_files(folder, self.manifest, full=verify)
        vector_path = folder / store.VECTORS
        use_mmap = mmap if mmap is not None else vector_path.stat().st_size > MMAP_ABOVE_BYTES
        try:
            self.vectors = store.load_vectors(vector_path, use_mmap)
            self.image_vectors = None
            self.image_rows = None
            if (folder / store.IMAGE_VECTORS).is_file():
                self.image_vectors = store.load_vectors(folder / store.IMAGE_VECTORS, False)
                self.image_rows = np.load(folder / store.IMAGE_ROWS, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:  # numpy's errors on a damaged header
            raise store.damaged(
                folder, f"a vector file is unreadable ({exc})", self.manifest
            ) from exc
        if self.vectors.shape != (self.count, self.dim):
            raise store.damaged(
                folder, f"{store.VECTORS} does not match the manifest", self.manifest
            )
        try:
            self._db = sqlite3.connect(
                f"file:{folder / store.RECORDS}?mode=ro", uri=True, check_same_thread=False
            )
            meta = self._db.execute(
                "SELECT meter, mode, instruments FROM records ORDER BY row"
            ).fetchall()
        except sqlite3.Error as exc:
            raise store.damaged(
                folder, f"{store.RECORDS} is unreadable ({exc})", self.manifest
            ) from exc
        self._lock = threading.Lock()
        self._meter = np.array([m[0] or "" for m in meta], dtype=object)
        self._mode = np.array([m[1] or "" for m in meta], dtype=object)
        self._instruments = [m[2] or "" for m in meta]
        self._keys: npt.NDArray[np.str_] | None = None
        self._ivf: Any = None
        self._flat: Any = None
        text = json.dumps(self.manifest, sort_keys=True, default=str)
        self._content_key = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        self._converted_abc: dict[str, str] = {}  # MIDI records converted to ABC, by id
        # Values derived from this index (a metric profile …), owned by this object.
        self.derived: dict[tuple[Any, ...], Any] = {}

    # -- facts ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def content_key(self) -> str:
        """A checksum of the index's content (its manifest): caches of anything derived from
        the index are keyed by it, so an index rebuilt in place is never served stale."""
        return self._content_key

    @property
    def count(self) -> int:
        return int(self.manifest["count"])

    @property
    def dim(self) -> int:
        return int(self.manifest["embedder"]["dim"])

    @property
    def embedder_id(self) -> str:
        return str(self.manifest["embedder"]["id"])

    def check_embedder(self, embedder_id: str, dim: int) -> None:
        """Refuse queries embedded by another model than the one that built the index."""
        if embedder_id != self.embedder_id or dim != self.dim:
            raise CorpusError(
                f"index {self.name} was built with embedder {self.embedder_id} ({self.dim}-d); "
                f"this query uses {embedder_id} ({dim}-d). Use the same embedder or rebuild."
            )

    # -- search ----------------------------------------------------------------------------

    def allowed_rows(self, filters: dict[str, str] | None) -> npt.NDArray[np.int64] | None:
        """Rows passing the filters (meter, mode, instrument, key), or None for no filter.

        A key is a tonic and a mode (`G major`, `F# minor`) or a tonic alone (any mode)."""
        if not filters:
            return None
        mask = np.ones(self.count, dtype=bool)
        for key, value in filters.items():
            wanted = str(value).strip().lower()
            if key == "meter":
                mask &= self._meter == wanted
            elif key == "mode":
                mask &= np.array([m.lower() == wanted for m in self._mode])
            elif key == "instrument":
                mask &= np.array([wanted in i.split("|") for i in self._instruments])
            elif key == "key":
                mask &= self._key_mask(" ".join(wanted.split()))
            else:
                raise CorpusError(f"unknown filter {key!r}; use meter, mode, instrument or key")
        return np.flatnonzero(mask)

    def _key_mask(self, wanted: str) -> npt.NDArray[np.bool_]:
        if self._keys is None:  # read once, on the first key filter: most searches never ask
            with self._lock:
                tags = self._db.execute("SELECT tags FROM records ORDER BY row").fetchall()
            keys = [json.loads(row[0]).get("key") for row in tags]
            self._keys = np.array([" ".join(str(k or "").lower().split()) for k in keys])
        if " " in wanted:
            return np.asarray(self._keys == wanted)
        return np.array([k.split(" ")[0] == wanted for k in self._keys])

    def search(
        self, query: npt.ArrayLike, k: int, filters: dict[str, str] | None = None
    ) -> list[tuple[int, float]]:
        """(row, cosine similarity) of the k nearest captions, best first."""
        vector = np.asarray(query, dtype=np.float32).reshape(1, -1)
        if vector.shape[1] != self.dim:
            raise CorpusError(
                f"query has {vector.shape[1]} dimensions; index {self.name} has {self.dim}"
            )
        k = max(1, min(k, self.count))
        rows = self.allowed_rows(filters)
        if rows is not None:
            return _top_k(self.vectors, vector[0], k, rows)
        if self.manifest["search"]["kind"] == "ivf":
            return self._search_ivf(vector, k)
        if self.manifest["search"].get("prefilter") == "fp16":
            found = self._search_prefiltered(vector[0], k)
            if found is not None:
                return found
        return _top_k(self.vectors, vector[0], k, None)

    def _search_prefiltered(
        self, vector: npt.NDArray[np.float32], k: int
    ) -> list[tuple[int, float]] | None:
        import faiss

        from pictune.corpus.ann import prefiltered_top_k

        with self._lock:
            if self._flat is None:
                self._flat = faiss.read_index(str(self.folder / store.PREFILTER))
                # One query scans fastest on one thread (two: 37 ms against 19 ms, measured).
                faiss.omp_set_num_threads(1)
        bound = float(self.manifest["search"]["max_error"])
        return prefiltered_top_k(self._flat, self.vectors, vector, k, bound)

    def _search_ivf(self, vector: npt.NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        import faiss

        with self._lock:
            if self._ivf is None:
                try:
                    self._ivf = faiss.read_index(str(self.folder / store.IVF), faiss.IO_FLAG_MMAP)
                except RuntimeError as exc:  # faiss reports a missing or damaged file so
                    raise store.damaged(
                        self.folder, f"{store.IVF} is unreadable", self.manifest
                    ) from exc
                self._ivf.nprobe = int(self.manifest["search"]["nprobe"])
                faiss.omp_set_num_threads(1)
        scores, ids = self._ivf.search(vector, k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def search_images(self, query: npt.ArrayLike, k: int) -> list[tuple[int, float]]:
        """(record row, similarity) of the corpus images nearest an image query."""
        if self.image_vectors is None or self.image_rows is None:
            return []
        vector = np.asarray(query, dtype=np.float32).reshape(-1)
        hits = _top_k(self.image_vectors, vector, min(k, len(self.image_rows)), None)
        return [(int(self.image_rows[i]), s) for i, s in hits]

    # -- records ---------------------------------------------------------------------------

    def records(self, rows: Sequence[int]) -> list[MusicRecord]:
        if not rows:
            return []
        marks = ",".join("?" * len(rows))
        with self._lock:
            found = self._db.execute(
                "SELECT row, id, caption, source, abc, midi_path, image_path, tags FROM records "
                f"WHERE row IN ({marks})",
                list(rows),
            ).fetchall()
        by_row = {
            r[0]: MusicRecord(
                id=r[1],
                caption=r[2],
                source=r[3],
                abc=r[4],
                midi_path=r[5],
                image_path=r[6],
                tags=json.loads(r[7]),
            )
            for r in found
        }
        return [by_row[r] for r in rows if r in by_row]

    def record_by_id(self, record_id: str) -> MusicRecord | None:
        with self._lock:
            row = self._db.execute("SELECT row FROM records WHERE id = ?", (record_id,)).fetchone()
        return self.records([row[0]])[0] if row else None

    def abc_for(self, record: MusicRecord) -> str:
        """The record's ABC; MIDI records are converted on first use and cached in memory and
        in `abc_cache.sqlite` beside the index (when the folder is writable)."""
        if record.abc:
            return record.abc
        if not record.midi_path:
            raise CorpusError(f"record {record.id} has neither ABC nor MIDI")
        from pictune.corpus.abc_cache import cached_abc

        return cached_abc(self.folder, record, self._converted_abc)

    def close(self) -> None:
        self._db.close()


def _top_k(
    vectors: npt.NDArray[np.float32],
    query: npt.NDArray[np.float32],
    k: int,
    rows: npt.NDArray[np.int64] | None,
) -> list[tuple[int, float]]:
    """Exact top-k by inner product, in blocks (works on memory-mapped vectors)."""
    candidates = np.arange(len(vectors)) if rows is None else rows
    if candidates.size == 0:
        return []
    best_rows: list[npt.NDArray[np.int64]] = []
    best_scores: list[npt.NDArray[np.float32]] = []
    for first in range(0, candidates.size, 262_144):
        part = candidates[first : first + 262_144]
        block = vectors[part[0] : part[-1] + 1] if rows is None else vectors[part]
        scores = np.asarray(block @ query, dtype=np.float32)
        take = min(k, scores.size)
        top = np.argpartition(-scores, take - 1)[:take]
        best_rows.append(part[top])
        best_scores.append(scores[top])
    all_rows, all_scores = np.concatenate(best_rows), np.concatenate(best_scores)
    order = np.lexsort((all_rows, -all_scores))[:k]
    return [(int(all_rows[i]), float(all_scores[i])) for i in order]
