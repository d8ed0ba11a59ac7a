"""The index: build, search, fusion, filters, atomic swap, resume, corruption, embedder checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pictune.corpus import (
    BuiltinSource,
    CorpusError,
    CorpusIndex,
    FeatureEmbedder,
    MusicRecord,
    Skipped,
    build_index,
    retrieve,
)
from pictune.corpus import build as build_module

DESCRIPTION = {"kind": "test"}


def record(
    i: int, caption: str, meter: str = "4/4", mode: str = "major", instruments=()
) -> MusicRecord:
    return MusicRecord(
        id=f"r{i}", caption=caption, source="test", abc=f"X:1\nK:C\nC{i % 8 + 1}|]\n",
        tags={"meter": meter, "mode": mode, "instruments": list(instruments)},
    )  # fmt: skip


@pytest.fixture(scope="module")
def builtin_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("idx") / "builtin"
    build_index(
        BuiltinSource(limit=1500), FeatureEmbedder(), folder, source_description={"kind": "builtin"}
    )
    return CorpusIndex(folder)


def test_sad_waltz_query_ranks_minor_triple_tunes_above_major_reels(builtin_index):
    hits = retrieve(
        builtin_index, FeatureEmbedder(), text="slow sad waltz in a minor key", per_query=10
    )
    top = hits[:10]
    assert all(h.record.tags["mode"] in ("minor", "dorian", "phrygian") for h in top)
    assert sum(h.record.tags["meter"] in ("3/4", "3/8") for h in top) >= 8
    reels = retrieve(
        builtin_index, FeatureEmbedder(), text="lively reel in D major in 4/4", per_query=10
    )
    assert all(h.record.tags["mode"] == "major" for h in reels)
    waltz_scores = {h.record.id: h.best_similarity for h in hits}
    assert min(waltz_scores.values()) > max(
        h.best_similarity
        for h in retrieve(
            builtin_index, FeatureEmbedder(), text="slow sad waltz in a minor key", per_query=1500
        )
        if h.record.tags["mode"] == "major" and h.record.tags["meter"] == "4/4"
    )


def test_filters_restrict_results(builtin_index):
    hits = retrieve(
        builtin_index,
        FeatureEmbedder(),
        text="a happy tune",
        per_query=5,
        filters={"meter": "6/8", "mode": "minor"},
    )
    assert hits and all(
        h.record.tags["meter"] == "6/8" and h.record.tags["mode"] == "minor" for h in hits
    )
    with pytest.raises(CorpusError, match="unknown filter"):
        builtin_index.allowed_rows({"colour": "red"})


def test_exact_search_matches_brute_force(builtin_index):
    query = FeatureEmbedder().embed_text(["bright jig in G major"])[0]
    hits = builtin_index.search(query, 20)
    scores = np.asarray(builtin_index.vectors) @ query
    best = np.sort(scores)[::-1][:20]
    assert np.allclose([s for _, s in hits], best, atol=1e-6)


def test_memory_mapped_search_equals_in_memory(builtin_index):
    mapped = CorpusIndex(builtin_index.folder, mmap=True)
    query = FeatureEmbedder().embed_text(["slow air in E minor"])[0]
    mapped_hits, memory_hits = mapped.search(query, 10), builtin_index.search(query, 10)
    # Captions with the same attributes tie; the scores, best first, must be identical.
    assert np.allclose([s for _, s in mapped_hits], [s for _, s in memory_hits], atol=1e-6)
    assert mapped_hits[0][1] >= mapped_hits[-1][1]


def test_fusion_deduplicates_and_sums_ranks(builtin_index):
    from pictune.corpus.retrieve import fuse

    hits = fuse(builtin_index, {"a": [(1, 0.9), (2, 0.8)], "b": [(2, 0.7), (3, 0.6)]}, None)
    assert hits[0].record == builtin_index.records([2])[0]
    assert len(hits) == 3
    assert hits[0].matches == {"a": (2, 0.8), "b": (1, 0.7)}


def test_query_with_another_embedder_is_refused(builtin_index):
    class Other(FeatureEmbedder):
        id = "other-v1"

    with pytest.raises(CorpusError, match="built with embedder features-v1"):
        retrieve(builtin_index, Other(), text="anything")


def test_features_embedder_refuses_images_with_guidance():
    with pytest.raises(CorpusError, match="describe the image"):
        FeatureEmbedder().embed_image([object()])


def test_bad_records_never_break_a_build(tmp_path):
    items = [
        record(0, "a waltz in A minor in 3/4"),
        Skipped("bad1", "not a JSON object"),
        record(1, "a reel in D major"),
        Skipped("bad2", "MIDI file missing"),
    ]
    report = build_index(items, FeatureEmbedder(), tmp_path / "i", source_description=DESCRIPTION)
    assert report.records == 2 and len(report.skipped) == 2
    saved = json.loads((tmp_path / "i" / "report.json").read_text())
    assert {s["id"] for s in saved["skipped_records"]} == {"bad1", "bad2"}


def test_empty_source_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="no usable record"):
        build_index(
            [Skipped("x", "bad")], FeatureEmbedder(), tmp_path / "i", source_description=DESCRIPTION
        )


def test_rebuild_replaces_atomically_and_a_failed_build_keeps_the_old_index(tmp_path, monkeypatch):
    dest = tmp_path / "idx"
    build_index(
        [record(i, "a waltz in 3/4") for i in range(5)],
        FeatureEmbedder(),
        dest,
        source_description=DESCRIPTION,
    )
    assert CorpusIndex(dest).count == 5

    def broken():
        yield from (record(i, "a reel in 4/4") for i in range(600))
        raise KeyboardInterrupt  # a build killed half-way

    with pytest.raises(KeyboardInterrupt):
        build_index(broken(), FeatureEmbedder(), dest, source_description={"kind": "other"})
    assert CorpusIndex(dest).count == 5  # the previous index is intact
    assert (tmp_path / "idx.partial").is_dir()


def test_killed_build_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setattr(build_module, "CHUNK", 10)
    dest = tmp_path / "idx"
    consumed = []

    def source(fail_at=None):
        for i in range(35):
            if fail_at is not None and i == fail_at:
                raise KeyboardInterrupt
            consumed.append(i)
            yield record(i, f"tune number {i} in {'3/4' if i % 2 else '4/4'}")

    with pytest.raises(KeyboardInterrupt):
        build_index(source(fail_at=25), FeatureEmbedder(), dest, source_description=DESCRIPTION)
    consumed.clear()
    report = build_index(source(), FeatureEmbedder(), dest, source_description=DESCRIPTION)
    assert report.resumed_from == 20
    assert report.records == 35
    index = CorpusIndex(dest)
    assert [r.id for r in index.records(list(range(35)))] == [f"r{i}" for i in range(35)]


def _waltz_index(tmp_path):
    """A 50-record index to damage."""
    dest = tmp_path / "idx"
    items = [record(i, "a waltz") for i in range(50)]
    build_index(items, FeatureEmbedder(), dest, source_description=DESCRIPTION)
    return dest


def test_truncated_vectors_are_detected(tmp_path):
    dest = _waltz_index(tmp_path)
    path = dest / "vectors.npy"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CorpusError, match="truncated"):
        CorpusIndex(dest)


def test_altered_vectors_fail_the_checksum(tmp_path):
    dest = _waltz_index(tmp_path)
    path = dest / "vectors.npy"
    data = bytearray(path.read_bytes())
    data[-8:] = b"\x7f" * 8
    path.write_bytes(bytes(data))
    with pytest.raises(CorpusError, match="checksum"):
        CorpusIndex(dest)


def test_not_an_index_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="not a pictune index"):
        CorpusIndex(tmp_path)


def test_approximate_index_agrees_with_exact(tmp_path):
    rng = np.random.default_rng(0)
    words = [
        "waltz",
        "reel",
        "jig",
        "air",
        "march",
        "minor",
        "major",
        "slow",
        "fast",
        "sad",
        "happy",
        "3/4",
        "6/8",
        "4/4",
    ]
    items = [record(i, " ".join(rng.choice(words, 4))) for i in range(3000)]
    build_index(
        items, FeatureEmbedder(), tmp_path / "ivf", source_description=DESCRIPTION, approximate=True
    )
    index = CorpusIndex(tmp_path / "ivf")
    assert index.manifest["search"]["kind"] == "ivf"
    exact = CorpusIndex(tmp_path / "ivf")
    exact.manifest = {**exact.manifest, "search": {"kind": "exact"}}
    recall = []
    for text in ["sad slow waltz in 3/4", "fast happy reel", "march in 4/4 major", "minor jig 6/8"]:
        query = FeatureEmbedder().embed_text([text])[0]
        # Captions tie, so compare the scores found (IVF sums in another order: round).
        found = sorted(round(s, 5) for _, s in index.search(query, 10))
        truth = sorted(round(s, 5) for _, s in exact.search(query, 10))
        recall.append(sum(a == b for a, b in zip(found, truth, strict=True)) / len(truth))
    assert np.mean(recall) >= 0.9


def test_prefiltered_exact_search_equals_brute_force(tmp_path, monkeypatch):
    from pictune.corpus import ann

    monkeypatch.setattr(ann, "PREFILTER_ABOVE", 100)
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((2000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)

    class Lookup:
        id, dim, embeds_images = "lookup", 32, False

        def embed_text(self, texts):
            return vectors[[int(t) for t in texts]]

    items = [
        MusicRecord(id=f"r{i}", caption=str(i), source="t", abc="X:1\nK:C\nC|]\n")
        for i in range(2000)
    ]
    build_index(items, Lookup(), tmp_path / "i", source_description=DESCRIPTION)
    index = CorpusIndex(tmp_path / "i")
    assert index.manifest["search"]["prefilter"] == "fp16"
    calls = []
    original = ann.prefiltered_top_k

    def spy(*args, **kwargs):
        found = original(*args, **kwargs)
        calls.append(found is not None)
        return found

    monkeypatch.setattr(ann, "prefiltered_top_k", spy)
    for query in vectors[:20] + rng.standard_normal((20, 32)).astype(np.float32) * 0.1:
        query = query / np.linalg.norm(query)
        truth = np.argsort(-(vectors @ query))[:10]
        assert [row for row, _ in index.search(query, 10)] == truth.tolist()
    assert calls and all(calls)  # answered through the float16 copy, proven exact
