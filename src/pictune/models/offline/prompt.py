"""What a prompt's words do to the plan: a published vocabulary, negation ("not fast",
"no drums", "not in a major key"), key names ("in A minor", whereas "a minor key" names only
the mode), and the words that changed nothing, reported back to the user."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pictune.models.offline.moods import MoodReading, mood_words
from pictune.models.offline.plan import (
    FAMILIES,
    INSTRUMENTS,
    RELATIVE_MINOR,
    MusicalPlan,
    centre_for,
    harmonic_rhythm,
)
from pictune.models.offline.theory import KEYS

Changes = dict[str, Any]


@dataclass(frozen=True)
class Word:
    aspect: str
    meaning: str
    apply: Callable[[MusicalPlan], Changes]
    negate: Callable[[MusicalPlan], Changes] | None = None


def _tempo(value: int) -> Callable[[MusicalPlan], Changes]:
    return lambda plan: {"tempo_qpm": value}


def _not_faster_than(limit: int) -> Callable[[MusicalPlan], Changes]:
    return lambda plan: {"tempo_qpm": min(plan.tempo_qpm, limit)}


def _not_slower_than(limit: int) -> Callable[[MusicalPlan], Changes]:
    return lambda plan: {"tempo_qpm": max(plan.tempo_qpm, limit)}


def _meter(meter: str, texture: str | None = None) -> Callable[[MusicalPlan], Changes]:
    def change(plan: MusicalPlan) -> Changes:
        changes: Changes = {"meter": meter}
        if texture:
            changes["texture"] = texture
        elif plan.texture == "waltz" and meter != "3/4":
            changes["texture"] = "arpeggio"
        return changes

    return change


def _not_meter(meter: str) -> Callable[[MusicalPlan], Changes]:
    def change(plan: MusicalPlan) -> Changes:
        if plan.meter != meter:
            return {}
        return {"meter": "4/4" if meter != "4/4" else "3/4", "texture": "arpeggio"}

    return change


def _mode(mode: str) -> Callable[[MusicalPlan], Changes]:
    def change(plan: MusicalPlan) -> Changes:
        if plan.mode == mode:
            return {"mode": mode}
        relative = {v: k for k, v in RELATIVE_MINOR.items()}
        tonic = (
            RELATIVE_MINOR.get(plan.tonic, "A")
            if mode == "minor"
            else relative.get(plan.tonic, "C")
        )
        return {"mode": mode, "tonic": tonic}

    return change


def _other_mode(mode: str) -> Callable[[MusicalPlan], Changes]:
    return _mode("major" if mode == "minor" else "minor")


def _mood(
    tempo: int, dynamic: str, texture: str, drums: bool, legato: bool
) -> Callable[[MusicalPlan], Changes]:
    def change(plan: MusicalPlan) -> Changes:
        slow = tempo < 100
        changes: Changes = {
            "tempo_qpm": min(plan.tempo_qpm, tempo) if slow else max(plan.tempo_qpm, tempo),
            "dynamic": dynamic,
            "percussion": drums,
            "legato": legato,
        }
        if not (texture in ("waltz",) and plan.meter != "3/4"):
            changes["texture"] = texture if plan.meter != "3/4" or texture != "march" else "waltz"
        return changes

    return change


def _set(**values: Any) -> Callable[[MusicalPlan], Changes]:
    return lambda plan: dict(values)


def _ensemble(melody: int, chords: int, bass: int) -> Callable[[MusicalPlan], Changes]:
    return lambda plan: {
        "melody_program": melody,
        "accompaniment_program": chords,
        "bass_program": bass,
        "melody_centre": centre_for(melody, plan.melody_centre),
    }


def _without(program: int) -> Callable[[MusicalPlan], Changes]:
    def change(plan: MusicalPlan) -> Changes:
        stand_ins = {"melody_program": 73, "accompaniment_program": 48, "bass_program": 42}
        changes: Changes = {}
        for name, stand_in in stand_ins.items():
            if getattr(plan, name) == program:
                changes[name] = stand_in if stand_in != program else 0
        if "melody_program" in changes:
            changes["melody_centre"] = centre_for(changes["melody_program"], plan.melody_centre)
        return changes

    return change


# Accompaniment textures from the sparsest to the busiest ("busier", "simpler" move along it).
BUSYNESS = ("pad", "hymn", "arpeggio", "strummed")
DYNAMIC_STEPS = ("p", "mp", "mf", "f")


def _tempo_by(factor: float) -> Callable[[MusicalPlan], Changes]:
    """A tempo relative to the plan's: 'slower' is a fifth slower, 'faster' a quarter faster."""
    return lambda plan: {"tempo_qpm": max(30, min(240, round(plan.tempo_qpm * factor)))}


