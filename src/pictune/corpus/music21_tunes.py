"""The ABC tunes that music21 ships (~13,000: Ryan's Mammoth, O'Neill's, Essen, Nottingham …)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pictune.abc.text import decode_abc, split_tunes


@dataclass(frozen=True)
class CorpusTune:
    """One tune: the file it came from, its position in that file, and its text."""

    source: str
    index: int
    abc: str

    @property
    def id(self) -> str:
        return f"{self.source}#{self.index}"


def music21_abc_paths() -> list[Path]:
    """Every .abc file in music21's bundled corpus, in a stable order."""
    from music21 import corpus

    return sorted(Path(p) for p in corpus.getPaths(fileExtensions=["abc"]))


def iter_music21_tunes() -> Iterator[CorpusTune]:
    """Each tune of music21's ABC corpus, file by file (file-header directives applied)."""
    root = None
    for path in music21_abc_paths():
        if root is None:
            root = path.parents[1]
        source = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
        for index, tune in enumerate(split_tunes(decode_abc(path.read_bytes()))):
            if "K:" in tune:
                yield CorpusTune(source, index, tune)
