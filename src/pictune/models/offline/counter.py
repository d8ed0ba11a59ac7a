"""A countermelody: a third line between the tune and the bass that moves against the tune.

One note a beat; eighths (a chord tone and a step, or a neighbour figure in compound time)
where the tune holds one note through the beat; a held note where the tune is busy in both
beats and the chord stays: the two lines take turns to move. Every note on a beat is a tone
of the chord in force; the line prefers contrary motion to the tune and steps to leaps,
keeps a third or more under the tune and above the bass (never crossing either, never in
unison with the tune) and within its instrument's range, and avoids parallel fifths and
octaves with both outer voices. It ends on a tone of the tonic chord other than its root."""

from __future__ import annotations

import random
from collections.abc import Sequence

from pictune.models.offline.arrangement import Event
from pictune.models.offline.harmony import Slot, chord_at
from pictune.models.offline.theory import parallel_motion
from pictune.models.offline.tune import Note, scale_for
from pictune.music.ranges import playable_range

GAP = 3  # semitones kept from the tune above and the bass below
# The countermelody's instrument for the tune's: strings answer with a viola, woodwinds
# with a clarinet, brass with a horn, the rest with a cello.
COUNTER_PROGRAMS = {40: 41, 41: 42, 73: 71, 74: 71, 68: 71, 71: 70, 56: 60, 57: 60, 60: 57}
DEFAULT_COUNTER = 42


def counter_program(melody_program: int) -> int:
    return COUNTER_PROGRAMS.get(melody_program, DEFAULT_COUNTER)


def _sounding(notes: Sequence[tuple[int, int, int]], start: int, end: int) -> list[int]:
    """Pitches of the (start, length, pitch) notes sounding anywhere in [start, end)."""
    return [p for s, length, p in notes if s < end and s + length > start]


def _at(notes: Sequence[tuple[int, int, int]], time: int) -> int | None:
    for s, length, p in notes:
        if s <= time < s + length:
            return p
    return None


