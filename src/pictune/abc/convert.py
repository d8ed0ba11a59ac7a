"""ABC ⇄ MIDI ⇄ symusic Score (ticks) through the abc2midi and midi2abc binaries.

Canonical notes of a tune: what abc2midi performs. Repeats and first/second endings are
expanded, grace notes, ties, broken rhythms and tuplets resolved, each voice becomes its own
MIDI track with the program of its `%%MIDI program` line, and tempo, meter and key are
written as MIDI meta events (480 ticks per quarter note). Every metric pictune reports is
computed on these notes, so a tune and its MIDI file always measure the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import symusic
from symusic.core import ScoreTick

from pictune.abc.diagnostics import Diagnostic, Severity
from pictune.abc.text import check_size, split_tunes
from pictune.abc.tools import run_tool
from pictune.abc.voices import VoiceGroup, split_by_voices
from pictune.errors import AbcError, InputError

_DIAGNOSTIC = re.compile(r"^(Error|Warning) in line-char (\d+)-(\d+) : (.*)$")
_WRITING = re.compile(r"^writing MIDI file \S*?(\d+)\.mid$")
MAX_DIAGNOSTICS = 200  # a broken tune can make abc2midi print tens of thousands
# Lines abc2midi prints outside its `Error in line-char` format when it gives up part-way: the
# MIDI file it leaves (if any) is cut short. "file runaway" comes from a long valid tune.
_ABORT = re.compile(r"aborting|malloc failed|out of memory|segmentation fault", re.IGNORECASE)
# Errors after which abc2midi still writes a MIDI file, but without some of the notes.
NOTES_LOST = (
    "Channel limit exceeded",
    "Too many tracks",
    "Number of available voices exceeded",
    "Too many notes in chord",
    "All 16 MIDI channels used up",
)
_IN_NAME = "tune.abc"
_OUT_NAME = "tune.mid"


@dataclass(frozen=True)
class MidiConversion:
    """abc2midi's result for one tune: the MIDI bytes (None when it wrote nothing) and findings."""

    midi: bytes | None
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def lost_notes(self) -> tuple[Diagnostic, ...]:
        """Errors after which the MIDI misses notes of the tune (it must not count as played)."""
        return tuple(d for d in self.errors if d.message.startswith(NOTES_LOST))

    def complete_midi(self) -> bytes:
        """The MIDI when it holds every note of the tune; AbcError saying why otherwise."""
        if self.midi is None:
            first = self.errors[0] if self.errors else None
            raise AbcError(
                f"ABC could not be converted: {_said(first)}" if first else "ABC was empty"
            )
        if self.lost_notes:
            lost = _said(self.lost_notes[0])
            raise AbcError(f"ABC could not be converted without losing notes: {lost}")
        return self.midi


def _said(diagnostic: Diagnostic) -> str:
    """A finding for a one-line error: its place when it has one, then its message."""
    return str(diagnostic) if diagnostic.line else diagnostic.message


def parse_abc2midi_output(
    stdout: str, n_lines: int, line_offset: int = 0, limit: int = MAX_DIAGNOSTICS
) -> list[Diagnostic]:
    """Diagnostics from abc2midi's stdout, lines shifted by `line_offset`, clamped to the text.

    At most `limit` are kept (a batch of tunes needs a limit per tune, not one for all).
    """
    found: list[Diagnostic] = []
    dropped = 0
    aborted = False
    for raw in stdout.splitlines():
        match = _DIAGNOSTIC.match(raw.strip())
        if not match:
            if not aborted and _ABORT.search(raw):
                aborted = True
                found.append(Diagnostic(Severity.ERROR, 0, 0, _abort_message(raw), "abc2midi"))
            continue
        if len(found) >= limit:
            dropped += 1
            continue
        kind, line, column, message = match.groups()
        line_no = int(line) - line_offset
        if not 1 <= line_no <= n_lines:
            line_no, column = 0, "0"
        severity = Severity.ERROR if kind == "Error" else Severity.WARNING
        found.append(Diagnostic(severity, line_no, int(column), message.strip(), "abc2midi"))
    if dropped:
        found.append(
            Diagnostic(
                Severity.WARNING, 0, 0, f"{dropped} more abc2midi messages not shown", "abc2midi"
            )
        )
    return found


