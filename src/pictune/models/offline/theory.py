"""Scales, chords, spelling and ABC note names for the offline composer."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

LETTERS = "CDEFGAB"
NATURAL_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# Keys the composer writes in (at most four sharps or flats), by mode.
KEYS = {
    "major": ("C", "G", "D", "A", "E", "F", "Bb", "Eb", "Ab"),
    "minor": ("A", "E", "B", "F#", "C#", "D", "G", "C", "F"),
}
PC_NAMES = {
    "major": {0: "C", 7: "G", 2: "D", 9: "A", 4: "E", 5: "F", 10: "Bb", 3: "Eb", 8: "Ab",
              11: "B", 1: "Db", 6: "F#"},
    "minor": {9: "A", 4: "E", 11: "B", 6: "F#", 1: "C#", 2: "D", 7: "G", 0: "C", 5: "F",
              10: "Bb", 3: "Eb", 8: "G#"},
}  # fmt: skip


def tonic_pc(tonic: str) -> int:
    base = NATURAL_PC[tonic[0].upper()]
    return (base + tonic[1:].count("#") - tonic[1:].count("b")) % 12


def key_name(pc: int, mode: str) -> str:
    """The usual spelling of the key whose tonic is pitch class `pc` (Eb major, F# minor)."""
    return PC_NAMES["minor" if mode == "minor" else "major"][pc % 12]


class Key:
    """A key with diatonic spelling: absolute scale degree ↔ MIDI pitch ↔ ABC note."""

    def __init__(self, tonic: str, mode: str) -> None:
        self.tonic, self.mode = tonic, mode
        self.scale = SCALES["minor" if mode == "minor" else "major"]
        self.pc = tonic_pc(tonic)
        self.letter_index = LETTERS.index(tonic[0].upper())
        # Accidental of each letter in the key signature (-1 flat, 0, +1 sharp).
        self.signature: dict[str, int] = {}
        for step in range(7):
            letter = LETTERS[(self.letter_index + step) % 7]
            pc = (self.pc + self.scale[step]) % 12
            self.signature[letter] = (pc - NATURAL_PC[letter] + 6) % 12 - 6

    def pitch(self, degree: int, base_octave: int = 4) -> int:
        """MIDI pitch of absolute degree `degree` (0 = the tonic in `base_octave`)."""
        octave, step = divmod(degree, 7)
        return 12 * (base_octave + 1) + self.pc + self.scale[step] + 12 * octave

    def degree_of(self, pitch: int, base_octave: int = 4) -> int:
        """Nearest absolute degree for a MIDI pitch (non-scale pitches snap down)."""
        relative = pitch - 12 * (base_octave + 1) - self.pc
        octave, within = divmod(relative, 12)
        step = max(i for i, semitones in enumerate(self.scale) if semitones <= within)
        return 7 * octave + step

    def letter(self, step: int) -> str:
        return LETTERS[(self.letter_index + step) % 7]

    def spell(self, pitch: int) -> tuple[str, int]:
        """(letter, alteration in semitones) for a MIDI pitch read in this key: scale notes
        take their own letter, others the letter of the scale note below (raised) or above
        (lowered), so the raised leading tone of A minor is G sharp, not A flat."""
        relative = (pitch - self.pc) % 12
        if relative in self.scale:
            step = self.scale.index(relative)
            return self.letter(step), (pitch - NATURAL_PC[self.letter(step)] + 6) % 12 - 6
        if (relative - 1) % 12 in self.scale:
            letter = self.letter(self.scale.index((relative - 1) % 12))
        else:
            letter = self.letter(self.scale.index((relative + 1) % 12))
        return letter, (pitch - NATURAL_PC[letter] + 6) % 12 - 6


@dataclass(frozen=True)
class Chord:
    """A triad in a key region: its root's scale degree there, its pitch classes (root,
    third, fifth) and its name as a chord symbol."""

    degree: int
    region_pc: int
    region_mode: str
    tones: tuple[int, int, int]

    @property
    def root(self) -> int:
        return self.tones[0]

    @property
    def quality(self) -> str:
        third = (self.tones[1] - self.tones[0]) % 12
        fifth = (self.tones[2] - self.tones[0]) % 12
        if fifth == 6:
            return "dim"
        return "m" if third == 3 else ""

    def symbol(self, region: Key) -> str:
        letter, alter = region.spell(60 + self.root)
        return letter + {-2: "bb", -1: "b", 0: "", 1: "#", 2: "##"}[alter] + self.quality

    def is_dominant(self) -> bool:
        return self.degree == 4 and self.quality == ""


def triad(degree: int, region_pc: int, mode: str, next_degree: int | None = None) -> Chord:
    """The triad on `degree` of a region. Minor regions use harmonic minor's V and vii°
    (raised leading tone), except a VII that moves to III keeps the natural seventh."""
    scale = list(SCALES["minor" if mode == "minor" else "major"])
    if mode == "minor" and (degree == 4 or (degree == 6 and next_degree != 2)):
        scale[6] = 11
    tones = tuple((region_pc + scale[(degree + k) % 7]) % 12 for k in (0, 2, 4))
    return Chord(degree, region_pc % 12, mode, (tones[0], tones[1], tones[2]))


def parallel_motion(before: tuple[int, int] | None, now: tuple[int, int]) -> bool:
    """Parallel fifths or octaves from one (upper, lower) pitch pair to the next: both voices
    move the same way and keep a perfect fifth or an octave (compound or not) apart."""
    if before is None:
        return False
    up, down = now[0] - before[0], now[1] - before[1]
    similar = up != 0 and down != 0 and (up > 0) == (down > 0)
    interval = (now[0] - now[1]) % 12
    return similar and interval in (0, 7) and interval == (before[0] - before[1]) % 12


def length_suffix(sixteenths: int, unit_sixteenths: int = 2) -> str:
    """ABC length for a duration in sixteenths when L: is `unit_sixteenths` sixteenths."""
    value = Fraction(sixteenths, unit_sixteenths)
    if value == 1:
        return ""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator if value.numerator != 1 else ''}/{value.denominator}"
