"""A listener's explicit choices (bars, tempo, key, meter, instrument, mood), checked once.

Front ends that offer controls beside the prompt build a `Choices`; it turns into words the
prompt understanding already knows ("in D minor", "3/4", "90 bpm", "violin", "calm"), so
every backend reads them the same way, and the length into the `bars` setting."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, fields, replace
from typing import Any

from pictune.errors import InputError
from pictune.pipeline.config import RANGES

METERS = ("2/4", "3/4", "4/4", "6/8")
MOODS = ("calm", "dreamy", "gentle", "happy", "sad", "energetic", "mysterious", "triumphant")
INSTRUMENTS = (
    "piano", "harpsichord", "vibraphone", "marimba", "organ", "accordion", "guitar", "violin",
    "viola", "cello", "harp", "strings", "choir", "trumpet", "trombone", "horn", "saxophone",
    "oboe", "bassoon", "clarinet", "flute", "recorder", "pan flute", "whistle",
)  # fmt: skip
KEYS = tuple(
    f"{tonic} {mode}"
    for mode, tonics in (
        ("major", ("C", "G", "D", "A", "E", "F", "Bb", "Eb", "Ab")),
        ("minor", ("A", "E", "B", "F#", "C#", "D", "G", "C", "F")),
    )
    for tonic in tonics
)
TEMPO_RANGE = (30, 240)  # quarter notes a minute, as "N bpm" in a prompt is clamped
BARS_RANGE = next((low, high) for name, low, high in RANGES if name == "bars")
_KEY = re.compile(r"^([A-G])(#|b)?\s+(major|minor)$")


@dataclass(frozen=True)
class Choices:
    """What the listener chose; None leaves it to the picture (and the prompt)."""

    bars: int | None = None
    tempo: int | None = None
    key: str | None = None  # "D minor", "Eb major"
    meter: str | None = None
    instrument: str | None = None
    mood: str | None = None

    def __post_init__(self) -> None:
        if self.bars is not None and not BARS_RANGE[0] <= self.bars <= BARS_RANGE[1]:
            raise InputError(
                f"bars must be between {BARS_RANGE[0]} and {BARS_RANGE[1]}, not {self.bars}"
            )
        if self.tempo is not None and not TEMPO_RANGE[0] <= self.tempo <= TEMPO_RANGE[1]:
            raise InputError(
                f"tempo must be between {TEMPO_RANGE[0]} and {TEMPO_RANGE[1]} quarter notes "
                f"a minute, not {self.tempo}"
            )
        if self.key is not None and not _KEY.match(self.key):
            raise InputError(f"key {self.key!r} is not a key like 'D minor' or 'Eb major'")
        for name, allowed in (
            ("meter", METERS),
            ("instrument", INSTRUMENTS),
            ("mood", MOODS),
        ):
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise InputError(f"unknown {name} {value!r}; use one of {', '.join(allowed)}")

    @classmethod
    def from_form(cls, values: dict[str, Any]) -> Choices:
        """Choices from form fields (strings; empty means unset)."""
        given: dict[str, Any] = {}
        for spec in fields(cls):
            raw = values.get(spec.name)
            text = str(raw).strip() if raw is not None else ""
            if not text:
                continue
            if spec.name in ("bars", "tempo"):
                if not text.isdigit():
                    raise InputError(f"{spec.name} must be a whole number, not {text!r}")
                given[spec.name] = int(text)
            else:
                given[spec.name] = text
        return cls(**given)

    def to_dict(self) -> dict[str, Any]:
        """The choices made (unset ones left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def words(self) -> str:
        """The choices as prompt words: 'calm, in D minor, 3/4, 90 bpm, for violin'."""
        parts = [
            self.mood or "",
            f"in {self.key}" if self.key else "",
            self.meter or "",
            f"{self.tempo} bpm" if self.tempo else "",
            f"for {self.instrument}" if self.instrument else "",
        ]
        return ", ".join(p for p in parts if p)

    def prompt(self, prompt: str | None) -> str | None:
        """The listener's prompt with the choices after it (they come last, so they win)."""
        text = "; ".join(p for p in ((prompt or "").strip(), self.words()) if p)
        return text or None


def with_choices(composer: Any, choices: Choices) -> Any:
    """`composer` with the chosen length: a shallow copy whose settings differ in `bars`
    (the index, model and embedder stay shared); the composer itself when nothing differs."""
    if choices.bars is None or choices.bars == composer.settings.bars:
        return composer
    changed = copy.copy(composer)
    changed.settings = replace(composer.settings, bars=choices.bars)
    return changed
