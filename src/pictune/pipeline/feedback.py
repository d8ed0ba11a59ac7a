"""The refinement feedback: metric definitions with style guidance, reference ranges, and a
candidate score."""

from __future__ import annotations

from dataclasses import dataclass

from pictune.music.metrics import REFINEMENT_METRICS, Metrics

DEFINITIONS = {
    "pitch_range": ("semitones between the lowest and highest note", "wide for orchestral or virtuosic music, narrow for folk songs and chant"),
    "n_pitches_used": ("number of distinct pitches", "high for rich, modulating music; low for simple songs and drones"),
    "n_pitch_classes_used": ("number of distinct pitch classes (of 12)", "7 for diatonic tunes; more for chromatic or jazz harmony"),
    "polyphony": ("average number of notes sounding together", "about 1 for a solo melody; 3–5 for chordal or orchestral textures"),
    "scale_consistency": ("largest share of notes inside one major or minor scale", "near 1 for tonal folk and pop; lower for chromatic or atonal music"),
    "pitch_entropy": ("Shannon entropy (bits) of the pitch histogram", "higher for varied melodies, lower for repetitive ones"),
    "pitch_class_entropy": ("Shannon entropy (bits) of the pitch-class histogram", "about 2.3–2.8 for tonal tunes; above 3 for chromatic music"),
    "empty_beat_rate": ("share of beats in which nothing sounds", "some suits reggae, ambient or sparse music; near 0 suits dance music"),
}  # fmt: skip
# A unit for each metric, so that distances from the reference ranges can be added up.
SCALES = {
    "pitch_range": 12.0, "n_pitches_used": 12.0, "n_pitch_classes_used": 3.0, "polyphony": 1.0,
    "scale_consistency": 0.1, "pitch_entropy": 0.5, "pitch_class_entropy": 0.3, "empty_beat_rate": 0.1,
}  # fmt: skip


@dataclass(frozen=True)
class Range:
    low: float
    high: float


def reference_ranges(metrics: list[Metrics]) -> dict[str, Range]:
    """For each metric, the span of its values over the references (where defined)."""
    ranges = {}
    for name in REFINEMENT_METRICS:
        values = [float(v) for m in metrics if (v := getattr(m, name)) is not None]
        if values:
            ranges[name] = Range(min(values), max(values))
    return ranges


def distance(metrics: Metrics, ranges: dict[str, Range]) -> float:
    """How far the piece's metrics lie outside the reference ranges, in metric units."""
    total = 0.0
    for name, span in ranges.items():
        value = getattr(metrics, name)
        if value is None:
            total += 1.0
            continue
        outside = max(0.0, span.low - float(value), float(value) - span.high)
        total += outside / SCALES[name]
    return round(total, 6)


def metrics_text(metrics: Metrics, ranges: dict[str, Range]) -> str:
    lines = []
    for name in REFINEMENT_METRICS:
        value = getattr(metrics, name)
        shown = (
            "undefined"
            if value is None
            else (f"{value:.3f}" if isinstance(value, float) else str(value))
        )
        definition, guidance = DEFINITIONS[name]
        span = ranges.get(name)
        reference = f"references {span.low:.3g}–{span.high:.3g}" if span else "no reference value"
        lines.append(f"- {name} = {shown} ({definition}; {reference}; {guidance})")
    return "\n".join(lines)
