"""Key estimation (Krumhansl–Schmuckler) and General MIDI instrument names."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pictune.music.score import Score

# Krumhansl & Kessler (1982) probe-tone profiles, C major and C minor.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# General MIDI families (programs 8n … 8n+7) and a few programs named on their own.
GM_FAMILIES = (
    "piano", "chromatic percussion", "organ", "guitar", "bass", "strings", "string ensemble",
    "brass", "reed", "pipe", "synth lead", "synth pad", "synth effects", "ethnic",
    "percussive", "sound effects",
)  # fmt: skip
GM_NAMES = {
    0: "piano", 6: "harpsichord", 8: "celesta", 11: "vibraphone", 12: "marimba", 19: "organ",
    21: "accordion", 22: "harmonica", 24: "nylon guitar", 25: "acoustic guitar",
    26: "jazz guitar", 29: "overdriven guitar", 30: "distortion guitar", 32: "acoustic bass",
    33: "electric bass", 40: "violin", 41: "viola", 42: "cello", 43: "contrabass",
    45: "pizzicato strings",
    46: "harp", 47: "timpani", 48: "string ensemble", 52: "choir", 56: "trumpet", 57: "trombone",
    58: "tuba", 60: "french horn", 61: "brass section", 64: "soprano sax", 65: "alto sax",
    66: "tenor sax", 68: "oboe", 69: "english horn", 70: "bassoon", 71: "clarinet",
    72: "piccolo", 73: "flute", 74: "recorder", 75: "pan flute", 78: "whistle", 79: "ocarina",
    80: "square lead", 81: "sawtooth lead", 88: "new age pad", 89: "warm pad", 104: "sitar",
    105: "banjo", 107: "koto", 109: "bagpipe", 110: "fiddle", 114: "steel drums",
}  # fmt: skip


def instrument_name(program: int, is_drum: bool = False) -> str:
    """A plain name for a General MIDI program ('violin', 'flute', 'drums')."""
    if is_drum:
        return "drums"
    if program in GM_NAMES:
        return GM_NAMES[program]
    return GM_FAMILIES[max(0, min(program, 127)) // 8]


def estimate_key(score: Score) -> tuple[str, str, float]:
    """(tonic, 'major' | 'minor', correlation) from duration-weighted pitch classes.

    Returns ('C', 'major', 0.0) for music without pitched notes.
    """
    pitched = ~score.is_drum_note
    if not pitched.any():
        return "C", "major", 0.0
    weights = np.bincount(
        score.pitch[pitched] % 12, weights=score.duration[pitched].astype(float), minlength=12
    )
    if weights.sum() <= 0:
        return "C", "major", 0.0
    best = ("C", "major", -2.0)
    for mode, profile in (("major", _MAJOR_PROFILE), ("minor", _MINOR_PROFILE)):
        for tonic in range(12):
            correlation = float(np.corrcoef(weights, np.roll(profile, tonic))[0, 1])
            if np.isfinite(correlation) and correlation > best[2]:
                best = (PITCH_NAMES[tonic], mode, correlation)
    return best


_MODE_WORDS = {
    "": "major", "maj": "major", "major": "major", "ion": "major", "ionian": "major",
    "m": "minor", "min": "minor", "minor": "minor", "aeo": "minor", "aeolian": "minor",
    "dor": "dorian", "dorian": "dorian", "phr": "phrygian", "phrygian": "phrygian",
    "lyd": "lydian", "lydian": "lydian", "mix": "mixolydian", "mixolydian": "mixolydian",
    "loc": "locrian", "locrian": "locrian",
}  # fmt: skip
_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
# Semitones from a mode's tonic up to its relative major's tonic.
_MODE_SHIFT = {
    "major": 0, "minor": 3, "dorian": 10, "phrygian": 8, "lydian": 7, "mixolydian": 5,
    "locrian": 1,
}  # fmt: skip
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


@dataclass(frozen=True)
class Key:
    """A tonic pitch class (0 = C) and a mode ('major', 'minor', 'dorian' …)."""

    tonic: int
    mode: str

    @property
    def is_minor(self) -> bool:
        return self.mode in ("minor", "dorian", "phrygian", "locrian")

    @property
    def leading_tone(self) -> int:
        """The pitch class a semitone below the tonic (raised in minor)."""
        return (self.tonic + 11) % 12

    @property
    def dominant(self) -> int:
        return (self.tonic + 7) % 12

    @property
    def tonic_triad(self) -> frozenset[int]:
        third = 3 if self.is_minor else 4
        return frozenset({self.tonic, (self.tonic + third) % 12, self.dominant})

    @property
    def dominant_triad(self) -> frozenset[int]:
        """V with the raised leading tone (harmonic minor's V in minor keys)."""
        return frozenset({self.dominant, (self.dominant + 4) % 12, (self.dominant + 7) % 12})

    @property
    def prefers_flats(self) -> bool:
        """Whether the key signature has flats (F major, D minor, Bb …) rather than sharps."""
        relative_major = (self.tonic + _MODE_SHIFT.get(self.mode, 0)) % 12
        return relative_major in (5, 10, 3, 8, 1)

    def spell(self, pitch_class: int) -> str:
        """A pitch class named as this key writes it: G# in A minor, Ab in Eb major."""
        pitch_class %= 12
        if pitch_class in (1, 3, 6, 8, 10):
            if pitch_class == self.leading_tone or not self.prefers_flats:
                return _SHARP_NAMES[pitch_class]
            return _FLAT_NAMES[pitch_class]
        return PITCH_NAMES[pitch_class]

    @property
    def name(self) -> str:
        return f"{self.spell(self.tonic)} {self.mode}"


def parse_key(value: str) -> Key | None:
    """The Key of a K: value ('Am', 'F#m', 'Bb', 'D dor', 'G clef=bass'); None for 'none'/HP."""
    match = re.match(r"\s*([A-Ga-g])([#b]?)\s*([A-Za-z]*)", value.split("%")[0])
    if not match:
        return None
    tonic = _LETTER_PC[match.group(1).upper()] + {"#": 1, "b": -1}.get(match.group(2), 0)
    word = match.group(3).lower()
    mode = _MODE_WORDS.get(word) or _MODE_WORDS.get(word[:3])
    if mode is None:
        if word in ("clef", "treble", "bass", "alto", "tenor", "middle", "transpose"):
            mode = "major"
        else:
            return None
    return Key(tonic % 12, mode)


def key_of(score: Score, written: str | None = None) -> Key:
    """The key of a piece: its K: field when given, else its key signature, else estimated."""
    if written:
        key = parse_key(written)
        if key is not None:
            return key
    if score.key_signatures:
        _, sharps, minor = score.key_signatures[0]
        if -7 <= sharps <= 7:
            tonic = (sharps * 7 + (9 if minor else 0)) % 12
            return Key(tonic, "minor" if minor else "major")
    tonic_name, mode, _ = estimate_key(score)
    return Key(PITCH_NAMES.index(tonic_name), mode)