def _abort_message(line: str) -> str:
    if "runaway" in line:
        return (
            "abc2midi stopped part-way (file runaway): the tune is too long for one MIDI file; "
            "shorten it or split it into tunes"
        )
    return f"abc2midi stopped part-way: {line.strip()}"


def _verified(midi: bytes | None, returncode: int, diagnostics: list[Diagnostic]) -> bytes | None:
    """The MIDI abc2midi wrote when it is whole; None (and an error saying why) otherwise.

    abc2midi exits 0 even on errors, but an abort leaves a non-zero status or a truncated file
    that symusic would read without complaint, silently missing the rest of the tune.
    """
    aborted = any(d.line == 0 and d.message.startswith("abc2midi stopped") for d in diagnostics)
    if returncode != 0 and not aborted:
        how = f"signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
        diagnostics.append(
            Diagnostic(Severity.ERROR, 0, 0, f"abc2midi stopped part-way ({how})", "abc2midi")
        )
        aborted = True
    if midi is None:
        if not any(d.is_error for d in diagnostics):
            diagnostics.append(
                Diagnostic(Severity.ERROR, 0, 0, "abc2midi wrote no MIDI file", "abc2midi")
            )
        return None
    if aborted:
        return None
    try:
        check_midi_bytes(midi)
    except InputError as exc:
        diagnostics.append(
            Diagnostic(
                Severity.ERROR, 0, 0, f"abc2midi wrote a damaged MIDI file: {exc}", "abc2midi"
            )
        )
        return None
    return midi


def abc_to_midi(abc: str) -> MidiConversion:
    """Run abc2midi on one tune; its MIDI bytes (None unless whole) and its diagnostics.

    A score with more voices than abc2midi holds is converted in groups of voices whose
    tracks are merged into one file (see `pictune.abc.voices`).
    """
    check_size(abc)
    groups = split_by_voices(abc)
    if len(groups) > 1:
        return _convert_groups(groups)
    data = abc.encode("utf-8")
    run = run_tool("abc2midi", [_IN_NAME, "-o", _OUT_NAME], {_IN_NAME: data}, [_OUT_NAME])
    diagnostics = parse_abc2midi_output(run.stdout, abc.count("\n") + 1)
    midi = _verified(run.outputs.get(_OUT_NAME), run.returncode, diagnostics)
    return MidiConversion(midi, tuple(diagnostics))


def _convert_groups(groups: Sequence[VoiceGroup]) -> MidiConversion:
    """Convert each group of voices alone and merge their tracks; diagnostics keep their lines."""
    merged: ScoreTick | None = None
    diagnostics: list[Diagnostic] = []
    for group in groups:
        part = abc_to_midi(group.abc)
        for diag in part.diagnostics:
            inside = 1 <= diag.line <= len(group.source_lines)
            line = group.source_lines[diag.line - 1] if inside else 0
            diagnostics.append(
                Diagnostic(diag.severity, line, diag.column, diag.message, diag.source)
            )
        if part.midi is None:
            return MidiConversion(None, tuple(diagnostics))
        score = midi_to_score(part.midi)
        if merged is None:
            merged = score
        else:
            merged.tracks.extend(score.tracks)
    return MidiConversion(score_to_midi(merged) if merged else None, tuple(diagnostics))


def abc_to_midi_many(tunes: Sequence[str]) -> list[MidiConversion]:
    """Convert many tunes with one abc2midi run (corpus ingestion); same results as one by one.

    Each tune gets a fresh reference number so abc2midi writes `tuneN.mid` for the N-th tune.
    """
    if not tunes:
        return []
    texts, offsets, position = [], [], 0
    for number, tune in enumerate(tunes, start=1):
        check_size(tune)
        lines = [ln for ln in tune.split("\n") if not ln.startswith("X:")]
        text = "\n".join([f"X:{number}", *lines]) + "\n\n"
        texts.append(text)
        offsets.append(position)
        position += text.count("\n")
    names = [f"tune{number}.mid" for number in range(1, len(tunes) + 1)]
    run = run_tool(
        "abc2midi",
        [_IN_NAME],
        {_IN_NAME: "".join(texts).encode("utf-8")},
        names,
        timeout=5.0 + 0.05 * len(tunes),
    )
    per_tune: list[list[Diagnostic]] = [[] for _ in tunes]
    aborted = run.returncode != 0
    for diag in parse_abc2midi_output(run.stdout, position, limit=MAX_DIAGNOSTICS * len(tunes)):
        if diag.line == 0 and diag.message.startswith("abc2midi stopped"):
            aborted = True  # belongs to the tune being written when it stopped: redone below
            continue
        index = max(0, _tune_index(offsets, diag.line))
        local = diag.line - offsets[index]
        per_tune[index].append(
            Diagnostic(diag.severity, local, diag.column, diag.message, diag.source)
        )
    written = [index for index, name in enumerate(names) if name in run.outputs]
    last_written = written[-1] if aborted and written else -1
    results = []
    for index, name in enumerate(names):
        midi = run.outputs.get(name)
        if (
            midi is None
            or index == last_written
            or not _whole(midi)
            or len(split_by_voices(tunes[index])) > 1
        ):
            # A tune that crashes abc2midi ends the batch run (the tunes after it get no file,
            # its own a cut one), and batch mode sometimes leaves an empty file: redo such
            # tunes one by one; a score too large for one run is converted in voice groups.
            results.append(abc_to_midi(tunes[index]))
            continue
        results.append(MidiConversion(midi, tuple(per_tune[index])))
    return results


