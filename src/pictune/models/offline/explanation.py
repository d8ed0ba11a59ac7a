"""Why the offline composer chose what it chose: a motivation text and a heat grid."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from pictune.models.offline.analysis import ImageAnalysis
from pictune.models.offline.counter import counter_program
from pictune.models.offline.plan import PROGRAM_NAMES, MusicalPlan
from pictune.music.novelty import COPY_RUN

GRID = (10, 15)  # rows × columns, as the paper's attention map


def _level(value: float, words: tuple[str, str, str]) -> str:
    return words[0] if value < 0.35 else words[1] if value < 0.6 else words[2]


def motivation(
    analysis: ImageAnalysis,
    plan: MusicalPlan,
    references: list[str],
    revisions: list[str] | None = None,
    copied_run: int | None = None,
    facts: dict[str, Any] | None = None,
) -> str:
    """Sentences naming each measurement and the musical choice it drove, and the revisions
    refinement made after measuring the first draft. `copied_run` is the longest run of
    melody notes the piece shares with a reference, as measured (the text says so only
    when it is true that nothing is copied). `facts` are the piece's own measurements
    (`GeneratedPiece.notes`): the text states them rather than the plan's targets."""
    facts = facts or {}
    colours = ", ".join(f"{c.name} ({c.share:.0%})" for c in analysis.palette[:3])
    light = _level(analysis.brightness, ("dark", "moderately lit", "bright"))
    saturated = _level(analysis.saturation, ("muted", "moderately saturated", "vivid"))
    warmth = "warm" if analysis.warmth > 0.15 else "cool" if analysis.warmth < -0.15 else "neutral"
    sentences = [
        f"The picture is {light} (lightness {analysis.brightness:.2f}), {saturated} (saturation "
        f"{analysis.saturation:.2f}) and {warmth} in colour (warmth {analysis.warmth:+.2f}); its "
        f"main colours are {colours}.",
        f"Lighter, more saturated and warmer pictures go with major, faster music (Palmer et al. "
        f"2013): the valence these give, {plan.valence:.2f}, sets the {plan.mode} mode, and the "
        f"arousal, {plan.arousal:.2f}, a tempo of {plan.tempo_qpm} quarter notes a minute.",
        f"The hue of the dominant colour places the key at {plan.tonic} {plan.mode} on the circle "
        f"of fifths laid around the colour wheel.",
        _register_sentence(plan, facts),
        f"Edges cover {analysis.edge_density:.0%} of the picture, so the melody moves at about "
        f"{facts.get('notes_per_beat', plan.notes_per_beat):.1f} notes a beat and is "
        f"{'slurred' if plan.legato else 'detached'}.",
        f"With symmetry {analysis.symmetry:.2f} and complexity {analysis.complexity:.2f} the "
        f"piece is in {plan.meter} with {_article(plan.form)} {plan.form} form; contrast "
        f"{analysis.contrast:.2f} sets the dynamics at {plan.dynamic}.",
        _harmony_sentence(facts),
        ensemble_sentence(plan.melody_program, plan.accompaniment_program, plan.bass_program)
        + (
            " Your prompt chose them."
            if "instruments" in plan.overrides
            else f" They were chosen for a {warmth}, {light} picture."
        ),
        _texture_sentence(facts.get("texture", plan.texture), plan.percussion),
        counter_sentence(plan.melody_program) if facts.get("countermelody") else "",
    ]
    sentences = [s for s in sentences if s]
    if plan.overrides:
        said = "; ".join(f"{k}: {v}" for k, v in plan.overrides.items())
        sentences.append(f"Your prompt overrode the picture where it spoke ({said}).")
    if plan.unused_words:
        sentences.append(f"Your prompt had no effect on: {', '.join(plan.unused_words)}.")
    if references:
        learned = "The melody's phrase shapes were learned from tunes such as " + "; ".join(
            references[:3]
        )
        if copied_run is not None and copied_run < COPY_RUN:
            learned += f", and no run of {COPY_RUN} notes is copied from them."
        elif copied_run is not None:
            learned += (
                f"; after every redraw it still shares a run of {copied_run} notes with one "
                "of them."
            )
        else:
            learned += "."
        sentences.append(learned)
    if revisions:
        sentences.append(
            "Measured against "
            + ("those tunes" if references else "the corpus")
            + ", the first draft was revised: "
            + "; ".join(revisions)
            + "."
        )
    return " ".join(sentences)


