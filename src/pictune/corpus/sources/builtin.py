"""The built-in source: music21's ~13,000 ABC tunes with captions written from their features."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from pictune.abc.convert import abc_to_midi_many
from pictune.abc.text import header_fields
from pictune.corpus.features import caption_from_features, features_from_score
from pictune.corpus.music21_tunes import CorpusTune, iter_music21_tunes
from pictune.corpus.records import MusicRecord, Skipped
from pictune.corpus.sources.clean import clean_tune
from pictune.errors import PictuneError
from pictune.music.score import Score

BATCH = 400


@dataclass
class BuiltinSource:
    """music21's bundled ABC corpus; `limit` keeps the first N tunes (for tests and trials)."""

    limit: int | None = None
    name: str = "builtin"

    def expected_items(self) -> int:
        """How many items (records and skipped tunes) iterating will yield: one per tune."""
        return sum(1 for _ in islice(iter_music21_tunes(), self.limit))

    def __iter__(self) -> Iterator[MusicRecord | Skipped]:
        batch: list[CorpusTune] = []
        for count, tune in enumerate(iter_music21_tunes()):
            if self.limit is not None and count >= self.limit:
                break
            batch.append(tune)
            if len(batch) == BATCH:
                yield from self._records(batch)
                batch = []
        if batch:
            yield from self._records(batch)

    def _records(self, tunes: list[CorpusTune]) -> Iterator[MusicRecord | Skipped]:
        for tune, conversion in zip(tunes, abc_to_midi_many([t.abc for t in tunes]), strict=True):
            cleaned = clean_tune(tune.abc, conversion)
            if isinstance(cleaned, str):
                yield Skipped(tune.id, cleaned)
                continue
            abc, midi = cleaned
            try:
                score = Score.from_midi(midi)
            except PictuneError as exc:
                yield Skipped(tune.id, str(exc))
                continue
            if score.n_notes == 0:
                yield Skipped(tune.id, "no notes")
                continue
            features = features_from_score(score, abc)
            fields = header_fields(abc)
            tags = {
                key: value
                for key, value in {
                    "title": fields.get("T"),
                    "rhythm": fields.get("R"),
                    "origin": fields.get("O"),
                    "composer": fields.get("C"),
                    "collection": tune.source.split("/")[0],
                    **features.tags(),
                }.items()
                if value not in (None, "")
            }
            yield MusicRecord(
                id=tune.id,
                caption=caption_from_features(features),
                source="builtin",
                abc=abc,
                tags=tags,
            )
