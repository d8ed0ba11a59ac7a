"""Benchmark of the corpus layer.

Run:  .venv/bin/python benchmarks/bench_corpus.py [--exact-rows 168000] [--ann-rows 2000000]

  1. builtin index with the features embedder: full build time (target ≤ 2 min)
  2. exact search at MidiCaps scale (168,000 × 768): p50 query latency (target ≤ 20 ms)
  3. approximate (IVF) search at 2,000,000 × 768: p50 latency (≤ 20 ms) and recall@10
     against exact search (≥ 0.95)
  4. MIDI → ABC for ingestion: pictune's throughput against the bare midi2abc binary in a
     shell loop over the same files (target ≥ 2/3), and the cores used

Sections 2 and 3 index synthetic vectors shaped like real embeddings: unit vectors drawn
around 4,000 centres that share a 64-dimensional subspace (real caption embeddings are
clustered and correlated, not uniform), built and searched through the same code as any
index.
"""

from __future__ import annotations

import argparse
import logging
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pictune.abc import abc_to_midi_many  # noqa: E402
from pictune.abc.tools import find_tool  # noqa: E402
from pictune.corpus import BuiltinSource, CorpusIndex, FeatureEmbedder, MusicRecord, build_index  # noqa: E402
from pictune.corpus.ingest import convert_midi_files  # noqa: E402
from pictune.corpus.music21_tunes import iter_music21_tunes  # noqa: E402


class LookupEmbedder:
    """Returns precomputed vectors: caption 'v<i>' → row i of a memory-mapped array."""

    embeds_images = False

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors
        self.dim = vectors.shape[1]
        self.id = f"synthetic-{vectors.shape[0]}x{self.dim}"

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        rows = [int(t[1:]) for t in texts]
        return np.asarray(self.vectors[rows[0] : rows[-1] + 1], dtype=np.float32)

    def embed_image(self, images: Sequence[Any]) -> np.ndarray:
        raise NotImplementedError


def synthetic_vectors(
    path: Path, rows: int, dim: int = 768, centres: int = 4000, seed: int = 0
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Centres in a 64-dimensional subspace, so clusters are correlated and overlap as real
    # embedding clusters do (random centres in 768 dimensions would be orthogonal and easy).
    basis = rng.standard_normal((64, dim)).astype(np.float32)
    middle = rng.standard_normal((centres, 64)).astype(np.float32) @ basis
    middle /= np.linalg.norm(middle, axis=1, keepdims=True)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, dim))
    for first in range(0, rows, 100_000):
        count = min(100_000, rows - first)
        block = (
            middle[rng.integers(0, centres, count)]
            + rng.standard_normal((count, dim)).astype(np.float32) * 0.05
        )
        out[first : first + count] = block / np.linalg.norm(block, axis=1, keepdims=True)
    out.flush()
    return np.load(path, mmap_mode="r")


def records(rows: int) -> Iterator[MusicRecord]:
    for i in range(rows):
        yield MusicRecord(id=f"r{i}", caption=f"v{i}", source="synthetic", abc="X:1\nK:C\nC|]\n")


def queries(vectors: np.ndarray, count: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(vectors.shape[0], count, replace=False))
    noisy = (
        np.asarray(vectors[picks])
        + rng.standard_normal((count, vectors.shape[1])).astype(np.float32) * 0.03
    )
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def latency(index: CorpusIndex, probe: np.ndarray) -> tuple[float, float, list[list[int]]]:
    index.search(probe[0], 10)  # warm: the first query builds or maps the search structure
    times, found = [], []
    for vector in probe:
        start = time.perf_counter()
        hits = index.search(vector, 10)
        times.append(time.perf_counter() - start)
        found.append([row for row, _ in hits])
    times.sort()
    return 1000 * statistics.median(times), 1000 * times[int(0.95 * len(times))], found


def exact_truth(vectors: np.ndarray, probe: np.ndarray) -> list[set[int]]:
    scores_best = np.full((len(probe), 10), -np.inf, dtype=np.float32)
    rows_best = np.zeros((len(probe), 10), dtype=np.int64)
    for first in range(0, vectors.shape[0], 200_000):
        block = np.asarray(vectors[first : first + 200_000])
        scores = probe @ block.T
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        merged_scores = np.concatenate(
            [scores_best, np.take_along_axis(scores, top, axis=1)], axis=1
        )
        merged_rows = np.concatenate([rows_best, top + first], axis=1)
        order = np.argsort(-merged_scores, axis=1)[:, :10]
        scores_best = np.take_along_axis(merged_scores, order, axis=1)
        rows_best = np.take_along_axis(merged_rows, order, axis=1)
    return [set(r.tolist()) for r in rows_best]


