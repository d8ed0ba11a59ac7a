"""Opening the corpus index a run names: the builtin one is built on first use; any other
name or folder must exist (a missing one is an error, never a silent fallback)."""

from __future__ import annotations

from collections.abc import Callable

from pictune.corpus import (
    BuiltinSource,
    CorpusIndex,
    FeatureEmbedder,
    build_index,
    index_root,
    resolve_index,
)
from pictune.corpus.records import CorpusError
from pictune.errors import InputError

BUILTIN = "builtin"
Notice = Callable[[str], None]


def ensure_builtin_index(
    progress: Callable[[int, int], None] | None = None, notice: Notice | None = None
) -> CorpusIndex:
    """The builtin index (features embedder), built on first use and kept."""
    folder = index_root() / BUILTIN
    why = "first run: building the builtin corpus index (about 10 s, once)…"
    try:
        index = CorpusIndex(folder)
        if index.embedder_id == FeatureEmbedder.id:
            return index
        why = "the builtin index was built with another embedder; rebuilding it (about 10 s)…"
    except CorpusError as exc:
        if folder.exists():  # damaged, not missing: say so
            why = f"{exc}; rebuilding it now (about 10 s)…"
    if notice is not None:
        notice(why)
    folder.parent.mkdir(parents=True, exist_ok=True)
    build_index(
        BuiltinSource(),
        FeatureEmbedder(),
        folder,
        source_description={"kind": "builtin", "limit": None},
        progress=progress,
    )
    return CorpusIndex(folder)


def open_index(corpus: str, notice: Notice | None = None) -> CorpusIndex:
    """The index `corpus` names (an index name or a folder). InputError when it does not
    exist; CorpusError when it exists but is damaged."""
    if corpus == BUILTIN:
        return ensure_builtin_index(notice=notice)
    folder = resolve_index(corpus)
    if not folder.is_dir():
        raise InputError(
            f"no corpus index {corpus!r} (looked in {folder}); "
            "see `pictune corpus list`, or build it with `pictune corpus build`"
        )
    return CorpusIndex(folder)