def _dynamic_by(step: int) -> Callable[[MusicalPlan], Changes]:
    def change(plan: MusicalPlan) -> Changes:
        at = DYNAMIC_STEPS.index(plan.dynamic) if plan.dynamic in DYNAMIC_STEPS else 2
        return {"dynamic": DYNAMIC_STEPS[max(0, min(len(DYNAMIC_STEPS) - 1, at + step))]}

    return change


def _busier_by(step: int) -> Callable[[MusicalPlan], Changes]:
    """The next texture along BUSYNESS (a waltz or march accompaniment counts as 'hymn')."""

    def change(plan: MusicalPlan) -> Changes:
        at = BUSYNESS.index(plan.texture) if plan.texture in BUSYNESS else 1
        return {"texture": BUSYNESS[max(0, min(len(BUSYNESS) - 1, at + step))]}

    return change


BASS_CAPABLE = {0, 6, 19, 21, 24, 32, 42, 43, 46, 48, 52, 57, 58, 70}
# General MIDI programs that can play an accompaniment's chords: keyboards, mallets, organs,
# guitars, harp, string and brass sections, choirs and pads.
CHORD_CAPABLE = (
    set(range(0, 8)) | set(range(16, 32)) | set(range(88, 96))
    | {11, 12, 46, 48, 49, 50, 51, 52, 53, 54, 61, 62}
)  # fmt: skip
CALM = _mood(66, "p", "pad", False, True)
DREAMY = _mood(72, "p", "arpeggio", False, True)
GENTLE = _mood(76, "mp", "arpeggio", False, True)
ENERGETIC = _mood(138, "f", "strummed", True, False)
NOT_CALM = _mood(112, "mf", "strummed", False, False)
NOT_ENERGETIC = _mood(84, "mp", "arpeggio", False, True)

