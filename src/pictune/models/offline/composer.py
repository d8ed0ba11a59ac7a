"""The offline composer: a new piece from an image plan and reference tunes, no network.

Harmony first (`harmony`: chords from the Bach chorales' successions, cadences at phrase
ends, a contrasting key region), then the melody against it (`tune`: chord tones on the
beats, passing and neighbour tones between, rhythm from a model learned from the references
and corpus tunes in the plan's meter), then the arrangement (`arrangement`: a bass line, a
texture of chords, drums), written as readable ABC (`notation`)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pictune.abc.convert import abc_to_midi_many
from pictune.corpus.index import CorpusIndex
from pictune.corpus.records import MusicRecord
from pictune.models.offline.arrangement import (
    HAT,
    KICK,
    SNARE,
    TEXTURES,
    Event,
    accompany,
    clear_parallels,
    clear_unisons,
    drums,
)
from pictune.models.offline.counter import CounterWriter, counter_program
from pictune.models.offline.harmony import (
    Harmony,
    Slot,
    coda_harmony,
    intro_harmony,
    parse_form,
    write_harmony,
)
from pictune.models.offline.melody import MelodyModel, melody_line
from pictune.models.offline.notation import VoiceText, abc_lines, voice_bars
from pictune.models.offline.plan import FORMS, MELODY_RANGES, PROGRAM_NAMES, MusicalPlan, piece_kind
from pictune.models.offline.theory import Key, key_name, tonic_pc
from pictune.models.offline.tune import (
    CONTOURS,
    MelodyWriter,
    Note,
    resolve_final_leading_tone,
    resolve_held_clashes,
    smooth_augmented_seconds,
)
from pictune.music.score import Score

HARP = 46  # General MIDI's orchestral harp
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
TRAINING_TUNES = 240
ModelCache = dict[tuple[str, str, str], MelodyModel]


@dataclass
class GeneratedPiece:
    abc: str
    melody: list[tuple[int, int]]  # (MIDI pitch, duration in sixteenths)
    chords: list[int]  # scale degree of the root of each bar's first chord
    form: str
    model_tunes: int
    notes: dict[str, Any] = field(default_factory=dict)  # measured facts, for the motivation
    line: tuple[Note, ...] = ()  # the whole melody as written (intro shift and coda included)


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


DYNAMICS = ("p", "mp", "mf", "f")
DRUM_STAFF = (("F", KICK), ("c", SNARE), ("g", HAT))


def _letters(plan: MusicalPlan) -> list[str]:
    """The phrase letters of the plan's form, fitted to its length in 4-bar phrases."""
    phrases = max(1, plan.bars // 4)
    letters = parse_form(plan.form)
    if len(letters) != phrases:
        letters = parse_form(FORMS.get(phrases, FORMS[4])[0])
        while len(letters) < phrases:
            letters.append("A'")
        letters = letters[:phrases]
    return letters


def tonic_pitch(plan: MusicalPlan) -> int:
    """The melody's home tonic: the one a little under the plan's centre, so the tune has a
    fourth below it and an octave or more above. A plan that pins it (a revision keeping the
    tune's register) gives it."""
    if plan.melody_tonic:
        return plan.melody_tonic
    pc = tonic_pc(plan.tonic)
    low, high = MELODY_RANGES.get(plan.melody_program, (55, 88))
    options = [p for p in range(48, 90) if p % 12 == pc]
    fitting = [p for p in options if p - 5 >= max(low, 57) and p + 12 <= high]
    if not fitting:  # a narrow instrument: keep the tune above the accompaniment
        fitting = [min(p for p in options if p - 5 >= max(low, 57))]
    return min(fitting, key=lambda p: (abs(p - (plan.melody_centre - 4)), p))


def compose_piece(
    plan: MusicalPlan,
    model: MelodyModel,
    seed: int,
    title: str,
    kept: Sequence[Note] | None = None,
) -> GeneratedPiece:
    """A piece for `plan`; the same plan (picture) and seed always give the same piece.

    `kept` (a revision's): the melody as it stands, already in the plan's key and register;
    it is used note for note and only the harmony and arrangement are written around it
    (the harmony draws first from the seed, so the same seed gives the same chords)."""
    rng = random.Random(f"{seed}:{plan.fingerprint}")
    bar = BAR_SIXTEENTHS.get(plan.meter, 16)
    beat = BEAT_SIXTEENTHS.get(plan.meter, 4)
    home = tonic_pc(plan.tonic)
    letters = _letters(plan)
    harmony = write_harmony(
        letters,
        home,
        plan.mode,
        plan.contrast,
        bar,
        beat,
        plan.chords_per_bar,
        plan.cadence_colour == "deceptive",
        rng,
    )
    tonic = tonic_pitch(plan)
    top = MELODY_RANGES.get(plan.melody_program, (55, 88))[1]
    low, high = tonic - 5, min(top, tonic + 11 + 2 * (plan.melody_span - 5))
    intro = intro_harmony(home, plan.mode, bar) if plan.intro else []
    plagal = plan.cadence_colour == "plagal"
    coda = coda_harmony(home, plan.mode, bar, beat, plagal) if plan.ending else []
    bars = intro + harmony.bars + coda
    shift = len(intro) * bar
    texture = plan.texture if plan.texture in TEXTURES else "hymn"
    if texture == "waltz" and bar // beat != 3:
        texture = "march"
    if texture == "strummed" and plan.accompaniment_program == HARP:
        texture = "arpeggio"  # a harp does not strum repeated block chords: it breaks them
    # The arrangement first (the chords sit under the lowest note the tune may reach), so
    # the tune can keep clear of parallel fifths and octaves with the bass.
    bass, chords = accompany(texture, bars, bar, beat, low, low - 3)
    attacks = {e.start - shift: e.pitches[0] for e in bass if e.pitches}
    if kept is not None:
        melody = list(kept)
        notes = [Note(n.start - shift, n.length, n.pitch, n.on_beat) for n in melody]
        notes = [n for n in notes if 0 <= n.start < len(harmony.bars) * bar]
    else:
        shapes = list(CONTOURS)
        rng.shuffle(shapes)
        writer = MelodyWriter(
            harmony, model, rng, bar, beat, low, high, tonic, plan.notes_per_beat, shapes,
            attacks.get, bool(coda),
        )  # fmt: skip
        notes = writer.write()
        melody = [Note(n.start + shift, n.length, n.pitch, n.on_beat) for n in notes]
        if coda:
            melody.extend(_coda_melody(coda, (len(bars) - 2) * bar, tonic, low, high, rng))
        melody = resolve_held_clashes(melody, bars, bar, beat, low, high)
        melody = resolve_final_leading_tone(
            smooth_augmented_seconds(melody, bars, bar, low, high), low, high
        )
        notes = [Note(n.start - shift, n.length, n.pitch, n.on_beat) for n in melody]
        notes = [n for n in notes if 0 <= n.start < len(harmony.bars) * bar]
    # What the tune could not avoid (a returning phrase's fixed opening), the bass clears.
    tune = [(n.start, n.length, n.pitch) for n in melody]
    bass = clear_parallels(bass, tune, chords, bars, bar, low - 3)
    chords = clear_unisons(chords, tune, bass)
    percussion = drums(len(bars), bar, beat, len(intro)) if plan.percussion else []
    counter = (
        CounterWriter(
            bars, melody, bass, bar, beat, rng, len(intro), counter_program(plan.melody_program)
        ).write()
        if plan.countermelody
        else []
    )
    phrases = harmony.phrases
    facts = _facts(plan, melody, bass, harmony, len(intro), len(coda), texture, bar, beat)
    facts["countermelody"] = bool(counter)
    parts = Parts(melody, bass, chords, percussion, counter)
    abc = write_abc(plan, title, bars, parts, phrases, len(intro), bar, beat)
    key = Key(plan.tonic, plan.mode)
    return GeneratedPiece(
        abc,
        [(n.pitch, n.length) for n in notes],
        [key.degree_of(60 + slots[0].chord.root) % 7 for slots in bars],
        "".join(letters),
        model.tunes,
        facts,
        tuple(melody),
    )


def _coda_melody(
    coda: list[list[Slot]], start: int, tonic: int, low: int, high: int, rng: random.Random
) -> list[Note]:
    """Two closing bars: one or two chord tones of the approach chord (drawn from those a
    little above the tonic), the tonic under the tonic chord, then the tonic held."""
    notes = []
    first = coda[0]
    for slot in first:
        if slot.start:
            notes.append(Note(start + slot.start, slot.length, tonic, True))
            continue
        # Not the approach chord's root: over the bass's root falling to the tonic, that
        # would be parallel octaves.
        tones = [p for p in range(low, high + 1) if p % 12 in slot.chord.tones[1:]]
        tones = [p for p in tones if -5 <= p - tonic <= 7] or tones  # no leap over a fifth
        near = sorted(tones, key=lambda p: (abs(p - (tonic + 3)), p))[:3]
        shape = rng.choices(("held", "two", "figure"), (1, 2, 2))[0]
        if shape == "figure" and slot.length >= 6 and slot.length % 2 == 0:
            # A figure on the approach chord's tones (root included, but not on the beat),
            # closing on the one nearest the tonic: sol-ti-re | do, la-fa-la | do …
            lengths = [slot.length - 4, 2, 2]
            pool = [p for p in range(low, high + 1) if p % 12 in slot.chord.tones]
            pool = [p for p in pool if abs(p - tonic) <= 9 and p != tonic]
            closing = min(pool, key=lambda p: (abs(p - tonic), p))
            opening = rng.choice(near)
            middle = [p for p in pool if p not in (opening, closing)]
            inner = (
                min(middle, key=lambda p: abs(p - (opening + closing) / 2)) if middle else opening
            )
            pitches = [opening, inner, closing]
            if closing == opening or max(abs(inner - opening), abs(closing - inner)) > 5:
                lengths, pitches = [slot.length], [opening]  # no figure that leaps
        else:
            halves = slot.length % 2 == 0 and slot.length >= 8 and shape == "two"
            lengths = [slot.length // 2] * 2 if halves else [slot.length]
            pitches = sorted(rng.sample(near, len(lengths)), reverse=True)
        at = start
        for length, pitch in zip(lengths, pitches, strict=True):
            notes.append(Note(at, length, pitch, True))
            at += length
    bar = sum(s.length for s in first)
    notes.append(Note(start + bar, bar, tonic, True))
    return notes


def _facts(
    plan: MusicalPlan,
    melody: list[Note],
    bass: list[Event],
    harmony: Harmony,
    intro: int,
    coda: int,
    texture: str,
    bar: int,
    beat: int,
) -> dict[str, Any]:
    beats = len(harmony.bars) * bar / beat
    pitches = [n.pitch for n in melody]
    return {
        "notes_per_beat": round(len([n for n in melody if n.start >= intro * bar]) / beats, 2),
        "melody_low": min(pitches),
        "melody_high": max(pitches),
        "bass_low": min(p for e in bass for p in e.pitches),
        "bass_high": max(p for e in bass for p in e.pitches),
        "cadences": [p.cadence for p in harmony.phrases],
        "regions": sorted(
            {_relation(p.region_pc, p.region_mode, plan) for p in harmony.phrases} - {""}
        ),
        "texture": texture,
        "intro_bars": intro,
        "ending_bars": coda,
        "chords_per_bar": plan.chords_per_bar,
    }


def _relation(region_pc: int, region_mode: str, plan: MusicalPlan) -> str:
    """How a phrase's key region relates to home: '' (home), relative, dominant, subdominant."""
    step = (region_pc - tonic_pc(plan.tonic)) % 12
    if step == 0 and region_mode == plan.mode:
        return ""
    return (
        {7: "dominant", 5: "subdominant"}.get(step, "relative")
        if region_mode == plan.mode
        else "relative"
    )


def _spelling(bars: list[list[Slot]], bar: int) -> Any:
    keys: dict[tuple[int, str], Key] = {}

    def region_at(time: int) -> Key:
        number, onset = divmod(time, bar)
        slots = bars[min(number, len(bars) - 1)]
        chord = next(s.chord for s in reversed(slots) if s.start <= onset)
        region = (chord.region_pc, chord.region_mode)
        if region not in keys:
            keys[region] = Key(key_name(*region), region[1])
        return keys[region]

    return region_at


def _tempo_field(plan: MusicalPlan, qpm: int | None = None) -> str:
    qpm = qpm or plan.tempo_qpm
    if BEAT_SIXTEENTHS.get(plan.meter) == 6:
        return f"Q:3/8={round(qpm / 1.5)}"
    return f"Q:1/4={qpm}"


@dataclass(frozen=True)
class Parts:
    """Every voice of a piece: the tune, the bass, the chords, drums and a countermelody
    (the last two empty when the plan has none)."""

    melody: list[Note]
    bass: list[Event]
    chords: list[Event]
    percussion: list[Event]
    counter: list[Event]


def write_abc(
    plan: MusicalPlan,
    title: str,
    bars: list[list[Slot]],
    parts: Parts,
    phrases: list[Any],
    intro: int,
    bar: int,
    beat: int,
) -> str:
    """The piece as ABC: melody with chord symbols and dynamics, the countermelody, chords,
    bass, drums."""
    melody, bass, chords, percussion = parts.melody, parts.bass, parts.chords, parts.percussion
    key = Key(plan.tonic, plan.mode)
    region_at = _spelling(bars, bar)
    level = DYNAMICS.index(plan.dynamic) if plan.dynamic in DYNAMICS else 2
    # The melody: rests through the intro, chord symbols at each chord, dynamics per phrase.
    events = [Event(0, intro * bar, ())] if intro else []
    events += [Event(n.start, n.length, (n.pitch,)) for n in melody]
    marks: dict[int, list[str]] = {}
    splits: set[int] = set()
    for number, slots in enumerate(bars):
        named = ""
        for slot in slots:
            at = number * bar + slot.start
            symbol = slot.chord.symbol(region_at(at))
            if symbol != named:  # a chord that goes on within the bar is not named again
                marks.setdefault(at, []).append(f'"{symbol}"')
                splits.add(at)
            named = symbol
    said = -1
    for phrase in phrases:  # a dynamic is written where it changes, not again at each phrase
        loud = min(3, level + 1) if phrase.letter[0] != "A" else level
        if loud != said:
            marks.setdefault((phrase.first_bar + intro) * bar, []).append(f"!{DYNAMICS[loud]}!")
        said = loud
    # The close: a ritardando, marked "rit." under a diminuendo into the last note (a march
    # keeps its step to the end).
    slowing = plan.ending and len(bars) >= 2 and piece_kind(plan) != "March"
    if slowing and melody:
        marks.setdefault((len(bars) - 2) * bar, []).extend(['"_rit."', "!>(!"])
        marks.setdefault(melody[-1].start, []).append("!>)!")
    melody_text = VoiceText(
        key, region_at, marks, splits, staccato=not plan.legato, slurred=plan.legato
    )
    melody_bars = voice_bars(events, bar, beat, melody_text)
    if slowing and len(melody_bars) >= 2:  # the ritardando's tempo, for playback
        for back, factor in ((2, 0.9), (1, 0.78)):
            melody_bars[-back] = (
                f"[{_tempo_field(plan, round(plan.tempo_qpm * factor))}]" + melody_bars[-back]
            )
    soft = DYNAMICS[max(0, level - 1)]
    names = iter(str(n) for n in range(1, 7))
    voices = [(next(names), melody_bars)]
    header_voices = [
        f'V:1 name="{_instrument(plan.melody_program)}" clef={_clef(events, plan.melody_program)}',
        f"%%MIDI program {plan.melody_program}",
        "%%MIDI gchordoff",  # the chord symbols are for reading; the other voices play them
    ]
    for events, program in (
        (parts.counter, counter_program(plan.melody_program)),
        (chords, plan.accompaniment_program),
        (bass, plan.bass_program),
    ):
        if not events:
            continue
        name = next(names)
        first = next(e.start for e in events if e.pitches)  # the dynamic on the first note
        text = VoiceText(key, region_at, {first: [f"!{soft}!"]})
        voices.append((name, voice_bars(events, bar, beat, text)))
        clef = "bass" if events is bass else _clef(events, program)
        header_voices += [
            f'V:{name} name="{_instrument(program)}" clef={clef}',
            f"%%MIDI program {program}",
        ]
    header = [
        "X:1",
        f"T:{title}",
        "C:pictune offline composer",
        f"M:{plan.meter}",
        "L:1/8",
        _tempo_field(plan),
        "%%score " + " ".join(str(n) for n in range(1, len(voices) + 1 + bool(percussion))),
        f"K:{key.tonic}{'m' if plan.mode == 'minor' else ''}",
        *header_voices,
    ]
    if percussion:
        # Drums are written on the percussion staff's lines (bass drum F, snare c, hi-hat g,
        # in C so no key signature alters them) and mapped to their General MIDI keys.
        drum_name = next(names)
        header += [f'V:{drum_name} name="Drums" clef=perc', "%%MIDI channel 10"]
        header += [f"%%MIDI drummap {name} {key_}" for name, key_ in DRUM_STAFF]
        plain = Key("C", "major")
        shown = {KICK: 65, SNARE: 72, HAT: 79}
        written = [Event(e.start, e.length, tuple(shown[p] for p in e.pitches)) for e in percussion]
        drum_bars = voice_bars(written, bar, beat, VoiceText(plain, lambda t: plain))
        drum_bars[0] = "[K:C clef=perc] " + drum_bars[0]
        voices.append((drum_name, drum_bars))
    body = []
    for name, voice in voices:
        body += [f"V:{name}", *abc_lines(voice)]
    return "\n".join(header + body) + "\n"


# Each clef's staff, as the lowest and highest pitch written without a ledger line.
STAFFS = {"treble": (62, 79), "bass": (41, 59), "alto": (52, 69)}  # D4 … G5; F2 … B3; E3 … A4
VIOLA = 41  # General MIDI's viola: read in the alto clef


def _clef(events: list[Event], program: int) -> str:
    """The clef whose staff needs the fewest ledger lines for the part: treble or bass, or
    for a viola the alto clef it reads, unless another needs fewer."""
    pitches = [p for e in events for p in e.pitches]

    def ledgers(clef: str) -> float:
        low, high = STAFFS[clef]
        return sum(max(0, low - p) + max(0, p - high) for p in pitches) / 1.75

    clefs = ("alto", "treble", "bass") if program == VIOLA else ("bass", "treble")
    return min(clefs, key=lambda clef: (ledgers(clef), clefs.index(clef)))


def _instrument(program: int) -> str:
    return PROGRAM_NAMES.get(program, "instrument").title()


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
