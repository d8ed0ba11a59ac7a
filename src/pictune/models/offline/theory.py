"""Scales, spelling and ABC note names for the offline composer."""

from __future__ import annotations

from fractions import Fraction

LETTERS = "CDEFGAB"
NATURAL_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}


def tonic_pc(tonic: str) -> int:
    base = NATURAL_PC[tonic[0].upper()]
    return (base + tonic[1:].count("#") - tonic[1:].count("b")) % 12


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

    def abc(self, degree: int, base_octave: int = 4, alter: int = 0) -> str:
        """ABC name of a degree; `alter` raises (+1) or lowers (-1) it with an explicit sign."""
        _octave, step = divmod(degree, 7)
        letter = LETTERS[(self.letter_index + step) % 7]
        pitch = self.pitch(degree, base_octave) + alter
        accidental = self.signature[letter] + alter
        natural = pitch - accidental
        letter_octave = natural // 12 - 1
        sign = ""
        if alter:
            sign = {-2: "__", -1: "_", 0: "=", 1: "^", 2: "^^"}[accidental]
        if letter_octave >= 5:
            return sign + letter.lower() + "'" * (letter_octave - 5)
        return sign + letter + "," * (4 - letter_octave)

    def degree_of(self, pitch: int, base_octave: int = 4) -> int:
        """Nearest absolute degree for a MIDI pitch (non-scale pitches snap down)."""
        relative = pitch - 12 * (base_octave + 1) - self.pc
        octave, within = divmod(relative, 12)
        step = max(i for i, semitones in enumerate(self.scale) if semitones <= within)
        return 7 * octave + step


def length_suffix(sixteenths: int, unit_sixteenths: int = 2) -> str:
    """ABC length for a duration in sixteenths when L: is `unit_sixteenths` sixteenths."""
    value = Fraction(sixteenths, unit_sixteenths)
    if value == 1:
        return ""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator if value.numerator != 1 else ''}/{value.denominator}"