VOCABULARY: dict[str, Word] = {
    # tempo
    "largo": Word("tempo", "50 quarter notes a minute", _tempo(50), _not_slower_than(72)),
    "adagio": Word("tempo", "66 a minute", _tempo(66), _not_slower_than(80)),
    "slow": Word("tempo", "66 a minute", _tempo(66), _not_slower_than(96)),
    "andante": Word("tempo", "88 a minute", _tempo(88)),
    "moderato": Word("tempo", "108 a minute", _tempo(108)),
    "moderate": Word("tempo", "104 a minute", _tempo(104)),
    "allegro": Word("tempo", "138 a minute", _tempo(138), _not_faster_than(108)),
    "fast": Word("tempo", "144 a minute", _tempo(144), _not_faster_than(100)),
    "quick": Word("tempo", "144 a minute", _tempo(144), _not_faster_than(100)),
    "lively": Word("tempo", "132 a minute", _tempo(132), _not_faster_than(100)),
    "presto": Word("tempo", "176 a minute", _tempo(176), _not_faster_than(120)),
    # comparatives: relative to the plan (what a revision asks: "slower", "louder")
    **{
        w: Word("tempo", "a fifth slower", _tempo_by(0.8), _tempo_by(1.0))
        for w in ("slower", "slowly")
    },
    **{
        w: Word("tempo", "a quarter faster", _tempo_by(1.25), _tempo_by(1.0))
        for w in ("faster", "quicker", "quickly")
    },
    **{
        w: Word("dynamics", "one dynamic level louder", _dynamic_by(1))
        for w in ("louder", "loudly", "stronger")
    },
    **{
        w: Word("dynamics", "one dynamic level softer", _dynamic_by(-1))
        for w in ("quieter", "quietly", "softer", "softly")
    },
    **{
        w: Word("texture", "a busier accompaniment", _busier_by(1))
        for w in ("busier", "busy", "fuller", "richer")
    },
    **{
        w: Word("texture", "a sparser accompaniment", _busier_by(-1))
        for w in ("simpler", "sparser", "plainer", "thinner")
    },
    # dances and forms of accompaniment
    "waltz": Word(
        "meter", "3/4 with a waltz accompaniment", _meter("3/4", "waltz"), _not_meter("3/4")
    ),
    "minuet": Word("meter", "3/4 with block chords", _meter("3/4", "hymn"), _not_meter("3/4")),
    "jig": Word("meter", "6/8", _meter("6/8"), _not_meter("6/8")),
    "march": Word(
        "meter", "2/4 with an oom-pah accompaniment", _meter("2/4", "march"), _not_meter("2/4")
    ),
    "polka": Word(
        "meter", "2/4 with an oom-pah accompaniment", _meter("2/4", "march"), _not_meter("2/4")
    ),
    "reel": Word("meter", "4/4", _meter("4/4"), _not_meter("4/4")),
    "lullaby": Word(
        "mood",
        "6/8, slow, soft, arpeggios, no drums",
        lambda plan: {**_meter("6/8", "arpeggio")(plan), **CALM(plan), "texture": "arpeggio"},
    ),
    # mood → mode
    **{
        w: Word("mode", "minor mode", _mode("minor"), _other_mode("minor"))
        for w in ("sad", "melancholic", "gloomy", "mournful", "dark", "tragic")
    },
    **{
        w: Word("mode", "major mode", _mode("major"), _other_mode("major"))
        for w in ("happy", "cheerful", "joyful", "bright", "sunny", "triumphant")
    },
    "angry": Word(
        "mood",
        "minor, fast, loud, detached, with drums",
        lambda plan: {**_mode("minor")(plan), **ENERGETIC(plan), "texture": "march"},
        NOT_ENERGETIC,
    ),
    # mood → tempo, dynamics, texture
    **{
        w: Word("mood", "slower, soft, sustained chords, no drums", CALM, NOT_CALM)
        for w in ("calm", "peaceful", "serene", "tranquil", "relaxed")
    },
    **{
        w: Word("mood", "slower, soft, arpeggios, no drums", DREAMY, NOT_CALM)
        for w in ("dreamy", "floating")
    },
    **{
        w: Word(
            "mood",
            "slower, soft, arpeggios, no drums, in a minor key",
            lambda plan: {**DREAMY(plan), **_mode("minor")(plan)},
            NOT_CALM,
        )
        for w in ("mysterious", "eerie", "haunting", "ominous")
    },
    **{
        w: Word("mood", "moderate, gentle, arpeggios", GENTLE, NOT_CALM)
        for w in ("gentle", "tender", "soft", "quiet", "sweet")
    },
    **{
        w: Word("mood", "faster, loud, strummed chords, drums", ENERGETIC, NOT_ENERGETIC)
        for w in ("energetic", "exciting", "driving", "powerful", "upbeat", "loud")
    },
    # accompaniment and drums
    **{
        w: Word("texture", "broken chords", _set(texture="arpeggio"))
        for w in ("arpeggio", "arpeggios", "arpeggiated", "broken")
    },
    **{
        w: Word("texture", "block chords on every beat", _set(texture="hymn"))
        for w in ("hymn", "chorale", "block")
    },
    **{
        w: Word("texture", "sustained chords", _set(texture="pad"))
        for w in ("sustained", "pad", "ambient")
    },
    "strummed": Word("texture", "strummed chords", _set(texture="strummed")),
    **{
        w: Word("percussion", "a drum part", _set(percussion=True), _set(percussion=False))
        for w in ("drums", "drum", "percussion", "beat", "groove")
    },
    **{
        w: Word(
            "voices",
            "a countermelody between tune and bass",
            _set(countermelody=True),
            _set(countermelody=False),
        )
        for w in ("countermelody", "counter-melody", "counterpoint", "duet")
    },
    "legato": Word("articulation", "slurred", _set(legato=True), _set(legato=False)),
    "staccato": Word("articulation", "detached", _set(legato=False), _set(legato=True)),
    # ensembles
    **{
        w: Word("instruments", "melody, chords and bass for the ensemble", _ensemble(*trio))
        for w, trio in FAMILIES.items()
        if w not in ("piano", "organ")
    },
}
STOPWORDS = set(
    [
        "a",
        "an",
        "the",
        "in",
        "on",
        "for",
        "with",
        "and",
        "or",
        "of",
        "to",
        "at",
        "by",
        "as",
        "some",
        "something",
        "piece",
        "music",
        "tune",
        "song",
        "please",
        "make",
        "me",
        "it",
        "is",
        "be",
        "very",
        "bit",
        "little",
        "more",
        "less",
        "like",
        "that",
        "this",
        "my",
        "i",
        "want",
        "would",
        "feel",
        "feeling",
        "sound",
        "sounds",
        "key",
        "mode",
        "time",
        "bpm",
        "solo",
        "but",
        "too",
        "so",
        "really",
        "quite",
        "rather",
        "kind",
        "sort",
        "style",
        "played",
        "play",
        "playing",
        "using",
        "use",
        "by",
        "from",
        "into",
        "about",
        "over",
        "under",
        "one",
        "two",
        "three",
        "four",
        "write",
        "compose",
        "written",
        "accompaniment",
        "accompany",
        "chords",
        "give",
        "keep",
        "same",
        "change",
        "now",
        "again",
        "instead",
        "same",
    ]
)
NEGATORS = {"not", "no", "without", "never", "isn't", "don't", "nor", "avoid", "neither", "non"}
ARTICLE_FOLLOWERS = re.compile(
    r"\s+(key|mode|tonality|scale|piece|tune|song|feel|sound|melody|mood)"
)


