"""How many notes a tune writes, per voice: the yardstick for "repair lost no notes".

A written note is one abc2midi plays once when repeats are not taken: every note of a chord
and every grace note counts, a note tied to the same pitch does not count again. Compare it
with the notes of the MIDI of `as_written(abc)`, where each written bar is played once.
"""

from __future__ import annotations

from pictune.abc.text import FIELD_LINE, header_end
from pictune.abc.token_fixes import note_pitch
from pictune.abc.tokens import tokenize_line
from pictune.abc.voices import voice_of_line

_SKIPPED = frozenset(("space", "annotation", "decoration", "deco_char", "field", "bar"))


def written_notes(abc: str) -> dict[str, int]:
    """Voice id ('' before any voice) → the number of notes the text writes for it."""
    lines = abc.split("\n")
    counts: dict[str, int] = {}
    tied: dict[str, set[str]] = {}  # pitches a tie carries into the next note of the voice
    sounding: dict[str, set[str]] = {}  # pitches of the last note or chord of the voice
    voice = ""
    for line in lines[header_end(lines) :]:
        if line.startswith("V:"):
            voice = voice_of_line(line) or voice
            continue
        if line.startswith("%") or FIELD_LINE.match(line):
            continue
        chord: set[str] | None = None
        for token in tokenize_line(line, 0):
            kind = token.kind
            if kind == "field" and token.text.startswith("[V:"):
                voice = voice_of_line(token.text) or voice
                continue
            carried = tied.get(voice, set())
            if kind == "chord_open":
                chord = set()
            elif kind == "note":
                pitch = note_pitch(token.text) or ""
                if pitch not in carried:
                    counts[voice] = counts.get(voice, 0) + 1
                if chord is not None:
                    chord.add(pitch)
                else:
                    sounding[voice], tied[voice] = {pitch}, set()
            elif kind == "chord_close" and chord is not None:
                sounding[voice], tied[voice], chord = chord, set(), None
            elif kind == "tie":
                tied[voice] = set(sounding.get(voice, set()))
            elif kind in ("rest", "measure_rest"):
                tied[voice] = set()
            elif kind not in _SKIPPED:
                continue
            counts.setdefault(voice, 0)
    return counts


def as_written(abc: str) -> str:
    """The tune as `written_notes` counts it: each bar played once, no ornaments, no chords.

    Repeat signs and ending marks become plain bar lines, decorations (trills expand into many
    notes) are dropped, and `%%MIDI gchordoff` silences the accompaniment of chord symbols.
    """
    lines = abc.split("\n")
    start = header_end(lines)
    out = [*lines[:start], "%%MIDI gchordoff"]
    for line in lines[start:]:
        if line.startswith("%") or FIELD_LINE.match(line):
            out.append(line)
            continue
        tokens = list(tokenize_line(line, 0))
        consumed = sum(len(t.text) for t in tokens)
        out.append("".join(_as_written(t.kind, t.text) for t in tokens) + line[consumed:])
    return "\n".join(out)


def _as_written(kind: str, text: str) -> str:
    if kind == "bar" and (":" in text or any(c.isdigit() for c in text)):
        return "|"
    if kind in ("decoration", "deco_char"):
        return ""
    return text
