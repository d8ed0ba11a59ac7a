"""The offline composer: a new piece from an image plan and reference tunes, no network.

Steps: learn a melody model from the retrieved references and corpus tunes in the plan's
meter; generate 4-bar phrases in the plan's form with cadences and returning motifs; set a
chord per bar from a progression for the mode; write melody and accompaniment as two ABC
voices with their own instruments, tempo and dynamics."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from pictune.abc.convert import abc_to_midi_many
from pictune.corpus.index import CorpusIndex
from pictune.corpus.records import MusicRecord
from pictune.models.offline.melody import DURATIONS, MelodyModel, Token, melody_line
from pictune.models.offline.plan import PROGRAM_NAMES, MusicalPlan
from pictune.models.offline.theory import Key, length_suffix
from pictune.music.score import Score

BAR_SIXTEENTHS = {
    "4/4": 16,
    "3/4": 12,
    "6/8": 12,
    "2/4": 8,
    "2/2": 16,
    "9/8": 18,
    "12/8": 24,
    "3/8": 6,
}
BEAT_SIXTEENTHS = {"6/8": 6, "9/8": 6, "12/8": 6, "3/8": 6, "2/2": 8}
PROGRESSIONS = {
    ("major", "A"): ((0, 5, 3, 4), (0, 3, 1, 4)),
    ("major", "B"): ((3, 0, 1, 4), (5, 3, 1, 4)),
    ("minor", "A"): ((0, 5, 3, 4), (0, 3, 6, 4)),
    ("minor", "B"): ((2, 6, 5, 4), (3, 0, 3, 4)),
}
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII")
TRAINING_TUNES = 240
ModelCache = dict[tuple[str, str, str], MelodyModel]


@dataclass
class GeneratedPiece:
    abc: str
    melody: list[tuple[int, int]]  # (MIDI pitch, duration in sixteenths)
    chords: list[int]  # root degree of each bar
    form: str
    model_tunes: int
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TuneLine:
    """A corpus tune as the composer reads it: its notes, its key and its top line."""

    score: Score
    key: Key
    line: list[tuple[int, int, int]]  # (onset, scale degree, duration in sixteenths)

    def pitches(self) -> list[tuple[int, int]]:
        """The top line as (MIDI pitch, duration in sixteenths), for the copy check."""
        return [(self.key.pitch(degree), duration) for _, degree, duration in self.line]


def tune_lines(index: CorpusIndex, records: list[MusicRecord]) -> list[TuneLine]:
    """Each record abc2midi can play, read once (one abc2midi run for all of them)."""
    tunes = [index.abc_for(r) for r in records]
    lines = []
    for record, conversion in zip(records, abc_to_midi_many(tunes), strict=True):
        if conversion.midi is None:
            continue
        key_name = str(record.tags.get("key", "C major")).split()
        tonic = key_name[0] if key_name else "C"
        mode = "minor" if record.tags.get("mode") in ("minor", "dorian", "phrygian") else "major"
        try:
            key = Key(tonic, mode)
            score = Score.from_midi(conversion.midi)
            lines.append(TuneLine(score, key, melody_line(score, key)))
        except (KeyError, ValueError):
            continue
    return lines


def training_model(
    index: CorpusIndex,
    plan: MusicalPlan,
    references: list[TuneLine],
    cache: ModelCache | None = None,
) -> MelodyModel:
    """A melody model from the references plus corpus tunes in the plan's meter. The corpus
    part is kept in `cache` (owned by the caller), keyed by the index's content, so a
    rebuilt index is never served a stale model."""
    cache = {} if cache is None else cache
    cache_key = (index.content_key, plan.meter, plan.mode)
    base = cache.get(cache_key)
    if base is None:
        rows = index.allowed_rows({"meter": plan.meter, "mode": plan.mode})
        if rows is None or rows.size == 0:
            rows = index.allowed_rows({"meter": plan.meter})
        chosen = (
            sorted(random.Random(0).sample(list(rows), min(TRAINING_TUNES, len(rows))))
            if rows is not None and rows.size
            else []
        )
        base = MelodyModel()
        _learn(base, tune_lines(index, index.records(chosen)), plan)
        cache[cache_key] = base
    model = MelodyModel()
    for table_name in ("order0", "order1", "order2"):
        target, source = getattr(model, table_name), getattr(base, table_name)
        for context, counts in source.items():
            target[context].update(counts)
    model.tunes = base.tunes
    # References count three times: they are the closest in character to the plan.
    _learn(model, references, plan, weight=3)
    return model


def _learn(model: MelodyModel, lines: list[TuneLine], plan: MusicalPlan, weight: int = 1) -> None:
    bar = BAR_SIXTEENTHS.get(plan.meter, 16)
    for tune in lines:
        for _ in range(weight):
            model.learn(tune.line, bar)


class _Writer:
    """Generates the melody bar by bar under the plan's constraints."""

    def __init__(self, plan: MusicalPlan, model: MelodyModel, rng: random.Random) -> None:
        self.plan, self.model, self.rng = plan, model, rng
        self.key = Key(plan.tonic, plan.mode)
        self.bar = BAR_SIXTEENTHS.get(plan.meter, 16)
        self.beat = BEAT_SIXTEENTHS.get(plan.meter, 4)
        centre = self.key.degree_of(plan.melody_centre)
        # About an octave for the tune at the default span of 3 degrees: with the
        # accompaniment close below it, the piece spans under 20 semitones, like the corpus.
        self.low, self.high = centre - plan.melody_span, centre + plan.melody_span
        self.target = max(1.0, self.beat / max(plan.notes_per_beat, 0.5))

    def _weight(
        self, token: Token, count: int, degree: int, position: int, chord: int, remaining: int
    ) -> float:
        interval, duration = token
        new = degree + interval
        if duration > remaining or not self.low <= new <= self.high:
            return 0.0
        weight = count * math.exp(-0.9 * abs(math.log(duration / self.target)))
        if position in (0, 1) and (new - chord) % 7 in (0, 2, 4):
            weight *= 3.0
        if position == 0 and (new - chord) % 7 not in (0, 2, 4):
            weight *= 0.3
        if remaining - duration not in (0, *DURATIONS) and remaining - duration < min(DURATIONS):
            weight *= 0.1
        return weight

    def bar_notes(
        self, start_degree: int, chord: int, history: list[Token], cadence: int | None
    ) -> list[tuple[int, int]]:
        """(degree, duration) of one bar; `cadence` is the degree the bar must end on."""
        notes: list[tuple[int, int]] = []
        degree, position = start_degree, 0
        stop = self.bar // 2 if cadence is not None else self.bar
        while position < stop:
            remaining = stop - position
            klass = 0 if position == 0 else 1 if position % 4 == 0 else 2
            candidates = self.model.candidates(history, klass)
            weighted = [
                (t, self._weight(t, c, degree, klass, chord, remaining))
                for t, c in candidates.items()
            ]
            weighted = [(t, w) for t, w in weighted if w > 0]
            if weighted and not (not notes and position == 0):
                token = self.rng.choices([t for t, _ in weighted], [w for _, w in weighted])[0]
            elif not notes:
                token = (
                    self._nearest_chord_tone(degree, chord) - degree,
                    min(self._fit(remaining), self._fit(round(self.target))),
                )
            else:
                token = (self._nearest_chord_tone(degree, chord) - degree, self._fit(remaining))
            degree += token[0]
            notes.append((degree, token[1]))
            history.append(token)
            position += token[1]
        if cadence is not None:
            final = min((cadence + 7 * k for k in range(-3, 4)), key=lambda d: (abs(d - degree), d))
            final = max(self.low, min(self.high, final))
            notes.append((final, self.bar - position))
            history.append((max(-7, min(7, final - degree)), self.bar - position))
        return notes

    def _fit(self, remaining: int) -> int:
        return max((d for d in DURATIONS if d <= remaining), default=remaining)

    def _nearest_chord_tone(self, degree: int, chord: int) -> int:
        tones = [chord + offset + 7 * k for offset in (0, 2, 4) for k in range(-3, 4)]
        tones = [t for t in tones if self.low <= t <= self.high] or tones
        return min(tones, key=lambda t: (abs(t - degree), t))