def heat_grid(analysis: ImageAnalysis, plan: MusicalPlan) -> npt.NDArray[np.float64]:
    """Where the decisions came from, as a 10 × 15 grid summing to 1.

    Colour decisions (mode, tempo, key, instruments) weigh the regions of the dominant colours
    by their chroma; register weighs light; density and articulation weigh edges."""
    maps = analysis.maps
    clusters = maps["clusters"]
    chroma = maps["chroma"]
    palette_weight = np.zeros_like(chroma)
    for index, colour in enumerate(analysis.palette[: len(clusters)]):
        palette_weight += clusters[index] * colour.share * (0.3 + colour.chroma / 60)
    key_map = clusters[0] if len(clusters) else np.ones_like(chroma)
    lightness = maps["lightness"]
    contributions = (
        (0.35, palette_weight * (0.5 + chroma)),  # mode and tempo: colour, light, saturation
        (0.2, key_map),  # key: the dominant colour
        (0.15, np.abs(lightness - lightness.mean()) + lightness * 0.5),  # register
        (0.2, maps["edges"]),  # density and articulation
        (0.1, maps["weight"]),  # form and balance
    )
    total = np.zeros_like(chroma)
    for weight, values in contributions:
        span = values.max() - values.min()
        total += weight * (
            (values - values.min()) / span if span > 0 else np.full_like(values, 0.5)
        )
    rows, cols = GRID
    height, width = total.shape
    grid = np.zeros(GRID)
    row_edges = [min(r * height // rows, height - 1) for r in range(rows + 1)]
    col_edges = [min(c * width // cols, width - 1) for c in range(cols + 1)]
    for r in range(rows):
        for c in range(cols):
            top, bottom = row_edges[r], max(row_edges[r + 1], row_edges[r] + 1)
            left, right = col_edges[c], max(col_edges[c + 1], col_edges[c] + 1)
            grid[r, c] = total[top:bottom, left:right].mean()
    return grid / grid.sum() if grid.sum() > 0 else np.full(GRID, 1 / grid.size)


PLURAL = {"strings"}
TEXTURE_WORDS = {
    "hymn": "block chords on every beat, like a hymn",
    "pad": "sustained chords",
    "arpeggio": "broken chords (arpeggios)",
    "waltz": "a waltz accompaniment: the low note on the first beat, chords on the others",
    "march": "an oom-pah accompaniment: low notes on the strong beats, chords between",
    "strummed": "strummed chords",
}


def _article(word: str) -> str:
    return "an" if word[:1].upper() in "AEIOU" or word[:1] in "8" else "a"


def _name(program: int) -> str:
    return PROGRAM_NAMES.get(program, "piano")


def _plays(program: int) -> str:
    return "play" if _name(program) in PLURAL else "plays"


def ensemble_sentence(melody: int, chords: int, low: int) -> str:
    """Who plays what, as one grammatical sentence for every combination of instruments."""
    m, c, b = (f"the {_name(p)}" for p in (melody, chords, low))
    if melody == chords == low:
        return f"{m.capitalize()} {_plays(melody)} the tune, the chords and the lowest line."
    if melody == chords:
        return (
            f"{m.capitalize()} {_plays(melody)} the tune and the chords, and {b} "
            f"{_plays(low)} the lowest line."
        )
    if chords == low:
        return (
            f"{m.capitalize()} {_plays(melody)} the tune, and {c} {_plays(chords)} the chords "
            "and the lowest line."
        )
    if melody == low:
        return (
            f"{m.capitalize()} {_plays(melody)} the tune and the lowest line, and {c} "
            f"{_plays(chords)} the chords."
        )
    return (
        f"{m.capitalize()} {_plays(melody)} the tune, {c} {_plays(chords)} the chords and {b} "
        f"{_plays(low)} the lowest line."
    )


def _pitch_name(pitch: int) -> str:
    names = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
    return f"{names[pitch % 12]}{pitch // 12 - 1}"


def _register_sentence(plan: MusicalPlan, facts: dict[str, Any]) -> str:
    if "melody_low" not in facts:
        return "Brightness sets the register: brighter pictures, higher melodies."
    low, high = int(facts["melody_low"]), int(facts["melody_high"])
    middle = (low + high) / 2
    where = "high" if middle >= 74 else "in the middle" if middle >= 64 else "fairly low"
    span = "an octave" if high - low == 12 else f"{high - low} semitones"
    return (
        f"Brightness sets the register (brighter pictures, higher melodies): the tune lies "
        f"{where}, from {_pitch_name(low)} to {_pitch_name(high)}, spanning {span}."
    )


def _harmony_sentence(facts: dict[str, Any]) -> str:
    cadences = list(facts.get("cadences", []))
    if not cadences:
        return ""
    middle = {"half": "on the dominant (a half cadence)", "deceptive": "on a deceptive cadence",
              "authentic": "on the tonic", "plagal": "on a plagal cadence"}  # fmt: skip
    inner = sorted({middle[c] for c in cadences[:-1]})
    text = "The chords follow successions common in Bach's chorales"
    if inner:
        text += "; phrases pause " + " or ".join(inner)
    text += ", and the piece closes with an authentic cadence, dominant to tonic"
    regions = list(facts.get("regions", []))
    if regions:
        where = {
            "relative": "the related key that shares the key signature",
            "dominant": "the key a fifth higher",
            "subdominant": "the key a fifth lower",
        }
        text += "; the contrasting phrases move to " + " and ".join(where[r] for r in regions)
        text += " and come home through the dominant"
    if facts.get("ending_bars"):
        text += ", then a short ending holds the final chord as the music slows"
    return text + "."


def counter_sentence(melody: int) -> str:
    """What the third voice does, naming its instrument."""
    counter = _name(counter_program(melody))
    verb = "play" if counter in PLURAL else "plays"
    return (
        f"Between the tune and the bass the {counter} {verb} a countermelody: chord tones on "
        "the beats, moving while the tune holds still and mostly against its direction."
    )


def _texture_sentence(texture: str, drums: bool) -> str:
    words = TEXTURE_WORDS.get(texture, "chords")
    text = f"The accompaniment is {words}"
    return text + (", with drums keeping the beat." if drums else ".")
