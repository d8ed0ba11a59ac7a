"""Notation rules, read from the ABC text (MIDI keeps neither ties nor beams): a note that
starts off the beat must not run across the next beat unsplit, and beams show the beats."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pictune.abc.timeline import Meter, Timeline, WrittenNote
from pictune.music.findings import Checked, Finding, Severity
from pictune.music.voices import voice_label

IntArray = npt.NDArray[np.int64]
UNBEAMED_SHARE = 0.5  # a voice writing most of its short notes apart is hard to read


@dataclass(frozen=True, eq=False)
class _Written:
    """The written notes as arrays, each with its position from beat 1 of its bar."""

    position: IntArray
    duration: IntArray
    beat: IntArray  # timeline ticks per beat in the note's bar (0 without a meter)
    bar: IntArray
    rest: npt.NDArray[np.bool_]


def _arrays(timeline: Timeline) -> _Written:
    notes = timeline.notes
    bar = np.array([n.bar for n in notes], dtype=np.int64)
    downbeat = np.array([b.downbeat for b in timeline.bars] or [0], dtype=np.int64)
    beat = np.array([b.meter.beat_ticks if b.meter else 0 for b in timeline.bars] or [0])
    return _Written(
        position=np.array([n.onset for n in notes], dtype=np.int64) - downbeat[bar],
        duration=np.array([n.duration for n in notes], dtype=np.int64),
        beat=beat[bar].astype(np.int64),
        bar=bar,
        rest=np.array([n.is_rest for n in notes], dtype=bool),
    )


def check_beat_crossings(timeline: Timeline) -> Checked:
    """Notes (and chords) that start off a beat and last past the next beat."""
    if not timeline.notes:
        return Checked((), {"untied_beat_crossings": None})
    labels = {info.id: voice_label(info) for info in timeline.voices}
    written = _arrays(timeline)
    judged = ~written.rest & (written.beat > 0)
    beat = np.maximum(written.beat, 1)
    index = written.position // beat  # 0-based beat the note starts in
    crossing = (
        judged
        & (written.position % beat != 0)
        & (written.position + written.duration > (index + 1) * beat)
    )
    found = []
    for note in np.flatnonzero(crossing):
        bar = timeline.bars[int(written.bar[note])]
        voice = timeline.notes[note].voice
        found.append(
            Finding(
                "notation.beat-crossing",
                Severity.WARNING,
                bar.number,
                int(index[note]) + 1,
                labels.get(voice, voice),
                f"a note starts off the beat and runs across beat {int(index[note]) + 2} "
                "without a tie",
                "split it at the beat and tie the two parts",
            )
        )
    rate = float(crossing.sum() / judged.sum()) if judged.any() else None
    return Checked(tuple(found), {"untied_beat_crossings": rate})


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
        positions = [n.onset - bar.downbeat for n in notes]
        end = positions[-1] + notes[-1].duration
        hidden = _hidden_beat(positions, end, bar.meter)
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


def _hidden_beat(positions: list[int], end: int, meter: Meter) -> int:
    """The beat a beam group hides (0 when it hides none).

    A group may span beats only when it starts on a beat and a note starts on each beat it
    spans; in compound meters it may not span beats at all, and in 4/4 not the middle.
    """
    beat = meter.beat_ticks
    start = positions[0]
    onsets = set(positions)
    boundary = (start // beat + 1) * beat
    while boundary < end:
        number = boundary // beat + 1
        middle = meter.beats == 4 and not meter.compound and number == 3
        if start % beat or boundary not in onsets or meter.compound or middle:
            return number
        boundary += beat
    return 0


def _beat_of(timeline: Timeline, note: WrittenNote) -> tuple[str, int, int]:
    """(voice, bar, beat) of a written note; the whole bar when the bar has no meter."""
    bar = timeline.bars[note.bar]
    beat = bar.meter.beat_ticks if bar.meter is not None else 0
    return note.voice, note.bar, (note.onset - bar.downbeat) // beat if beat else 0


def _unbeamed(
    timeline: Timeline, groups: dict[int, list[WrittenNote]], labels: dict[str, str]
) -> list[Finding]:
    """One finding per voice whose short notes mostly stand alone. Only notes that could
    share a beam count: a short note with another short note in the same beat. An eighth
    after a quarter in 6/8, or after a dotted quarter, has no neighbour to beam with."""
    found: list[Finding] = []
    lone: dict[str, list[WrittenNote]] = defaultdict(list)
    short: dict[str, int] = defaultdict(int)
    per_beat: dict[tuple[str, int, int], int] = defaultdict(int)
    for notes in groups.values():
        for note in notes:
            per_beat[_beat_of(timeline, note)] += 1
    for notes in groups.values():
        beamable = [n for n in notes if per_beat[_beat_of(timeline, n)] > 1]
        short[notes[0].voice] += len(beamable)
        if len(notes) == 1 and beamable:
            lone[notes[0].voice].append(notes[0])
    for voice, alone in lone.items():
        share = len(alone) / short[voice]
        if short[voice] < 4 or share <= UNBEAMED_SHARE:
            continue
        found.append(
            Finding(
                "notation.unbeamed",
                Severity.NOTE,
                timeline.bars[alone[0].bar].number,
                0,
                labels.get(voice, voice),
                f"{share:.0%} of its short notes stand alone, without beams",
                "beam the notes of each beat together (no space between them in ABC)",
            )
        )
    return found
