"""The Score view: a tune's notes as parallel arrays, with its tempo, meter and key.

Built from a symusic Score in ticks. Metrics and renderers read these arrays; nothing in
pictune walks lists of note objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt
import symusic
from symusic.core import ScoreTick

from pictune.abc.convert import abc_to_score, midi_to_score

IntArray = npt.NDArray[np.int64]

# Key names by number of sharps (-7 … +7), major and minor.
# fmt: off
KEY_NAMES_MAJOR = ("Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C",
                   "G", "D", "A", "E", "B", "F#", "C#")
KEY_NAMES_MINOR = ("Ab", "Eb", "Bb", "F", "C", "G", "D", "A",
                   "E", "B", "F#", "C#", "G#", "D#", "A#")
# fmt: on

MAX_FILE_BYTES = 20 << 20  # the largest .abc/.mid file read from disk


@dataclass(frozen=True)
class Track:
    """One instrument part: its name, General MIDI program, and whether it is a drum kit."""

    name: str
    program: int
    is_drum: bool


@dataclass(frozen=True, eq=False)
class Score:
    """Notes as arrays (all of equal length, sorted by onset), in ticks of `resolution` per beat.

    `track[i]` indexes `tracks`. `tempos` holds (tick, quarter notes per minute),
    `time_signatures` (tick, numerator, denominator), `key_signatures` (tick, sharps, minor).
    """

    resolution: int
    time: IntArray
    duration: IntArray
    pitch: IntArray
    velocity: IntArray
    track: IntArray
    tracks: tuple[Track, ...]
    tempos: tuple[tuple[int, float], ...]
    time_signatures: tuple[tuple[int, int, int], ...]
    key_signatures: tuple[tuple[int, int, bool], ...]

    @classmethod
    def from_symusic(cls, score: ScoreTick) -> Score:
        """The array view of a symusic Score (converted to ticks if needed)."""
        if score.ttype != symusic.TimeUnit.tick:
            score = cast(ScoreTick, score.to(symusic.TimeUnit.tick))
        columns: dict[str, list[npt.NDArray[np.int64]]] = {
            "time": [],
            "duration": [],
            "pitch": [],
            "velocity": [],
            "track": [],
        }
        tracks = []
        for index, source in enumerate(score.tracks):
            tracks.append(Track(str(source.name), int(source.program), bool(source.is_drum)))
            notes = source.notes.numpy()
            count = len(notes["time"])
            for name in ("time", "duration", "pitch", "velocity"):
                columns[name].append(notes[name].astype(np.int64))
            columns["track"].append(np.full(count, index, dtype=np.int64))
        arrays = {
            name: (np.concatenate(parts) if parts else np.zeros(0, np.int64))
            for name, parts in columns.items()
        }
        order = np.lexsort((arrays["pitch"], arrays["time"]))
        return cls(
            resolution=int(score.ticks_per_quarter),
            tracks=tuple(tracks),
            tempos=tuple((int(t.time), float(t.qpm)) for t in score.tempos),
            time_signatures=tuple(
                (int(t.time), int(t.numerator), int(t.denominator)) for t in score.time_signatures
            ),
            key_signatures=tuple(
                (int(k.time), int(k.key), bool(k.tonality)) for k in score.key_signatures
            ),
            **{name: array[order] for name, array in arrays.items()},
        )

    @classmethod
    def from_abc(cls, abc: str) -> Score:
        """The canonical notes of an ABC tune (see `pictune.abc.convert`)."""
        return cls.from_symusic(abc_to_score(abc))

    @classmethod
    def from_midi(cls, midi: bytes) -> Score:
        return cls.from_symusic(midi_to_score(midi))

    @classmethod
    def from_file(cls, path: str | Path) -> Score:
        """Read a .mid/.midi or .abc file."""
        from pictune.abc.text import decode_abc
        from pictune.files import read_limited

        path = Path(path)
        data = read_limited(path, MAX_FILE_BYTES)
        if path.suffix.lower() in {".mid", ".midi"} or data.startswith(b"MThd"):
            return cls.from_midi(data)
        return cls.from_abc(decode_abc(data))

    # -- derived facts -------------------------------------------------------------------------

    @property
    def n_notes(self) -> int:
        return int(self.time.size)

    @property
    def end(self) -> int:
        """Tick at which the last note ends (0 for an empty score)."""
        return int((self.time + self.duration).max()) if self.n_notes else 0

    @property
    def is_drum_note(self) -> npt.NDArray[np.bool_]:
        drums = np.array([t.is_drum for t in self.tracks], dtype=bool)
        return drums[self.track] if self.n_notes else np.zeros(0, dtype=bool)

    @property
    def tempo_qpm(self) -> float:
        """First tempo in quarter notes per minute (120, MIDI's default, when none is given)."""
        return self.tempos[0][1] if self.tempos else 120.0

    @property
    def meter(self) -> tuple[int, int]:
        """First time signature (4/4, MIDI's default, when none is given)."""
        return self.time_signatures[0][1:] if self.time_signatures else (4, 4)

    @property
    def key(self) -> str | None:
        """First key signature as a name such as 'D major' or 'E minor', None when absent."""
        if not self.key_signatures:
            return None
        _, sharps, minor = self.key_signatures[0]
        if not -7 <= sharps <= 7:
            return None
        names = KEY_NAMES_MINOR if minor else KEY_NAMES_MAJOR
        return f"{names[sharps + 7]} {'minor' if minor else 'major'}"

    def seconds(self) -> float:
        """Duration in seconds, following every tempo change."""
        end = self.end
        if end == 0:
            return 0.0
        changes = [(t, q) for t, q in self.tempos if t < end] or [(0, 120.0)]
        if changes[0][0] > 0:
            changes.insert(0, (0, 120.0))
        total = 0.0
        for (start, qpm), (stop, _) in zip(changes, [*changes[1:], (end, 0.0)], strict=True):
            total += (stop - start) / self.resolution * 60.0 / max(qpm, 1e-6)
        return total
