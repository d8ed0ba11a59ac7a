"""The `pipeline` layer: image → music runs that tie the lower layers together."""

from pictune.pipeline.api import Composer, compose, make_backend, open_composer, revise
from pictune.pipeline.config import Settings, load_settings, resolve_settings
from pictune.pipeline.indexes import ensure_builtin_index, open_index
from pictune.pipeline.record import OUTPUT_FILES, Composition, Round

__all__ = [
    "OUTPUT_FILES",
    "Composer",
    "Composition",
    "Round",
    "Settings",
    "compose",
    "ensure_builtin_index",
    "load_settings",
    "make_backend",
    "open_composer",
    "open_index",
    "resolve_settings",
    "revise",
]