def vocabulary() -> list[tuple[str, str, str]]:
    """(word, aspect, what it does) for every word the offline composer understands."""
    words = [(w, entry.aspect, entry.meaning) for w, entry in VOCABULARY.items()]
    words += [(name, "instruments", "the melody's instrument (a second name: the chords')")
              for name in INSTRUMENTS]  # fmt: skip
    words += [("major", "mode", "major mode"), ("minor", "mode", "minor mode")]
    words += [("<letter> major/minor", "key", "the key, e.g. 'in D minor', 'in E flat major'")]
    words += [
        ("N bpm", "tempo", "that many quarter notes a minute"),
        ("N/M", "meter", "that meter"),
    ]
    return sorted(words)


def _negated(words: list[str], index: int) -> bool:
    return _negator(words, index) is not None


def _negator(words: list[str], index: int) -> str | None:
    """The negating word among the three before `index` ('not', 'no', 'without' …)."""
    return next((w for w in reversed(words[max(0, index - 3) : index]) if w in NEGATORS), None)


def _key(prompt: str) -> tuple[str, str, bool, tuple[int, int]] | None:
    """(tonic, mode, negated, span) of a key name in the prompt: 'A minor', 'in e flat
    major'; a lower-case 'a' before 'minor key' is the article."""
    for match in re.finditer(
        r"\b([A-Ga-g])(#|♯|b|♭|\s+sharp|\s+flat|-sharp|-flat)?\s+(major|minor)\b", prompt
    ):
        letter, sign = match.group(1), (match.group(2) or "").strip(" -")
        if letter == "a" and not sign and ARTICLE_FOLLOWERS.match(prompt[match.end() :]):
            continue
        tonic = letter.upper() + (
            "#" if sign in ("#", "♯", "sharp") else "b" if sign in ("b", "♭", "flat") else ""
        )
        before = re.findall(r"[a-z']+", prompt[: match.start()].lower())
        return tonic, match.group(3).lower(), _negated(before, len(before)), match.span()
    return None


