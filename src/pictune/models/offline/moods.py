"""Free text onto the mood axes: a prompt's words the vocabulary does not know ("a stormy
night at sea") are embedded with a sentence embedder and compared with labelled anchor
phrases; the anchors nearest in meaning give a valence (sad … happy) and an arousal (calm …
energetic), which choose the mode and the mood words' changes to the plan. Without a
sentence embedder the keyword table alone reads the prompt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

# (phrase, valence, arousal): valence 0 = sad/dark … 1 = happy/bright; arousal 0 = still …
# 1 = wild. Written to cover the four quadrants and the middle, in everyday words.
ANCHORS: tuple[tuple[str, float, float], ...] = (
    ("a funeral procession in the rain", 0.1, 0.25),
    ("grief and loss, mourning someone", 0.1, 0.2),
    ("a lonely winter night", 0.2, 0.2),
    ("a foggy grey morning, melancholy", 0.25, 0.25),
    ("a violent storm, thunder and lightning", 0.2, 0.9),
    ("a battle, fear and danger", 0.15, 0.9),
    ("a chase through dark streets", 0.2, 0.85),
    ("crashing waves in a storm at sea", 0.25, 0.85),
    ("rage and fury", 0.1, 0.95),
    ("a quiet lake at dawn", 0.65, 0.15),
    ("falling asleep, a peaceful evening", 0.6, 0.1),
    ("a warm bath, relaxing and soothing", 0.7, 0.15),
    ("soft snow falling on a garden", 0.6, 0.2),
    ("a starry night sky, silent and vast", 0.5, 0.15),
    ("a birthday party with friends dancing", 0.9, 0.85),
    ("a sunny festival, crowds celebrating", 0.9, 0.8),
    ("children playing and laughing in a park", 0.9, 0.7),
    ("victory, a triumphant celebration", 0.85, 0.9),
    ("a walk in the countryside on a spring day", 0.75, 0.45),
    ("a nostalgic memory of childhood", 0.45, 0.35),
    ("an ordinary afternoon in town", 0.55, 0.5),
)
THRESHOLD = 0.35  # below this cosine similarity to every anchor, the text is not read
NEAREST = 3


class TextEmbedder(Protocol):
    """What the mood reader needs of an embedder: unit vectors for texts."""

    @property
    def id(self) -> str: ...

    def embed_text(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True)
class MoodReading:
    """Where a text falls on the mood axes, and the anchor phrase closest to it."""

    valence: float
    arousal: float
    anchor: str
    similarity: float


class MoodReader:
    """Reads free text onto the mood axes with one embedder (the anchors embedded once)."""

    def __init__(self, embedder: TextEmbedder, threshold: float = THRESHOLD) -> None:
        self.embedder, self.threshold = embedder, threshold
        self._anchors: npt.NDArray[np.float32] | None = None

    @property
    def id(self) -> str:
        return self.embedder.id

    def _anchor_vectors(self) -> npt.NDArray[np.float32]:
        if self._anchors is None:
            vectors = np.asarray(self.embedder.embed_text([a[0] for a in ANCHORS]), np.float32)
            self._anchors = _unit(vectors)
        return self._anchors

    def read(self, text: str) -> MoodReading | None:
        """The similarity-weighted valence and arousal of the anchors nearest `text`, or
        None when the text is empty or no anchor is close enough to trust."""
        if not text.strip():
            return None
        query = _unit(np.asarray(self.embedder.embed_text([text]), np.float32))[0]
        similarity = self._anchor_vectors() @ query
        order = np.argsort(-similarity)[:NEAREST]
        best = int(order[0])
        if float(similarity[best]) < self.threshold:
            return None
        weights = np.clip(similarity[order], 1e-6, None)
        valence = float(np.average([ANCHORS[i][1] for i in order], weights=weights))
        arousal = float(np.average([ANCHORS[i][2] for i in order], weights=weights))
        return MoodReading(
            round(valence, 3), round(arousal, 3), ANCHORS[best][0], float(similarity[best])
        )


def _unit(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.where(norms == 0, 1.0, norms), np.float32)


def mood_words(reading: MoodReading) -> list[str]:
    """The vocabulary's mood words a reading stands for: a mode word when the valence is
    clearly low or high, and a calm, gentle or energetic word by the arousal."""
    words = []
    if reading.valence < 0.4:
        words.append("sad")
    elif reading.valence > 0.6:
        words.append("happy")
    if reading.arousal < 0.3:
        words.append("calm")
    elif reading.arousal < 0.45:
        words.append("gentle")
    elif reading.arousal >= 0.65:
        words.append("energetic")
    return words


def sentence_installed() -> bool:
    """Whether the `sentence` extra (sentence-transformers) can be imported."""
    import importlib.util

    return importlib.util.find_spec("sentence_transformers") is not None


def load_mood_reader(choice: str, embedder: Any = None) -> MoodReader | None:
    """The mood reader for the `moods` setting: 'keywords' → None (the keyword table
    alone); 'sentence' → a reader over `embedder` when it is already a sentence model, else
    over a newly loaded sentence embedder (BackendError naming the extra when it is not
    installed); 'auto' → as 'sentence' when the extra is installed, else None."""
    if choice == "keywords" or (choice == "auto" and not sentence_installed()):
        return None
    if str(getattr(embedder, "id", "")).startswith("sentence:"):
        return MoodReader(embedder)
    from pictune.models.embedders import SentenceEmbedder

    return MoodReader(SentenceEmbedder())
