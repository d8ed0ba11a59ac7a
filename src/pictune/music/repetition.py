"""Repetition rules: a bar played again note for note in the next bar, and a four-bar phrase
identical to the one before. Repeats written with repeat signs are the form, not a fault."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from pictune.music.analysis import Analysis
from pictune.music.findings import Checked, Finding, Severity

PHRASE_BARS = 4


def _bar_contents(analysis: Analysis) -> list[bytes]:
    """The melody of each performed bar as bytes (onset within the bar, duration, pitch)."""
    melody, grid = analysis.melody, analysis.grid
    bar = grid.bar_of(melody.time)
    contents = []
    for index in range(grid.size):
        inside = bar == index
        rows = np.stack(
            (melody.time[inside] - grid.start[index], melody.duration[inside], melody.pitch[inside])
        )
        contents.append(rows.tobytes() if inside.any() else b"")
    return contents


def check_repetition(analysis: Analysis) -> Checked:
    grid = analysis.grid
    if grid.size < 2 or not analysis.melody.size:
        return Checked((), {"repeated_bars": None})
    contents = _bar_contents(analysis)
    found: list[Finding] = []
    pairs = repeated = 0
    for index in range(1, grid.size):
        if not contents[index] or not contents[index - 1]:
            continue
        written_twice = (
            grid.text_bar[index] >= 0 and grid.text_bar[index] == grid.text_bar[index - 1]
        )
        if written_twice:
            continue
        pairs += 1
        if contents[index] == contents[index - 1]:
            repeated += 1
            number = int(grid.number[index])
            found.append(
                Finding(
                    "repetition.bar",
                    Severity.WARNING,
                    number,
                    0,
                    analysis.melody_label,
                    f"bar {number} repeats bar {int(grid.number[index - 1])} note for note",
                    "vary it: change the rhythm, or move the figure a step up or down",
                )
            )
    found.extend(_phrases(analysis, contents))
    return Checked(tuple(found), {"repeated_bars": repeated / pairs if pairs else None})


def _phrases(analysis: Analysis, contents: list[bytes]) -> list[Finding]:
    grid = analysis.grid
    starts = [i for i in range(grid.size) if int(grid.number[i]) % PHRASE_BARS == 1]
    found: list[Finding] = []
    for first, second in pairwise(starts):
        if second - first != PHRASE_BARS or second + PHRASE_BARS > grid.size:
            continue
        a, b = contents[first:second], contents[second : second + PHRASE_BARS]
        same_text = list(grid.text_bar[first:second]) == list(
            grid.text_bar[second : second + PHRASE_BARS]
        )
        if a == b and any(a) and not (same_text and grid.text_bar[first] >= 0):
            numbers = grid.number
            found.append(
                Finding(
                    "repetition.phrase",
                    Severity.NOTE,
                    int(numbers[second]),
                    0,
                    analysis.melody_label,
                    f"bars {int(numbers[second])}–{int(numbers[second + PHRASE_BARS - 1])} repeat "
                    f"bars {int(numbers[first])}–{int(numbers[second - 1])} note for note",
                    "vary the second phrase (a different ending turns it into an answer)",
                )
            )
    return found