def apply_words(
    plan: MusicalPlan, prompt: str, moods: Callable[[str], MoodReading | None] | None = None
) -> MusicalPlan:
    """Apply each understood word in turn (negated ones by their negation); record what
    spoke in `overrides` and what changed nothing in `unused_words`. With `moods` (a
    sentence-embedder reading), the words outside the vocabulary are read together onto
    the mood axes; the aspects the keywords set are kept."""
    changes: Changes = {}
    said: dict[str, str] = {}
    unused: list[str] = []
    current = plan

    def take(word: str, aspect: str, update: Changes, known: bool = True) -> None:
        nonlocal current
        effective = {k: v for k, v in update.items() if getattr(current, k) != v}
        if not effective:
            unused.append(f"{word} (already so)" if known else word)
            return
        changes.update(effective)
        current = replace(current, **effective)
        said[aspect] = word if aspect not in said else f"{said[aspect]}, {word}"

    key = _key(prompt)
    text = prompt.lower()
    if key:
        text = text[: key[3][0]] + " " * (key[3][1] - key[3][0]) + text[key[3][1] :]
    words = re.findall(r"[a-z][a-z'-]*|\d+/\d+|\d+", text.replace("oom-pah", "oompah"))
    named: list[int] = []
    unknown: list[str] = []  # words outside the vocabulary, for the mood reader
    consumed: set[int] = set()
    for i, word in enumerate(words):
        pair = f"{word} {words[i + 1]}" if i + 1 < len(words) else ""
        if pair in INSTRUMENTS:
            named.append(INSTRUMENTS[pair])
            consumed |= {i, i + 1}
    for i, word in enumerate(words):
        if i in consumed or word in NEGATORS:
            continue
        negator = _negator(words, i)
        negated = negator is not None
        label = f"{negator} {word}" if negator else word
        bare = word[:-1] if word.endswith("s") and word[:-1] in INSTRUMENTS else word
        if word in VOCABULARY:
            entry = VOCABULARY[word]
            action = entry.negate if negated else entry.apply
            if action is None:
                unused.append(label)
            else:
                take(label, entry.aspect, action(current))
        elif bare in INSTRUMENTS:
            if negated:
                take(label, "instruments", _without(INSTRUMENTS[bare])(current))
            else:
                named.append(INSTRUMENTS[bare])
        elif word in ("major", "minor"):
            mode = word if not negated else ("minor" if word == "major" else "major")
            take(label, "mode", _mode(mode)(current))
        elif re.fullmatch(r"\d+/\d+", word) and word in ("2/4", "3/4", "4/4", "6/8"):
            take(word, "meter", _meter(word)(current))
        elif word.isdigit() and i + 1 < len(words) and words[i + 1] == "bpm":
            take(f"{word} bpm", "tempo", {"tempo_qpm": max(30, min(240, int(word)))})
        elif word not in STOPWORDS and not word.isdigit() and word != "bpm":
            unused.append(word)  # a word outside the vocabulary
            unknown.append(label)
    reading = moods(" ".join(unknown)) if moods and unknown else None
    if reading is not None:
        # The keywords win: a mode or key they named is kept, and so is a mood they set.
        spoken = set(said) | ({"mode"} if "key" in said else set())
        update: Changes = {}
        for word in mood_words(reading):
            entry = VOCABULARY[word]
            if entry.aspect not in spoken:
                update.update(entry.apply(replace(current, **update)))
        effective = {k: v for k, v in update.items() if getattr(current, k) != v}
        if effective:
            unused = [w for w in unused if w not in unknown]
            changes.update(effective)
            current = replace(current, **effective)
            said["mood"] = f'"{" ".join(unknown)}" (close to "{reading.anchor}")'
    if named:
        melody = named[0]
        # One instrument named takes the tune; it takes the chords too only when it can
        # play them (a flute or a violin cannot hold three-note chords in the bass clef).
        chords = (
            named[1]
            if len(named) > 1
            else melody
            if melody in CHORD_CAPABLE
            else current.accompaniment_program
        )
        bass = (
            named[2]
            if len(named) > 2
            else chords
            if chords in BASS_CAPABLE and chords in named
            else current.bass_program
        )
        take(
            ", ".join(next(n for n, p in INSTRUMENTS.items() if p == q) for q in named),
            "instruments",
            _ensemble(melody, chords, bass)(current),
        )
    if key:
        tonic, mode, negated, _ = key
        if negated and (current.tonic, current.mode) == (tonic, mode):
            take(f"not {tonic} {mode}", "key", {"tonic": _fifth_above(tonic, mode)})
        elif not negated:
            take(f"{tonic} {mode}", "key", {"tonic": tonic, "mode": mode})
    if "tempo_qpm" in changes or "meter" in changes:
        changes["chords_per_bar"] = harmonic_rhythm(current.meter, current.tempo_qpm)
        current = replace(current, chords_per_bar=changes["chords_per_bar"])
    return replace(
        current,
        overrides={**plan.overrides, **said},
        unused_words=tuple(dict.fromkeys([*plan.unused_words, *unused])),
    )


def _fifth_above(tonic: str, mode: str) -> str:
    order = KEYS["minor" if mode == "minor" else "major"]
    return order[(order.index(tonic) + 1) % len(order)] if tonic in order else order[0]