def _split(duration: int) -> list[int]:
    """A bar-internal duration as note values ABC can write without ties (e.g. 5 → 4 + 1)."""
    parts = []
    while duration > 0:
        part = max(d for d in DURATIONS if d <= duration)
        parts.append(part)
        duration -= part
    return parts


def compose_piece(plan: MusicalPlan, model: MelodyModel, seed: int, title: str) -> GeneratedPiece:
    rng = random.Random(seed)
    writer = _Writer(plan, model, rng)
    phrases = max(1, math.ceil(plan.bars / 4))
    letters = [plan.form[i % len(plan.form)] for i in range(phrases)]
    bars: list[list[tuple[int, int]]] = []
    chords: list[int] = []
    history: list[Token] = []
    first_phrase: list[list[tuple[int, int]]] | None = None
    first_progression: list[int] = []
    for index, letter in enumerate(letters):
        last_phrase = index == phrases - 1
        choices = PROGRESSIONS[(plan.mode if plan.mode == "minor" else "major", letter)]
        progression = list(choices[rng.randrange(len(choices))])
        if letter == "A" and first_progression:
            progression = list(first_progression)  # the A phrase returns with its harmony
        if last_phrase:
            progression[-2:] = [4, 0]  # … V I: an authentic cadence
        count = min(4, plan.bars - 4 * index)
        progression = progression[:count]
        if count < 4:
            progression[-1] = 0
        phrase: list[list[tuple[int, int]]] = []
        degree = writer._nearest_chord_tone((writer.low + writer.high) // 2, progression[0])
        for number, chord in enumerate(progression):
            final_bar = number == count - 1
            cadence = (0 if last_phrase else 4 if letter != "B" else 1) if final_bar else None
            if (
                letter == "A"
                and first_phrase is not None
                and not final_bar
                and number < len(first_phrase) - 1
            ):
                notes = list(first_phrase[number])  # the A phrase returns
            elif letter == "B" and number == 0 and first_phrase:
                shift = 2 if max(d for d, _ in first_phrase[0]) + 2 <= writer.high + 1 else -1
                notes = [(d + shift, t) for d, t in first_phrase[0]]  # the motif, in sequence
            else:
                notes = writer.bar_notes(degree, chord, history, cadence)
            phrase.append(notes)
            degree = notes[-1][0]
        if letter == "A" and first_phrase is None:
            first_phrase, first_progression = phrase, progression
        bars.extend(phrase)
        chords.extend(progression)
    abc = write_abc(plan, writer.key, bars, chords, title)
    melody = [(writer.key.pitch(d), t) for bar in bars for d, t in bar]
    return GeneratedPiece(abc, melody, chords, "".join(letters), model.tunes)


def _chord_name(key: Key, root: int, mode: str) -> str:
    name = key.abc(root, 4).strip("^_=,'").upper()
    letter = name[0]
    accidental = key.signature[letter]
    spelled = letter + ("#" if accidental > 0 else "b" if accidental < 0 else "")
    third = (key.scale[(root + 2) % 7] - key.scale[root % 7]) % 12
    fifth = (key.scale[(root + 4) % 7] - key.scale[root % 7]) % 12
    if fifth == 6:
        return spelled + "dim"
    return spelled + ("m" if third == 3 else "")


def write_abc(
    plan: MusicalPlan, key: Key, bars: list[list[tuple[int, int]]], chords: list[int], title: str
) -> str:
    unit = 2  # L:1/8
    bar16 = BAR_SIXTEENTHS.get(plan.meter, 16)
    melody_lines, accompaniment_lines = [], []
    dynamics = ("p", "mp", "mf", "f")
    level = dynamics.index(plan.dynamic)
    melody_low = min((key.pitch(d) for notes in bars for d, _ in notes), default=60)
    for number, (notes, chord) in enumerate(zip(bars, chords, strict=True)):
        parts = []
        if number % 4 == 0:
            phrase_level = (
                min(3, level + 1) if plan.form[(number // 4) % len(plan.form)] == "B" else level
            )
            parts.append(f"!{dynamics[phrase_level]}!")
        parts.append(f'"{_chord_name(key, chord, plan.mode)}"')
        written = []
        for degree, duration in notes:
            for piece in _split(duration):
                staccato = "." if not plan.legato and piece <= 2 else ""
                written.append(staccato + key.abc(degree) + length_suffix(piece, unit))
        text = " ".join(written)
        if plan.legato and len(written) > 1 and number % 2 == 0:
            text = "(" + text + ")"
        melody_lines.append("".join(parts) + text)
        accompaniment_lines.append(
            _accompaniment(plan, key, chord, melody_low, bar16, last=number == len(bars) - 1)
        )
    header = [
        "X:1",
        f"T:{title}",
        "C:pictune offline composer",
        f"M:{plan.meter}",
        "L:1/8",
        _tempo_field(plan),
        "%%score 1 2",
        f"K:{key.tonic}{'m' if plan.mode == 'minor' else ''}",
        f'V:1 name="{_instrument(plan.melody_program)}" clef=treble',
        f"%%MIDI program {plan.melody_program}",
        "%%MIDI gchordoff",  # the chord symbols are for reading; voice 2 plays the harmony
        f'V:2 name="{_instrument(plan.accompaniment_program)}" clef=bass',
        f"%%MIDI program {plan.accompaniment_program}",
    ]
    body = ["V:1", *_lines(melody_lines), "V:2", *_lines(accompaniment_lines)]
    return "\n".join(header + body) + "\n"


def _instrument(program: int) -> str:
    return PROGRAM_NAMES.get(program, "instrument").title()


def _tempo_field(plan: MusicalPlan) -> str:
    if BEAT_SIXTEENTHS.get(plan.meter) == 6:
        return f"Q:3/8={round(plan.tempo_qpm / 1.5)}"
    return f"Q:1/4={plan.tempo_qpm}"


def _lines(bars: list[str]) -> list[str]:
    lines = []
    for first in range(0, len(bars), 4):
        chunk = bars[first : first + 4]
        end = "|]" if first + 4 >= len(bars) else "|"
        lines.append(" | ".join(chunk) + " " + end)
    return lines


def _voicing(key: Key, root: int, melody_low: int) -> list[int]:
    """Absolute degrees of the chord's root, third and fifth, each placed in the window just
    below the melody (from 8 semitones under its lowest note to 3 above)."""
    tones = []
    for offset in (0, 2, 4):
        options = [root % 7 + offset + 7 * k for k in range(-4, 4)]
        inside = [d for d in options if melody_low - 8 <= key.pitch(d) <= melody_low + 3]
        tones.append(
            min(inside)
            if inside
            else min(options, key=lambda d: abs(key.pitch(d) - melody_low + 5))
        )
    return tones


def _accompaniment(
    plan: MusicalPlan, key: Key, root: int, melody_low: int, bar16: int, last: bool
) -> str:
    """One bar of the second voice: bass note and chord in the meter's pattern."""
    # Natural minor throughout (a minor v chord, as in the folk tunes the melodies learn
    # from): a raised leading tone would add an eighth pitch class to every minor piece.
    bottom, third, fifth = _voicing(key, root, melody_low)
    names = {bottom: key.abc(bottom), third: key.abc(third), fifth: key.abc(fifth)}
    ordered = sorted(names, key=key.pitch)
    triad = "[" + "".join(names[d] for d in ordered) + "]"
    bass, other = names[ordered[0]], names[ordered[-1]]
    if plan.texture == "bass":  # a bass note on the downbeat, then the melody alone
        beat = BEAT_SIXTEENTHS.get(plan.meter, 4)
        if last or bar16 <= beat:
            return f"{bass}{length_suffix(bar16)}"
        return f"{bass}{length_suffix(beat)} z{length_suffix(bar16 - beat)}"
    if last:
        return f"{bass if plan.texture == 'light' else triad}{length_suffix(bar16)}"
    if BEAT_SIXTEENTHS.get(plan.meter, 4) == 6:  # compound time: bass, then chord, per beat
        upper = other if plan.texture == "light" else triad
        return " ".join(
            f"{bass}{length_suffix(2)} {upper}{length_suffix(4)}" for _ in range(bar16 // 6)
        )
    if plan.texture == "light":  # bass and single chord notes, no triads
        tones = [names[d] for d in ordered]
        pattern = [bass, tones[1], other, tones[1]][: max(1, bar16 // 4)]
        return " ".join(f"{note}{length_suffix(4)}" for note in pattern)
    # 4/4: bass, chord, upper note, chord; other simple meters: bass, then chords.
    pattern = [bass, triad, other, triad] if bar16 == 16 else [bass] + [triad] * (bar16 // 4 - 1)
    return " ".join(f"{note}{length_suffix(4)}" for note in pattern)


def counts_summary(model: MelodyModel) -> dict[str, int]:
    return {
        "tunes": model.tunes,
        "contexts": len(model.order2) + len(model.order1),
        "tokens": sum(sum(c.values()) for c in model.order0.values()),
    }


__all__ = [
    "GeneratedPiece",
    "ModelCache",
    "TuneLine",
    "compose_piece",
    "counts_summary",
    "training_model",
    "tune_lines",
]
