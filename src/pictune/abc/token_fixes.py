"""Fixes inside one body line, on its tokens: faults abc2midi rejects in real model output.

Each fix is deterministic and keeps every note: engraving-only inline fields go, broken rhythm
between notes of unequal length becomes explicit lengths with the same total, an inner tuplet
mark inside a tuplet goes, a trill or roll on a chord goes (abc2midi cannot play it), a tie
to a note of another pitch goes. `fix_line_tokens` returns the new line and one `Fix` a change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from pictune.abc.diagnostics import Fix
from pictune.abc.headers import normalise_key, normalise_meter, normalise_tempo, normalise_unit
from pictune.abc.tokens import format_length, parse_length, tokenize_line

# Inline fields abc2midi plays from; the others are dropped unless abc2midi accepts them.
_PLAYED_FIELDS = frozenset("KMLQV")
_ACCEPTED_FIELDS = frozenset("rPNTWw")
_CHORD_ORNAMENTS = frozenset(("T", "~", "!trill!", "!roll!", "+trill+", "+roll+"))
_NOTE = re.compile(r"^(?P<head>[\^_=]*(?P<pitch>[A-Ga-g][,']*))(?P<len>\d*/*\d*)$")
_TUPLET_Q = {2: 3, 3: 2, 4: 3, 6: 2, 8: 3}
# What may stand between a tied note and the note it is tied to.
_PASSED_OVER = frozenset(("space", "bar", "annotation", "decoration", "deco_char", "field"))


@dataclass
class _Item:
    kind: str
    text: str
    column: int


def note_pitch(text: str) -> str | None:
    """Letter and octave marks of a note token ('^c'' → "c'"), None for anything else."""
    match = _NOTE.match(text)
    return match.group("pitch") if match else None


def _with_length(text: str, multiple: Fraction) -> str:
    match = _NOTE.match(text) or re.match(r"^(?P<head>[zx])(?P<len>\d*/*\d*)$", text)
    if match is None:
        return text
    return match.group("head") + format_length(multiple)


def _tuplet_notes(text: str) -> int:
    parts = text[1:].split(":")
    p = int(parts[0]) if parts[0].isdigit() else 3
    return int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else p


class _LineFixer:
    def __init__(self, line: str, line_no: int) -> None:
        self.items = [_Item(t.kind, t.text, t.column) for t in tokenize_line(line, line_no)]
        code_end = sum(len(item.text) for item in self.items)
        self.rest = line[code_end:]
        self.line_no = line_no
        self.fixes: list[Fix] = []

    def note(self, kind: str, message: str) -> None:
        self.fixes.append(Fix(kind, self.line_no, message))

    def text(self) -> str:
        return "".join(item.text for item in self.items) + self.rest

    def inline_fields(self) -> None:
        for item in self.items:
            if item.kind != "field":
                continue
            letter, value = item.text[1], item.text[3:-1]
            if letter == "V" and value != value.lstrip():
                item.text = f"[V:{value.strip()}]"
                self.note("voices", f"[V:{value}] → {item.text} (no space before a voice id)")
            elif letter == "I" and not value.strip().startswith("MIDI"):
                self.note("field", f"removed {item.text} at column {item.column} (engraving only)")
                item.text = ""
            elif letter in _PLAYED_FIELDS - {"V"}:
                self._check_played_field(item, letter, value)
            elif letter not in _PLAYED_FIELDS | _ACCEPTED_FIELDS | {"I"}:
                self.note("field", f"removed {item.text} at column {item.column}")
                item.text = ""

    def _check_played_field(self, item: _Item, letter: str, value: str) -> None:
        normalise = {"K": normalise_key, "M": normalise_meter, "L": normalise_unit}
        fixed = normalise_tempo(value) if letter == "Q" else normalise[letter](value)
        if fixed is None:
            self.note("field", f"removed unreadable {item.text} at column {item.column}")
            item.text = ""
        elif fixed != value.strip():
            new = f"[{letter}:{fixed}]"
            self.note("field", f"{item.text} → {new}")
            item.text = new

    def _neighbour(self, start: int, step: int) -> int | None:
        index = start + step
        while 0 <= index < len(self.items) and self.items[index].kind == "space":
            index += step
        return index if 0 <= index < len(self.items) else None

    def broken_rhythm(self) -> None:
        for index, item in enumerate(self.items):
            if item.kind != "broken":
                continue
            before, after = self._neighbour(index, -1), self._neighbour(index, 1)
            if before is None or after is None:
                continue
            first, second = self.items[before], self.items[after]
            if first.kind not in ("note", "rest") or second.kind not in ("note", "rest"):
                continue
            a = parse_length(_length_text(first.text))
            b = parse_length(_length_text(second.text))
            if a == b:
                continue
            shorter = Fraction(1, 2 ** len(item.text))
            long_first = item.text[0] == ">"
            new_a = a * ((2 - shorter) if long_first else shorter)
            new_b = b * (shorter if long_first else (2 - shorter))
            old = f"{first.text}{item.text}{second.text}"
            first.text, second.text = (
                _with_length(first.text, new_a),
                _with_length(second.text, new_b),
            )
            item.text = " " if self.items[index - 1].kind != "space" else ""
            self.note(
                "rhythm",
                f"{old} (broken rhythm between unequal notes) → {first.text} {second.text}",
            )

    def nested_tuplets(self) -> None:
        left, nested = 0, False
        for item in self.items:
            if item.kind in ("chord_open", "grace_open"):
                nested = True
            elif item.kind in ("chord_close", "grace_close"):
                nested = False
                left -= item.kind == "chord_close" and left > 0
            if item.kind == "tuplet":
                if left > 0:
                    self.note(
                        "tuplet", f"removed {item.text} nested in a tuplet at column {item.column}"
                    )
                    item.text = ""
                    continue
                left = _tuplet_notes(item.text)
            elif item.kind in ("note", "rest") and left > 0 and not nested:
                left -= 1
            elif item.kind == "bar":
                left = 0

    def chord_ornaments(self) -> None:
        in_chord = False
        for index, item in enumerate(self.items):
            if item.kind == "chord_open":
                in_chord = True
            elif item.kind == "chord_close":
                in_chord = False
            if item.text not in _CHORD_ORNAMENTS or item.kind not in ("deco_char", "decoration"):
                continue
            following = self._neighbour(index, 1)
            on_chord = following is not None and self.items[following].kind == "chord_open"
            if in_chord or on_chord:
                self.note(
                    "ornament",
                    f"removed {item.text} on a chord at column {item.column} "
                    "(abc2midi cannot trill a chord)",
                )
                item.text = ""

    def ties_to_other_pitches(self) -> None:
        for index, item in enumerate(self.items):
            if item.kind != "tie" or index == 0:
                continue
            before = self.items[index - 1]
            if before.kind != "note":
                continue
            after = index + 1
            while after < len(self.items) and self.items[after].kind in _PASSED_OVER:
                after += 1
            if after >= len(self.items):
                continue
            target = self.items[after]
            if target.kind in ("note", "rest") and note_pitch(target.text) != note_pitch(
                before.text
            ):
                item.text = ""
                self.note(
                    "tie", f"removed a tie from {before.text} to {target.text} (another pitch)"
                )

    def stray_slashes(self) -> None:
        for item in self.items:
            if item.kind == "other" and item.text == "/":
                item.text = ""
                self.note("character", f"removed a stray / at column {item.column}")


def _length_text(text: str) -> str:
    match = _NOTE.match(text) or re.match(r"^[zx](?P<len>\d*/*\d*)$", text)
    return match.group("len") if match else ""


def fix_line_tokens(line: str, line_no: int) -> tuple[str, list[Fix]]:
    """The music line with its token-level faults fixed, and the fixes made."""
    fixer = _LineFixer(line, line_no)
    fixer.inline_fields()
    fixer.chord_ornaments()
    fixer.nested_tuplets()
    fixer.broken_rhythm()
    fixer.ties_to_other_pitches()
    fixer.stray_slashes()
    if not fixer.fixes:
        return line, []
    return fixer.text(), fixer.fixes
