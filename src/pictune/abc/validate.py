"""validate(): everything wrong with a tune, from Python pre-checks and abc2midi itself."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pictune.abc.convert import abc_to_midi
from pictune.abc.diagnostics import Diagnostic
from pictune.abc.precheck import MAX_VOICES, precheck
from pictune.abc.text import check_size


@dataclass(frozen=True)
class Validation:
    """The diagnostics of one tune, and its MIDI when abc2midi could write one."""

    abc: str
    diagnostics: tuple[Diagnostic, ...]
    midi: bytes | None

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if not d.is_error)

    @property
    def ok(self) -> bool:
        """True when nothing stops the tune from being converted and played."""
        return not self.errors and self.midi is not None


def _unplayable(found: list[Diagnostic]) -> bool:
    """Faults that make running abc2midi pointless or too costly (checked before it runs)."""
    return any(
        d.is_error
        and (
            d.message.startswith("no ABC")
            or "is too long" in d.message
            or f"{MAX_VOICES} are" in d.message
        )
        for d in found
    )


_ABC2MIDI_BAR = re.compile(r"^Track \d+ Bar \d+ has .* time units while the time signature has")


def _without_duplicate_bars(found: list[Diagnostic]) -> list[Diagnostic]:
    """abc2midi's bar-length warnings when the pre-checks measured the bars themselves.

    The pre-checks report each wrong bar once, in quarter notes, and know a pickup from an
    under-full bar; abc2midi reports the same bars again in its own units (and pickups too).
    They measure bars only when they found no error, so otherwise abc2midi's are kept.
    """
    if any(d.is_error and d.source == "precheck" for d in found):
        return found
    return [d for d in found if not (d.source == "abc2midi" and _ABC2MIDI_BAR.match(d.message))]


def validate(abc: str) -> Validation:
    """Diagnostics (severity, line, column, message) for one tune, sorted by place."""
    check_size(abc)
    found = precheck(abc)
    midi = None
    if not _unplayable(found):
        conversion = abc_to_midi(abc)
        found.extend(conversion.diagnostics)
        midi = conversion.midi
    found = _without_duplicate_bars(found)
    ordered = sorted(found, key=lambda d: (d.line, d.column, d.source))
    return Validation(abc, tuple(ordered), midi)
