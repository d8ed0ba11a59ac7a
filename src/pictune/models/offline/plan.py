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

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

from pictune.models.offline.analysis import ImageAnalysis

# decision: (what it reads, the rule, the source) — shown in reports and docs.
MAPPING: tuple[tuple[str, str, str, str], ...] = (
    ("mode", "valence = 0.45·brightness + 0.35·saturation + 0.2·warmth (0–1)", "valence ≥ 0.45 → major, < 0.45 → minor", "Palmer et al. 2013"),
    ("tempo", "arousal = 0.4·saturation + 0.3·brightness + 0.3·contrast", "quarter notes a minute = 56 + 110·arousal", "Palmer et al. 2013"),
    ("key", "hue of the dominant colour", "hue circle laid on the circle of fifths", "convention (Scriabin)"),
    ("register", "brightness", "melody centre from G4 (dark) to E5 (bright)", "Marks 1987; Collier & Hubbard 2004"),
    ("density", "edge density and texture", "notes per beat 1.3 (smooth) … 2.3 (busy)", "Spence 2011"),
    ("meter", "symmetry, complexity, warmth", "calm asymmetric → 3/4; lively warm → 6/8; else 4/4", "pictune heuristic"),
    ("dynamics", "contrast and arousal", "p … f; wider contrast, wider dynamic range", "Spence 2011"),
    ("articulation", "edge sharpness", "sharp edges → detached; soft → slurred", "Spence 2011"),
    ("instruments", "warmth and brightness", "warm → strings/oboe/horn, cool → flute/clarinet over piano or harp, dark → viola/clarinet over strings", "pictune heuristic"),
    ("texture", "meter, arousal, symmetry", "waltz in 3/4, oom-pah march in 2/4, calm → pad or arpeggio, lively → strummed", "pictune heuristic"),
    ("harmony", "tempo and meter", "two chords a bar below 100 bpm in 4/4 and 6/8, else one", "pictune heuristic"),
    ("form", "symmetry", "symmetric → forms with a return (AABA, ABA', ABACA), else AABB, ABAB, ABAC", "pictune heuristic"),
    ("percussion", "arousal and contrast", "energetic, high-contrast pictures get drums", "pictune heuristic"),
    ("countermelody", "complexity and texture", "a detailed picture over sustained or block chords gets a third line between tune and bass", "pictune heuristic"),
)  # fmt: skip

T = TypeVar("T")
COUNTER_COMPLEXITY = 0.3  # pictures at least this detailed get a countermelody over still chords

# Circle of fifths laid around the hue circle, starting at red (0°).
FIFTHS_MAJOR = ("C", "G", "D", "A", "E", "B", "F#", "Db", "Ab", "Eb", "Bb", "F")
# Keys with at most four sharps or flats stand in for their neighbours on the circle.
NEAREST_WRITTEN = {"B": ("E", "E"), "F#": ("E", "Ab"), "Db": ("Ab", "Ab")}
RELATIVE_MINOR = {
    "C": "A", "G": "E", "D": "B", "A": "F#", "E": "C#", "F": "D", "Bb": "G", "Eb": "C", "Ab": "F",
}  # fmt: skip
INSTRUMENTS = {
    "piano": 0, "harpsichord": 6, "vibraphone": 11, "marimba": 12, "organ": 19, "accordion": 21,
    "guitar": 24, "acoustic bass": 32, "violin": 40, "viola": 41, "cello": 42, "contrabass": 43,
    "harp": 46, "strings": 48, "choir": 52, "trumpet": 56, "trombone": 57, "tuba": 58,
    "horn": 60, "saxophone": 65, "oboe": 68, "bassoon": 70, "clarinet": 71, "flute": 73,
    "recorder": 74, "pan flute": 75, "whistle": 78, "fiddle": 40,
}  # fmt: skip
PROGRAM_NAMES = {v: k for k, v in INSTRUMENTS.items()}
PROGRAM_NAMES[40] = "violin"
# The lowest and highest MIDI pitch each melody instrument plays well (a player's range).
MELODY_RANGES = {
    0: (48, 96), 6: (48, 89), 11: (53, 89), 12: (48, 96), 19: (48, 96), 21: (53, 89),
    24: (52, 83), 40: (55, 96), 41: (48, 84), 42: (36, 76), 46: (36, 96), 48: (48, 96),
    52: (55, 79), 56: (55, 82), 57: (40, 72), 60: (41, 77), 65: (49, 81), 68: (58, 91),
    70: (34, 75), 71: (50, 91), 73: (60, 96), 74: (60, 86), 75: (60, 86), 78: (62, 93),
}  # fmt: skip
# Ensembles a prompt may name: melody, chords, bass.
FAMILIES = {
    "brass": (56, 60, 58),
    "woodwinds": (73, 71, 70),
    "woodwind": (73, 71, 70),
    "strings": (40, 48, 42),
    "choir": (52, 52, 52),
    "piano": (0, 0, 0),
    "organ": (19, 19, 19),
}
TEXTURES = ("hymn", "pad", "arpeggio", "waltz", "march", "strummed")
FORMS = {
    1: ("A",),
    2: ("AA'",),
    3: ("ABA'",),
    4: ("AABA", "ABA'A'", "AABB", "ABAB", "ABAC"),
    5: ("ABACA",),
    6: ("AABBA'A'", "ABACAA'"),
    7: ("ABACABA",),
    8: ("AA'BB'AA'CA", "ABACABA'A'", "AABBAA'BA'"),
}
RETURNING = {"AABA", "ABA'A'", "ABA'", "AA'", "ABACA", "AABBA'A'", "ABACABA", "AA'BB'AA'CA"}


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
    melody_span: int = 5  # scale degrees the tune may climb above its upper tonic's fifth
    texture: str = "hymn"  # accompaniment: one of TEXTURES
    bass_program: int = 42
    percussion: bool = False
    countermelody: bool = False  # a third line between the tune and the bass
    chords_per_bar: int = 1
    contrast: str = "relative"  # key region of the B section: relative or dominant
    cadence_colour: str = "plain"  # plain, deceptive (one closing cadence) or plagal (coda)
    intro: bool = False
    ending: bool = False
    fingerprint: int = 0  # of the picture: mixed into the seed, breaks ties in the mapping
    unused_words: tuple[str, ...] = ()
    melody_tonic: int = 0  # the tune's home tonic as a MIDI pitch; 0: from centre and range

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MusicalPlan:
        """The plan a record's `to_dict` wrote (fields it lacks take their defaults)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["unused_words"] = tuple(values.get("unused_words", ()))
        values["overrides"] = dict(values.get("overrides", {}))
        return cls(**values)

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


def fingerprint(analysis: ImageAnalysis) -> int:
    """A stable number for a picture's measurements (sha256 of their rounded values)."""
    text = json.dumps(analysis.to_dict(), sort_keys=True, default=str)
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def _pick(options: tuple[T, ...], print_: int, salt: int) -> T:
    return options[(print_ >> (salt * 4)) % len(options)]


