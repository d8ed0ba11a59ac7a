"""The `corpus` layer: captioned music collections, the persisted index, fused search.

It generates no music and imports no model code: neural embedders come from
`pictune.models` through the `Embedder` protocol.
"""

from pictune.corpus.build import BuildReport, build_index, index_is_current
from pictune.corpus.embedding import Embedder, FeatureEmbedder, normalise
from pictune.corpus.features import MusicFeatures, caption_from_features, features_from_score
from pictune.corpus.index import CorpusIndex, Hit, index_root, list_indexes, resolve_index
from pictune.corpus.records import CorpusError, MusicRecord, Skipped
from pictune.corpus.retrieve import retrieve
from pictune.corpus.sources import BuiltinSource, FolderSource, MidiCapsSource

__all__ = [
    "BuildReport",
    "BuiltinSource",
    "CorpusError",
    "CorpusIndex",
    "Embedder",
    "FeatureEmbedder",
    "FolderSource",
    "Hit",
    "MidiCapsSource",
    "MusicFeatures",
    "MusicRecord",
    "Skipped",
    "build_index",
    "caption_from_features",
    "features_from_score",
    "index_is_current",
    "index_root",
    "list_indexes",
    "normalise",
    "resolve_index",
    "retrieve",
]
