"""Was a revision request honoured? Each checkable part of the request (tempo, key, mode,
meter, instruments, dynamics, drums, length) is compared with what the new tune measures,
next to what the tune it revised measured; the other parts are listed as not checkable."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from pictune.explain.consistency import Facts
from pictune.music.score import Score

LEVELS = {"ppp": 0, "pp": 1, "p": 2, "mp": 3, "mf": 4, "f": 5, "ff": 6, "fff": 7}
CHECKABLE = ("tempo", "key", "mode", "meter", "instruments", "dynamics", "percussion", "length")


@dataclass(frozen=True)
class Ask:
    """One part of a request: its aspect, its words, and the value it asks for (a tempo
    in quarter notes a minute, 'A minor', 'minor', '3/4', instrument names joined by ', ',
    a dynamic mark, 'yes'/'no' for drums, a number of bars)."""

    aspect: str
    words: str
    expected: str


@dataclass(frozen=True)
class RequestCheck:
    """One part of a request and whether the new tune does what it asked."""

    aspect: str
    words: str
    expected: str
    before: str
    found: str
    honoured: bool | None  # None: not checkable from the music

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def verdict(self) -> str:
        return {True: "honoured", False: "not honoured", None: "not checkable"}[self.honoured]


@dataclass(frozen=True)
class _Measured:
    tempo: float | None
    key: str
    mode: str
    meter: str
    instruments: tuple[str, ...]
    dynamic: float | None
    drums: bool
    bars: int | None


def _measure(abc: str, score: Score | None) -> _Measured:
    score = score if score is not None else Score.from_abc(abc)
    facts = Facts.of(abc, score)
    numerator, denominator = score.meter
    bar = score.resolution * 4 * numerator / max(denominator, 1)
    bars = math.ceil(score.end / bar - 1e-6) if score.end and bar > 0 else None
    levels = [LEVELS[d] for d in facts.dynamics]
    return _Measured(
        tempo=facts.tempo,
        key=f"{facts.tonic} {facts.mode}" if facts.tonic else "none",
        mode=facts.mode or "none",
        meter=facts.meter,
        instruments=facts.instruments,
        dynamic=sum(levels) / len(levels) if levels else None,
        drums=bool(score.is_drum_note.any()) if score.n_notes else False,
        bars=bars,
    )


def _closer(found: float | None, expected: float, before: float | None) -> bool:
    """Honoured: at the asked value (within 3%), or nearer to it than to where it was."""
    if found is None:
        return False
    if abs(found - expected) <= 0.03 * max(expected, 1.0):
        return True
    return before is not None and abs(found - expected) < abs(found - before)


def _check(ask: Ask, before: _Measured, after: _Measured) -> RequestCheck:
    aspect, expected = ask.aspect, ask.expected
    old: str
    new: str
    honoured: bool | None
    if aspect == "tempo":
        old, new = _number(before.tempo), _number(after.tempo)
        honoured = _closer(after.tempo, float(expected), before.tempo)
    elif aspect == "key":
        old, new = before.key, after.key
        honoured = after.key.lower() == expected.lower()
    elif aspect == "mode":
        old, new = before.mode, after.mode
        honoured = after.mode == expected
    elif aspect == "meter":
        old, new = before.meter, after.meter
        honoured = after.meter == expected
    elif aspect == "instruments":
        old, new = ", ".join(before.instruments), ", ".join(after.instruments)
        wanted = [w.strip() for w in expected.split(",") if w.strip()]
        honoured = all(any(w in i or i in w for i in after.instruments) for w in wanted)
    elif aspect == "dynamics":
        old, new = _number(before.dynamic), _number(after.dynamic)
        target = LEVELS.get(expected)
        honoured = target is not None and _closer(after.dynamic, float(target), before.dynamic)
        old, new = _level(before.dynamic), _level(after.dynamic)
    elif aspect == "percussion":
        old, new = _yes(before.drums), _yes(after.drums)
        honoured = after.drums == (expected == "yes")
    elif aspect == "length":
        old, new = _number(before.bars), _number(after.bars)
        honoured = after.bars is not None and abs(after.bars - int(expected)) <= 1
    else:
        old = new = "–"
        honoured = None
    return RequestCheck(aspect, ask.words, expected, old, new, honoured)


def _number(value: float | None) -> str:
    return "none" if value is None else f"{value:g}" if value == int(value) else f"{value:.1f}"


def _level(value: float | None) -> str:
    if value is None:
        return "none marked"
    nearest = min(LEVELS, key=lambda name: abs(LEVELS[name] - value))
    return f"about {nearest} (mean level {value:.1f})"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def check_request(
    asks: list[Ask],
    before_abc: str,
    after_abc: str,
    before_score: Score | None = None,
    after_score: Score | None = None,
) -> tuple[RequestCheck, ...]:
    """Each part of the request with its verdict, the old tune's value beside the new one."""
    before = _measure(before_abc, before_score)
    after = _measure(after_abc, after_score)
    return tuple(_check(ask, before, after) for ask in asks)