def _instruments(analysis: ImageAnalysis, arousal: float, print_: int) -> tuple[int, int, int]:
    """Melody, chords and bass instruments for the picture's light and warmth."""
    if analysis.brightness < 0.3:
        return _pick(((41, 48, 42), (71, 48, 43), (68, 46, 42)), print_, 1)
    if analysis.warmth > 0.15:
        if arousal > 0.55:
            return _pick(((40, 48, 42), (56, 24, 32), (68, 24, 32)), print_, 1)
        return _pick(((40, 46, 42), (68, 48, 42), (60, 0, 43)), print_, 1)
    if analysis.brightness > 0.55:
        return _pick(((73, 0, 0), (73, 46, 42), (11, 0, 43), (74, 46, 70)), print_, 1)
    return _pick(((71, 0, 0), (71, 46, 70), (0, 48, 43), (65, 0, 32)), print_, 1)


def _texture(meter: str, arousal: float, symmetry: float, print_: int) -> str:
    if meter == "3/4":
        return "waltz" if arousal >= 0.35 else _pick(("arpeggio", "pad"), print_, 2)
    if meter == "2/4":
        return "march"
    if meter == "6/8":
        return "march" if arousal >= 0.6 else "arpeggio"
    if arousal < 0.3:
        return _pick(("pad", "arpeggio"), print_, 2)
    if arousal < 0.45:
        return "hymn" if symmetry >= 0.6 else "arpeggio"
    if arousal >= 0.6:
        return _pick(("strummed", "march"), print_, 2)
    return _pick(("arpeggio", "hymn", "strummed"), print_, 2)


def centre_for(program: int, centre: int) -> int:
    """The melody's centre moved, by octaves, into the instrument's range (the tune spans
    from a fourth under its tonic to an octave or more above it)."""
    low, high = MELODY_RANGES.get(program, (55, 88))
    while centre - 8 < low:
        centre += 12
    while centre + 10 > high and centre - 12 - 8 >= low:
        centre -= 12
    return centre


def harmonic_rhythm(meter: str, tempo: int) -> int:
    return 2 if meter in ("4/4", "6/8", "2/2", "12/8") and tempo < 100 else 1


