"""The corpus's distribution of each refinement metric, measured on a seeded sample.

It is the yardstick of evaluation (how close generated pieces come to the corpus) and the
target band of refinement when no references were retrieved. Measured once per index and
kept in `metric-profile-<n>-<seed>.json` beside the index when the folder is writable."""

from __future__ import annotations

import json
import logging
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pictune.abc.convert import abc_to_midi_many
from pictune.corpus.index import CorpusIndex
from pictune.corpus.records import CorpusError
from pictune.music.metrics import REFINEMENT_METRICS, compute_metrics
from pictune.music.score import Score

log = logging.getLogger(__name__)
PROFILE_SAMPLE = 1000
CHUNK = 200  # tunes per abc2midi run


@dataclass(frozen=True)
class MetricProfile:
    """Each metric's values over `tunes` corpus pieces (undefined values left out)."""

    index: str
    tunes: int
    values: dict[str, npt.NDArray[np.float64]]

    def band(self, name: str, low: float = 10.0, high: float = 90.0) -> tuple[float, float]:
        """The central percentile band of one metric (10th to 90th by default)."""
        data = self.values[name]
        if data.size == 0:
            raise CorpusError(f"the corpus sample has no defined value of {name}")
        return float(np.percentile(data, low)), float(np.percentile(data, high))

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "tunes": self.tunes,
            "values": {k: v.tolist() for k, v in self.values.items()},
        }


def metric_profile(
    index: CorpusIndex, sample: int = PROFILE_SAMPLE, seed: int = 0
) -> MetricProfile:
    """The metric distribution of a seeded sample of `sample` records, kept by the opened
    index and in a file beside it named by the index's content checksum (a rebuilt index
    gets a new file, never a stale profile)."""
    key = ("metric-profile", sample, seed)
    if key in index.derived:
        return index.derived[key]  # type: ignore[no-any-return]
    cache = index.folder / f"metric-profile-{index.content_key}-{sample}-{seed}.json"
    profile = _read(cache, index)
    if profile is None:
        profile = _measure(index, sample, seed)
        _write(cache, profile)
    index.derived[key] = profile
    return profile


def _measure(index: CorpusIndex, sample: int, seed: int) -> MetricProfile:
    rows = sorted(random.Random(seed).sample(range(index.count), min(sample, index.count)))
    columns: dict[str, list[float]] = {name: [] for name in REFINEMENT_METRICS}
    measured = 0
    for first in range(0, len(rows), CHUNK):
        records = index.records(rows[first : first + CHUNK])
        tunes = []
        for record in records:
            try:
                tunes.append(index.abc_for(record))
            except CorpusError as exc:
                log.debug("profile: %s skipped: %s", record.id, exc)
        for conversion in abc_to_midi_many(tunes):
            if conversion.midi is None:
                continue
            metrics = compute_metrics(Score.from_midi(conversion.midi))
            measured += 1
            for name in REFINEMENT_METRICS:
                value = getattr(metrics, name)
                if value is not None:
                    columns[name].append(float(value))
    if measured == 0:
        raise CorpusError(f"no playable tune in a sample of {len(rows)} from {index.name}")
    return MetricProfile(
        index.name, measured, {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}
    )


def _read(path: Path, index: CorpusIndex) -> MetricProfile | None:
    try:
        data = json.loads(path.read_text("utf-8"))
        values = {
            name: np.asarray(data["values"][name], dtype=np.float64) for name in REFINEMENT_METRICS
        }
        return MetricProfile(index.name, int(data["tunes"]), values)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, profile: MetricProfile) -> None:
    """Atomically, and only where the index folder is writable."""
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".profile-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(profile.to_dict(), stream)
        Path(temporary).replace(path)
    except OSError as exc:
        log.debug("metric profile not cached in %s: %s", path.parent, exc)
