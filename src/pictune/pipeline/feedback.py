"""The refinement feedback: metric definitions with style guidance, the yardstick a candidate
is measured against, and its distance from it.

Like is compared with like (DESIGN.md, "Musical quality"): the candidate's melody against
the references' melodies, and whole-piece texture (polyphony) only against references that
have more than one voice — single-line references set no texture target at all."""

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


TEXTURE_METRICS = ("polyphony",)  # whole-piece metrics, compared only with multi-voice music
MELODY_METRICS = tuple(n for n in REFINEMENT_METRICS if n not in TEXTURE_METRICS)


@dataclass(frozen=True)
class Yardstick:
    """The ranges a candidate is measured against: its melody's metrics against `melody`,
    the whole piece's texture metrics against `texture` (empty when every reference is a
    single line)."""

    melody: dict[str, Range]
    texture: dict[str, Range]
    source: str  # "references", or the corpus band's description

    @classmethod
    def of(
        cls, melodies: list[Metrics], textures: list[Metrics], source: str = "references"
    ) -> Yardstick:
        """From the references' melody metrics and the whole-piece metrics of those that
        have several voices."""
        melody = {n: r for n, r in reference_ranges(melodies).items() if n in MELODY_METRICS}
        texture = {n: r for n, r in reference_ranges(textures).items() if n in TEXTURE_METRICS}
        return cls(melody, texture, source)

    def distance(self, melody: Metrics, whole: Metrics) -> float:
        """How far the candidate lies outside the yardstick, in metric units."""
        return round(distance(melody, self.melody) + distance(whole, self.texture), 6)

    def outside(self, melody: Metrics, whole: Metrics) -> dict[str, str]:
        """Each measured metric outside its range, and on which side."""
        sides = {}
        for ranges, metrics in ((self.melody, melody), (self.texture, whole)):
            for name, span in ranges.items():
                value = getattr(metrics, name)
                if value is not None and float(value) > span.high:
                    sides[name] = "high"
                elif value is not None and float(value) < span.low:
                    sides[name] = "low"
        return sides

    def ranges(self) -> dict[str, tuple[float, float]]:
        """Every range, by metric name (melody and texture together), for the record."""
        return {n: (r.low, r.high) for n, r in {**self.melody, **self.texture}.items()}

    def text(self, melody: Metrics, whole: Metrics) -> str:
        """The prompt's lines: the melody's metrics, then the texture's when it has a target."""
        lines = [metrics_text(melody, self.melody, MELODY_METRICS, "the melody's ")]
        if self.texture:
            lines.append(metrics_text(whole, self.texture, TEXTURE_METRICS, "the whole piece's "))
        return "\n".join(lines)


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


def metrics_text(
    metrics: Metrics,
    ranges: dict[str, Range],
    names: tuple[str, ...] = REFINEMENT_METRICS,
    whose: str = "",
) -> str:
    """One line per metric: value, definition, reference range and style guidance."""
    lines = []
    for name in names:
        value = getattr(metrics, name)
        shown = (
            "undefined"
            if value is None
            else (f"{value:.3f}" if isinstance(value, float) else str(value))
        )
        definition, guidance = DEFINITIONS[name]
        span = ranges.get(name)
        reference = f"references {span.low:.3g}–{span.high:.3g}" if span else "no reference value"
        lines.append(f"- {whose}{name} = {shown} ({definition}; {reference}; {guidance})")
    return "\n".join(lines)
