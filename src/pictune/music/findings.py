"""Typed records of the music critic: what a musician would object to, where, and how much."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any


class Severity(str, Enum):
    """How much a finding matters: an error breaks a rule every style keeps (an ending off
    the tonic, the bass above the tune); a warning is a fault a teacher would mark; a note is
    a matter of style."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def weight(self) -> float:
        """Weight of one finding in a review's penalty."""
        return _WEIGHTS[self]


_WEIGHTS = {Severity.ERROR: 3.0, Severity.WARNING: 1.0, Severity.NOTE: 0.25}

# Every rule the critic applies, by id, with what it objects to.
RULES = {
    "cadence.final-melody": "the melody's last note is not the tonic",
    "cadence.final-bass": "the bass's last note is not the tonic",
    "cadence.final-chord": "the last chord is not the tonic chord",
    "cadence.minor-dominant": "a minor key's final cadence uses the minor v (no leading tone)",
    "cadence.leading-tone": "a phrase stops on the leading tone without resolving it",
    "cadence.phrase-end": "a phrase ends outside the tonic and dominant chords",
    "harmony.strong-beat": "a melody note on a strong beat is not in the chord, unresolved",
    "harmony.held-clash": "a melody note held into a new chord clashes with it, unresolved",
    "harmony.bass-root": "the bass rarely has the chord's root on downbeats",
    "voices.crossing": "the bass sounds above the melody",
    "voices.under-bass": "an accompanying part sounds under the bass",
    "voices.unison": "the accompaniment doubles the melody in unison",
    "voices.instrument-range": "a part goes outside its instrument's range",
    "voices.ledger-lines": "a part sits far off its clef's staff",
    "voices.parallel-fifths": "melody and bass move in parallel fifths",
    "voices.parallel-octaves": "melody and bass move in parallel octaves",
    "melody.augmented-second": "in a minor key the melody steps from the sixth to the "
    "raised seventh (an augmented second)",
    "notation.beat-crossing": "a note starting off the beat runs across the next beat untied",
    "notation.beaming": "a beam hides a beat",
    "notation.unbeamed": "short notes are written apart instead of beamed",
    "repetition.bar": "a bar repeats the previous bar note for note",
    "repetition.phrase": "a four-bar phrase repeats the previous one note for note",
}


@dataclass(frozen=True)
class Finding:
    """One objection: bar (as a reader counts, 0 for a pickup; -1 when not tied to a bar),
    beat (1-based; 0 for the whole bar), the voice's label, the rule's id, what is wrong and
    what to do about it."""

    rule: str
    severity: Severity
    bar: int
    beat: int
    voice: str
    message: str
    advice: str

    @property
    def place(self) -> str:
        """'bar 12, beat 1', 'bar 12' or '' (for the piece as a whole)."""
        if self.bar < 0:
            return ""
        return f"bar {self.bar}, beat {self.beat}" if self.beat > 0 else f"bar {self.bar}"

    def fix(self) -> str:
        """One line a model can act on: place (and voice), fault and remedy."""
        text = f"{self.message}; {self.advice}" if self.advice else self.message
        where = self.place
        if self.voice:
            where = f"{where} ({self.voice})" if where else self.voice
        return f"{where}: {text}" if where else text

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data

    def __str__(self) -> str:
        return f"{self.severity.value} [{self.rule}] {self.fix()}"


Rate = float | int | bool | None


@dataclass(frozen=True)
class Checked:
    """What one family of rules found, and the rates it measured on the way."""

    findings: tuple[Finding, ...]
    rates: Mapping[str, Rate]
