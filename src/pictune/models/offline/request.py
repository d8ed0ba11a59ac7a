"""A revision request in words → the plan changed only where the request speaks.

The request is read by the same prompt understanding as `compose --prompt` (vocabulary,
negation, the words that changed nothing). What it does not mention is kept: the seed (so
the harmony draws the same chords), the form, and — unless the meter changes — the melody
itself, note for note: transposed to a new key of the same mode, or moved by octaves into a
new instrument's range (the same intervals). A new meter or mode re-writes the melody from
the same seed: the chords of another mode are others (the harmony's successions differ by
mode), and the parent's notes would clash with them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pictune.models.offline.composer import tonic_pitch
from pictune.models.offline.plan import MELODY_RANGES, PROGRAM_NAMES, MusicalPlan
from pictune.models.offline.prompt import apply_words
from pictune.models.offline.theory import tonic_pc
from pictune.models.offline.tune import Note

MELODY_WORDS = re.compile(r"\b(tune|melody|lead|theme)\b", re.IGNORECASE)
TEXTURE_WORDS = {
    "hymn": "block chords",
    "pad": "sustained chords",
    "arpeggio": "broken chords",
    "waltz": "a waltz accompaniment",
    "march": "an oom-pah accompaniment",
    "strummed": "strummed chords",
}


@dataclass(frozen=True)
class RevisedPlan:
    """The plan a request gives, the melody it keeps, and what changed, in words."""

    plan: MusicalPlan
    kept: tuple[Note, ...] | None  # None: the melody is written anew (a new meter)
    changes: tuple[str, ...]  # 'tempo: 96 → 77 quarter notes a minute', …
    kept_words: tuple[str, ...]  # what stayed, for the motivation
    heard: dict[str, str]  # aspect → the request's words that spoke for it
    unused: tuple[str, ...]  # the request's words that changed nothing


def _name(program: int) -> str:
    return PROGRAM_NAMES.get(program, f"program {program}")


def describe_changes(before: MusicalPlan, after: MusicalPlan) -> tuple[str, ...]:
    """The differences a listener hears between two plans, one line each."""
    lines = []
    if before.tempo_qpm != after.tempo_qpm:
        lines.append(f"tempo: {before.tempo_qpm} → {after.tempo_qpm} quarter notes a minute")
    if (before.tonic, before.mode) != (after.tonic, after.mode):
        lines.append(f"key: {before.tonic} {before.mode} → {after.tonic} {after.mode}")
    if before.meter != after.meter:
        lines.append(f"meter: {before.meter} → {after.meter}")
    for field, part in (
        ("melody_program", "melody"),
        ("accompaniment_program", "chords"),
        ("bass_program", "bass"),
    ):
        old, new = getattr(before, field), getattr(after, field)
        if old != new:
            lines.append(f"{part}: {_name(old)} → {_name(new)}")
    if before.dynamic != after.dynamic:
        lines.append(f"dynamics: {before.dynamic} → {after.dynamic}")
    if before.texture != after.texture:
        lines.append(
            f"accompaniment: {TEXTURE_WORDS.get(before.texture, before.texture)} → "
            f"{TEXTURE_WORDS.get(after.texture, after.texture)}"
        )
    if before.percussion != after.percussion:
        lines.append("drums: " + ("added" if after.percussion else "taken out"))
    if before.legato != after.legato:
        lines.append(
            "articulation: " + ("detached → slurred" if after.legato else "slurred → detached")
        )
    return tuple(lines)


def _octaves_to_fit(pitches: Sequence[int], program: int) -> int:
    """The octave shift (0 first, then the nearest) that puts the most notes in the
    instrument's range."""
    low, high = MELODY_RANGES.get(program, (55, 88))
    shifts = sorted(range(-3, 4), key=abs)
    return max(shifts, key=lambda k: sum(low <= p + 12 * k <= high for p in pitches))


def revise_plan_for(parent: MusicalPlan, melody: Sequence[Note], request: str) -> RevisedPlan:
    """The parent's plan with `request` applied, keeping all it does not mention.

    `melody`: the parent's whole melody line as written. The harmonic rhythm stays the
    parent's unless the meter changes (a tempo word alone must not re-draw the chords)."""
    home = parent.melody_tonic or tonic_pitch(parent)
    base = replace(parent, overrides={}, unused_words=(), melody_tonic=home)
    asked = apply_words(base, request)
    if MELODY_WORDS.search(request) and asked.melody_program != parent.melody_program:
        # "give the tune to the cello": the named instrument takes the melody only (a
        # prompt's "for cello" gives it the whole piece).
        asked = replace(
            asked,
            accompaniment_program=parent.accompaniment_program,
            bass_program=parent.bass_program,
        )
    new_meter = asked.meter != parent.meter
    plan = asked if new_meter else replace(asked, chords_per_bar=parent.chords_per_bar)
    # The tonic moves the shorter way round (at most a tritone).
    shift = (tonic_pc(plan.tonic) - tonic_pc(parent.tonic)) % 12
    shift = shift - 12 if shift > 6 else shift
    moved = [replace(n, pitch=n.pitch + shift) for n in melody]
    octaves = _octaves_to_fit([n.pitch for n in moved], plan.melody_program)
    moved = [replace(n, pitch=n.pitch + 12 * octaves) for n in moved]
    plan = replace(plan, melody_tonic=home + shift + 12 * octaves)
    rewritten = new_meter or plan.mode != parent.mode
    kept_words = ["the seed and the form" if rewritten else "the seed, so the same chords and form"]
    if rewritten:
        kept: tuple[Note, ...] | None = None
        kept_words.append(
            f"the melody's register (the new {'meter' if new_meter else 'mode'} re-writes "
            "its notes from the same seed)"
        )
    else:
        kept = tuple(moved)
        if shift:
            how = f"every rhythm and interval of the melody, transposed to {plan.tonic}"
        else:
            how = "every note and rhythm of the melody"
        if octaves:
            how += f", moved {'up' if octaves > 0 else 'down'} {_octaves(octaves)} to fit the "
            how += _name(plan.melody_program)
        kept_words.insert(0, how)
    return RevisedPlan(
        plan=replace(plan, overrides={**parent.overrides, **asked.overrides}),
        kept=kept,
        changes=describe_changes(parent, plan),
        kept_words=tuple(kept_words),
        heard=dict(asked.overrides),
        unused=asked.unused_words,
    )


def _octaves(count: int) -> str:
    return "an octave" if abs(count) == 1 else f"{abs(count)} octaves"
