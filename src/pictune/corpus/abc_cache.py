"""Lazy MIDI → ABC conversion for retrieved records, cached beside the index."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from pictune.abc.convert import midi_to_abc
from pictune.corpus.records import MusicRecord

log = logging.getLogger(__name__)
CACHE_FILE = "abc_cache.sqlite"


def cached_abc(folder: Path, record: MusicRecord, memory: dict[str, str]) -> str:
    """The ABC of a MIDI record: from `memory` (owned by the opened index), from the cache
    file beside the index, or converted now."""
    assert record.midi_path is not None
    key = record.id
    if key in memory:
        return memory[key]
    path = folder / CACHE_FILE
    try:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE IF NOT EXISTS abc (id TEXT PRIMARY KEY, abc TEXT NOT NULL)")
            row = db.execute("SELECT abc FROM abc WHERE id = ?", (record.id,)).fetchone()
            if row:
                memory[key] = row[0]
                return str(row[0])
            text = midi_to_abc(
                Path(record.midi_path).read_bytes(),
                title=record.tags.get("title") or Path(record.midi_path).stem,
            )
            db.execute("INSERT OR REPLACE INTO abc VALUES (?, ?)", (record.id, text))
    except sqlite3.OperationalError as exc:  # a read-only index folder: convert, keep in memory
        log.debug("ABC cache unavailable (%s)", exc)
        text = midi_to_abc(Path(record.midi_path).read_bytes(), title=Path(record.midi_path).stem)
    memory[key] = text
    return text
