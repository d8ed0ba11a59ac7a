"""One run of one configuration on one picture, reduced to what evaluation compares."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pictune.corpus import caption_from_features, features_from_score
from pictune.errors import AbcError
from pictune.music.score import Score
from pictune.pipeline.record import Composition


@dataclass
class RunResult:
    image: str  # relative to the evaluated folder
    config: str
    seed: int
    ok: bool
    error: str | None = None
    abc: str | None = None
    caption: str | None = None  # the caption pictune's captioner writes for this music
    metrics: dict[str, Any] | None = None  # of the piece kept (every voice)
    melody_metrics: dict[str, Any] | None = None  # of its melody alone (what OA compares)
    critic_penalty: float | None = None  # the music critic's severity-weighted findings
    critic_rates: dict[str, Any] | None = None
    first_distance: float | None = None  # distance to the target ranges: first playable draft
    first_penalty: float | None = None  # the critic's penalty of that first draft
    final_distance: float | None = None  # … and the piece kept
    correction_attempts: int = 0
    refinement_rounds: int = 0
    novelty: int | None = None  # longest note run shared with a retrieved reference
    references: int = 0
    claims_consistent: int = 0
    claims_inconsistent: int = 0
    claims_total: int = 0
    seconds: float = 0.0
    model_calls: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        return cls(**data)


def music_caption(abc: str) -> str | None:
    """The corpus captioner's words for a tune (what the agreement check compares)."""
    try:
        return caption_from_features(features_from_score(Score.from_abc(abc), abc))
    except AbcError:
        return None


def _claims(result: RunResult, claims: list[dict[str, Any]]) -> None:
    result.claims_total = len(claims)
    result.claims_consistent = sum(c["verdict"] == "consistent" for c in claims)
    result.claims_inconsistent = sum(c["verdict"] == "inconsistent" for c in claims)


def from_composition(
    composition: Composition, image: str, config: str, seconds: float
) -> RunResult:
    """A run's Composition (any backend), reduced."""
    rounds = composition.rounds
    first = next((r for r in rounds if r.valid), None)
    chosen = rounds[composition.chosen_round] if composition.chosen_round is not None else None
    result = RunResult(
        image=image, config=config, seed=composition.seed, ok=composition.ok,
        error=None if composition.ok else composition.status, abc=composition.abc,
        caption=music_caption(composition.abc) if composition.abc else None,
        metrics=chosen.metrics if chosen else None,
        melody_metrics=chosen.melody_metrics if chosen else None,
        critic_penalty=chosen.penalty if chosen else None,
        critic_rates=chosen.rates if chosen else None,
        first_distance=first.distance if first else None,
        first_penalty=first.penalty if first else None,
        final_distance=chosen.distance if chosen else None,
        correction_attempts=sum(r.kind == "correct" for r in rounds),
        refinement_rounds=sum(r.kind == "refine" for r in rounds),
        novelty=chosen.shared_run if chosen else None,
        references=len(composition.references), seconds=round(seconds, 4),
        model_calls=composition.model_calls,
        extra={"ranges_from": composition.refinement.ranges_from,
               "stopped": composition.refinement.stopped} if composition.refinement else {},
    )  # fmt: skip
    _claims(result, list(chosen.claims) if chosen else [])
    return result
