"""repair(): deterministic fixes for the common faults of model-written ABC.

Every change is reported as a `Fix` (what, where). Nothing is ever invented: missing headers
get the standard's defaults, unbalanced marks are closed or dropped, prose and unknown
directives become comments (so no text is lost), and bars are padded with rests only when
asked to (`fix_bar_lengths=True`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from pictune.abc.continuity import fix_continuity
from pictune.abc.diagnostics import Diagnostic, Fix
from pictune.abc.headers import normalise_key, normalise_meter, normalise_tempo, normalise_unit
from pictune.abc.precheck import looks_like_prose
from pictune.abc.text import FIELD_LINE, KNOWN_FIELDS, check_size
from pictune.abc.token_fixes import fix_line_tokens
from pictune.abc.tokens import (
    MAX_LENGTH_MULTIPLIER,
    Token,
    default_unit,
    format_length,
    is_plain_music,
    measure_bars,
    parse_meter,
    parse_unit,
    tokenize_line,
)
from pictune.abc.validate import Validation, validate
from pictune.abc.voices import allocate_channels, declare_voices, tidy_score

# Directives that abc2midi or abcm2ps understand; any other %% line becomes a comment.
# fmt: off
KNOWN_DIRECTIVES = frozenset((
    "MIDI", "score", "staves", "abc", "abc-version", "abc-charset", "abc-creator",
    "abc-edited-by", "abc-include", "propagate-accidentals", "writeout-accidentals",
    "linebreak", "decoration", "continueall", "pagewidth", "pageheight", "scale",
    "staffwidth", "leftmargin", "rightmargin", "topmargin", "botmargin", "titlefont",
    "subtitlefont", "composerfont", "vocalfont", "gchordfont", "annotationfont",
    "partsfont", "textfont", "wordsfont", "tempofont", "voicefont", "infofont",
    "measurefont", "measurenb", "barnumbers", "measurefirst", "measurebox", "text",
    "begintext", "endtext", "center", "newpage", "vskip", "sep", "staffsep", "sysstaffsep",
    "musicspace", "titleleft", "titlecaps", "stretchlast", "stretchstaff", "header",
    "footer", "setfont-1", "setfont-2", "setfont-3", "setfont-4", "indent", "landscape",
    "pos", "voicecombine", "clef", "transpose", "gchord", "bgm", "graceslurs", "flatbeams",
    "notespacingfactor", "maxshrink", "oneperpage", "infoline", "writefields",
    "squarebreve", "shiftunison",
))
# fmt: on
# Bar length in whole notes → the meter that is usual for it (3/4 over 6/8, 4/4 over 2/2).
_METER_FOR_BAR = {
    Fraction(n, d): f"{n}/{d}"
    for n, d in ((4, 4), (3, 4), (2, 4), (9, 8), (12, 8), (3, 8), (5, 4), (7, 8))
}
_KEEP_OTHER = set("&\\$*y;")
_BAR_LINE = re.compile(r"::|:*\[?\|+\]?:*\d*")
_SHARP_AFTER = re.compile(r"([A-Ga-g])([,']*)#")
_CHORD_NAME = re.compile(r"[A-G][#b]?(?:maj|min|dim|aug|sus|add|m|M|\+|o)?\d*(?:/[A-G][#b]?)?")


@dataclass(frozen=True)
class RepairResult:
    """The repaired tune and every fix made, in the order they were made."""

    abc: str
    fixes: tuple[Fix, ...]

    @property
    def changed(self) -> bool:
        return bool(self.fixes)


class _Repairer:
    def __init__(self, abc: str, diagnostics: Sequence[Diagnostic], fix_bar_lengths: bool) -> None:
        text = re.sub(
            r"[\x00-\x08\x0b-\x1f\x7f]", "", abc.replace("\r\n", "\n").replace("\r", "\n")
        )
        self.lines = [ln.rstrip() for ln in text.strip("\n").split("\n")]
        self.fixes: list[Fix] = []
        self.diagnostics = diagnostics
        self.fix_bar_lengths = fix_bar_lengths

    def note(self, kind: str, line: int, message: str) -> None:
        self.fixes.append(Fix(kind, line, message))

    # -- line kinds --------------------------------------------------------------------------

    def header_span(self) -> tuple[int, int]:
        """[start, end) of the header: leading field, comment and directive lines."""
        start = 0
        while start < len(self.lines) and not self.lines[start].strip():
            start += 1
        end = start
        while end < len(self.lines):
            line = self.lines[end]
            if FIELD_LINE.match(line) or line.startswith("%"):
                end += 1
                if line.startswith("K:"):
                    # Fields right after K: (a misplaced M: or L:) still belong to the header.
                    while end < len(self.lines) and re.match(r"^[MLQTCRO]:", self.lines[end]):
                        end += 1
                    break
            else:
                break
        return start, end

    # -- body ----------------------------------------------------------------------------------

    def fix_body(self, start: int) -> None:
        slur_depth = 0
        for index in range(start, len(self.lines)):
            line = self.lines[index]
            stripped = line.strip()
            if not stripped or (stripped.startswith("%%") and self._fix_directive(index)):
                continue
            if stripped.startswith("%"):
                continue
            field = FIELD_LINE.match(line)
            if field:
                self._fix_field_line(index, field.group(1), field.group(2))
                continue
            if looks_like_prose(line):
                self.lines[index] = "% " + line
                self.note("prose", index + 1, "commented out a line of prose inside the tune")
                continue
            if is_plain_music(line):
                continue  # notes, rests, bars, plain chords and inline voices: nothing to fix
            line, token_fixes = fix_line_tokens(line, index + 1)
            self.fixes.extend(token_fixes)
            self.lines[index], slur_depth = self._fix_music_line(line, index + 1, slur_depth)
        if slur_depth > 0:
            self._drop_unclosed_slurs(start, slur_depth)

    def _fix_directive(self, index: int) -> bool:
        name = self.lines[index].strip()[2:].split(maxsplit=1)
        if name and name[0] not in KNOWN_DIRECTIVES:
            self.lines[index] = "% " + self.lines[index]
            self.note("directive", index + 1, f"commented out unknown directive %%{name[0]}")
        return True

    def _fix_field_line(self, index: int, letter: str, value: str) -> None:
        if letter not in KNOWN_FIELDS:
            self.lines[index] = "% " + self.lines[index]
            self.note("field", index + 1, f"commented out unknown field {letter}:")
            return
        if letter == "I":
            self.lines[index] = self._instruction(self.lines[index], index + 1)
            return
        if letter == "V":
            self.lines[index] = self._voice_line(self.lines[index], index + 1)
            return
        fixed = self._fixed_value(letter, value, index + 1)
        if fixed is None:
            self.lines[index] = "% " + self.lines[index]
        elif fixed != value.strip():
            self.lines[index] = f"{letter}:{fixed}"

    def _instruction(self, line: str, line_no: int) -> str:
        """Keep I:MIDI lines; comment out the rest (abc2midi rejects every other I: key)."""
        name = line[2:].strip().split(maxsplit=1)
        if name and name[0] == "MIDI":
            return line
        self.note(
            "directive", line_no, f"commented out I:{name[0] if name else ''} (abc2midi rejects it)"
        )
        return "% " + line

    def _voice_line(self, line: str, line_no: int) -> str:
        """'V: RH clef=treble' → 'V:RH clef=treble' (a voice id follows V: directly)."""
        if line[2:3] in (" ", "\t") and line[2:].strip():
            fixed = "V:" + line[2:].lstrip()
            self.note(
                "voices", line_no, f"{line.split()[0]} {line.split()[1]} → {fixed.split()[0]}"
            )
            return fixed
        return line

    def _fixed_value(self, letter: str, value: str, line: int) -> str | None:
        """A valid value for field `letter`; None when the line should be dropped."""
        old = value.strip()
        if letter == "K":
            new = normalise_key(old)
            if new is None:
                self.note("key", line, f"K:{old} is not a key; used K:C")
                return "C"
        elif letter == "M":
            new = normalise_meter(old)
            if new is None:
                self.note("meter", line, f"M:{old} is not a meter; used M:4/4")
                return "4/4"
        elif letter == "L":
            new = normalise_unit(old)
            if new is None:
                self.note("unit", line, f"L:{old} is not a unit length; used L:1/8")
                return "1/8"
        elif letter == "Q":
            new = normalise_tempo(old)
            if new is None:
                self.note("tempo", line, f"dropped unreadable tempo Q:{old}")
                return None
        else:
            return old
        if new != old:
            self.note(
                {"K": "key", "M": "meter", "L": "unit", "Q": "tempo"}[letter],
                line,
                f"{letter}:{old} → {letter}:{new}",
            )
        return new

    def _balance_quotes(self, line: str, line_no: int) -> str:
        """Close an unterminated chord symbol right after its name ('"Am c2' → '"Am" c2')."""
        code = re.sub(r"![^!]*!", lambda m: " " * len(m.group(0)), line.split("%")[0])
        if code.count('"') % 2 == 0:
            return line
        opening = code.rfind('"')
        name = _CHORD_NAME.match(line, opening + 1)
        if name and name.end() > opening + 1:
            self.note("quotes", line_no, f"closed the chord symbol opened at column {opening + 1}")
            return line[: name.end()] + '"' + line[name.end() :]
        space = re.compile(r"\s|$").search(line, opening + 1)
        cut = space.start() if space else len(line)
        self.note("quotes", line_no, f"closed the annotation opened at column {opening + 1}")
        return line[:cut] + '"' + line[cut:]

    def _balance_decorations(self, line: str, line_no: int) -> str:
        """Drop a '!' decoration that never closes (only its name, never the notes after it)."""
        code = re.sub(r'"[^"]*"', lambda m: " " * len(m.group(0)), line.split("%")[0])
        if code.count("!") % 2 == 0:
            return line
        opening = code.rfind("!")
        name = re.compile(r"![\w.<>()+-]*").match(line, opening)
        end = name.end() if name else opening + 1
        self.note("decoration", line_no, f"dropped an unclosed decoration {line[opening:end]!r}")
        return line[:opening] + line[end:]

    def _sharps_as_carets(self, line: str, line_no: int) -> str:
        """'f#2' → '^f2': models borrow '#' from chord names; ABC writes sharps before notes."""
        parts = re.split(r'("[^"]*"|![^!]*!)', line)
        for index in range(1, len(parts), 2):
            plain = parts[index].replace("♭", "b").replace("♯", "#").replace("♮", "")
            if plain != parts[index]:
                self.note("symbols", line_no, f"wrote {parts[index]} as {plain}")
                parts[index] = plain
        for index in range(0, len(parts), 2):
            fixed, count = _SHARP_AFTER.subn(r"^\1\2", parts[index])
            if count:
                self.note("accidental", line_no, f"wrote {count} sharp(s) as ^ before the note")
                parts[index] = fixed
        return "".join(parts)

    def _fix_music_line(self, line: str, line_no: int, slur_depth: int) -> tuple[str, int]:
        comment = ""
        line = self._balance_quotes(line, line_no)
        line = self._balance_decorations(line, line_no)
        line = self._sharps_as_carets(line, line_no)
        tokens = list(tokenize_line(line, line_no))
        consumed = sum(len(t.text) for t in tokens)
        if consumed < len(line):
            comment = line[consumed:]
        bad_columns = {
            d.column
            for d in self.diagnostics
            if d.line == line_no and "Unrecognized character" in d.message
        }
        out: list[str] = []
        chord_open = grace_open = False

        def close_open_groups(reason_column: int) -> None:
            nonlocal chord_open, grace_open
            if chord_open:
                out.append("]")
                chord_open = False
                self.note(
                    "brackets", line_no, f"closed a chord left open at column {reason_column}"
                )
            if grace_open:
                out.append("}")
                grace_open = False
                self.note(
                    "brackets", line_no, f"closed grace notes left open at column {reason_column}"
                )

        for token in tokens:
            kind, text = token.kind, token.text
            if kind == "annotation" and (len(text) < 2 or not text.endswith('"')):
                text = text + '"'
                self.note("quotes", line_no, f"closed a quote opened at column {token.column}")
            elif (
                kind == "decoration"
                and text[0] == "!"
                and (len(text) < 2 or not text.endswith("!"))
            ):
                self.note("decoration", line_no, f"dropped an unclosed decoration {text!r}")
                continue
            elif kind == "chord_open":
                if chord_open:
                    self.note(
                        "brackets",
                        line_no,
                        f"dropped a [ nested in a chord at column {token.column}",
                    )
                    continue
                close_open_groups(token.column) if grace_open else None
                chord_open = True
            elif kind == "chord_close":
                if not chord_open:
                    self.note(
                        "brackets", line_no, f"dropped a ] without [ at column {token.column}"
                    )
                    continue
                chord_open = False
            elif kind == "grace_open":
                if grace_open:
                    self.note(
                        "brackets",
                        line_no,
                        f"dropped a {{ nested in grace notes at column {token.column}",
                    )
                    continue
                grace_open = True
            elif kind == "grace_close":
                if not grace_open:
                    self.note(
                        "brackets", line_no, f"dropped a }} without {{ at column {token.column}"
                    )
                    continue
                grace_open = False
            elif kind == "slur_open":
                slur_depth += 1
            elif kind == "slur_close":
                if slur_depth == 0:
                    self.note(
                        "slurs",
                        line_no,
                        f"dropped a ) that closes no slur at column {token.column}",
                    )
                    continue
                slur_depth -= 1
            elif kind in ("note", "rest"):
                text = self._fix_note(token, line_no)
            elif kind in ("bar", "space", "field", "tuplet", "rest", "measure_rest"):
                close_open_groups(token.column)
            elif kind == "other" and (token.text not in _KEEP_OTHER or token.column in bad_columns):
                self.note(
                    "character",
                    line_no,
                    f"dropped unexpected character {token.text!r} at column {token.column}",
                )
                continue
            out.append(text)
        close_open_groups(len(line))
        return "".join(out) + comment, slur_depth

    def _fix_note(self, token: Token, line_no: int) -> str:
        text = token.text
        match = re.match(r"^([\^_=]*)([a-g])(,+)(.*)$", text)
        if match:
            accidental, letter, commas, rest = match.groups()
            text = f"{accidental}{letter.upper()}{commas[1:]}{rest}"
            self.note("octave", line_no, f"{token.text} → {text} (a lower-case note with a comma)")
        if token.length > MAX_LENGTH_MULTIPLIER:
            head = re.match(r"^([\^_=]*[A-Ga-gzx][,']*)", text)
            text = (head.group(1) if head else text[0]) + str(MAX_LENGTH_MULTIPLIER)
            self.note(
                "length",
                line_no,
                f"shortened a note of {token.length} units to {MAX_LENGTH_MULTIPLIER}",
            )
        return text

    def _drop_unclosed_slurs(self, start: int, count: int) -> None:
        """Remove the last `count` opening slurs that never close (from the end backwards)."""
        for index in range(len(self.lines) - 1, start - 1, -1):
            line = self.lines[index]
            if count == 0:
                return
            if FIELD_LINE.match(line) or line.startswith("%"):
                continue
            tokens = list(tokenize_line(line, index + 1))
            for position in range(len(tokens) - 1, -1, -1):
                if count and tokens[position].kind == "slur_open":
                    tokens[position] = Token("removed", "", index + 1, 0)
                    count -= 1
                    self.note("slurs", index + 1, "dropped a ( that opens a slur never closed")
            consumed = sum(len(t.text) for t in tokenize_line(line, index + 1))
            self.lines[index] = "".join(t.text for t in tokens) + line[consumed:]

    # -- header --------------------------------------------------------------------------------

    def fix_header(self) -> int:
        """Make a well-formed header; return the index of the first body line."""
        start, end = self.header_span()
        header = self.lines[start:end]
        body = self.lines[end:]
        fields = [FIELD_LINE.match(ln) for ln in header]
        letters = [m.group(1) if m else "" for m in fields]
        out: list[str] = []
        # X: first.
        if "X" in letters:
            x_line = header[letters.index("X")]
            if letters.index("X") != 0:
                self.note("header", start + letters.index("X") + 1, "moved X: to the top")
        else:
            x_line = "X:1"
            self.note("header", 1, "added the missing X:1 line")
        out.append(x_line)
        if "T" not in letters:
            out.append("T:Untitled")
            self.note("header", 1, "added a T: title line")
        key_line = None
        for offset, (line, letter) in enumerate(zip(header, letters, strict=True)):
            if letter == "X" and line == x_line and x_line in out:
                continue
            if letter == "K":
                if key_line is None:
                    key_line = line
                continue
            if letter in ("M", "L", "Q"):
                fixed = self._fixed_value(letter, line[2:], start + offset + 1)
                if fixed is not None:
                    out.append(f"{letter}:{fixed}")
                continue
            if letter == "I":
                out.append(self._instruction(line, start + offset + 1))
                continue
            if letter and letter not in KNOWN_FIELDS:
                out.append("% " + line)
                self.note("field", start + offset + 1, f"commented out unknown field {letter}:")
                continue
            if (
                line.startswith("%%")
                and line[2:].split()[:1]
                and line[2:].split()[0] not in KNOWN_DIRECTIVES
            ):
                out.append("% " + line)
                self.note(
                    "directive",
                    start + offset + 1,
                    f"commented out unknown directive {line.split()[0]}",
                )
                continue
            out.append(line)
        if "M" not in letters:
            meter = self._infer_meter(body)
            out.append(f"M:{meter}")
            self.note("header", 0, f"added the missing M:{meter}")
        if "L" not in letters:
            meter_value = parse_meter(next((ln[2:] for ln in out if ln.startswith("M:")), "4/4"))
            unit = default_unit(meter_value)
            out.append(f"L:{unit.numerator}/{unit.denominator}")
            self.note(
                "header", 0, f"added L:{unit.numerator}/{unit.denominator}, ABC's default unit"
            )
        if key_line is None:
            out.append("K:C")
            self.note("header", 0, "added the missing K:C line that ends the header")
        else:
            key_index = letters.index("K")
            if any(letters[key_index + 1 :]):
                self.note("header", start + key_index + 1, "moved K: to the end of the header")
            fixed = self._fixed_value("K", key_line[2:], start + key_index + 1)
            out.append(f"K:{fixed or 'C'}")
        self.lines = out + body
        return len(out)

    def _infer_meter(self, body: list[str]) -> str:
        """The meter whose bar length most bars of the body have (4/4 when unclear)."""
        text = "\n".join(["X:1", "K:C", *body])
        for unit in (Fraction(1, 8), Fraction(1, 16)):
            durations = Counter(
                b.duration for b in measure_bars(text, None, unit) if b.duration > 0
            )
            if durations:
                common, count = durations.most_common(1)[0]
                if count >= 2 and common in _METER_FOR_BAR:
                    return _METER_FOR_BAR[common]
        return "4/4"

    # -- voices and bars -----------------------------------------------------------------------

    def drop_empty_voices(self, body_start: int) -> None:
        voice_notes: dict[str, int] = {}
        current = None
        for line in self.lines[body_start:]:
            if line.startswith("V:"):
                current = (line[2:].split() or ["1"])[0]
                voice_notes.setdefault(current, 0)
                continue
            if FIELD_LINE.match(line) or line.startswith("%"):
                continue
            marker = re.match(r"\s*\[V:\s*([^\s\]]+)[^\]]*\]", line)
            voice = marker.group(1) if marker else current
            if line.count("[V:") <= 1 and voice is not None and voice_notes.get(voice):
                current = voice
                continue  # the voice already has notes: no need to read this line
            for token in tokenize_line(line, 0):
                if token.kind == "field" and token.text.startswith("[V:"):
                    current = (token.text[3:-1].split() or ["1"])[0]
                    voice_notes.setdefault(current, 0)
                elif current is not None and token.kind in ("note", "rest", "measure_rest"):
                    voice_notes[current] += 1
        empty = {v for v, n in voice_notes.items() if n == 0}
        if not empty or len(empty) == len(voice_notes):
            return
        kept = []
        for index, line in enumerate(self.lines):
            if line.startswith("V:") and (line[2:].split() or ["1"])[0] in empty:
                self.note("voices", index + 1, f"removed empty voice {line.strip()}")
                continue
            marker = re.fullmatch(r"\s*\[V:\s*([^\s\]]+)[^\]]*\]\s*", line)
            if marker and marker.group(1) in empty:
                continue
            if re.match(r"^%%(score|staves)\b", line):
                line = re.sub(r"[\w.]+", lambda m: "" if m.group(0) in empty else m.group(0), line)
                name, value = line[2:].split(maxsplit=1) if " " in line else (line[2:], "")
                line = f"%%{name} {tidy_score(value)}".rstrip()
            kept.append(line)
        self.lines = kept

    def pad_bars(self) -> None:
        text = "\n".join(self.lines)
        header = {m.group(1): m.group(2) for ln in self.lines if (m := FIELD_LINE.match(ln))}
        meter = parse_meter(header.get("M", "4/4"))
        unit = parse_unit(header.get("L", "")) or default_unit(meter)
        inserts: dict[int, list[tuple[int, str]]] = {}
        for bar in measure_bars(text, meter, unit):
            if (
                bar.expected is None
                or bar.first
                or bar.last
                or bar.near_repeat
                or not bar.end_column
            ):
                continue
            gap = bar.expected - bar.duration
            if gap > 0:
                rest = "z" + format_length(gap / bar.unit)
                inserts.setdefault(bar.end_line, []).append((bar.end_column, rest))
                self.note("bar length", bar.end_line, f"padded an under-full bar with {rest}")
            elif gap < 0:
                full = bar.duration
                change = f"[M:{_meter_text(full)}]"
                restore = f"[M:{_meter_text(bar.expected)}]"
                inserts.setdefault(bar.line, []).append((bar.column, change))
                closing = self.lines[bar.end_line - 1][bar.end_column - 1 :]
                bar_line = _BAR_LINE.match(closing)
                after = bar.end_column + (bar_line.end() if bar_line else 0)
                inserts.setdefault(bar.end_line, []).append((after, restore))
                self.note("bar length", bar.line, f"marked an over-full bar with {change}")
        for line_no, items in inserts.items():
            line = self.lines[line_no - 1]
            at: dict[int, list[str]] = {}
            for column, text_in in items:
                at.setdefault(column, []).append(text_in)
            for column in sorted(at, reverse=True):
                texts = at[column]
                meters = [t for t in texts if t.startswith("[M:")]
                if len(meters) > 1:  # a restore meets the next over-full bar's change
                    texts = [t for t in texts if t not in meters[:-1]]
                line = line[: column - 1] + "".join(texts) + line[column - 1 :]
            self.lines[line_no - 1] = line

    def pad_bars_if_no_worse(self) -> None:
        """Pad or mark bars, then validate: keep the bars unfixed when that is worse."""
        before, fixes_before = list(self.lines), len(self.fixes)
        self.pad_bars()
        if len(self.fixes) == fixes_before:
            return
        errors_before = len(validate("\n".join(before) + "\n").errors)
        if len(validate("\n".join(self.lines) + "\n").errors) > errors_before:
            self.lines, self.fixes = before, self.fixes[:fixes_before]
            self.note(
                "bar length",
                0,
                "left the bar lengths as written: the fixed bars made abc2midi report more errors",
            )


def _meter_text(length: Fraction) -> str:
    """A meter for a bar length, with a denominator of at least 4 (1 → '4/4', 9/8 → '9/8')."""
    scale = max(1, 4 // length.denominator)
    return f"{length.numerator * scale}/{length.denominator * scale}"


def _accepted(abc: str, diagnostics: Sequence[Diagnostic] | Validation) -> bool:
    """True when the tune validates: abc2midi converts it with no error and the pre-checks
    find none. Such a tune is never changed (no corpus tune abc2midi accepts fails them)."""
    if isinstance(diagnostics, Validation):
        if diagnostics.abc == abc:
            return diagnostics.ok
        diagnostics = diagnostics.diagnostics
    if any(d.is_error for d in diagnostics):
        return False
    return validate(abc).ok


def repair(
    abc: str,
    diagnostics: Sequence[Diagnostic] | Validation = (),
    *,
    fix_bar_lengths: bool = False,
    force: bool = False,
) -> RepairResult:
    """Fix the faults of model-written ABC; report each fix.

    A tune that abc2midi and the pre-checks accept is returned unchanged, byte for byte
    (unless bar lengths are to be fixed, or `force` asks to normalise such a tune too), and
    repairing a repaired tune changes nothing more. Pass the tune's `Validation` rather than
    its diagnostics to spare a second run of abc2midi.
    """
    check_size(abc)
    if not abc.strip():
        return RepairResult("", ())
    if not (fix_bar_lengths or force) and _accepted(abc, diagnostics):
        return RepairResult(abc, ())
    if isinstance(diagnostics, Validation):
        diagnostics = diagnostics.diagnostics
    repairer = _Repairer(abc, diagnostics, fix_bar_lengths)
    _start, end = repairer.header_span()
    repairer.fix_body(end)
    body_start = repairer.fix_header()
    repairer.fixes.extend(fix_continuity(repairer.lines, body_start))
    repairer.drop_empty_voices(body_start)
    repairer.lines, declared = declare_voices(repairer.lines)
    repairer.fixes.extend(declared)
    repairer.lines, channels = allocate_channels(repairer.lines)
    repairer.fixes.extend(channels)
    if fix_bar_lengths:
        repairer.pad_bars_if_no_worse()
    return RepairResult("\n".join(repairer.lines) + "\n", tuple(repairer.fixes))
