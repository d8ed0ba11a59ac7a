"""A folder of music files (.mid, .midi, .abc, .musicxml, .mxl, .xml), captions optional.

Captions come from `captions.jsonl` (`{"file": "a.mid", "caption": "…"}` a line) or
`captions.csv` (columns `file,caption`) in the folder; a piece without one gets a caption
written from its measured features. An image with the same stem (.jpg .jpeg .png .webp) is
picked up as the record's image, as the paper's database holds images too.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pictune.abc.convert import check_midi_bytes, midi_to_abc
from pictune.abc.text import decode_abc, split_tunes
from pictune.corpus.features import caption_from_features, features_from_score
from pictune.corpus.records import MusicRecord, Skipped
from pictune.corpus.sources.clean import clean_tune
from pictune.errors import PictuneError
from pictune.files import read_limited
from pictune.music.score import MAX_FILE_BYTES, Score

log = logging.getLogger(__name__)
MUSIC_SUFFIXES = (".mid", ".midi", ".abc", ".musicxml", ".mxl", ".xml")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def read_captions(folder: Path) -> dict[str, str]:
    """Relative file path → caption, from captions.jsonl or captions.csv (bad lines skipped)."""
    captions: dict[str, str] = {}
    jsonl, table = folder / "captions.jsonl", folder / "captions.csv"
    if jsonl.is_file():
        for number, line in enumerate(jsonl.read_text("utf-8", "replace").splitlines(), 1):
            try:
                item = json.loads(line)
                captions[str(item["file"])] = str(item["caption"]).strip()
            except (json.JSONDecodeError, KeyError, TypeError):
                if line.strip():
                    log.warning("captions.jsonl line %d is not {file, caption}", number)
    elif table.is_file():
        with table.open(newline="", encoding="utf-8", errors="replace") as handle:
            for row in csv.DictReader(handle):
                if row.get("file") and row.get("caption"):
                    captions[row["file"]] = row["caption"].strip()
    return captions


@dataclass
class FolderSource:
    folder: Path
    limit: int | None = None
    name: str = "folder"

    def _music_files(self) -> list[Path]:
        return sorted(p for p in self.folder.rglob("*") if p.suffix.lower() in MUSIC_SUFFIXES)

    def expected_items(self) -> int | None:
        """About how many items iterating will yield (a file of several ABC tunes counts each
        tune); None with a limit, which counts records only."""
        if self.limit is not None:
            return None
        total = 0
        for path in self._music_files():
            if path.suffix.lower() == ".abc" and path.is_file():
                text = decode_abc(read_limited(path, MAX_FILE_BYTES))
                total += max(1, len(split_tunes(text)))
            elif not path.is_dir():
                total += 1
        return total

    def fingerprint(self) -> str:
        """Names, sizes and times of every file: a changed folder is a different source."""
        digest = hashlib.sha256()
        for path in sorted(self.folder.rglob("*")):
            if path.is_file():
                info = path.stat()
                digest.update(
                    f"{path.relative_to(self.folder)}|{info.st_size}|{info.st_mtime_ns}\n".encode()
                )
        return digest.hexdigest()[:16]

    def __iter__(self) -> Iterator[MusicRecord | Skipped]:
        captions = read_captions(self.folder)
        count = 0
        for path in self._music_files():
            relative = path.relative_to(self.folder).as_posix()
            if path.is_dir():
                continue
            if not path.is_file():  # reading a FIFO would wait for a writer; a device is endless
                yield Skipped(relative, "not a regular file (a FIFO, socket or device)")
                continue
            for item in self._records(path, relative, captions):
                if isinstance(item, MusicRecord):
                    if self.limit is not None and count >= self.limit:
                        return
                    count += 1
                yield item

    def _records(
        self, path: Path, relative: str, captions: dict[str, str]
    ) -> Iterator[MusicRecord | Skipped]:
        image = next(
            (
                str(c)
                for c in (path.with_suffix(s) for s in IMAGE_SUFFIXES)
                if c.is_file() and c.stat().st_size
            ),
            None,
        )
        try:
            pieces = self._pieces(path)
        except (PictuneError, OSError, ValueError) as exc:
            yield Skipped(relative, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return
        for index, (abc, midi_path, score) in enumerate(pieces):
            record_id = relative if len(pieces) == 1 else f"{relative}#{index}"
            if score.n_notes == 0:
                yield Skipped(record_id, "no notes")
                continue
            features = features_from_score(score, abc)
            caption = (
                captions.get(record_id) or captions.get(relative) or caption_from_features(features)
            )
            yield MusicRecord(
                id=record_id,
                caption=caption,
                source="folder",
                abc=abc,
                midi_path=midi_path,
                image_path=image,
                tags={"title": features.title or path.stem, **features.tags()},
            )

    def _pieces(self, path: Path) -> list[tuple[str | None, str | None, Score]]:
        suffix = path.suffix.lower()
        data = read_limited(path, MAX_FILE_BYTES)
        if not data:
            raise ValueError("empty file")
        if suffix in (".mid", ".midi"):
            check_midi_bytes(data)
            return [(None, str(path), Score.from_midi(data))]
        if suffix == ".abc":
            pieces: list[tuple[str | None, str | None, Score]] = []
            for tune in split_tunes(decode_abc(data)):
                cleaned = clean_tune(tune)
                if isinstance(cleaned, str):
                    raise ValueError(cleaned)
                pieces.append((cleaned[0], None, Score.from_midi(cleaned[1])))
            if not pieces:
                raise ValueError("no tune in the file")
            return pieces
        midi = _musicxml_to_midi(data)
        return [(midi_to_abc(midi, title=path.stem), None, Score.from_midi(midi))]


def _musicxml_to_midi(data: bytes) -> bytes:
    """MIDI for a MusicXML file, through music21 in a child process under limits."""
    from pictune.music.isolated import run_renderer

    return run_renderer("musicxml-to-midi", {"score.musicxml": data}, "score.mid")
