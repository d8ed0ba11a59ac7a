"""The embedder protocol the index works with, and the `features` embedder (no network).

Neural embedders (CLIP, sentence-transformers) live in `pictune.models` and satisfy the same
protocol; the corpus layer never imports them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from pictune.corpus.features import log_tempo
from pictune.corpus.records import CorpusError

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Maps captions (and, for multimodal models, images) into one vector space."""

    @property
    def id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def embeds_images(self) -> bool: ...

    def embed_text(self, texts: Sequence[str]) -> Vectors: ...

    def embed_image(self, images: Sequence[Any]) -> Vectors: ...


def normalise(vectors: npt.ArrayLike) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    scaled: Vectors = np.divide(array, norms, out=np.zeros_like(array), where=norms > 0)
    return scaled


# Each axis of the features space, with the words that move it (+1 / -1) and its weight.
_AXES: tuple[tuple[str, float], ...] = (
    ("major", 1.6), ("minor", 1.6), ("modal", 1.2),
    ("tempo", 1.0), ("slow", 1.0), ("fast", 1.0),
    ("duple", 1.3), ("triple", 1.3), ("compound", 1.3),
    ("density", 0.8), ("high", 0.6), ("low", 0.6), ("wide", 0.5),
    ("valence", 1.0), ("arousal", 1.0),
    ("dance", 0.8), ("waltz", 0.8), ("march", 0.8), ("air", 0.8),
)  # fmt: skip
_INDEX = {name: i for i, (name, _) in enumerate(_AXES)}
_WEIGHTS = np.array([w for _, w in _AXES], dtype=np.float32)
_WORDS: dict[str, dict[str, float]] = {
    "slow": {"largo": 1, "adagio": 1, "slow": 1, "lento": 1, "grave": 1, "air": 0.6, "lament": 1},
    "fast": {"allegro": 1, "presto": 1, "fast": 1, "quick": 1, "lively": 0.7, "vivace": 1,
             "brisk": 1, "energetic": 0.6, "reel": 0.5, "jig": 0.5},
    "valence": {"happy": 1, "cheerful": 1, "bright": 0.7, "joyful": 1, "joyous": 1, "lively": 0.6,
                "uplifting": 1, "playful": 0.8, "sad": -1, "melancholic": -1, "melancholy": -1,
                "mournful": -1, "dark": -0.8, "gloomy": -1, "wistful": -0.6, "lament": -1,
                "sorrowful": -1, "haunting": -0.5, "tender": 0.2, "gentle": 0.3},
    "arousal": {"energetic": 1, "driving": 1, "lively": 0.8, "intense": 1, "epic": 1,
                "exciting": 1, "powerful": 1, "calm": -1, "gentle": -0.8, "peaceful": -1,
                "relaxing": -1, "soft": -0.7, "tender": -0.7, "quiet": -0.8, "dreamy": -0.7},
    "dance": {"reel": 1, "jig": 1, "hornpipe": 1, "polka": 1, "dance": 1, "slide": 1,
              "strathspey": 1, "fling": 1},
    "waltz": {"waltz": 1, "mazurka": 0.7, "minuet": 0.7},
    "march": {"march": 1},
    "air": {"air": 1, "lament": 1, "ballad": 0.8, "song": 0.5, "lullaby": 1, "hymn": 0.7},
    "density": {"dense": 0.9, "running": 0.9, "semiquavers": 0.9, "flowing": 0.6, "quavers": 0.6,
                "steady": 0.4, "sustained": 0.1, "sparse": 0.1},
}  # fmt: skip
_TRIPLE_WORDS = {"waltz", "mazurka", "minuet"}
_DUPLE_WORDS = {"reel", "march", "polka", "hornpipe", "strathspey"}
_COMPOUND_WORDS = {"jig", "slide", "tarantella", "barcarolle"}
_MODAL = {"dorian", "mixolydian", "phrygian", "lydian", "locrian", "modal"}


def features_vector(text: str) -> Vectors:
    """The features-space vector of a caption or query ('slow sad waltz in a minor key')."""
    lowered = text.lower()
    words = re.findall(r"[a-z]+", lowered)
    vector = np.zeros(len(_AXES), dtype=np.float32)
    if re.search(r"\bminor\b|\bm\s*key\b|\baeolian\b", lowered):
        vector[_INDEX["minor"]] = 1
    if re.search(r"\bmajor\b|\bionian\b", lowered):
        vector[_INDEX["major"]] = 1
    if _MODAL & set(words):
        vector[_INDEX["modal"]] = 1
    meter = re.search(r"\b(\d{1,2})\s*/\s*(\d{1,2})\b", lowered)
    if meter:
        numerator, denominator = int(meter.group(1)), int(meter.group(2))
        if denominator == 8 and numerator % 3 == 0 and numerator > 3:
            vector[_INDEX["compound"]] = 1
        elif numerator % 3 == 0:
            vector[_INDEX["triple"]] = 1
        else:
            vector[_INDEX["duple"]] = 1
    elif _TRIPLE_WORDS & set(words):
        vector[_INDEX["triple"]] = 1
    elif _COMPOUND_WORDS & set(words):
        vector[_INDEX["compound"]] = 1
    elif _DUPLE_WORDS & set(words):
        vector[_INDEX["duple"]] = 1
    bpm = re.search(r"(\d{2,3})\s*(?:bpm|beats per minute)", lowered)
    if bpm:
        tempo = log_tempo(float(bpm.group(1)))
        vector[_INDEX["tempo"]] = tempo
        vector[_INDEX["slow"]] = max(vector[_INDEX["slow"]], float(tempo < 0.3))
        vector[_INDEX["fast"]] = max(vector[_INDEX["fast"]], float(tempo > 0.6))
    for axis, lexicon in _WORDS.items():
        hits = [lexicon[w] for w in words if w in lexicon]
        if hits:
            value = float(np.clip(sum(hits) / math.sqrt(len(hits)), -1, 1))
            vector[_INDEX[axis]] = (
                value if axis in ("valence", "arousal") else max(vector[_INDEX[axis]], value)
            )
    if "high register" in lowered or "high-pitched" in lowered:
        vector[_INDEX["high"]] = 1
    if "low register" in lowered or "deep" in words:
        vector[_INDEX["low"]] = 1
    if re.search(r"\b(two|three|four|five) octaves\b|\bwide range\b", lowered):
        vector[_INDEX["wide"]] = 1
    weighted: Vectors = normalise(vector * _WEIGHTS)[0]
    return weighted


class FeatureEmbedder:
    """Embeds captions as musical attributes: mode, tempo, meter family, density, register,
    mood (valence, arousal) and tune type. No neural network; captions written by pictune
    and MidiCaps captions both name these attributes. Images are embedded through the
    offline composer's plan, which it writes as a caption-like description."""

    id = "features-v1"
    dim = len(_AXES)
    embeds_images = False

    def embed_text(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([features_vector(text) for text in texts])

    def embed_image(self, images: Sequence[Any]) -> Vectors:
        raise CorpusError(
            "the features embedder has no image encoder: describe the image first "
            "(the offline composer's plan does) and search with that text"
        )
