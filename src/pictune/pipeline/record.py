"""The Composition record: everything one run did, saved to and loaded from a folder."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPORT = "report.json"


@dataclass(frozen=True)
class Round:
    """One model call and what came of it."""

    kind: str  # describe, compose, correct, refine
    prompt: str
    reply: str
    seconds: float
    abc: str | None = None
    valid: bool = False
    diagnostics: tuple[dict[str, Any], ...] = ()
    fixes: tuple[dict[str, Any], ...] = ()
    metrics: dict[str, Any] | None = None
    distance: float | None = None
    shared_run: int = 0
    motivation: str = ""
    attention: tuple[tuple[float, ...], ...] | None = None  # image-attention grid of the call
    claims: tuple[dict[str, Any], ...] = ()  # motivation claims checked against the tune
    phrase_attention: dict[str, Any] | None = None  # label → grid, per phrase and sentence
    # constrained decoding: {"constrained", "grammar_version", "mask_us_per_token", "note" …}
    constraint: dict[str, Any] | None = None


@dataclass(frozen=True)
class Composition:
    status: str  # "ok" or "failed: …"
    abc: str | None
    motivation: str
    description: str
    image: str
    prompt: str | None
    backend: str
    seed: int
    references: tuple[dict[str, Any], ...]
    rounds: tuple[Round, ...]
    chosen_round: int | None
    timings: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    version: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(
        self, folder: str | Path, render: tuple[str, ...] = ("abc", "mid", "wav", "svg")
    ) -> Path:
        """Write report.json and motivation.txt (and the music files when there is a tune)."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        (target / REPORT).write_text(json.dumps(self.to_dict(), indent=1, default=str), "utf-8")
        (target / "motivation.txt").write_text(self.motivation + "\n", "utf-8")
        if self.abc:
            from pictune.music.export import export_tune

            export_tune(self.abc, target, formats=render)
        return target

    @classmethod
    def load(cls, folder: str | Path) -> Composition:
        data = json.loads((Path(folder) / REPORT).read_text("utf-8"))
        rounds = tuple(
            Round(
                **{
                    **r,
                    "diagnostics": tuple(r["diagnostics"]),
                    "fixes": tuple(r["fixes"]),
                    "claims": tuple(r.get("claims", ())),
                    "attention": tuple(tuple(row) for row in r["attention"])
                    if r.get("attention")
                    else None,
                }
            )
            for r in data.pop("rounds")
        )
        data["references"] = tuple(data["references"])
        return cls(rounds=rounds, **data)
