"""Image–music agreement: does a picture sit closer to the caption of its own music than to
the captions of the music made for other pictures?

A CLIP-family embedder scores each (picture, caption of its generated music) pair by cosine
similarity; the baseline is the mean over every mismatched pair, which is what a random
shuffle of the captions scores on average (computed exactly, so no shuffle seed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pictune.errors import InputError


def image_music_agreement(
    embedder: Any, images: Sequence[Any], captions: Sequence[str]
) -> dict[str, Any] | None:
    """Matched and shuffled-pair similarity, their margin, and the share of pictures whose own
    caption beats their average mismatched caption. None with fewer than two pairs."""
    if not getattr(embedder, "embeds_images", False):
        raise InputError(f"the embedder {embedder.id} does not embed pictures; use a CLIP model")
    if len(images) != len(captions):
        raise ValueError("one caption per picture")
    if len(images) < 2:
        return None
    pictures = np.asarray(embedder.embed_image(list(images)), dtype=np.float64)
    texts = np.asarray(embedder.embed_text(list(captions)), dtype=np.float64)
    pictures /= np.linalg.norm(pictures, axis=1, keepdims=True)
    texts /= np.linalg.norm(texts, axis=1, keepdims=True)
    similarity = pictures @ texts.T
    count = len(images)
    matched = np.diag(similarity)
    mismatched = (similarity.sum(axis=1) - matched) / (count - 1)
    return {
        "pairs": count,
        "embedder": embedder.id,
        "matched": round(float(matched.mean()), 4),
        "shuffled": round(float(mismatched.mean()), 4),
        "margin": round(float(matched.mean() - mismatched.mean()), 4),
        "win_rate": round(float((matched > mismatched).mean()), 4),
    }