def section_builtin(work: Path) -> None:
    print("\n1. builtin index, features embedder (music21's ABC corpus)")
    start = time.perf_counter()
    report = build_index(
        BuiltinSource(), FeatureEmbedder(), work / "builtin", source_description={"kind": "builtin"}
    )
    seconds = time.perf_counter() - start
    print(
        f"   {report.records} records, {len(report.skipped)} skipped, "
        f"built in {seconds:.1f} s   (target ≤ 120 s)"
    )


def section_search(work: Path, rows: int, approximate: bool, queries_count: int = 200) -> None:
    label = "approximate (IVF)" if approximate else "exact"
    print(f"\n{'3' if approximate else '2'}. {label} search at {rows:,} × 768")
    vectors = synthetic_vectors(work / f"synthetic-{rows}.npy", rows)
    start = time.perf_counter()
    folder = work / f"search-{rows}"
    build_index(
        records(rows),
        LookupEmbedder(vectors),
        folder,
        source_description={"kind": "synthetic", "rows": rows},
        approximate=approximate,
    )
    print(f"   index built in {time.perf_counter() - start:.0f} s")
    index = CorpusIndex(folder)
    probe = queries(vectors, queries_count)
    p50, p95, found = latency(index, probe)
    truth = exact_truth(vectors, probe)
    recall = float(np.mean([len(set(f) & t) / 10 for f, t in zip(found, truth, strict=True)]))
    brute = []
    for vector in probe[:50]:
        begin = time.perf_counter()
        scores = np.asarray(vectors) @ vector if rows <= 200_000 else None
        if scores is not None:
            np.argpartition(-scores, 10)[:10]
        brute.append(time.perf_counter() - begin)
    extra = (
        f", numpy brute force {1000 * statistics.median(brute):.1f} ms" if rows <= 200_000 else ""
    )
    settings = index.manifest["search"]
    print(
        f"   p50 {p50:.2f} ms, p95 {p95:.2f} ms, recall@10 {recall:.3f}{extra}   "
        f"(target p50 ≤ 20 ms{', recall ≥ 0.95' if approximate else ''})"
    )
    print(f"   search settings: {settings}")
    index.close()
    shutil.rmtree(folder)
    (work / f"synthetic-{rows}.npy").unlink()


def section_ingest(work: Path, count: int = 1000) -> None:
    print(f"\n4. MIDI → ABC for ingestion ({count} MIDI files from the builtin corpus)")
    tunes = [t.abc for t in random.Random(0).sample(list(iter_music21_tunes()), count)]
    folder = work / "midi"
    folder.mkdir()
    for i, conversion in enumerate(abc_to_midi_many(tunes)):
        if conversion.midi:
            (folder / f"{i:05d}.mid").write_bytes(conversion.midi)
    paths = sorted(folder.glob("*.mid"))
    exe = find_tool("midi2abc")
    loop = f'for f in {folder}/*.mid; do "{exe}" -f "$f" -o {work}/out.abc >/dev/null 2>&1; done'
    start = time.perf_counter()
    subprocess.run(["bash", "-c", loop], check=True)
    bare = time.perf_counter() - start

    def used() -> float:
        total = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            usage = resource.getrusage(who)
            total += usage.ru_utime + usage.ru_stime
        return total

    before = used()
    start = time.perf_counter()
    results = convert_midi_files(paths)
    ours = time.perf_counter() - start
    cpu = used() - before
    failures = sum(not isinstance(r, str) for r in results)
    print(f"   bare midi2abc shell loop: {len(paths) / bare:7.0f} files/s")
    print(f"   pictune convert_midi_files: {len(paths) / ours:7.0f} files/s ({failures} failures)")
    print(
        f"   ratio {bare / ours:.2f}   (target ≥ 0.67); cores busy on average (pictune and its midi2abc processes): {cpu / ours:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exact-rows", type=int, default=168_000)
    parser.add_argument("--ann-rows", type=int, default=2_000_000)
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["builtin", "exact", "ann", "ingest"]
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="pictune-bench-"))
    try:
        if "builtin" not in args.skip:
            section_builtin(work)
        if "exact" not in args.skip:
            section_search(work, args.exact_rows, approximate=False)
        if "ann" not in args.skip:
            section_search(work, args.ann_rows, approximate=True)
        if "ingest" not in args.skip:
            section_ingest(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
