"""The offline composer's refinement step: change the plan where a draft's metrics fall
outside their target band, as a VLM would rewrite its tune from the metric feedback.

Each metric votes on the plan setting that drives it: the melody's span (pitch range, number
of pitches, pitch entropy) and the note density (empty beats). Polyphony and pitch-class
metrics move nothing: the references are single lines, and a band measured on single lines
is no reason to thin the accompaniment or drop the raised leading tone."""

from __future__ import annotations

from dataclasses import replace

from pictune.models.offline.plan import MusicalPlan

SPAN_LIMITS = (3, 7)
DENSITY_LIMITS = (0.5, 4.0)
SPAN_VOTES = {"pitch_range": 1, "n_pitches_used": 1, "pitch_entropy": 1}


def revise_plan(plan: MusicalPlan, outside: dict[str, str]) -> tuple[MusicalPlan, list[str]]:
    """The plan for the next draft, and what changed and why, given each metric that lies
    outside its band (`"high"` or `"low"`)."""
    changes: list[str] = []
    updates: dict[str, object] = {}
    votes = sum(
        weight * (1 if outside.get(name) == "low" else -1)
        for name, weight in SPAN_VOTES.items()
        if name in outside
    )
    if votes:
        span = max(SPAN_LIMITS[0], min(SPAN_LIMITS[1], plan.melody_span + (1 if votes > 0 else -1)))
        if span != plan.melody_span:
            updates["melody_span"] = span
            because = ", ".join(n for n in SPAN_VOTES if n in outside)
            word = "wider" if span > plan.melody_span else "narrower"
            changes.append(f"a {word} melody (±{span} scale degrees) for {because}")
    if "empty_beat_rate" in outside:
        factor = 1.25 if outside["empty_beat_rate"] == "high" else 0.8
        density = round(
            max(DENSITY_LIMITS[0], min(DENSITY_LIMITS[1], plan.notes_per_beat * factor)), 2
        )
        if density != plan.notes_per_beat:
            updates["notes_per_beat"] = density
            word = "denser" if density > plan.notes_per_beat else "sparser"
            changes.append(f"a {word} melody ({density:g} notes a beat) for empty_beat_rate")
    return replace(plan, **updates) if updates else plan, changes  # type: ignore[arg-type]
