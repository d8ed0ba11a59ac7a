"""Corpus tunes must be clean ABC: references shown to a model should not teach it faults."""

from __future__ import annotations

from pictune.abc.convert import MidiConversion, abc_to_midi
from pictune.abc.repair import repair


def clean_tune(abc: str, conversion: MidiConversion | None = None) -> tuple[str, bytes] | str:
    """(ABC, MIDI) with zero abc2midi errors — repaired once if needed — or the reason why not."""
    conversion = conversion or abc_to_midi(abc)
    if conversion.midi is not None and not conversion.errors:
        return abc, conversion.midi
    fixed = repair(abc, conversion.diagnostics).abc
    again = abc_to_midi(fixed)
    if again.midi is not None and not again.errors:
        return fixed, again.midi
    first = again.errors or conversion.errors or ()
    return f"abc2midi rejects it: {first[0].message if first else 'no MIDI'}"
