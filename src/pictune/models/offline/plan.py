"""From image measurements to a musical plan, through one readable mapping table.

The mapping follows published cross-modal correspondences:
- Palmer, Schloss, Xu & Prado-León (2013), "Music–color associations are mediated by
  emotion", PNAS 110(22): lighter, more saturated and warmer (yellower) colours go with
  faster music in the major mode; darker, desaturated, bluer colours with slower, minor.
- Marks (1987), J. Exp. Psychol. HPP 13(3), and Collier & Hubbard (2004): brighter ↔ higher
  pitch.
- Spence (2011), "Crossmodal correspondences: a tutorial review", Atten. Percept.
  Psychophys. 73: visual complexity and sharpness ↔ rhythmic density and articulation.
Key from hue uses the circle of fifths around the hue circle: an artistic convention
(after Scriabin's colour–key system), not an empirical finding; the docs say so.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from pictune.models.offline.analysis import ImageAnalysis

# decision: (what it reads, the rule, the source) — shown in reports and docs.
MAPPING: tuple[tuple[str, str, str, str], ...] = (
    ("mode", "valence = 0.45·brightness + 0.35·saturation + 0.2·warmth (0–1)", "valence ≥ 0.45 → major, < 0.45 → minor", "Palmer et al. 2013"),
    ("tempo", "arousal = 0.4·saturation + 0.3·brightness + 0.3·contrast", "quarter notes a minute = 56 + 110·arousal", "Palmer et al. 2013"),
    ("key", "hue of the dominant colour", "hue circle laid on the circle of fifths", "convention (Scriabin)"),
    ("register", "brightness", "melody centre from G4 (dark) to E5 (bright)", "Marks 1987; Collier & Hubbard 2004"),
    ("density", "edge density and texture", "notes per beat 1 (smooth) … 2.5 (busy)", "Spence 2011"),
    ("meter", "symmetry, complexity, warmth", "calm asymmetric → 3/4; lively warm → 6/8; else 4/4", "pictune heuristic"),
    ("dynamics", "contrast and arousal", "p … f; wider contrast, wider dynamic range", "Spence 2011"),
    ("articulation", "edge sharpness", "sharp edges → detached; soft → slurred", "Spence 2011"),
    ("instruments", "warmth and brightness", "warm → strings/horn, cool → flute/piano/vibraphone, dark → cello", "pictune heuristic"),
    ("form", "symmetry", "symmetric → AABA (return), else ABAB", "pictune heuristic"),
)  # fmt: skip

# Circle of fifths laid around the hue circle, starting at red (0°).
FIFTHS_MAJOR = ("C", "G", "D", "A", "E", "B", "F#", "Db", "Ab", "Eb", "Bb", "F")
SAFE_MAJOR = {"C", "G", "D", "A", "E", "F", "Bb", "Eb"}
RELATIVE_MINOR = {
    "C": "A",
    "G": "E",
    "D": "B",
    "A": "F#",
    "E": "C#",
    "F": "D",
    "Bb": "G",
    "Eb": "C",
}
INSTRUMENTS = {
    "piano": 0, "harpsichord": 6, "vibraphone": 11, "marimba": 12, "organ": 19, "accordion": 21,
    "guitar": 24, "violin": 40, "viola": 41, "cello": 42, "harp": 46, "strings": 48, "choir": 52,
    "trumpet": 56, "trombone": 57, "horn": 60, "saxophone": 65, "oboe": 68, "bassoon": 70,
    "clarinet": 71, "flute": 73, "recorder": 74, "pan flute": 75, "whistle": 78, "fiddle": 40,
}  # fmt: skip
PROGRAM_NAMES = {v: k for k, v in INSTRUMENTS.items()}
TEXTURES = ("chords", "light", "bass")  # triads; bass and single notes; downbeat bass only


@dataclass(frozen=True)
class MusicalPlan:
    tonic: str
    mode: str  # "major" or "minor"
    tempo_qpm: int
    meter: str
    melody_centre: int  # MIDI pitch the melody moves around
    notes_per_beat: float
    dynamic: str  # p, mp, mf, f
    legato: bool
    melody_program: int
    accompaniment_program: int
    form: str
    bars: int
    valence: float
    arousal: float
    overrides: dict[str, str] = field(default_factory=dict)
    melody_span: int = 3  # scale degrees the tune may move either side of its centre
    texture: str = "chords"  # accompaniment: one of TEXTURES, fullest first

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key_abc(self) -> str:
        return self.tonic + ("m" if self.mode == "minor" else "")

    def description(self) -> str:
        """A caption-like sentence for retrieval ('A melancholic waltz in A minor in 3/4 …')."""
        mood = (
            ("cheerful" if self.arousal < 0.55 else "lively")
            if self.mode == "major"
            else ("melancholic" if self.arousal < 0.5 else "driving")
        )
        form = {"3/4": "waltz", "6/8": "jig", "2/4": "march"}.get(self.meter, "tune")
        speed = "slow" if self.tempo_qpm < 84 else "fast" if self.tempo_qpm >= 120 else "moderate"
        return (
            f"A {speed} {mood} {form} in {self.tonic} {self.mode} in {self.meter} at "
            f"{self.tempo_qpm} bpm, for {PROGRAM_NAMES.get(self.melody_program, 'piano')}."
        )


def plan_from_analysis(
    analysis: ImageAnalysis, prompt: str | None = None, bars: int = 16
) -> MusicalPlan:
    """The plan the mapping table gives for `analysis`, then the prompt's overrides."""
    valence = (
        0.45 * analysis.brightness + 0.35 * analysis.saturation + 0.2 * (analysis.warmth + 1) / 2
    )
    arousal = 0.4 * analysis.saturation + 0.3 * analysis.brightness + 0.3 * analysis.contrast
    mode = "major" if valence >= 0.45 else "minor"
    dominant = next((c for c in analysis.palette if c.chroma >= 12), None)
    hue = dominant.hue_degrees if dominant else 0.0
    major = FIFTHS_MAJOR[int(hue // 30) % 12]
    if major not in SAFE_MAJOR:  # keep to keys with few accidentals
        major = min(
            SAFE_MAJOR, key=lambda k: abs(FIFTHS_MAJOR.index(k) - FIFTHS_MAJOR.index(major))
        )
    tonic = major if mode == "major" else RELATIVE_MINOR[major]
    density = 1.0 + 1.5 * min(1.0, 0.6 * analysis.edge_density * 5 + 0.4 * analysis.texture)
    if analysis.symmetry < 0.55 and arousal < 0.45:
        meter = "3/4"
    elif analysis.warmth > 0.2 and arousal >= 0.55:
        meter = "6/8"
    else:
        meter = "4/4"
    strength = 0.5 * arousal + 0.5 * analysis.contrast
    dynamic = (
        "p" if strength < 0.3 else "mp" if strength < 0.45 else "mf" if strength < 0.62 else "f"
    )
    if analysis.brightness < 0.3:
        melody, accompaniment = INSTRUMENTS["cello"], INSTRUMENTS["piano"]
    elif analysis.warmth > 0.15:
        melody, accompaniment = (
            INSTRUMENTS["violin" if arousal > 0.5 else "horn"],
            INSTRUMENTS["strings"],
        )
    else:
        melody, accompaniment = (
            INSTRUMENTS["flute" if analysis.brightness > 0.55 else "clarinet"],
            INSTRUMENTS["piano"],
        )
    plan = MusicalPlan(
        tonic=tonic,
        mode=mode,
        tempo_qpm=round(56 + 110 * arousal),
        meter=meter,
        melody_centre=round(67 + 9 * analysis.brightness),
        notes_per_beat=round(density, 2),
        dynamic=dynamic,
        legato=analysis.edge_density < 0.12,
        melody_program=melody,
        accompaniment_program=accompaniment,
        form="AABA" if analysis.symmetry >= 0.6 else "ABAB",
        bars=max(4, min(64, bars)),
        valence=round(valence, 3),
        arousal=round(arousal, 3),
    )
    return apply_prompt(plan, prompt) if prompt else plan


_TEMPO_WORDS = {
    "largo": 52,
    "adagio": 66,
    "slow": 66,
    "andante": 88,
    "moderato": 108,
    "allegro": 138,
    "fast": 144,
    "lively": 132,
    "presto": 176,
}
_METER_WORDS = {
    "waltz": "3/4",
    "minuet": "3/4",
    "jig": "6/8",
    "march": "2/4",
    "reel": "4/4",
    "polka": "2/4",
}
_MOOD_MODE = {"sad": "minor", "melancholic": "minor", "dark": "minor", "gloomy": "minor", "mournful": "minor",
              "happy": "major", "cheerful": "major", "joyful": "major", "bright": "major", "triumphant": "major"}  # fmt: skip


def apply_prompt(plan: MusicalPlan, prompt: str) -> MusicalPlan:
    """Let the user's words override the plan where they speak: tempo, meter, instruments,
    mood (→ mode) and key names ('in D minor')."""
    text = prompt.lower()
    words = re.findall(r"[a-z]+", text)
    changes: dict[str, Any] = {}
    said: dict[str, str] = {}
    for word in words:
        if word in _TEMPO_WORDS:
            changes["tempo_qpm"], said["tempo"] = _TEMPO_WORDS[word], word
        if word in _METER_WORDS:
            changes["meter"], said["meter"] = _METER_WORDS[word], word
        if word in _MOOD_MODE:
            changes["mode"], said["mode"] = _MOOD_MODE[word], word
    bpm = re.search(r"(\d{2,3})\s*bpm", text)
    if bpm:
        changes["tempo_qpm"], said["tempo"] = max(30, min(240, int(bpm.group(1)))), bpm.group(0)
    meter = re.search(r"\b([2-9]|12)/(4|8|2)\b", text)
    if meter:
        changes["meter"], said["meter"] = meter.group(0), meter.group(0)
    named = [
        name
        for name in sorted(INSTRUMENTS, key=len, reverse=True)
        if re.search(rf"\b{name}s?\b", text)
    ]
    if named:
        changes["melody_program"] = INSTRUMENTS[named[0]]
        changes["accompaniment_program"] = (
            INSTRUMENTS[named[1]] if len(named) > 1 else INSTRUMENTS[named[0]]
        )
        said["instruments"] = ", ".join(named)
    key = re.search(r"\b(?:in\s+)?([a-g])\s*(#|sharp|b|flat)?\s*(major|minor)\b", text)
    if key:
        tonic = key.group(1).upper() + (
            "#" if key.group(2) in ("#", "sharp") else "b" if key.group(2) in ("b", "flat") else ""
        )
        changes["tonic"], changes["mode"], said["key"] = tonic, key.group(3), key.group(0).strip()
    elif "mode" in changes and changes["mode"] != plan.mode:
        relative = {v: k for k, v in RELATIVE_MINOR.items()}
        changes["tonic"] = (
            RELATIVE_MINOR.get(plan.tonic, "A")
            if changes["mode"] == "minor"
            else relative.get(plan.tonic, "C")
        )
    return replace(plan, **changes, overrides={**plan.overrides, **said})