def _whole(midi: bytes) -> bool:
    try:
        check_midi_bytes(midi)
    except InputError:
        return False
    return True


def _tune_index(offsets: Sequence[int], line: int) -> int:
    low, high = 0, len(offsets) - 1
    while low < high:
        mid = (low + high + 1) // 2
        if offsets[mid] < line:
            low = mid
        else:
            high = mid - 1
    return low


def check_midi_bytes(midi: bytes) -> None:
    """Refuse bytes that are not a complete Standard MIDI File (symusic reads truncated ones)."""
    if not midi.startswith(b"MThd") or len(midi) < 14:
        raise InputError("not a MIDI file (no MThd header)")
    declared = int.from_bytes(midi[10:12], "big")
    position, tracks = 8 + int.from_bytes(midi[4:8], "big"), 0
    while position + 8 <= len(midi):
        size = int.from_bytes(midi[position + 4 : position + 8], "big")
        if position + 8 + size > len(midi):
            raise InputError("truncated MIDI file (a track ends past the end of the file)")
        tracks += midi[position : position + 4] == b"MTrk"
        position += 8 + size
    if tracks < declared:
        raise InputError(f"truncated MIDI file ({tracks} of {declared} tracks present)")


def midi_to_score(midi: bytes) -> ScoreTick:
    """A symusic Score (ticks) from MIDI bytes; a clear error for bytes that are not MIDI."""
    check_midi_bytes(midi)
    try:
        return cast(ScoreTick, symusic.Score.from_midi(midi))
    except Exception as exc:  # symusic raises bare RuntimeError/ValueError on corrupt files
        raise InputError(f"corrupt MIDI file: {exc}") from exc


def abc_to_score(abc: str) -> ScoreTick:
    """The canonical notes of one tune as a symusic Score; AbcError when abc2midi cannot play
    all of it (no MIDI, an aborted run, or notes dropped)."""
    return midi_to_score(abc_to_midi(abc).complete_midi())


def midi_to_abc(midi: bytes, title: str | None = None) -> str:
    """ABC text for MIDI bytes through midi2abc: one `V:` per track, programs and tempo kept."""
    score = midi_to_score(midi)
    args = ["-f", "in.mid", "-o", "out.abc"]
    if len(score.key_signatures):
        # midi2abc spells every voice in C unless told the key (Bb would come out as ^A).
        args += ["-k", str(int(score.key_signatures[0].key))]
    run = run_tool("midi2abc", args, {"in.mid": midi}, ["out.abc"])
    out = run.outputs.get("out.abc")
    if not out or b"K:" not in out:
        message = run.stdout.strip().splitlines()
        raise AbcError(
            f"midi2abc could not read the MIDI: {message[-1] if message else 'no output'}"
        )
    tunes = split_tunes(out.decode("utf-8", "replace"))
    text = tunes[0] if tunes else ""
    if title:
        text = re.sub(r"^T:.*$", f"T:{title}", text, count=1, flags=re.MULTILINE)
    return text


def score_to_midi(score: ScoreTick) -> bytes:
    """MIDI bytes for a symusic Score."""
    data: bytes = score.dumps_midi()
    return data


def score_to_abc(score: ScoreTick, title: str | None = None) -> str:
    """ABC text for a symusic Score (through MIDI and midi2abc)."""
    return midi_to_abc(score_to_midi(score), title=title)
