"""The MidiCaps dataset as its users download it: `train.json` (one JSON object a line) and
the Lakh MIDI folder its `location` fields point into."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pictune.abc.convert import check_midi_bytes
from pictune.corpus.ingest import convert_midi_files
from pictune.corpus.records import MusicRecord, Skipped
from pictune.errors import InputError

TAG_FIELDS = (
    "genre", "genre_prob", "mood", "mood_prob", "key", "time_signature", "tempo", "tempo_word",
    "duration", "chord_summary", "chord_summary_occurence", "instrument_summary",
    "instrument_numbers_sorted", "all_chords", "test_set",
)  # fmt: skip
MAX_MIDI_BYTES = 8 << 20


def _mode(key: object) -> str | None:
    text = str(key or "").lower()
    return "minor" if "minor" in text else "major" if "major" in text else None


@dataclass
class MidiCapsSource:
    """`captions` is train.json; `midi_root` the folder its `location` paths are relative to
    (default: the captions file's folder)."""

    captions: Path
    midi_root: Path | None = None
    limit: int | None = None
    name: str = "midicaps"
    abc_at_build: bool = False  # convert every MIDI to ABC now (else lazily on retrieval)

    def expected_items(self) -> int | None:
        """How many items iterating will yield: one per non-empty line of the captions file;
        None with a limit, which counts records only."""
        if self.limit is not None:
            return None
        with self.captions.open("rb") as lines:
            return sum(1 for raw in lines if raw.strip())

    def fingerprint(self) -> str:
        """Size and time of the captions file: a changed file is a different source."""
        info = self.captions.stat()
        return f"{info.st_size}|{info.st_mtime_ns}"

    def __iter__(self) -> Iterator[MusicRecord | Skipped]:
        if not self.abc_at_build:
            yield from self._read()
            return
        batch: list[MusicRecord | Skipped] = []
        for item in self._read():
            batch.append(item)
            if len(batch) == 256:
                yield from _with_abc(batch)
                batch = []
        yield from _with_abc(batch)

    def _read(self) -> Iterator[MusicRecord | Skipped]:
        root = self.midi_root or self.captions.parent
        seen: set[str] = set()
        count = 0
        with self.captions.open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                if self.limit is not None and count >= self.limit:
                    return
                if not raw.strip():
                    continue
                item = self._record(number, raw, root, seen)
                if isinstance(item, MusicRecord):
                    count += 1
                    seen.add(item.id)
                yield item

    def _record(self, number: int, raw: bytes, root: Path, seen: set[str]) -> MusicRecord | Skipped:
        try:
            data: Any = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return Skipped(f"line {number}", "not a JSON object")
        if not isinstance(data, dict):
            return Skipped(f"line {number}", "not a JSON object")
        location, caption = data.get("location"), data.get("caption")
        if not isinstance(location, str) or not location:
            return Skipped(f"line {number}", "no 'location'")
        if not isinstance(caption, str) or not caption.strip():
            return Skipped(location, "no caption")
        if location in seen:
            return Skipped(location, "duplicate id")
        path = (root / location).resolve()
        problem = _midi_problem(path)
        if problem:
            return Skipped(location, problem)
        tags = {key: data[key] for key in TAG_FIELDS if key in data}
        mode = _mode(data.get("key"))
        if mode:
            tags["mode"] = mode
        if isinstance(data.get("time_signature"), str):
            tags["meter"] = data["time_signature"]
        if isinstance(data.get("instrument_summary"), list):
            tags["instruments"] = [str(i).lower() for i in data["instrument_summary"]]
        return MusicRecord(
            id=location, caption=caption.strip(), source="midicaps", midi_path=str(path), tags=tags
        )


def _midi_problem(path: Path) -> str | None:
    """Why a MIDI file cannot be used, or None (cheap: size and chunk structure only)."""
    if not path.is_file():
        return "MIDI file missing"
    size = path.stat().st_size
    if size == 0:
        return "empty MIDI file"
    if size > MAX_MIDI_BYTES:
        return "MIDI file larger than 8 MB"
    head = path.read_bytes()
    if not head.startswith(b"MThd"):
        return "not a MIDI file"
    try:
        check_midi_bytes(head)
    except InputError as exc:
        return str(exc)
    return None


def _with_abc(items: list[MusicRecord | Skipped]) -> Iterator[MusicRecord | Skipped]:
    """The records with their ABC filled in (both cores converting); failures skipped."""
    records = [i for i in items if isinstance(i, MusicRecord)]
    converted = dict(
        zip(
            (r.id for r in records),
            convert_midi_files([r.midi_path or "" for r in records]),
            strict=True,
        )
    )
    for item in items:
        if isinstance(item, Skipped):
            yield item
            continue
        abc = converted[item.id]
        if isinstance(abc, str):
            yield replace(item, abc=abc)
        else:
            yield Skipped(item.id, f"midi2abc failed: {abc}")