class CounterWriter:
    """Writes the countermelody (see the module's docstring) over a finished tune and bass,
    for instrument `program` (it stays in that instrument's range): `.write()`."""

    def __init__(
        self,
        bars: list[list[Slot]],
        melody: Sequence[Note],
        bass: Sequence[Event],
        bar: int,
        beat: int,
        rng: random.Random,
        first_bar: int = 0,
        program: int = DEFAULT_COUNTER,
    ) -> None:
        self.bars, self.bar, self.beat, self.rng = bars, bar, beat, rng
        self.first_bar = first_bar
        self.playable = playable_range(program)
        self.tune = [(n.start, n.length, n.pitch) for n in melody]
        self.bass = [(e.start, e.length, e.pitches[0]) for e in bass if e.pitches]

    def _window(self, start: int, end: int) -> tuple[int, int] | None:
        """The pitches the line may take over [start, end): a third under the tune's
        lowest note there and a third over the bass's highest."""
        above = _sounding(self.tune, start, end)
        # The bass sounding here, and the last one struck before (a waltz bass rests on
        # beats 2 and 3, but the ear still hears its note as the bottom).
        below = (
            _sounding(self.bass, start, end) + [p for s, _, p in self.bass[-1::-1] if s < start][:1]
        )
        if not above:
            return None
        high = min(min(above) - GAP, self.playable[1])
        low = max(max(below) + GAP if below else high - 12, self.playable[0])
        return (low, high) if low <= high else None

    def _choose(
        self, time: int, end: int, previous: int | None, tones: set[int], last: bool
    ) -> int | None:
        window = self._window(time, end)
        if window is None:
            return None
        options = [p for p in range(window[0], window[1] + 1) if p % 12 in tones]
        if not options:
            return None
        tune_now, tune_before = _at(self.tune, time), _at(self.tune, time - self.beat)
        bass_now, bass_before = _at(self.bass, time), _at(self.bass, time - self.beat)
        centre = (window[0] + window[1]) / 2
        scored = []
        for pitch in options:
            score = -abs(pitch - centre) / 6
            if previous is not None:
                move = pitch - previous
                score += 2.0 if 1 <= abs(move) <= 2 else 1.0 if abs(move) <= 4 else -abs(move) / 4
                if move == 0:
                    score -= 1.0 if not last else 0.0
                if tune_now is not None and tune_before is not None:
                    tune_move = tune_now - tune_before
                    if tune_move and move and (tune_move > 0) != (move > 0):
                        score += 1.5  # contrary motion
                    if tune_move and move and (tune_move > 0) == (move > 0):
                        score -= 0.5
                pairs = (
                    ((tune_before, previous), (tune_now, pitch)),
                    ((previous, bass_before), (pitch, bass_now)),
                )
                for before, now in pairs:
                    known = None not in before and None not in now
                    if known and parallel_motion(before, now):  # type: ignore[arg-type]
                        score -= 20.0
            scored.append((score + self.rng.random() * 0.6, pitch))
        return max(scored)[1]

    def write(self) -> list[Event]:
        """The line as events tiling the piece (rests through any introduction)."""
        total = len(self.bars) * self.bar
        events: list[Event] = []
        if self.first_bar:
            events.append(Event(0, self.first_bar * self.bar, ()))
        previous: int | None = None
        time = self.first_bar * self.bar
        while time < total:
            number, onset = divmod(time, self.bar)
            final = number == len(self.bars) - 1
            chord = chord_at(self.bars[number], onset)
            length = self.bar - onset if final else self.beat
            tones = set(chord.tones)
            if final:
                tones -= {chord.root} if len(tones) > 1 else set()
            pitch = self._choose(time, time + length, previous, tones, final)
            if pitch is None:
                events.append(Event(time, length, ()))
                time += length
                continue
            held = self._held(time, onset, pitch, chord)
            split = not final and not held and self._tune_holds(time)
            if held:
                length = 2 * self.beat
            if split and self.beat in (4, 6):
                # Eighths beamed within the beat: chord tone and a step (two in simple
                # time), or chord tone, neighbour and chord tone again (three in compound).
                after = self._step(pitch, chord, time)
                figure = (pitch, after) if self.beat == 4 else (pitch, after, pitch)
                for k, note in enumerate(figure):
                    events.append(Event(time + 2 * k, 2, (note,)))
                previous = figure[-1]
            else:
                events.append(Event(time, length, (pitch,)))
                previous = pitch
            time += length
        return _merge(events)

    def _tune_holds(self, time: int) -> bool:
        """Does the tune hold one note through this beat (struck on it or before it, with
        no other note inside it)? Then the line moves while the tune stands still."""
        end = time + self.beat
        return any(s <= time and s + n >= end for s, n, _ in self.tune)

    def _held(self, time: int, onset: int, pitch: int, chord: object) -> bool:
        """Hold for two beats where the tune is busy (three or more notes, and moving in
        both beats: a tune that holds either beat wants the line to move there) and the
        chord and the window stay, starting on a strong beat of the bar."""
        end = time + 2 * self.beat
        if onset % (2 * self.beat) or onset + 2 * self.beat > self.bar:
            return False
        if self._tune_holds(time) or self._tune_holds(time + self.beat):
            return False
        busy = sum(1 for s, _, _ in self.tune if time <= s < end) >= 3
        same = chord_at(self.bars[time // self.bar], onset + self.beat) == chord
        window = self._window(time, end)
        return busy and same and window is not None and window[0] <= pitch <= window[1]

    def _step(self, pitch: int, chord: object, time: int) -> int:
        """The note after a chord tone within the beat: a scale step (a passing or
        neighbour tone) that stays inside the window, else the chord tone again."""
        window = self._window(time, time + self.beat) or (pitch, pitch)
        scale = scale_for(chord)  # type: ignore[arg-type]
        for move in (self.rng.choice((-1, 1)), -1, 1, -2, 2):
            candidate = pitch + move
            if candidate % 12 in scale and window[0] <= candidate <= window[1]:
                return candidate
        return pitch


def _merge(events: list[Event]) -> list[Event]:
    """Consecutive rests joined into one."""
    merged: list[Event] = []
    for event in events:
        if merged and not event.pitches and not merged[-1].pitches:
            last = merged.pop()
            merged.append(Event(last.start, last.length + event.length, ()))
        else:
            merged.append(event)
    return merged
