"""Cheap Python checks that catch what abc2midi reports badly or not at all."""

from __future__ import annotations

import re
from fractions import Fraction

from pictune.abc.diagnostics import Diagnostic, Severity
from pictune.abc.headers import (
    MAX_TEMPO,
    MIN_TEMPO,
    normalise_key,
    normalise_meter,
    normalise_unit,
    tempo_qpm,
)
from pictune.abc.text import FIELD_LINE, HEADER_ONLY_FIELDS, KNOWN_FIELDS, header_end
from pictune.abc.tokens import (
    MAX_LENGTH_MULTIPLIER,
    default_unit,
    is_plain_music,
    measure_bars,
    parse_meter,
    parse_unit,
    tokenize_line,
)

MAX_VOICES = 64
MAX_BAR_WARNINGS = 12
_PROSE_WORD = re.compile(r"\b[A-Za-z]*[h-wyH-Wy][A-Za-z]*\b")
_SLUR_MARK = re.compile(r"[()]")
# Notes with ABC's one-letter decorations (u/v bowings, T trill, H fermata …): music, not words.
_NOTES_AND_BOWINGS = re.compile(r"[A-Ga-gHLMOPSTuvz]+")
_QUOTED = re.compile(r'"[^"]*"|![^!]*!')
_LOWER_COMMA = re.compile(r"[a-g],")


def looks_like_prose(line: str) -> bool:
    """A body line of English rather than music ('Here is a gentle melody:')."""
    text = _QUOTED.sub(" ", line).strip()
    if not text or text.startswith("%") or FIELD_LINE.match(text):
        return False
    if re.match(r"^(#{1,6}\s|[-*•]\s|\d+\.\s|\*\*)", text):
        return True
    words = [
        w
        for w in _PROSE_WORD.findall(text)
        if len(w) >= 3 and w.isalpha() and not _NOTES_AND_BOWINGS.fullmatch(w)
    ]
    music = len(re.findall(r"[|\[\]]", text))
    return len(words) >= 2 and len(words) >= music


def _error(line: int, column: int, message: str) -> Diagnostic:
    return Diagnostic(Severity.ERROR, line, column, message, "precheck")


def _warning(line: int, column: int, message: str) -> Diagnostic:
    return Diagnostic(Severity.WARNING, line, column, message, "precheck")


def _check_field(letter: str, value: str, line: int) -> Diagnostic | None:
    if letter == "K" and normalise_key(value) is None:
        return _error(line, 3, f"K:{value.strip()} is not a key abc2midi understands")
    if letter == "M" and normalise_meter(value) is None:
        return _error(line, 3, f"M:{value.strip()} is not a meter such as 4/4, 6/8 or C")
    if letter == "L" and normalise_unit(value) is None:
        return _error(line, 3, f"L:{value.strip()} is not a unit length from 1/1 to 1/128")
    if letter == "Q":
        qpm = tempo_qpm(value)
        if qpm is None:
            return _error(line, 3, f"Q:{value.strip()} is not a tempo such as 1/4=120")
        if not MIN_TEMPO <= qpm <= MAX_TEMPO:
            return _error(line, 3, f"tempo {qpm:g} per minute is outside {MIN_TEMPO}–{MAX_TEMPO}")
    return None


def _check_header(lines: list[str], end: int) -> list[Diagnostic]:
    found = []
    if not any(line.startswith("X:") for line in lines[:end]):
        found.append(_error(1, 1, "missing X: line (the reference number that starts a tune)"))
    if end == len(lines) and not any(line.startswith("K:") for line in lines):
        found.append(_error(0, 0, "missing K: field (the key line that ends the header)"))
    for index, line in enumerate(lines):
        match = FIELD_LINE.match(line)
        if not match:
            continue
        letter, value = match.groups()
        if letter not in KNOWN_FIELDS:
            continue
        problem = _check_field(letter, value, index + 1)
        if problem:
            found.append(problem)
        if index >= end and letter in HEADER_ONLY_FIELDS:
            found.append(_warning(index + 1, 1, f"{letter}: belongs in the header, before K:"))
    voices = {ln[2:].split()[0] for ln in lines if ln.startswith("V:") and ln[2:].split()}
    if len(voices) > MAX_VOICES:
        found.append(_error(0, 0, f"{len(voices)} voices; at most {MAX_VOICES} are supported"))
    return found


