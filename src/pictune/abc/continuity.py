"""Fixes that follow each voice across lines: the repeat structure, and ties between lines.

abc2midi rejects a `|:` that never closes ("Missing :| at end of tune"), a second `|:` before
the first closes, a first ending after a closed repeat, and a tie whose next note in the voice
has another pitch. Each is fixed the way abc2midi itself would guess, so the performed length
is what the writer evidently meant: an open repeat is closed at the voice's last bar, `|: … |:`
and `:| … [1` become `::`, and a tie to another pitch is dropped. A lone `:|` is kept (it
repeats from the start).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pictune.abc.diagnostics import Fix
from pictune.abc.text import FIELD_LINE, strip_comment
from pictune.abc.token_fixes import note_pitch
from pictune.abc.tokens import tokenize_line
from pictune.abc.voices import voice_of_line

_DOUBLE_REPEATS = frozenset(("::", ":|:", ":||:"))
_MAY_MATTER = re.compile(r"[-:]|[|\[]\d")
_INLINE_FIELD = re.compile(r"\[[A-Za-z]:[^\]]*\]")
_VOICE_MARKER = re.compile(r"\[V:\s*([^\s\]]+)")
_Place = tuple[int, int, str]  # (0-based line index, 1-based column, token text)


@dataclass
class _VoiceState:
    open_repeat: _Place | None = None
    last_close: _Place | None = None
    last_bar: _Place | None = None
    last_line: int = -1
    sound_after_bar: bool = False
    pending_tie: tuple[_Place, str | None] | None = None
    last_note: str | None = None


def _is_open(text: str) -> bool:
    return text.rstrip("0123456789,-").endswith(":")


def _is_close(text: str) -> bool:
    return text.startswith(":")


def _ending(text: str) -> int | None:
    digits = "".join(c if c.isdigit() else " " for c in text).split()
    return int(digits[0]) if digits else None


class _ContinuityPass:
    def __init__(self, lines: list[str], start: int) -> None:
        self.lines, self.start = lines, start
        self.voices: dict[str, _VoiceState] = {}
        self.edits: list[tuple[_Place, str, str]] = []  # (place, new text, message)

    def state(self, voice: str) -> _VoiceState:
        return self.voices.setdefault(voice, _VoiceState())

    def run(self) -> None:
        voice = ""
        for index in range(self.start, len(self.lines)):
            line = self.lines[index]
            if line.startswith("V:"):
                voice = voice_of_line(line) or voice
                continue
            if not line.strip() or line.startswith("%") or FIELD_LINE.match(line):
                continue
            if self._skippable(line, voice):
                markers = _VOICE_MARKER.findall(line)
                voice = markers[-1] if markers else voice
                self.state(voice).last_line = index
                continue
            for token in tokenize_line(line, index + 1):
                if token.kind == "field" and token.text.startswith("[V:"):
                    voice = voice_of_line(token.text) or voice
                    continue
                self.feed(self.state(voice), (index, token.column, token.text), token.kind)
        for state in self.voices.values():
            self.finish(state)

    def _skippable(self, line: str, voice: str) -> bool:
        """A line of one voice with no tie, repeat or ending, while no repeat or tie is open:
        nothing in it can change what this pass does (most lines of a long score)."""
        code = _INLINE_FIELD.sub("", strip_comment(line))
        if _MAY_MATTER.search(code) or line.count("[V:") > 1:
            return False
        markers = _VOICE_MARKER.findall(line)
        state = self.voices.get(markers[-1] if markers else voice)
        return state is not None and state.open_repeat is None and state.pending_tie is None

    def feed(self, state: _VoiceState, place: _Place, kind: str) -> None:
        index, _column, text = place
        if kind in ("note", "rest", "chord_open", "measure_rest"):
            state.last_line = index
            state.sound_after_bar = True
            if state.pending_tie is not None:
                tie, pitch = state.pending_tie
                state.pending_tie = None
                if kind != "chord_open" and (kind != "note" or note_pitch(text) != pitch):
                    self.edits.append((tie, "", f"removed a tie to {text}, another pitch"))
            if kind == "note":
                state.last_note = note_pitch(text)
            elif kind != "chord_open":
                state.last_note = None
        elif kind == "tie":
            if state.last_note is not None and not self._sound_follows(place):
                state.pending_tie = (place, state.last_note)
        elif kind == "bar":
            self.bar(state, place)

    def _sound_follows(self, place: _Place) -> bool:
        """True when a note, rest or chord follows `place` on its own line."""
        index, column, _text = place
        return any(
            token.column > column and token.kind in ("note", "rest", "chord_open")
            for token in tokenize_line(self.lines[index], index + 1)
        )

    def bar(self, state: _VoiceState, place: _Place) -> None:
        text = place[2]
        if _is_close(text) and _is_open(text) and text not in _DOUBLE_REPEATS:
            self.edits.append((place, "::", f"{text} → :: (abc2midi reads it as two repeats)"))
        ending = _ending(text)
        if _is_close(text):
            state.open_repeat = None
            state.last_close = place
        if ending == 1 and state.open_repeat is None and state.last_close not in (None, place):
            close = state.last_close
            assert close is not None
            self.edits.append(
                (close, "::", f"{close[2]} → :: (a first ending follows it, so a repeat starts)")
            )
            state.open_repeat, state.last_close = close, None
        elif ending is not None and ending > 1:
            state.last_close = None
        if _is_open(text):
            if state.open_repeat is not None and not _is_close(text):
                self.edits.append(
                    (place, "::", f"{text} → :: (the repeat opened before it never closed)")
                )
            state.open_repeat = place
        state.last_bar = place
        state.sound_after_bar = False

    def finish(self, state: _VoiceState) -> None:
        if state.pending_tie is not None:
            self.edits.append((state.pending_tie[0], "", "removed a tie at the end of the voice"))
        opened = state.open_repeat
        if opened is None:
            return
        last = state.last_bar
        closable = last is not None and _ending(last[2]) is None and not _is_open(last[2])
        if last is not None and closable and last != opened and not state.sound_after_bar:
            closing = ":|]" if last[2] in ("|]", "||") else ":" + last[2]
            self.edits.append(
                (
                    last,
                    closing,
                    f"closed the repeat opened at line {opened[0] + 1} with {closing}",
                )
            )
            return
        if state.last_line >= 0:
            code = strip_comment(self.lines[state.last_line]).rstrip()
            self.edits.append(
                (
                    (state.last_line, len(code) + 1, ""),
                    " :|",
                    f"closed the repeat opened at line {opened[0] + 1} with :|",
                )
            )

    def apply(self) -> list[Fix]:
        fixes = []
        by_line: dict[int, list[tuple[int, str, str]]] = {}
        for (index, column, old), new, message in self.edits:
            by_line.setdefault(index, []).append((column, old, new))
            fixes.append(Fix("repeats" if ":" in new or ":" in old else "tie", index + 1, message))
        for index, changes in by_line.items():
            line = self.lines[index]
            for column, old, new in sorted(set(changes), reverse=True):
                cut = column - 1
                line = line[:cut] + new + line[cut + len(old) :]
            self.lines[index] = line
        return sorted(fixes, key=lambda f: f.line)


def fix_continuity(lines: list[str], body_start: int) -> list[Fix]:
    """Fix repeats and cross-line ties of every voice in `lines` (changed in place)."""
    check = _ContinuityPass(lines, body_start)
    check.run()
    return check.apply()
