"""Measured musical attributes of a piece, and MidiCaps-style captions written from them."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from pictune.abc.headers import tempo_qpm
from pictune.abc.text import header_fields
from pictune.music.keys import estimate_key, instrument_name
from pictune.music.score import Score

# Typical tempo (quarter notes per minute) of dance and tune types, used when a tune has no
# Q: field. Values follow common session practice for Irish/Scottish/English dance music.
RHYTHM_TEMPO = {
    "reel": 112, "jig": 180, "double jig": 180, "slip jig": 180, "single jig": 180,
    "hornpipe": 90, "polka": 130, "waltz": 150, "march": 110, "strathspey": 70, "slide": 220,
    "air": 70, "slow air": 60, "mazurka": 140, "schottische": 100, "barndance": 100,
    "set dance": 100, "fling": 100, "highland": 100, "country dance": 120, "minuet": 120,
}  # fmt: skip
TEMPO_WORDS = ((60, "Largo"), (76, "Adagio"), (108, "Andante"), (120, "Moderato"), (168, "Allegro"))
METER_NAMES = {
    "3/4": "waltz time", "3/8": "waltz time", "6/8": "jig time", "9/8": "slip-jig time",
    "12/8": "compound time", "4/4": "common time", "2/2": "cut time", "2/4": "march time",
}  # fmt: skip
MODE_NAMES = {
    "": "major", "m": "minor", "min": "minor", "maj": "major", "dor": "dorian",
    "mix": "mixolydian", "phr": "phrygian", "lyd": "lydian", "loc": "locrian", "aeo": "minor",
    "ion": "major",
}  # fmt: skip


@dataclass(frozen=True)
class MusicFeatures:
    """What a caption and the features embedder say about a piece."""

    tonic: str
    mode: str  # major, minor, dorian, mixolydian, …
    meter: str  # "4/4"
    tempo_qpm: float
    tempo_known: bool  # from Q: or a MIDI tempo event, not a default
    rhythm: str | None  # reel, jig, waltz … (ABC R: field)
    pitch_range: int
    mean_pitch: float
    notes_per_beat: float
    duration_seconds: float
    instruments: tuple[str, ...]
    title: str | None = None
    extra_tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["instruments"] = list(self.instruments)
        return data

    def tags(self) -> dict[str, Any]:
        """The searchable tags of a record: key, mode, meter, tempo, instruments, features."""
        return {
            "key": f"{self.tonic} {self.mode}",
            "mode": self.mode,
            "meter": self.meter,
            "tempo": round(self.tempo_qpm),
            "instruments": list(self.instruments),
            "features": self.to_dict(),
        }

    @property
    def tempo_word(self) -> str:
        for limit, word in TEMPO_WORDS:
            if self.tempo_qpm < limit:
                return word
        return "Presto"

    @property
    def is_minor_like(self) -> bool:
        return self.mode in ("minor", "dorian", "phrygian", "locrian")


def _abc_key(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    text = value.split("%")[0].strip()
    if not text or text[0].upper() not in "ABCDEFG":
        return None
    tonic = text[0].upper()
    rest = text[1:]
    if rest[:1] in ("#", "b"):
        tonic += rest[0]
        rest = rest[1:]
    word = rest.strip().split()[0].lower() if rest.strip() else ""
    if word.startswith("clef") or "=" in word:
        word = ""
    mode = MODE_NAMES.get(word[:3] if word not in ("m", "") else word)
    return (tonic, mode) if mode else None


FORMS = frozenset(RHYTHM_TEMPO) | {"jig", "song", "ballad", "dance", "lament", "carol", "hymn"}


def _rhythm_word(value: str | None) -> str | None:
    """The tune type of an R: field when it is a known form ('Reel' → 'reel'); else None."""
    if not value:
        return None
    word = value.split("%")[0].strip().lower().rstrip(".")
    if word in FORMS:
        return word
    known = [form for form in FORMS if form in word.split()]
    return max(known, key=len) if known else None


def features_from_score(
    score: Score, abc: str | None = None, tags: dict[str, str] | None = None
) -> MusicFeatures:
    """Measure a piece: key and mode (from K:, a key signature, or estimated), meter, tempo,
    register, density and instruments; ABC headers fill what MIDI lacks (R:, T:)."""
    fields = header_fields(abc) if abc else {}
    key = _abc_key(fields.get("K"))
    if key is None and score.key_signatures:
        name = score.key or ""
        key = (name.split()[0], name.split()[1]) if " " in name else None
    if key is None:
        tonic, mode, _ = estimate_key(score)
        key = (tonic, mode)
    rhythm = _rhythm_word(fields.get("R"))
    qpm = tempo_qpm(fields["Q"]) if "Q" in fields else None
    tempo_known = qpm is not None or (abc is None and bool(score.tempos))
    if qpm is None and rhythm in RHYTHM_TEMPO:
        qpm, tempo_known = float(RHYTHM_TEMPO[rhythm]), True
    if qpm is None:
        qpm = score.tempo_qpm
    numerator, denominator = score.meter
    pitched = ~score.is_drum_note
    beats = score.end / score.resolution if score.resolution else 0.0
    programs = []
    # ABC without %%MIDI program lines names no instrument (abc2midi just picks a piano).
    named = abc is None or "%%MIDI program" in abc or "I:MIDI program" in abc
    for index, track in enumerate(score.tracks):
        if named and (score.track == index).any():
            name = instrument_name(track.program, track.is_drum)
            if name not in programs:
                programs.append(name)
    return MusicFeatures(
        tonic=key[0],
        mode=key[1],
        meter=f"{numerator}/{denominator}",
        tempo_qpm=round(float(qpm), 2),
        tempo_known=tempo_known,
        rhythm=rhythm,
        pitch_range=int(score.pitch[pitched].max() - score.pitch[pitched].min())
        if pitched.any()
        else 0,
        mean_pitch=round(float(score.pitch[pitched].mean()), 2) if pitched.any() else 60.0,
        notes_per_beat=round(score.n_notes / beats, 3) if beats > 0 else 0.0,
        duration_seconds=round(score.seconds(), 2),
        instruments=tuple(programs),
        title=fields.get("T") or None,
        extra_tags=dict(tags or {}),
    )


def _mood(features: MusicFeatures) -> str:
    fast = features.tempo_known and features.tempo_qpm >= 120
    slow = features.tempo_known and features.tempo_qpm < 84
    if features.mode in ("dorian", "mixolydian", "phrygian", "lydian"):
        return "haunting modal" if slow else "earthy modal"
    if features.is_minor_like:
        return "melancholic" if slow else ("driving" if fast else "wistful")
    return "gentle" if slow else ("lively" if fast else "bright")


def _span(semitones: int) -> str:
    if semitones <= 7:
        return "within a narrow range"
    if semitones <= 12:
        return "within an octave"
    if semitones <= 19:
        return "spanning an octave and a half"
    octaves = semitones / 12
    words = {2: "two", 3: "three", 4: "four", 5: "five"}
    return f"spanning {words.get(round(octaves), str(round(octaves)))} octaves"


def _density(notes_per_beat: float) -> str:
    if notes_per_beat >= 3:
        return "dense running semiquavers"
    if notes_per_beat >= 1.6:
        return "flowing quavers"
    if notes_per_beat >= 0.9:
        return "a steady stepping pulse"
    return "long sustained notes"


def _register(mean_pitch: float) -> str:
    if mean_pitch >= 76:
        return "high"
    if mean_pitch <= 52:
        return "low"
    return "middle"


def caption_from_features(features: MusicFeatures) -> str:
    """'A lively reel in D major in 4/4 at 112 bpm (Andante), spanning two octaves, with
    flowing quavers in a middle register, for violin.'"""
    form = features.rhythm or "tune"
    article = "An" if _mood(features)[0] in "aeiou" else "A"
    meter = features.meter
    if meter in METER_NAMES:
        meter += f" ({METER_NAMES[meter]})"
    parts = [f"{article} {_mood(features)} {form} in {features.tonic} {features.mode} in {meter}"]
    if features.tempo_known:
        parts[0] += f" at {round(features.tempo_qpm)} bpm ({features.tempo_word})"
    parts.append(_span(features.pitch_range))
    parts.append(
        f"with {_density(features.notes_per_beat)} in a {_register(features.mean_pitch)} register"
    )
    text = ", ".join(parts)
    if features.instruments:
        text += ", for " + _join(list(features.instruments))
    return text + "."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def log_tempo(qpm: float) -> float:
    """Tempo on a 0–1 scale (40 → 0, 240 → 1, logarithmic, clipped)."""
    return float(np.clip(math.log(max(qpm, 1.0) / 40.0) / math.log(6.0), 0.0, 1.0))
