"""What a corpus holds: (caption, music) records, and the events a source yields while read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pictune.errors import PictuneError


class CorpusError(PictuneError):
    """A corpus or index cannot be built, read or searched as asked."""


@dataclass(frozen=True)
class MusicRecord:
    """One corpus entry. `abc` is set for ABC sources; MIDI sources set `midi_path` and get
    their ABC converted lazily (and cached) when retrieved."""

    id: str
    caption: str
    source: str
    abc: str | None = None
    midi_path: str | None = None
    image_path: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """A record a source could not use, and why (the build counts and lists these)."""

    id: str
    reason: str
