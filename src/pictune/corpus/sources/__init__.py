"""Corpus sources: each yields MusicRecord or Skipped, never raising for one bad record."""

from pictune.corpus.sources.builtin import BuiltinSource
from pictune.corpus.sources.folder import FolderSource
from pictune.corpus.sources.midicaps import MidiCapsSource

__all__ = ["BuiltinSource", "FolderSource", "MidiCapsSource"]
