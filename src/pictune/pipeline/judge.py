"""Judging a candidate tune the same way for every backend: its metrics (the melody against
the references' melodies, the texture against multi-voice references), the music critic's
findings, and the melody run it shares with a reference. Candidates are ranked by validity,
then by the critic's severity-weighted findings, then by distance from the yardstick: a
rule of music outranks a metric band."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pictune.music.critic import Review, review
from pictune.music.metrics import Metrics, compute_metrics
from pictune.music.novelty import COPY_RUN, Line, copied_run, melody_notes
from pictune.music.score import Score
from pictune.music.yardsticks import is_multi_voice, melody_metrics
from pictune.pipeline.feedback import Yardstick

if TYPE_CHECKING:
    from pictune.pipeline.record import Round

COPY_PENALTY = 1.0  # added to the distance of a candidate that copies a reference


@dataclass(frozen=True)
class ReferenceMeasures:
    """What a reference contributes to the yardstick and the copy check."""

    melody: Metrics
    whole: Metrics
    multi_voice: bool
    line: Line


def measure_reference(score: Score, abc: str | None) -> ReferenceMeasures:
    return ReferenceMeasures(
        melody_metrics(score, abc), compute_metrics(score), is_multi_voice(score, abc),
        melody_notes(score),
    )  # fmt: skip


def yardstick_of(references: list[ReferenceMeasures]) -> Yardstick:
    return Yardstick.of(
        [r.melody for r in references], [r.whole for r in references if r.multi_voice]
    )


@dataclass(frozen=True)
class Judgement:
    """A playable candidate, measured."""

    metrics: Metrics  # the whole piece
    melody: Metrics  # the melody voice alone
    review: Review
    distance: float  # from the yardstick, plus COPY_PENALTY for a copy
    shared_run: int | None

    @property
    def rank(self) -> tuple[float, float]:
        """Lower is better: the critic's penalty first, then the distance."""
        return (self.review.penalty, self.distance)

    def round_fields(self) -> dict[str, Any]:
        """The Round fields this judgement fills."""
        return {
            "metrics": self.metrics.to_dict(),
            "melody_metrics": self.melody.to_dict(),
            "distance": self.distance,
            "shared_run": self.shared_run,
            "findings": self.review.findings,
            "penalty": self.review.penalty,
            "rates": self.review.rates.to_dict(),
        }


def judge(score: Score, abc: str, yardstick: Yardstick, lines: list[Line]) -> Judgement:
    """Measure a playable candidate (its Score from the one validation run)."""
    whole, melody = compute_metrics(score), melody_metrics(score, abc)
    shared = copied_run(melody_notes(score), lines)
    copied = shared is not None and shared >= COPY_RUN
    gap = yardstick.distance(melody, whole) + (COPY_PENALTY if copied else 0.0)
    return Judgement(whole, melody, review(score, abc), round(gap, 6), shared)


def better(candidate: Round, best: Round) -> bool:
    """Validity first, then fewer (severity-weighted) critic findings, then a smaller
    distance from the yardstick."""
    if candidate.valid != best.valid:
        return candidate.valid
    mine = (candidate.penalty or 0.0, candidate.distance or 0.0)
    theirs = (best.penalty or 0.0, best.distance or 0.0)
    return mine < theirs
