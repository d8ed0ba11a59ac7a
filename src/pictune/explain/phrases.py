"""Per-phrase attention: which image regions each phrase of the music, and each sentence of
the motivation, attended to while the model wrote them.

Given the reply text, the character offset where each generated token ends, and each
token's attention map, every span (a 4-bar phrase of the tune, a motivation sentence) gets
the mean map of the tokens that wrote it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pictune.abc.text import FIELD_LINE

PHRASE_BARS = 4


@dataclass(frozen=True)
class Span:
    label: str  # "bars 1–4", "sentence 2"
    start: int  # character offsets in the reply
    end: int
    text: str


def reply_spans(reply: str) -> list[Span]:
    """4-bar phrases of the first tune in the reply, then the sentences after the tune."""
    spans: list[Span] = []
    fence = re.search(r"```[a-zA-Z]*\n(.*?)```", reply, re.S)
    tune_start, tune_end = (fence.start(1), fence.end(1)) if fence else (0, 0)
    if fence:
        bar_number, phrase_start = 0, None
        offset = tune_start
        for line in fence.group(1).split("\n"):
            if line.strip() and not FIELD_LINE.match(line) and not line.startswith("%"):
                for match in re.finditer(r"[^|]*\|+\]?", line):
                    if phrase_start is None:
                        phrase_start = offset + match.start()
                    bar_number += 1
                    if bar_number % PHRASE_BARS == 0:
                        end = offset + match.end()
                        spans.append(
                            Span(
                                f"bars {bar_number - PHRASE_BARS + 1}–{bar_number}",
                                phrase_start,
                                end,
                                reply[phrase_start:end],
                            )
                        )
                        phrase_start = None
            offset += len(line) + 1
        if phrase_start is not None and bar_number % PHRASE_BARS:
            first = bar_number - bar_number % PHRASE_BARS + 1
            spans.append(
                Span(
                    f"bars {first}–{bar_number}",
                    phrase_start,
                    tune_end,
                    reply[phrase_start:tune_end],
                )
            )
    rest_start = fence.end() if fence else 0
    for number, match in enumerate(re.finditer(r"[^.!?\n]+[.!?]?", reply[rest_start:]), start=1):
        text = match.group(0).strip()
        if len(text) >= 12:
            start = rest_start + match.start()
            spans.append(Span(f"sentence {number}", start, rest_start + match.end(), text))
    return spans


def span_maps(
    token_ends: list[int], token_maps: list[npt.NDArray[np.float64]], spans: list[Span]
) -> dict[str, npt.NDArray[np.float64]]:
    """The mean attention map of the tokens that overlap each span (spans no token wrote
    are left out)."""
    maps: dict[str, npt.NDArray[np.float64]] = {}
    starts = [0, *token_ends[:-1]]
    for span in spans:
        chosen = [
            m
            for s, e, m in zip(starts, token_ends, token_maps, strict=True)
            if s < span.end and e > span.start
        ]
        if chosen:
            maps[span.label] = np.mean(chosen, axis=0)
    return maps
