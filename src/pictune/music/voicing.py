"""Voice rules: the bass stays under the melody and under the accompaniment, the
accompaniment does not double the tune in unison, each voice fits its instrument and its
staff, and the outer voices avoid parallel fifths and octaves. Also the melody's range and
its steps and leaps."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pictune.music.analysis import Analysis
from pictune.music.findings import Checked, Finding, Severity
from pictune.music.ranges import ledger_lines, pitch_name, playable_range
from pictune.music.voices import Line, Voice

MANY_LEDGER_LINES = 2  # more than this many is hard to read
LEDGER_SHARE_LIMIT = 0.1  # a voice with more of its notes that far off the staff is misplaced
STEP = 2


def check_crossing(analysis: Analysis) -> Checked:
    """The bass sounding above the melody: one finding per bar where it happens."""
    voices, melody, bass = analysis.voices, analysis.melody, analysis.bass
    if bass is None or voices.bass == voices.melody or not melody.size or not bass.size:
        return Checked((), {"bass_above_melody": None})
    ticks = np.union1d(melody.time, bass.time)
    top, low = melody.sounding(ticks), bass.sounding(ticks)
    both = (top >= 0) & (low >= 0)
    above = both & (bass.pitch[np.maximum(low, 0)] > melody.pitch[np.maximum(top, 0)])
    found: list[Finding] = []
    seen: set[int] = set()
    for tick in ticks[above]:
        bar, beat = analysis.place(int(tick))
        if bar in seen:
            continue
        seen.add(bar)
        found.append(
            Finding(
                "voices.crossing",
                Severity.ERROR,
                bar,
                beat,
                analysis.bass_label,
                "the bass rises above the melody",
                "keep the bass below the tune (move it down an octave)",
            )
        )
    rate = float(above.sum() / both.sum()) if both.any() else None
    return Checked(tuple(found), {"bass_above_melody": rate})


def check_under_bass(analysis: Analysis) -> Checked:
    """Accompanying voices sounding under the bass: the harmony's lowest note is then not the
    bass's, and a triad over its own fifth sounds as a 6/4. One finding per voice, at the
    first place, with the share of the moments it and the bass sound together."""
    voices, bass = analysis.voices, analysis.bass
    if bass is None or voices.bass == voices.melody or not bass.size:
        return Checked((), {"accompaniment_under_bass": None})
    found: list[Finding] = []
    under_total, both_total = 0, 0
    for index, voice in enumerate(voices.voices):
        if index in (voices.bass, voices.melody):
            continue
        line = voice.bottom_line()
        ticks = np.union1d(line.time, bass.time)
        mine, theirs = line.sounding(ticks), bass.sounding(ticks)
        both = (mine >= 0) & (theirs >= 0)
        low, deep = line.pitch[np.maximum(mine, 0)], bass.pitch[np.maximum(theirs, 0)]
        under = both & (low < deep)
        under_total += int(under.sum())
        both_total += int(both.sum())
        if not under.any():
            continue
        first = int(np.flatnonzero(under)[0])
        bar, beat = analysis.place(int(ticks[first]))
        found.append(
            Finding(
                "voices.under-bass",
                Severity.WARNING,
                bar,
                beat,
                voice.label,
                f"the {voice.instrument} sounds under the bass ({pitch_name(int(low[first]))} "
                f"under {pitch_name(int(deep[first]))}) at {under.sum() / both.sum():.0%} of "
                f"the moments both sound: the harmony does not stand on the bass",
                "voice the part above the bass, or move the bass down an octave",
            )
        )
    rate = under_total / both_total if both_total else None
    return Checked(tuple(found), {"accompaniment_under_bass": rate})


def check_unisons(analysis: Analysis) -> Checked:
    """Accompanying notes that start with a melody note on the same pitch."""
    voices, melody = analysis.voices, analysis.melody
    if not melody.size or len(voices.voices) < 2:
        return Checked((), {"melody_unisons": None})
    keys = melody.time * 128 + melody.pitch
    doubled = np.zeros(melody.size, dtype=bool)
    for index, voice in enumerate(voices.voices):
        if index != voices.melody:
            doubled |= np.isin(keys, voice.time * 128 + voice.pitch)
    found: list[Finding] = []
    seen: set[int] = set()
    for note in np.flatnonzero(doubled):
        bar, beat = analysis.place(int(melody.time[note]))
        if bar in seen:
            continue
        seen.add(bar)
        found.append(
            Finding(
                "voices.unison",
                Severity.NOTE,
                bar,
                beat,
                analysis.melody_label,
                f"the accompaniment doubles the melody's {pitch_name(int(melody.pitch[note]))} "
                f"in unison",
                "move the accompanying note a third or an octave away",
            )
        )
    return Checked(tuple(found), {"melody_unisons": float(doubled.mean())})


def check_ranges(analysis: Analysis) -> Checked:
    """Each voice against its instrument's range and its clef's staff (ledger lines)."""
    found: list[Finding] = []
    total_lines, total_notes = 0, 0
    bass_share: float | None = None
    for index, voice in enumerate(analysis.voices.voices):
        low, high = playable_range(voice.program)
        lowest, highest = int(voice.pitch.min()), int(voice.pitch.max())
        if lowest < low or highest > high:
            outside = voice.pitch < low if lowest < low else voice.pitch > high
            bar, beat = analysis.place(int(voice.time[np.flatnonzero(outside)[0]]))
            where, limit, extreme = (
                ("below", low, lowest) if lowest < low else ("above", high, highest)
            )
            found.append(
                Finding(
                    "voices.instrument-range",
                    Severity.WARNING,
                    bar,
                    beat,
                    voice.label,
                    f"the {voice.instrument} part reaches {pitch_name(extreme)}, {where} the "
                    f"instrument's range ({pitch_name(limit)})",
                    f"move those notes an octave {'up' if where == 'below' else 'down'} or "
                    f"choose another instrument",
                )
            )
        lines = ledger_lines(voice.pitch, voice.clef, voice.octave_shift)
        total_lines += int(lines.sum())
        total_notes += int(lines.size)
        many = lines > MANY_LEDGER_LINES
        if index == analysis.voices.bass and index != analysis.voices.melody:
            bass_share = float(many.mean())
        if many.mean() > LEDGER_SHARE_LIMIT:
            found.append(_ledger_finding(analysis, voice, many))
    rates = {
        "ledger_lines_per_note": total_lines / total_notes if total_notes else None,
        "bass_notes_over_two_ledger_lines": bass_share,
    }
    return Checked(tuple(found), rates)


def _ledger_finding(analysis: Analysis, voice: Voice, many: npt.NDArray[np.bool_]) -> Finding:
    first = int(np.flatnonzero(many)[0])
    bar, beat = analysis.place(int(voice.time[first]))
    high = float(np.median(voice.pitch[many])) > 60
    direction = "above" if high else "below"
    other = "treble" if high else "bass"
    move = "down" if high else "up"
    return Finding(
        "voices.ledger-lines",
        Severity.WARNING,
        bar,
        beat,
        voice.label,
        f"the part sits {direction} the {voice.clef} staff: {many.mean():.0%} of its notes need "
        f"more than {MANY_LEDGER_LINES} ledger lines",
        f"write the part an octave {move}, or in the {other} clef if it belongs there",
    )


def check_parallels(analysis: Analysis) -> Checked:
    """Parallel fifths and octaves (or unisons) between the melody and the bass: where both
    strike a new note at once, the interval sounding just before and the new one are the
    same perfect fifth or octave and both voices moved the same way. (Across a barline too:
    a tune's last note over a held bass, then both moving to the next downbeat.)"""
    melody, bass = analysis.melody, analysis.bass
    if bass is None or not melody.size or not bass.size:
        return Checked((), {})
    ticks = np.intersect1d(melody.time, bass.time)
    ticks = ticks[ticks > 0]
    top, low = melody.sounding(ticks), bass.sounding(ticks)
    was_top, was_low = melody.sounding(ticks - 1), bass.sounding(ticks - 1)
    keep = (top >= 0) & (low >= 0) & (was_top >= 0) & (was_low >= 0)
    ticks = ticks[keep]
    upper, lower = melody.pitch[top[keep]], bass.pitch[low[keep]]
    before_upper, before_lower = melody.pitch[was_top[keep]], bass.pitch[was_low[keep]]
    interval, before = (upper - lower) % 12, (before_upper - before_lower) % 12
    up, down = upper - before_upper, lower - before_lower
    same = (interval == before) & np.isin(interval, (0, 7))
    moving = (up != 0) & (down != 0) & (np.sign(up) == np.sign(down))
    found: list[Finding] = []
    for k in np.flatnonzero(same & moving):
        bar, beat = analysis.place(int(ticks[k]))
        kind = "fifths" if interval[k] == 7 else "octaves"
        found.append(
            Finding(
                f"voices.parallel-{kind}",
                Severity.WARNING,
                bar,
                beat,
                analysis.bass_label,
                f"parallel {kind} between melody and bass ({pitch_name(int(before_lower[k]))}–"
                f"{pitch_name(int(before_upper[k]))} to {pitch_name(int(lower[k]))}–"
                f"{pitch_name(int(upper[k]))})",
                "move the bass against the melody (contrary motion) or change its note",
            )
        )
    return Checked(tuple(found), {})


def check_augmented_seconds(analysis: Analysis) -> Checked:
    """In a minor key, the melody stepping between the sixth degree and the raised seventh
    (A flat to B natural in C minor): an augmented second, awkward to sing; melodic minor
    raises the sixth on the way up and lowers the seventh on the way down."""
    key, melody = analysis.key, analysis.melody
    if not key.is_minor or melody.size < 2:
        return Checked((), {})
    sixth, seventh = (key.tonic + 8) % 12, (key.tonic + 11) % 12
    pcs, moves = melody.pitch % 12, np.abs(np.diff(melody.pitch))
    pairs = ((pcs[:-1] == sixth) & (pcs[1:] == seventh)) | (
        (pcs[:-1] == seventh) & (pcs[1:] == sixth)
    )
    found: list[Finding] = []
    for k in np.flatnonzero(pairs & (moves == 3)):
        bar, beat = analysis.place(int(melody.time[k + 1]))
        found.append(
            Finding(
                "melody.augmented-second",
                Severity.WARNING,
                bar,
                beat,
                analysis.melody_label,
                f"the melody moves an augmented second ({pitch_name(int(melody.pitch[k]))} to "
                f"{pitch_name(int(melody.pitch[k + 1]))})",
                "raise the sixth going up to the leading tone, or lower the seventh coming down",
            )
        )
    return Checked(tuple(found), {})


def melody_rates(line: Line) -> dict[str, float | int | None]:
    """Range in semitones, and the shares of repeated notes, steps and leaps."""
    if not line.size:
        return {"melody_range": None, "melody_steps": None, "melody_leaps": None}
    moves = np.abs(np.diff(line.pitch))
    return {
        "melody_range": int(line.pitch.max() - line.pitch.min()),
        "melody_steps": float(((moves > 0) & (moves <= STEP)).mean()) if moves.size else None,
        "melody_leaps": float((moves > STEP).mean()) if moves.size else None,
    }
