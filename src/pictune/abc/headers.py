"""Reading and normalising the values of the K:, M:, L: and Q: header fields."""

from __future__ import annotations

import re
from fractions import Fraction

from pictune.abc.tokens import parse_meter, parse_unit

MODES = {
    "": "",
    "maj": "",
    "major": "",
    "ion": "",
    "ionian": "",
    "m": "m",
    "min": "m",
    "minor": "m",
    "aeo": "m",
    "aeolian": "m",
    "mix": "Mix",
    "mixolydian": "Mix",
    "dor": "Dor",
    "dorian": "Dor",
    "phr": "Phr",
    "phrygian": "Phr",
    "lyd": "Lyd",
    "lydian": "Lyd",
    "loc": "Loc",
    "locrian": "Loc",
}
_KEY = re.compile(
    r"^\s*(?P<tonic>[A-Ga-g])\s*(?P<acc>#|b|♯|♭|sharp|flat|-sharp|-flat)?\s*(?P<mode>[A-Za-z]*)\s*(?P<rest>.*)$"
)
_KEY_EXTRAS = re.compile(r"^(clef|middle|transpose|octave|stafflines|treble|bass|alto|tenor)\b")
NO_KEY = ("none", "hp", "hp", "Hp", "HP")
ALLOWED_UNITS = {Fraction(1, 2**n) for n in range(0, 8)}  # 1/1 … 1/128
MIN_TEMPO, MAX_TEMPO = 20, 400  # quarter notes per minute that make sense to play


def normalise_key(value: str) -> str | None:
    """A K: value abc2midi understands ('G', 'Em', 'D Dor', 'Bb clef=bass'), or None if unreadable.

    Accepts what models write: 'G major', 'E minor', 'F# Minor', 'Bb-flat', 'D dorian'.
    """
    value = value.split("%")[0].strip()
    if not value:
        return None
    if value.split()[0] in NO_KEY:
        return value
    match = _KEY.match(value)
    if not match:
        return None
    tonic = match.group("tonic").upper()
    acc = {"#": "#", "♯": "#", "sharp": "#", "-sharp": "#", "b": "b", "♭": "b", "flat": "b"}.get(
        match.group("acc") or "", ""
    )
    if match.group("acc") == "-flat":
        acc = "b"
    mode_word = match.group("mode").lower()
    rest = match.group("rest").strip()
    if mode_word not in MODES:
        if mode_word[:3] in MODES and len(mode_word) <= 10:
            mode_word = mode_word[:3]
        elif _KEY_EXTRAS.match(match.group("mode") + " " + rest):
            rest = (match.group("mode") + " " + rest).strip()
            mode_word = ""
        else:
            return None
    mode = MODES[mode_word]
    key = f"{tonic}{acc}{' ' + mode if mode and mode != 'm' else mode}"
    extras = [part for part in rest.split() if "=" in part or _KEY_EXTRAS.match(part)]
    return " ".join([key, *extras])


def normalise_meter(value: str) -> str | None:
    """An M: value ('6/8', 'C', 'C|', 'none'), or None when it is not a meter."""
    text = value.split("%")[0].strip()
    if text.lower() in ("none", "free"):
        return "none"
    if text in ("C", "C|"):
        return text
    words = text.lower()
    if words in ("common", "common time"):
        return "C"
    if words in ("cut", "cut time", "alla breve"):
        return "C|"
    compact = re.sub(r"\s+", "", text)
    meter = parse_meter(compact)
    if meter is None:
        return None
    numerator, denominator = compact.split("/")
    if int(denominator) not in (1, 2, 4, 8, 16, 32, 64) or meter > 16:
        return None
    return compact if numerator.strip("()").replace("+", "").isdigit() else None


def normalise_unit(value: str) -> str | None:
    """An L: value between 1/1 and 1/128 with a power-of-two denominator, or None."""
    unit = parse_unit(value)
    if unit is None:
        bare = value.strip()
        if bare.isdigit() and int(bare) > 0:
            unit = Fraction(1, int(bare))
        else:
            return None
    if unit not in ALLOWED_UNITS:
        return None
    return f"{unit.numerator}/{unit.denominator}"


def tempo_qpm(value: str) -> float | None:
    """Quarter notes per minute of a Q: value ('1/4=120', '3/8=80', '120', '"Allegro" 1/4=132')."""
    text = re.sub(r'"[^"]*"', " ", value.split("%")[0]).strip()
    match = re.search(r"((?:\d+/\d+\.?\s*)+)=\s*(\d+(?:\.\d+)?)", text)
    if match:
        beat = Fraction(0)
        for part in re.findall(r"\d+/\d+\.?", match.group(1)):  # '1/41/4' runs together
            # A dotted beat ('1/4.', as models write for compound time) is one and a half.
            beat += Fraction(part.rstrip(".")) * (Fraction(3, 2) if part.endswith(".") else 1)
        return float(beat * 4) * float(match.group(2))
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)  # a bare number is quarter notes per minute (the old ABC form)
    return None


def tempo_words(value: str) -> str | None:
    """The quoted tempo text of a Q: value ('Allegro'), if any."""
    match = re.search(r'"([^"]*)"', value)
    return match.group(1) if match else None


def normalise_tempo(value: str) -> str | None:
    """A Q: value of the form '1/4=N' with N clamped to a playable range; None when unreadable."""
    qpm = tempo_qpm(value)
    if qpm is None:
        return None
    words = tempo_words(value)
    beat = re.search(r"(\d+)/(\d+)(\.?)\s*=", value)
    if beat and MIN_TEMPO <= qpm <= MAX_TEMPO:
        unit = Fraction(int(beat.group(1)), max(int(beat.group(2)), 1))
        if beat.group(3):
            unit *= Fraction(3, 2)
        per_minute = round(qpm / float(unit * 4))
        text = f"{unit.numerator}/{unit.denominator}={per_minute}"
    else:
        text = f"1/4={round(min(max(qpm, MIN_TEMPO), MAX_TEMPO))}"
    return f'"{words}" {text}' if words else text
