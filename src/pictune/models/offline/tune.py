"""The melody, written against the harmony.

Rhythm first (cells within each beat, chosen by the plan's note density and the durations
the melody model learned), then a skeleton of chord tones on every beat following a contour
planned per phrase, then the notes between the beats as passing and neighbour tones in the
region's scale. Phrases that return copy their material (the last return varies all but
its first bar); the second bar of a phrase is often the first bar's motif in sequence; no
bar is repeated note for note in the next one."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace

from pictune.models.offline.harmony import Harmony, Phrase, Slot, chord_at
from pictune.models.offline.melody import MelodyModel
from pictune.models.offline.theory import SCALES, Chord, parallel_motion

SIMPLE_CELLS = ((4,), (2, 2), (3, 1), (2, 1, 1), (1, 1, 2), (1, 1, 1, 1), (1, 2, 1))
COMPOUND_CELLS = ((6,), (4, 2), (2, 2, 2), (3, 1, 2), (2, 1, 1, 2), (2, 4), (2, 2, 1, 1))
CONTOURS: dict[str, Callable[[float], float]] = {
    "arch": lambda x: 0.3 + 0.6 * math.sin(math.pi * x),
    "rise": lambda x: 0.25 + 0.6 * x,
    "fall": lambda x: 0.85 - 0.5 * x,
    "wave": lambda x: 0.5 + 0.3 * math.sin(2 * math.pi * x),
    "valley": lambda x: 0.75 - 0.45 * math.sin(math.pi * x),
    "late peak": lambda x: 0.3 + 0.6 * math.sin(math.pi * x**1.6),
    "early peak": lambda x: 0.3 + 0.6 * math.sin(math.pi * x**0.6),
}


@dataclass(frozen=True)
class Note:
    start: int  # sixteenths from the start of the piece
    length: int
    pitch: int
    on_beat: bool


def scale_for(chord: Chord) -> tuple[int, ...]:
    """Pitch classes the melody may use over `chord`: its region's scale, with melodic
    minor's raised sixth and seventh over a minor key's dominant (no augmented second)."""
    scale = list(SCALES["minor" if chord.region_mode == "minor" else "major"])
    raised = 11 in [(t - chord.region_pc) % 12 for t in chord.tones]
    if chord.region_mode == "minor" and chord.degree in (4, 6) and raised:
        scale[5], scale[6] = 9, 11
    return tuple(sorted((chord.region_pc + s) % 12 for s in scale))


FIGURES = ("passing", "skip", "neighbour")


def resolve_held_clashes(
    notes: list[Note], bars: list[list[Slot]], bar: int, beat: int, low: int, high: int
) -> list[Note]:
    """No note held into a chord it does not belong to: such a note is cut at the chord
    change and moves there to the new chord's nearest tone (a step when one is near, down
    before up), as a suspension resolves."""
    changes = []
    for number, slots in enumerate(bars):
        for k, slot in enumerate(slots):
            before = slots[k - 1].chord if k else (bars[number - 1][-1].chord if number else None)
            if slot.chord != before:
                changes.append(number * bar + slot.start)
    result: list[Note] = []
    for note in notes:
        end = note.start + note.length
        inside = [t for t in changes if note.start < t < end]
        if not inside:
            result.append(note)
            continue
        at = inside[0]
        chord = chord_at(bars[at // bar], at % bar)
        if note.pitch % 12 in chord.tones:
            result.append(note)
            continue
        tones = [p for p in range(low, high + 1) if p % 12 in chord.tones]
        if not tones:
            result.append(note)
            continue
        target = min(tones, key=lambda p: (abs(p - note.pitch), p > note.pitch))
        result.append(replace(note, length=at - note.start))
        result.append(Note(at, end - at, target, at % beat == 0))
    return result


def resolve_final_leading_tone(notes: list[Note], low: int, high: int) -> list[Note]:
    """The leading tone before the final tonic rises a semitone into it: where it lies a
    seventh above the tonic, the tonic moves up an octave to meet it (the line keeps its
    shape), else the leading tone moves down an octave, whichever the range holds."""
    if len(notes) < 2:
        return notes
    *rest, lead, final = notes
    if lead.pitch % 12 != (final.pitch - 1) % 12 or final.pitch - lead.pitch == 1:
        return notes
    if low <= lead.pitch + 1 <= high:
        return [*rest, lead, replace(final, pitch=lead.pitch + 1)]
    if low <= final.pitch - 1 <= high:
        return [*rest, replace(lead, pitch=final.pitch - 1), final]
    return notes


def smooth_augmented_seconds(
    notes: list[Note], bars: list[list[Slot]], bar: int, low: int, high: int
) -> list[Note]:
    """The melody without augmented seconds between a minor region's sixth and raised
    seventh (A flat and B natural in C minor), as melodic minor writes it: going up, the
    sixth is raised (or, on a beat of a chord that holds it, becomes the tonic above, a step
    over the leading tone); coming down, the sixth after the leading tone becomes the fifth
    (or the leading tone, off the beat, becomes the tonic). Where the range allows none of
    these, the second note becomes the chord tone nearest the first. Notes on a beat stay
    chord tones."""
    notes = list(notes)
    for k in range(1, len(notes)):
        a, b = notes[k - 1], notes[k]
        chord = chord_at(bars[b.start // bar], b.start % bar)
        if chord.region_mode != "minor" or abs(b.pitch - a.pitch) != 3:
            continue
        sixth, seventh = (chord.region_pc + 8) % 12, (chord.region_pc + 11) % 12
        under_a = chord_at(bars[a.start // bar], a.start % bar)
        if a.pitch % 12 == sixth and b.pitch % 12 == seventh and b.pitch > a.pitch:
            if not a.on_beat or sixth not in under_a.tones:
                mended = replace(a, pitch=a.pitch + 1)
            else:
                mended = replace(a, pitch=b.pitch + 1)  # the tonic, then down to 7
            if low <= mended.pitch <= high:
                notes[k - 1] = mended
        elif a.pitch % 12 == seventh and b.pitch % 12 == sixth and b.pitch < a.pitch:
            if (not b.on_beat or sixth not in chord.tones) and low <= b.pitch - 1:
                notes[k] = replace(b, pitch=b.pitch - 1)  # the fifth
            elif not a.on_beat and a.pitch + 1 <= high:
                notes[k - 1] = replace(a, pitch=a.pitch + 1)
        else:
            continue
        if abs(notes[k].pitch - notes[k - 1].pitch) == 3 and {
            notes[k].pitch % 12,
            notes[k - 1].pitch % 12,
        } == {sixth, seventh}:
            others = [
                p
                for p in range(low, high + 1)
                if p % 12 in chord.tones and p % 12 not in (sixth, seventh)
            ]
            if others:
                nearest = min(others, key=lambda p: (abs(p - a.pitch), p))
                notes[k] = replace(b, pitch=nearest)
    return notes


def _tonic_and_dominant(tonic_pc: int, mode: str) -> frozenset[int]:
    """Pitch classes of the home key's tonic triad and its dominant triad but the leading
    tone: the notes a phrase may stop on, or lead on from, without sounding unfinished."""
    third = 3 if mode == "minor" else 4
    dominant = (tonic_pc + 7) % 12
    # The leading tone is left out: a phrase that stops on it sounds unresolved.
    return frozenset({tonic_pc, (tonic_pc + third) % 12, dominant, (dominant + 7) % 12})


class MelodyWriter:
    def __init__(
        self,
        harmony: Harmony,
        model: MelodyModel,
        rng: random.Random,
        bar: int,
        beat: int,
        low: int,
        high: int,
        tonic: int,
        density: float,
        contours: list[str],
        bass_at: Callable[[int], int | None] = lambda time: None,
        ending: bool = False,
    ) -> None:
        self.harmony, self.rng, self.bar, self.beat = harmony, rng, bar, beat
        self.low, self.high, self.tonic = low, high, tonic
        self.density, self.contours, self.bass_at = density, contours, bass_at
        self.ending = ending  # an ending follows: the last bar of the tune leads into it
        self._before: tuple[int, int] | None = None  # melody and bass last struck together
        self.cells = COMPOUND_CELLS if beat == 6 else SIMPLE_CELLS
        counts: dict[int, float] = {}
        for table in model.order0.values():
            for (_, duration), n in table.items():
                counts[duration] = counts.get(duration, 0.0) + n
        total = sum(counts.values()) or 1.0
        self.duration_share = {d: (n + total * 0.02) / total for d, n in counts.items()}
        # The piece's own rhythmic character: some cells it favours, some it avoids, and how
        # often it holds a note over two beats (drawn once, so the motifs share a rhythm
        # and two pieces of the same plan do not).
        self.character = [math.exp(rng.gauss(0.0, 1.0)) for _ in self.cells]
        self.long_share = rng.uniform(0.3, 1.0)
        # And its own figuration between the beats: passing tones always, chord-tone skips
        # and neighbour notes as often as this piece likes them.
        self.figures = (1.0, rng.uniform(0.1, 0.8), rng.uniform(0.05, 0.4))
        self._salt = rng.getrandbits(32)
        # Where in its range the piece likes to sing (a little lower or higher), and how
        # closely its notes on the beats follow the contour (a looser tune leaps more).
        self.tessitura = rng.uniform(-0.12, 0.12)
        self.looseness = rng.uniform(3.0, 5.0)
        self._sources: dict[int, int] = {}  # bar → the earlier bar it copies
        self._upcoming: tuple[int, int] | None = None  # a returning phrase's first notes
        home = harmony.phrases[0] if harmony.phrases else None
        self.home_pcs = _tonic_and_dominant(
            home.region_pc if home else tonic % 12, home.region_mode if home else "major"
        )
        self._cadence_bars: set[int] = set()  # phrase-end bars the tune leads on from

    # -- rhythm ------------------------------------------------------------------------------

    def _cell(self) -> tuple[int, ...]:
        target = self.density * (self.beat / 4 if self.beat == 6 else 1)
        weights = []
        for cell, liking in zip(self.cells, self.character, strict=True):
            learned = math.prod(self.duration_share.get(d, 0.02) for d in cell) ** (1 / len(cell))
            weights.append(liking * learned * math.exp(-1.3 * abs(len(cell) - target)))
        return self.rng.choices(self.cells, weights)[0]

    def bar_rhythm(self) -> list[tuple[int, int]]:
        """(onset in the bar, length) of each note: cells within beats, and now and then a
        note lasting two beats from an odd beat (a half note on beat 1 or 3)."""
        notes: list[tuple[int, int]] = []
        onset = 0
        beats = self.bar // self.beat
        while onset < self.bar:
            beat_index = onset // self.beat
            # A half note from beat 1 or 3 (in 3/4 also from beat 2: the sarabande's
            # short-long), never across the middle of a 4/4 bar.
            on_strong = beat_index % 2 == 0 or beats == 3
            long_ok = self.beat == 4 and on_strong and beat_index + 1 < beats
            if long_ok and self.rng.random() < 0.25 * self.long_share / max(self.density, 0.6):
                notes.append((onset, 2 * self.beat))
                onset += 2 * self.beat
                continue
            for length in self._cell():
                notes.append((onset, length))
                onset += length
        return notes

    def cadence_rhythm(self, final: bool) -> list[tuple[int, int]]:
        """The cadence note on the downbeat, held (the final one for the whole bar, unless
        an ending follows); otherwise the last beat or two lead on."""
        beats = self.bar // self.beat
        if (final and not self.ending) or beats < 2:
            return [(0, self.bar)]
        lead = 2 if beats >= 4 and self.rng.random() < 0.5 else 1
        held = self.bar - lead * self.beat
        notes = [(0, held)]
        for at in range(held, self.bar, self.beat):
            cell = self._cell()
            notes += [(at + sum(cell[:i]), d) for i, d in enumerate(cell)]
        return notes

    # -- pitches -----------------------------------------------------------------------------

    def _chord_tones(self, chord: Chord) -> list[int]:
        return [p for p in range(self.low, self.high + 1) if p % 12 in chord.tones]

    def _skeleton_note(
        self,
        chord: Chord,
        target: float,
        previous: int | None,
        time: int,
        rest: bool = False,
        approach: bool = False,
        last: bool = False,
    ) -> int:
        tones = self._chord_tones(chord)
        if last:  # the phrase's last note: in the home tonic or dominant chord, moving on
            tones = [p for p in tones if p % 12 in self.home_pcs] or tones
            tones = [p for p in tones if p != previous] or tones
        if rest:  # a phrase that stops on V rests on 2 or 5, not on the unresolved 7
            tones = [p for p in tones if p % 12 != (self.tonic - 1) % 12] or tones
        if approach:  # 2 or 7 before the final tonic: 5 to 1 over the bass's 5 to 1 is octaves
            tones = [p for p in tones if p % 12 != chord.root] or tones
        weights = []
        bass = self.bass_at(time)
        for p in tones:
            w = math.exp(-abs(p - target) / self.looseness)
            if previous is not None:
                leap = abs(p - previous)
                w *= 1.6 if 1 <= leap <= 4 else 1.0 if leap <= 7 else 0.15 if leap <= 12 else 0.0
                if leap == 0:
                    w *= 0.5
            if self._parallel(p, bass):
                w *= 0.01
            if bass is not None and self._upcoming and parallel_motion((p, bass), self._upcoming):
                w *= 0.01  # into the returning phrase's first note
            weights.append(w + 1e-9)
        return self.rng.choices(tones, weights)[0]

    def _parallel(self, pitch: int, bass: int | None) -> bool:
        """Would `pitch` over `bass` make parallel fifths or octaves with the last moment
        both voices struck together?"""
        return bass is not None and parallel_motion(self._before, (pitch, bass))

    def _strike(self, pitch: int, time: int) -> None:
        bass = self.bass_at(time)
        if bass is not None:
            self._before = (pitch, bass)

    def _remember(self, number: int) -> None:
        """The last moment in bar `number` where melody and bass strike together."""
        for (onset, _), pitch in zip(self._rhythms[number], self._skeletons[number], strict=True):
            bass = self.bass_at(number * self.bar + onset)
            if pitch >= 0 and bass is not None:
                self._before = (pitch, bass)

    def _nearest_tone(self, chord: Chord, pitch: float) -> int:
        return min(self._chord_tones(chord), key=lambda p: (abs(p - pitch), p))

    def _target(self, phrase: Phrase, phrase_index: int, onset: int) -> float:
        x = (onset - phrase.first_bar * self.bar) / (phrase.bars * self.bar)
        shape = CONTOURS[self.contours[phrase_index % len(self.contours)]]
        lift = (0.1 if phrase.letter[0] != "A" else 0.0) + self.tessitura
        return self.low + (self.high - self.low) * max(0.05, min(0.95, shape(x) + lift))

    def write(self) -> list[Note]:
        """Every note of the tune, phrase after phrase."""
        self._rhythms: dict[int, list[tuple[int, int]]] = {}
        self._skeletons: dict[int, list[int]] = {}  # -1 marks a note between the beats
        remembered: dict[str, Phrase] = {}
        cadences: set[tuple[tuple[tuple[int, int], ...], tuple[int, ...]]] = set()
        order: dict[str, int] = {}  # phrase letter → the index of its latest statement
        previous: int | None = None
        last = len(self.harmony.phrases) - 1
        for index, phrase in enumerate(self.harmony.phrases):
            source = remembered.get(phrase.letter[0])
            following = self.harmony.phrases[index + 1] if index < last else None
            for offset in range(phrase.bars):
                number = phrase.first_bar + offset
                cadence_bar = offset == phrase.bars - 1
                self._upcoming = (
                    self._returning_opening(following, remembered) if cadence_bar else None
                )
                copy_from = None
                if source is not None and not cadence_bar:
                    earlier = source.first_bar + offset
                    same_chords = [s.chord for s in self.harmony.bars[earlier]] == [
                        s.chord for s in self.harmony.bars[number]
                    ]
                    exact = phrase.letter == source.letter and index != last
                    if same_chords and (exact or offset == 0):
                        copy_from = earlier
                for attempt in range(6):
                    self._sources.pop(number, None)
                    if copy_from is not None and attempt == 0:
                        self._rhythms[number] = list(self._rhythms[copy_from])
                        pitches = list(self._skeletons[copy_from])
                        if index == order[phrase.letter[0]] + 1:  # an immediate repeat
                            self._sources[number] = self._sources.get(copy_from, copy_from)
                        # A later return keeps the rhythm and the notes on the beats, and
                        # draws its own figuration between them (a varied reprise).
                    else:
                        pitches = self._bar_skeleton(
                            index, phrase, number, offset, cadence_bar, index == last, previous
                        )
                    self._skeletons[number] = pitches
                    heard = (tuple(self._rhythms[number]), tuple(pitches)) in cadences
                    if not self._same_as_before(number) and not (cadence_bar and heard):
                        break
                if cadence_bar:  # each phrase closes its own way
                    cadences.add((tuple(self._rhythms[number]), tuple(pitches)))
                self._remember(number)
                on_beat = [p for p in pitches if p >= 0]
                previous = on_beat[-1] if on_beat else previous
            remembered.setdefault(phrase.letter[0], phrase)
            order[phrase.letter[0]] = index
        return self._fill()

    def _returning_opening(
        self, phrase: Phrase | None, remembered: dict[str, Phrase]
    ) -> tuple[int, int] | None:
        """(tune, bass) at the downbeat of `phrase` when it returns with an opening already
        written (the first bar is copied), so the cadence before it can keep clear of
        parallel fifths and octaves into it."""
        source = remembered.get(phrase.letter[0]) if phrase else None
        if phrase is None or source is None or source.first_bar not in self._skeletons:
            return None
        same = [s.chord for s in self.harmony.bars[source.first_bar]] == [
            s.chord for s in self.harmony.bars[phrase.first_bar]
        ]
        first = self._skeletons[source.first_bar][0]
        bass = self.bass_at(phrase.first_bar * self.bar)
        return (first, bass) if same and first >= 0 and bass is not None else None

    def _same_as_before(self, number: int) -> bool:
        return number > 0 and (self._skeletons.get(number - 1), self._rhythms.get(number - 1)) == (
            self._skeletons[number],
            self._rhythms[number],
        )

    def _bar_skeleton(
        self,
        index: int,
        phrase: Phrase,
        number: int,
        offset: int,
        cadence_bar: bool,
        final_phrase: bool,
        previous: int | None,
    ) -> list[int]:
        """Rhythm and on-beat chord tones of one bar (None stands for the notes between)."""
        bar_slots = self.harmony.bars[number]
        if cadence_bar:
            rhythm = self.cadence_rhythm(final_phrase)
            self._cadence_bars.add(number)
        elif offset == 1 and self.rng.random() < 0.6 and number - 1 in self._rhythms:
            rhythm = list(self._rhythms[number - 1])  # the motif's rhythm again
        else:
            rhythm = self.bar_rhythm()
            # A phrase's opening bar is its motif: give it a rhythm of its own (a beat
            # divided, or a note held over two), not a plain note on every beat.
            for _ in range(4 if offset == 0 else 0):
                if any(length != self.beat for _, length in rhythm):
                    break
                rhythm = self.bar_rhythm()
        self._rhythms[number] = rhythm
        pitches: list[int] = []
        sequence = (
            offset == 1
            and number - 1 in self._skeletons
            and rhythm == self._rhythms.get(number - 1)
            and self.rng.random() < 0.6
        )
        shift = 0
        if sequence:
            before = self.harmony.bars[number - 1][0].chord.root
            now = bar_slots[0].chord.root
            shift = min(((now - before) % 12, (now - before) % 12 - 12), key=abs)
        for position, (onset, _length) in enumerate(rhythm):
            chord = chord_at(bar_slots, onset)
            absolute = number * self.bar + onset
            if onset % self.beat:
                pitches.append(-1)  # filled later with passing and neighbour tones
                continue
            if cadence_bar and position == 0 and final_phrase:
                pitches.append(self.tonic)
                self._strike(self.tonic, absolute)
                continue
            if sequence:
                moved = self._nearest_tone(chord, self._skeletons[number - 1][position] + shift)
                if not self._parallel(moved, self.bass_at(absolute)):
                    pitches.append(moved)
                    previous = moved
                    self._strike(moved, absolute)
                    continue
            target = self._target(phrase, index, absolute)
            approach = final_phrase and offset == phrase.bars - 2 and chord.is_dominant()
            if approach:
                target = (target + self.tonic) / 2  # lean towards the leading tone or 2
            stops = cadence_bar and onset >= self.bar - self.beat
            last = cadence_bar and position == len(rhythm) - 1
            pitches.append(
                self._skeleton_note(chord, target, previous, absolute, stops, approach, last)
            )
            previous = pitches[-1]
            self._strike(pitches[-1], absolute)
        return pitches

    def _fill(self) -> list[Note]:
        notes: list[Note] = []
        flat = [
            (number, onset, length, pitch)
            for number in sorted(self._skeletons)
            for (onset, length), pitch in zip(
                self._rhythms[number], self._skeletons[number], strict=True
            )
        ]
        chooser: dict[int, random.Random] = {}
        for i, (number, onset, length, pitch) in enumerate(flat):
            if pitch >= 0:
                notes.append(Note(number * self.bar + onset, length, pitch, onset % self.beat == 0))
                continue
            if number not in chooser:  # a copied bar draws its figures as its source did
                chooser[number] = random.Random(self._salt + self._sources.get(number, number))
            figure = chooser[number].choices(FIGURES, self.figures)[0]
            chord = chord_at(self.harmony.bars[number], onset)
            following = next((p for _, _, _, p in flat[i + 1 :] if p >= 0), notes[-1].pitch)
            gap = (
                next(j for j in range(i + 1, len(flat) + 1) if j == len(flat) or flat[j][3] >= 0)
                - i
            )
            pitch = self._between(notes[-1].pitch, following, gap, chord, figure)
            ends_bar = i + 1 == len(flat) or flat[i + 1][0] != number
            if ends_bar and number in self._cadence_bars:
                pitch = self._lead_on(notes[-1].pitch, pitch, chord)
            notes.append(Note(number * self.bar + onset, length, pitch, False))
        return notes

    def _lead_on(self, current: int, planned: int, chord: Chord) -> int:
        """The last note of a phrase, between the beats: the planned step when it belongs to
        the home tonic or dominant chord, else the nearest such note up to a fourth away
        (a chord tone of the cadence chord first; the same note again only when no other
        fits), so the phrase never stops on a passing note."""
        if planned % 12 in self.home_pcs:
            return planned
        pcs = set(scale_for(chord))
        near = [
            p
            for p in range(max(self.low, current - 5), min(self.high, current + 5) + 1)
            if p % 12 in self.home_pcs and p % 12 in pcs
        ]
        if not near:
            return planned
        # Moving on is better than striking the note again, which is the last resort.
        return min(
            near, key=lambda p: (p == current, p % 12 not in chord.tones, abs(p - planned), p)
        )

    def _between(
        self, current: int, target: int, left: int, chord: Chord, figure: str = "passing"
    ) -> int:
        """The next note from `current` towards `target`, `left` notes before it is due: a
        step (passing tone), or as `figure` asks a skip to a chord tone on the way or a
        neighbour note the other side (when there is room to come back); a neighbour when
        already there, a chord tone when far away."""
        pcs = scale_for(chord)
        scale = [p for p in range(self.low, self.high + 1) if p % 12 in pcs]
        here = min(range(len(scale)), key=lambda i: abs(scale[i] - current))
        there = min(range(len(scale)), key=lambda i: abs(scale[i] - target))
        distance = there - here
        if distance == 0:
            middle = (self.low + self.high) / 2
            step = 1 if current <= middle else -1
            return scale[max(0, min(len(scale) - 1, here + step))]
        if abs(distance) > left + 1:
            tones = [p for p in range(self.low, self.high + 1) if p % 12 in chord.tones]
            ahead = [p for p in tones if (p - current) * distance > 0 and abs(p - current) <= 7]
            if ahead:
                return min(ahead, key=lambda p: abs(p - current))
        step = 1 if distance > 0 else -1
        if figure == "skip":
            tones = [p for p in range(self.low, self.high + 1) if p % 12 in chord.tones]
            on_the_way = [p for p in tones if 2 < (p - current) * step < (target - current) * step]
            if on_the_way:
                return min(on_the_way, key=lambda p: abs(p - current))
        if figure == "neighbour" and left >= 2 and 0 <= here - step < len(scale):
            return scale[here - step]
        return scale[here + step]