def _check_line(line: str, line_no: int) -> list[Diagnostic]:
    if looks_like_prose(line):
        return [_error(line_no, 1, "line is prose, not music")]
    found = []
    chord_depth = 0
    grace_open = False
    for token in tokenize_line(line, line_no):
        kind = token.kind
        if kind == "annotation" and (len(token.text) < 2 or not token.text.endswith('"')):
            found.append(_error(line_no, token.column, 'unclosed quote "'))
        elif kind == "decoration" and token.text[0] == "!" and not token.text.endswith("!"):
            found.append(_error(line_no, token.column, "unclosed decoration !"))
        elif kind == "chord_open":
            chord_depth += 1
            if chord_depth > 1:
                found.append(_error(line_no, token.column, "chord inside a chord"))
        elif kind == "chord_close":
            if chord_depth == 0:
                found.append(_error(line_no, token.column, "] without ["))
            chord_depth = max(0, chord_depth - 1)
        elif kind == "grace_open":
            if grace_open:
                found.append(_error(line_no, token.column, "grace notes inside grace notes"))
            grace_open = True
        elif kind == "grace_close":
            if not grace_open:
                found.append(_error(line_no, token.column, "} without {"))
            grace_open = False
        elif kind in ("note", "rest") and token.length > MAX_LENGTH_MULTIPLIER:
            found.append(
                _error(line_no, token.column, f"note length {token.length} units is too long")
            )
        elif kind == "other" and token.text not in "&\\$*y;#@\"'":
            found.append(_warning(line_no, token.column, f"unexpected character {token.text!r}"))
        if len(found) > 50:
            break
    if chord_depth:
        found.append(_error(line_no, len(line), "[ without ] (chords end on their line)"))
    if grace_open:
        found.append(_error(line_no, len(line), "{ without } (grace notes end on their line)"))
    for match in _LOWER_COMMA.finditer(line):
        found.append(
            _warning(
                line_no,
                match.start() + 1,
                f"{match.group(0)} mixes a lower-case note with a comma; "
                f"write {match.group(0)[0].upper()}",
            )
        )
    return found


def _check_slurs(lines: list[str], start: int) -> list[Diagnostic]:
    depth, first_open = 0, (0, 0)
    for index in range(start, len(lines)):
        if FIELD_LINE.match(lines[index]) or not _SLUR_MARK.search(lines[index]):
            continue
        for token in tokenize_line(lines[index], index + 1):
            if token.kind == "slur_open":
                if depth == 0:
                    first_open = (token.line, token.column)
                depth += 1
            elif token.kind == "slur_close":
                if depth == 0:
                    return [_warning(token.line, token.column, ") closes no slur")]
                depth -= 1
    if depth:
        return [_warning(*first_open, "( opens a slur that never closes")]
    return []


def _quarters(length: Fraction) -> str:
    """A bar length in quarter notes: 7/8 of a whole note → '3.5'."""
    return f"{float(length * 4):g}"


def _check_bars(abc: str, lines: list[str], end: int) -> list[Diagnostic]:
    header = {m.group(1): m.group(2) for ln in lines[:end] if (m := FIELD_LINE.match(ln))}
    meter = parse_meter(header.get("M", "4/4")) if "M" in header else parse_meter("4/4")
    unit = parse_unit(header.get("L", "")) or default_unit(meter)
    found = []
    bars = measure_bars(abc, meter, unit)
    for bar in bars:
        if bar.expected is None or bar.last or bar.near_repeat:
            continue
        if bar.first and bar.duration < bar.expected:
            continue  # a pickup (anacrusis): the last bar often completes it, or ends short
        if bar.duration != bar.expected:
            word = "over-full" if bar.duration > bar.expected else "under-full"
            found.append(
                _warning(
                    bar.line,
                    bar.column,
                    f"{word} bar: {_quarters(bar.duration)} quarter notes long where "
                    f"the meter holds {_quarters(bar.expected)}",
                )
            )
    if len(found) > MAX_BAR_WARNINGS:
        extra = len(found) - MAX_BAR_WARNINGS
        found = [
            *found[:MAX_BAR_WARNINGS],
            _warning(0, 0, f"{extra} more bars of the wrong length"),
        ]
    return found


def precheck(abc: str) -> list[Diagnostic]:
    """Findings of the Python checks, in line order."""
    if not abc.strip():
        return [_error(0, 0, "no ABC text")]
    lines = abc.split("\n")
    end = header_end(lines)
    found = _check_header(lines, end)
    for index in range(end, len(lines)):
        line = lines[index]
        if FIELD_LINE.match(line) or line.startswith("%") or not line.strip():
            continue
        if is_plain_music(line):
            continue  # notes, rests, bar lines, plain chords and [V:] markers: nothing to find
        found.extend(_check_line(line, index + 1))
    found.extend(_check_slurs(lines, end))
    if not any(d.is_error for d in found):
        found.extend(_check_bars(abc, lines, end))
    return sorted(found, key=lambda d: (d.line, d.column))