def form_for(bars: int, returning: bool, print_: int) -> str:
    options = FORMS.get(max(1, bars // 4), FORMS[4])
    preferred = tuple(f for f in options if (f in RETURNING) == returning) or options
    return str(_pick(preferred, print_, 3))


def plan_from_analysis(
    analysis: ImageAnalysis,
    prompt: str | None = None,
    bars: int = 16,
    moods: Callable[[str], Any] | None = None,
) -> MusicalPlan:
    """The plan the mapping table gives for `analysis`, then the prompt's overrides (free
    text read onto the mood axes by `moods`, a sentence-embedder reading, when given)."""
    print_ = fingerprint(analysis)
    valence = (
        0.45 * analysis.brightness + 0.35 * analysis.saturation + 0.2 * (analysis.warmth + 1) / 2
    )
    arousal = 0.4 * analysis.saturation + 0.3 * analysis.brightness + 0.3 * analysis.contrast
    mode = "major" if valence >= 0.45 else "minor"
    dominant = next((c for c in analysis.palette if c.chroma >= 12), None)
    if dominant is not None:
        major = FIFTHS_MAJOR[int(dominant.hue_degrees // 30) % 12]
    else:  # no colour to read: the picture's fingerprint picks the key
        major = FIFTHS_MAJOR[print_ % 12]
    if major in NEAREST_WRITTEN:
        major = NEAREST_WRITTEN[major][print_ % 2]
    tonic = major if mode == "major" else RELATIVE_MINOR[major]
    density = 1.3 + 1.0 * min(1.0, 0.6 * analysis.edge_density * 5 + 0.4 * analysis.texture)
    if analysis.symmetry < 0.55 and arousal < 0.45:
        meter = "3/4"
    elif analysis.warmth > 0.2 and arousal >= 0.55:
        meter = "6/8"
    elif arousal >= 0.62 and analysis.symmetry >= 0.7:
        meter = "2/4"
    else:
        meter = _pick(("4/4", "4/4", "3/4"), print_, 5) if 0.45 <= arousal < 0.55 else "4/4"
    strength = 0.5 * arousal + 0.5 * analysis.contrast
    dynamic = (
        "p" if strength < 0.3 else "mp" if strength < 0.45 else "mf" if strength < 0.62 else "f"
    )
    melody, accompaniment, bass = _instruments(analysis, arousal, print_)
    tempo = round(56 + 110 * arousal) + (print_ >> 20) % 9 - 4
    bars = max(4, min(64, 4 * round(bars / 4)))
    returning = analysis.symmetry >= 0.6
    plan = MusicalPlan(
        tonic=tonic,
        mode=mode,
        tempo_qpm=tempo,
        meter=meter,
        melody_centre=centre_for(melody, round(67 + 9 * analysis.brightness)),
        notes_per_beat=round(density, 2),
        dynamic=dynamic,
        legato=analysis.edge_density < 0.12,
        melody_program=melody,
        accompaniment_program=accompaniment,
        form=form_for(bars, returning, print_),
        bars=bars,
        valence=round(valence, 3),
        arousal=round(arousal, 3),
        texture=_texture(meter, arousal, analysis.symmetry, print_),
        bass_program=bass,
        percussion=arousal >= 0.62 and analysis.contrast >= 0.35,
        countermelody=analysis.complexity >= COUNTER_COMPLEXITY
        and _texture(meter, arousal, analysis.symmetry, print_) in ("pad", "hymn"),
        chords_per_bar=harmonic_rhythm(meter, tempo),
        contrast="dominant" if mode == "major" and (print_ >> 8) % 3 == 0 else "relative",
        cadence_colour=(
            "plagal" if arousal < 0.4 else "deceptive" if (print_ >> 12) % 3 == 0 else "plain"
        ),
        intro=bars >= 16 and (print_ >> 16) % 3 == 0,
        ending=bars >= 16 and (arousal < 0.4 or (print_ >> 24) % 2 == 0),
        fingerprint=print_,
    )
    return apply_prompt(plan, prompt, moods) if prompt else plan


def apply_prompt(
    plan: MusicalPlan, prompt: str, moods: Callable[[str], Any] | None = None
) -> MusicalPlan:
    """The plan with the user's words applied (see `pictune.models.offline.prompt`)."""
    from pictune.models.offline.prompt import apply_words

    return apply_words(plan, prompt, moods)


def piece_kind(plan: MusicalPlan) -> str:
    """What a musician would call the piece from its meter, tempo and dynamics: a slow,
    quiet 6/8 is a lullaby (a siciliana when louder), a quick one a jig; a 3/4 a waltz with
    a waltz accompaniment or when it moves, else an air; a 2/4 a march likewise; a 4/4 an
    air or a song."""
    slow, soft = plan.tempo_qpm < 90, plan.dynamic in ("p", "mp")
    if plan.meter == "6/8":
        return ("Lullaby" if soft else "Siciliana") if slow else "Jig"
    if plan.meter == "3/4":
        return "Waltz" if plan.texture == "waltz" or plan.tempo_qpm >= 80 else "Air"
    if plan.meter == "2/4":
        return "March" if plan.texture == "march" or not slow else "Air"
    return "Air" if slow else "Song"
