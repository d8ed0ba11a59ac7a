"""Notation rules, read from the ABC text (MIDI keeps neither ties nor beams): a note that
starts off the beat must not run across the next beat unsplit, and beams show the beats."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

from pictune.abc.timeline import Timeline, WrittenBar, WrittenNote
from pictune.music.findings import Checked, Finding, Severity
from pictune.music.voices import voice_label

UNBEAMED_SHARE = 0.5  # a voice writing most of its short notes apart is hard to read


def _position(note: WrittenNote, bar: WrittenBar) -> Fraction:
    """Whole notes from beat 1 of the note's bar."""
    return note.onset - bar.downbeat


def check_beat_crossings(timeline: Timeline) -> Checked:
    """Notes (and chords) that start off a beat and last past the next beat."""
    labels = {info.id: voice_label(info) for info in timeline.voices}
    found: list[Finding] = []
    judged = crossing = 0
    for note in timeline.notes:
        bar = timeline.bars[note.bar] if note.bar < len(timeline.bars) else None
        if note.is_rest or bar is None or bar.meter is None:
            continue
        judged += 1
        beat = bar.meter.beat
        position = _position(note, bar)
        if position % beat == 0 or position + note.duration <= (position // beat + 1) * beat:
            continue
        crossing += 1
        crossed = int(position // beat) + 2
        found.append(
            Finding(
                "notation.beat-crossing",
                Severity.WARNING,
                bar.number,
                int(position // beat) + 1,
                labels.get(note.voice, note.voice),
                f"a note starts off the beat and runs across beat {crossed} without a tie",
                "split it at the beat and tie the two parts",
            )
        )
    return Checked(tuple(found), {"untied_beat_crossings": crossing / judged if judged else None})


def check_beams(timeline: Timeline) -> Checked:
    """Beam groups that hide a beat, and voices whose short notes are never beamed."""
    labels = {info.id: voice_label(info) for info in timeline.voices}
    groups: dict[int, list[WrittenNote]] = defaultdict(list)
    for note in timeline.notes:
        if note.beam >= 0:
            groups[note.beam].append(note)
    found: list[Finding] = []
    for notes in groups.values():
        bar = timeline.bars[notes[0].bar]
        if len(notes) < 2 or bar.meter is None:
            continue
        hidden = _hidden_beat(notes, bar)
        if hidden:
            found.append(
                Finding(
                    "notation.beaming",
                    Severity.WARNING,
                    bar.number,
                    hidden,
                    labels.get(notes[0].voice, notes[0].voice),
                    f"a beam runs across beat {hidden} and hides it",
                    "break the beam at the beat (a space between the notes in ABC)",
                )
            )
    found.extend(_unbeamed(timeline, groups, labels))
    return Checked(tuple(found), {})


def _hidden_beat(notes: list[WrittenNote], bar: WrittenBar) -> int:
    """The beat a beam group hides (0 when it hides none).

    A group may span beats only when it starts on a beat and a note starts on each beat it
    spans; in compound meters it may not span beats at all, and in 4/4 not the middle.
    """
    assert bar.meter is not None
    beat = bar.meter.beat
    start = _position(notes[0], bar)
    end = _position(notes[-1], bar) + notes[-1].duration
    first_inside = (start // beat + 1) * beat
    boundaries = []
    point = first_inside
    while point < end:
        boundaries.append(point)
        point += beat
    if not boundaries:
        return 0
    onsets = {_position(n, bar) for n in notes}
    for boundary in boundaries:
        number = int(boundary // beat) + 1
        middle = bar.meter.beats == 4 and not bar.meter.compound and number == 3
        if start % beat != 0 or boundary not in onsets or bar.meter.compound or middle:
            return number
    return 0


def _unbeamed(
    timeline: Timeline, groups: dict[int, list[WrittenNote]], labels: dict[str, str]
) -> list[Finding]:
    """One finding per voice whose short notes mostly stand alone though they share a beat."""
    found: list[Finding] = []
    by_voice: dict[str, list[WrittenNote]] = defaultdict(list)
    for notes in groups.values():
        by_voice[notes[0].voice].extend(notes if len(notes) == 1 else [])
    for voice, lone in by_voice.items():
        short = [n for n in timeline.notes if n.voice == voice and n.beam >= 0]
        if len(short) < 4 or len(lone) / len(short) <= UNBEAMED_SHARE:
            continue
        bar = timeline.bars[lone[0].bar]
        found.append(
            Finding(
                "notation.unbeamed",
                Severity.NOTE,
                bar.number,
                0,
                labels.get(voice, voice),
                f"{len(lone) / len(short):.0%} of its short notes stand alone, without beams",
                "beam the notes of each beat together (no space between them in ABC)",
            )
        )
    return found
