"""The `models` layer: neural embedders today; VLM backends behind one protocol next.

Each optional dependency is imported inside the code that needs it; a missing one produces
a one-line error naming the extra to install.
"""

from pictune.models.embedders import (
    ClipEmbedder,
    SentenceEmbedder,
    embedder_id,
    load_embedder,
)
from pictune.models.errors import BackendError, MissingDependencyError

__all__ = [
    "BackendError",
    "ClipEmbedder",
    "MissingDependencyError",
    "SentenceEmbedder",
    "embedder_id",
    "load_embedder",
]
