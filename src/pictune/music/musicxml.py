"""MusicXML export through music21: from the ABC when it parses, else from the MIDI."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from pictune.errors import RenderError

log = logging.getLogger(__name__)


def to_musicxml(abc: str, midi: bytes | None = None) -> str:
    """MusicXML text for a tune; the MIDI (same notes, plainer spelling) is the fallback."""
    import music21

    try:
        stream = music21.converter.parse(abc, format="abc")
        return _write(stream)
    except Exception as exc:  # music21 raises many types on ABC it cannot read
        log.info("music21 could not read the ABC (%s); exporting from MIDI", exc)
        if midi is None:
            raise RenderError(f"MusicXML export failed: {exc}") from exc
    try:
        stream = music21.converter.parseData(midi, format="midi")
        return _write(stream)
    except Exception as exc:
        raise RenderError(f"MusicXML export failed: {exc}") from exc


def _write(stream: Any) -> str:
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    with tempfile.TemporaryDirectory(prefix="pictune-") as folder:
        exporter = GeneralObjectExporter(stream)
        data = exporter.parse()
        path = Path(folder, "score.musicxml")
        path.write_bytes(data)
        return path.read_text("utf-8")
