"""A variable-order Markov model of melodies over (scale-step interval, duration) tokens,
conditioned on metric position, learned from reference tunes and sampled under constraints."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from pictune.models.offline.theory import Key
from pictune.music.score import Score

DURATIONS = (1, 2, 3, 4, 6, 8, 12, 16)  # in sixteenths
Token = tuple[int, int]  # (interval in scale steps, duration in sixteenths)


def melody_line(score: Score, key: Key) -> list[tuple[int, int, int]]:
    """(onset in sixteenths, absolute degree, duration in sixteenths) of the top line of the
    first voice; durations are inter-onset intervals (abc2midi shortens sounding notes)."""
    pitched = ~score.is_drum_note
    if not pitched.any():
        return []
    first = int(score.track[pitched].min())
    mask = pitched & (score.track == first)
    sixteenth = score.resolution / 4
    onsets = np.round(score.time[mask] / sixteenth).astype(int)
    pitches = score.pitch[mask]
    top: dict[int, int] = {}
    for onset, pitch in zip(onsets.tolist(), pitches.tolist(), strict=True):
        top[onset] = max(top.get(onset, 0), pitch)
    times = sorted(top)
    line = []
    for i, onset in enumerate(times):
        gap = (times[i + 1] - onset) if i + 1 < len(times) else 4
        duration = min(DURATIONS, key=lambda d: abs(d - gap))
        line.append((onset, key.degree_of(top[onset]), duration))
    return line


@dataclass
class MelodyModel:
    """Counts of the next token after the last one or two tokens at a metric position."""

    order2: dict[tuple[Token, Token, int], Counter[Token]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    order1: dict[tuple[Token, int], Counter[Token]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    order0: dict[int, Counter[Token]] = field(default_factory=lambda: defaultdict(Counter))
    tunes: int = 0

    def learn(self, line: list[tuple[int, int, int]], bar_sixteenths: int) -> None:
        tokens = []
        for i in range(1, len(line)):
            interval = max(-7, min(7, line[i][1] - line[i - 1][1]))
            tokens.append((interval, line[i][2], _position(line[i][0], bar_sixteenths)))
        for i, (interval, duration, position) in enumerate(tokens):
            token = (interval, duration)
            self.order0[position][token] += 1
            if i >= 1:
                self.order1[(tokens[i - 1][:2], position)][token] += 1
            if i >= 2:
                self.order2[(tokens[i - 2][:2], tokens[i - 1][:2], position)][token] += 1
        if tokens:
            self.tunes += 1

    def candidates(self, history: list[Token], position: int) -> Counter[Token]:
        """Next-token counts with back-off: order 2, else order 1, else order 0, else steps."""
        if len(history) >= 2:
            found = self.order2.get((history[-2], history[-1], position))
            if found and sum(found.values()) >= 3:
                return found
        if history:
            found = self.order1.get((history[-1], position))
            if found:
                return found
        found = self.order0.get(position)
        if found:
            return found
        return Counter({(step, 2): 1 for step in (-2, -1, 1, 2)})


def _position(onset: int, bar: int) -> int:
    """Metric position class: 0 downbeat, 1 other beat (quarter), 2 off the beat."""
    within = onset % bar
    if within == 0:
        return 0
    return 1 if within % 4 == 0 else 2
