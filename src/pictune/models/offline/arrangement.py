"""The arrangement under the tune: a bass line in the bass register, an accompaniment
texture (waltz, march, arpeggio, pad, strummed, hymn) and an optional drum part.

The chords are close triads voiced just under the melody, each inversion chosen nearest the
one before. The bass takes the chord's root on every downbeat (the third of a diminished
chord), moves to the nearest octave so it walks rather than jumps, takes the third (first
inversion) for a chord that starts mid-bar when that gives a step, and stays between E2 and
A3 (C2 when it must, to stay under the chords): on the bass staff with at most two ledger
lines, below the melody and below every note of the chords, so the harmony stands on it (a
triad over its own fifth, under a higher bass, sounds as a 6/4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from pictune.models.offline.harmony import Slot, chord_at
from pictune.models.offline.theory import Chord, parallel_motion

BASS_LOW, BASS_HIGH = 40, 57  # E2 … A3
BASS_FLOOR = 36  # C2: the bass goes this low only to stay under the chords
TEXTURES = ("hymn", "pad", "arpeggio", "waltz", "march", "strummed")
# General MIDI percussion keys: bass drum, snare, closed hi-hat.
KICK, SNARE, HAT = 36, 38, 42


@dataclass(frozen=True)
class Event:
    """A note, a chord (several pitches) or a rest (none) in one voice."""

    start: int  # sixteenths from the start of the piece
    length: int
    pitches: tuple[int, ...]


def _bass_pitch(pitch_class: int, previous: int, low: int = BASS_LOW, high: int = BASS_HIGH) -> int:
    """The pitch of `pitch_class` nearest `previous` within low … high; under `low` (down to
    C2) only when the range holds none."""
    options = [p for p in range(low, high + 1) if p % 12 == pitch_class]
    if not options:
        high = max(high, BASS_FLOOR + 11)  # C2 … B2 holds every pitch class
        options = [p for p in range(BASS_FLOOR, high + 1) if p % 12 == pitch_class]
    return min(options, key=lambda p: (abs(p - previous), p))


def bass_notes(
    bars: list[list[Slot]], bar: int, high: int = BASS_HIGH, under: list[int] | None = None
) -> list[tuple[int, int, int, Chord]]:
    """(start, length, pitch, chord) of the bass note under each chord, never above `high`
    (a little under the melody's lowest note) nor, with `under` (one pitch per chord slot:
    the chord part's lowest note), at or above the chord's own lowest note."""
    high = max(BASS_LOW + 12, min(high, BASS_HIGH))
    result: list[tuple[int, int, int, Chord]] = []
    previous = 48
    ceilings = iter(under or [])
    for number, slots in enumerate(bars):
        final = number == len(bars) - 1
        for slot in slots:
            chord = slot.chord
            ceiling = min(high, next(ceilings, high + 1) - 1)
            root = chord.tones[1] if chord.quality == "dim" else chord.root
            pitch = _bass_pitch(root, previous, BASS_LOW, ceiling)
            if slot.start and chord.quality != "dim":
                third = _bass_pitch(chord.tones[1], previous, BASS_LOW, ceiling)
                if 1 <= abs(third - previous) <= 2 < abs(pitch - previous):
                    pitch = third  # first inversion for a stepwise bass
            if final:
                pitch = _bass_pitch(chord.root, previous, BASS_LOW, min(52, ceiling))
            result.append((number * bar + slot.start, slot.length, pitch, chord))
            previous = pitch
    return result


def _voicings(chord: Chord, low: int, high: int) -> list[tuple[int, ...]]:
    found = []
    for bottom in range(low, high + 1):
        if bottom % 12 not in chord.tones:
            continue
        notes = [bottom]
        for _ in range(2):
            notes.append(
                next(
                    p
                    for p in range(notes[-1] + 1, notes[-1] + 13)
                    if p % 12 in chord.tones and p % 12 not in [n % 12 for n in notes]
                )
            )
        if notes[-1] <= high:
            found.append(tuple(notes))
    return found


def chord_voicings(bars: list[list[Slot]], melody_low: int) -> list[tuple[int, ...]]:
    """A close triad per chord slot, under the melody, moving as little as it can."""
    high = max(57, melody_low - 1)
    low = high - 11  # an octave under the melody: every close triad fits
    previous: tuple[int, ...] | None = None
    result = []
    for slots in bars:
        for slot in slots:
            options = _voicings(slot.chord, low, high) or _voicings(slot.chord, low - 6, high + 6)
            if previous is None:
                centre = (low + high) / 2
                choice = min(options, key=lambda v: abs(sum(v) / 3 - centre))
            else:
                before = previous
                choice = min(
                    options, key=lambda v: sum(abs(a - b) for a, b in zip(v, before, strict=True))
                )
            result.append(choice)
            previous = choice
    return result


def accompany(
    texture: str,
    bars: list[list[Slot]],
    bar: int,
    beat: int,
    melody_low: int,
    bass_high: int = BASS_HIGH,
) -> tuple[list[Event], list[Event]]:
    """The bass line (never above `bass_high`) and the chord part (close under the melody's
    lowest note) for `texture`; the last bar holds its chord."""
    voicings = chord_voicings(bars, melody_low)
    basses = bass_notes(bars, bar, bass_high, [v[0] for v in voicings])
    # Where even C2 … B2 held no bass under a low voicing, the chord moves up over the bass.
    voicings = [
        v if v[0] > b[2] else min(_voicings(b[3], b[2] + 1, b[2] + 12), key=lambda o: o[0])
        for v, b in zip(voicings, basses, strict=True)
    ]
    bass_high = max(BASS_LOW + 12, min(bass_high, BASS_HIGH))
    bass: list[Event] = []
    chords: list[Event] = []
    last = len(bars) - 1
    for (start, length, pitch, chord), voicing in zip(basses, voicings, strict=True):
        number, onset = divmod(start, bar)
        if number == last or texture == "pad":
            bass.append(Event(start, length, (pitch,)))
            chords.append(Event(start, length, voicing))
            continue
        beats = [start + k for k in range(0, length, beat)]
        if texture in ("waltz", "march"):
            # Oom-pah: bass on the strong beats (root, then the fifth), chords between.
            for k, at in enumerate(beats):
                position = (at % bar) // beat
                strong = position == 0 or (bar // beat == 4 and position == 2)
                if beat == 6:  # compound time: the bass holds the beat, two beamed chords
                    bass.append(Event(at, 6, (pitch,)))
                    chords.append(Event(at, 2, ()))
                    chords.append(Event(at + 2, 2, voicing))
                    chords.append(Event(at + 4, 2, voicing))
                elif k == 0 or strong:
                    fifth = _bass_pitch(
                        chord.tones[2], pitch, BASS_LOW, min(bass_high, voicing[0] - 1)
                    )
                    bass.append(Event(at, beat, (pitch if k == 0 else fifth,)))
                    chords.append(Event(at, beat, ()))
                else:
                    bass.append(Event(at, beat, ()))
                    chords.append(Event(at, beat, voicing))
            continue
        bass.append(Event(start, length, (pitch,)))
        if texture == "arpeggio":
            order = (0, 1, 2) if beat == 6 else (0, 2, 1, 2)
            for k, at in enumerate(range(start, start + length, 2)):
                chords.append(Event(at, 2, (voicing[order[k % len(order)]],)))
        elif texture == "strummed":
            for at in beats:
                if beat == 6 and at % bar == 0:  # a jig strum: long-short, then three
                    chords.extend([Event(at, 4, voicing), Event(at + 4, 2, voicing)])
                elif beat == 6:
                    chords.extend(Event(at + k, 2, voicing) for k in (0, 2, 4))
                elif (at % bar) == 0 or beat != 4:
                    chords.append(Event(at, beat, voicing))
                else:
                    chords.extend([Event(at, 2, voicing), Event(at + 2, 2, voicing)])
        else:  # hymn: a block chord on every beat over the held bass
            chords.extend(Event(at, beat, voicing) for at in beats)
        _ = onset
    return bass, chords


def clear_parallels(
    bass: list[Event],
    melody: Sequence[tuple[int, int, int]],
    chords: Sequence[Event],
    bars: list[list[Slot]],
    bar: int,
    high: int,
) -> list[Event]:
    """The bass with no parallel fifths or octaves against the tune (`melody`: start, length,
    pitch), counted as the critic counts them: where both strike at once, against the
    interval sounding just before.

    Such a bass note changes to the chord's third (a first inversion), else to its root an
    octave away, whichever first keeps a singable line (no leap over an octave), stays under
    the tune and under the chords, and makes no new parallels here or at the next bass note.
    The last bar's tonic stays. A parallel no such change clears is left (the critic still
    reports it)."""
    high = max(BASS_LOW + 12, min(high, BASS_HIGH))
    bass = list(bass)
    tune = sorted(melody)
    onsets = {start: pitch for start, _, pitch in tune}
    final_bar = (len(bars) - 1) * bar

    def sounding(notes: Sequence[tuple[int, int, int]], time: int) -> int | None:
        return next((p for s, length, p in notes if s <= time < s + length), None)

    def parallel_at(k: int) -> bool:
        event = bass[k]
        time = event.start
        if not event.pitches or time == 0 or time not in onsets:
            return False
        lows = [(e.start, e.length, e.pitches[0]) for e in bass[max(0, k - 8) : k] if e.pitches]
        before = (sounding(tune, time - 1), sounding(lows, time - 1))
        if before[0] is None or before[1] is None:
            return False
        return parallel_motion((before[0], before[1]), (onsets[time], event.pitches[0]))

    for k, event in enumerate(bass):
        if event.start >= final_bar or not parallel_at(k):
            continue
        chord = chord_at(bars[event.start // bar], event.start % bar)
        sounding_chords = [
            min(c.pitches)
            for c in chords
            if c.pitches
            and c.start < event.start + event.length
            and event.start < c.start + c.length
        ]
        ceiling = min([high, onsets[event.start] - 1, *(p - 1 for p in sounding_chords)])
        previous = next((e.pitches[0] for e in reversed(bass[:k]) if e.pitches), event.pitches[0])
        following = next((j for j in range(k + 1, len(bass)) if bass[j].pitches), None)
        options = [p for p in range(BASS_FLOOR, ceiling + 1) if p % 12 == chord.tones[1]]
        options.sort(key=lambda p: abs(p - previous))
        roots = [p for p in range(BASS_FLOOR, ceiling + 1) if p % 12 == event.pitches[0] % 12]
        options += sorted(
            (p for p in roots if p != event.pitches[0]), key=lambda p: abs(p - previous)
        )
        original = event
        for pitch in options:
            if abs(pitch - previous) > 12:
                continue
            bass[k] = replace(original, pitches=(pitch,))
            if not parallel_at(k) and not (following is not None and parallel_at(following)):
                break
            bass[k] = original
    return bass


def clear_unisons(
    chords: list[Event], melody: Sequence[tuple[int, int, int]], bass: Sequence[Event]
) -> list[Event]:
    """The chord part without the tune's note doubled in unison where both strike (the tune
    dipping into the chords): that chord tone moves an octave down when it stays over the
    bass and is not already in the chord, else it is left out of that chord."""
    tune = {start: pitch for start, _, pitch in melody}
    result = []
    for event in chords:
        pitch = tune.get(event.start)
        if pitch is None or pitch not in event.pitches:
            result.append(event)
            continue
        under = [
            b.pitches[0] for b in bass if b.pitches and b.start <= event.start < b.start + b.length
        ]
        others = [p for p in event.pitches if p != pitch]
        lower = pitch - 12
        if lower not in others and all(lower > b for b in under):
            others.append(lower)
        result.append(replace(event, pitches=tuple(sorted(others))))
    return result


def drums(total_bars: int, bar: int, beat: int, first_bar: int = 0) -> list[Event]:
    """A plain groove on General MIDI channel 10: bass drum on the first (and third) beat,
    snare on the others, closed hi-hat on every eighth; the last bar one stroke."""
    events: list[Event] = []
    if first_bar:
        events.append(Event(0, first_bar * bar, ()))
    for number in range(first_bar, total_bars):
        start = number * bar
        if number == total_bars - 1:
            events.extend([Event(start, beat, (KICK,)), Event(start + beat, bar - beat, ())])
            continue
        for position, at in enumerate(range(start, start + bar, beat)):
            beats = bar // beat
            accent = KICK if position == 0 or (beats == 4 and position == 2) else SNARE
            events.append(Event(at, 2, (accent, HAT)))
            events.extend(Event(at + k, 2, (HAT,)) for k in range(2, beat, 2))
    return events
