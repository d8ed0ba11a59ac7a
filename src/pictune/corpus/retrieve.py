"""Fused retrieval, as in the paper: an image query and a text query (the description),
each searched against the corpus captions (and the image against corpus images, when the
index holds some), merged and de-duplicated.

Merge rule — reciprocal-rank fusion: a record's score is the sum over the queries that
found it of 1 / (60 + rank). A record found by several queries rises; ties go to the higher
cosine similarity, then to the lower row. The paper's setting is `per_query=1`: the top
hit of each query, duplicates dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pictune.corpus.embedding import Embedder, normalise
from pictune.corpus.index import CorpusIndex, Hit
from pictune.corpus.records import CorpusError

RRF_K = 60


def retrieve(
    index: CorpusIndex,
    embedder: Embedder,
    *,
    text: str | None = None,
    image: Any = None,
    per_query: int = 1,
    k: int | None = None,
    filters: dict[str, str] | None = None,
) -> list[Hit]:
    """The fused top-k (default: every distinct hit of the per-query searches)."""
    index.check_embedder(embedder.id, embedder.dim)
    if per_query < 1:
        raise CorpusError("per_query must be at least 1")
    queries: dict[str, list[tuple[int, float]]] = {}
    if text is not None and text.strip():
        vector = normalise(embedder.embed_text([text]))[0]
        queries["text→caption"] = index.search(vector, per_query, filters)
    if image is not None:
        if embedder.embeds_images:
            vector = normalise(embedder.embed_image([image]))[0]
            queries["image→caption"] = index.search(vector, per_query, filters)
            if index.image_vectors is not None:
                allowed = index.allowed_rows(filters)
                found = index.search_images(
                    vector, per_query * 4 if allowed is not None else per_query
                )
                if allowed is not None:
                    keep = set(allowed.tolist())
                    found = [hit for hit in found if hit[0] in keep][:per_query]
                queries["image→image"] = found
        elif text is None:
            raise CorpusError(f"embedder {embedder.id} cannot embed images; give a text query")
    if not queries:
        raise CorpusError("retrieval needs a text query, an image, or both")
    return fuse(index, queries, k)


def fuse(
    index: CorpusIndex, queries: dict[str, list[tuple[int, float]]], k: int | None
) -> list[Hit]:
    scores: dict[int, float] = {}
    matches: dict[int, dict[str, tuple[int, float]]] = {}
    for name, hits in queries.items():
        for rank, (row, similarity) in enumerate(hits, start=1):
            scores[row] = scores.get(row, 0.0) + 1.0 / (RRF_K + rank)
            matches.setdefault(row, {})[name] = (rank, similarity)
    order = sorted(scores, key=lambda r: (-scores[r], -max(s for _, s in matches[r].values()), r))
    if k is not None:
        order = order[:k]
    records = index.records(order)
    return [
        Hit(record=record, score=round(scores[row], 6), matches=matches[row])
        for row, record in zip(order, records, strict=True)
    ]


def similarity_matrix(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Cosine similarities between two sets of vectors."""
    return normalise(a) @ normalise(b).T
