"""Composer.compose(image, prompt) → Composition: the paper's method with bounded loops.

describe (no thinking) → retrieve (image and description queries, fused) → compose with
the references → extract, validate, repair → correction rounds with the exact diagnostics
(at most `max_attempts` tries) → refinement rounds with metrics against the references'
ranges, stopping early when a round does not improve → the best candidate. A budget of
model calls and seconds ends everything; running out keeps the best valid candidate so far,
or returns a failed Composition that still holds every attempt."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from pictune import __version__
from pictune.abc.budget import cut_tune
from pictune.abc.playable import PlayableTune, make_playable
from pictune.corpus import CorpusIndex, retrieve
from pictune.corpus.embedding import Embedder
from pictune.errors import AbcError
from pictune.explain.consistency import check_motivation
from pictune.models.offline.composer import longest_shared_run
from pictune.models.offline.image import load_image
from pictune.models.vlm.base import GenerationOptions, Message, VisionLanguageModel
from pictune.music.metrics import Metrics, compute_metrics
from pictune.music.score import Score
from pictune.pipeline.feedback import Range, distance, metrics_text, reference_ranges
from pictune.pipeline.record import Composition, Round

log = logging.getLogger(__name__)
RAG_NOISE_RUN = 8


class BudgetExhaustedError(Exception):
    """The run used its model calls or seconds."""


@dataclass(frozen=True)
class Settings:
    k: int = 1  # hits per query (the paper: 1 each, de-duplicated)
    rounds: int = 1  # refinement rounds (the paper: 1)
    max_attempts: int = 3  # tries to get a playable tune per step
    example_bars: int = 16  # prompt budget per reference
    max_calls: int = 12
    max_seconds: float = 900.0
    temperature: float = 0.7
    max_tokens: int = 2048
    seed: int = 0
    consistency_feedback: bool = (
        True  # tell the model which motivation claims the music contradicts
    )


def template(name: str) -> Template:
    return Template(
        resources.files("pictune.pipeline").joinpath("prompts", f"{name}.txt").read_text("utf-8")
    )


@dataclass
class _Run:
    settings: Settings
    started: float = field(default_factory=time.perf_counter)
    calls: int = 0
    rounds: list[Round] = field(default_factory=list)
    last_attention: tuple[tuple[float, ...], ...] | None = None
    last_phrases: dict[str, Any] | None = None
    last_constraint: dict[str, Any] | None = None

    def check(self) -> None:
        if self.calls >= self.settings.max_calls:
            raise BudgetExhaustedError(f"model-call budget of {self.settings.max_calls} used")
        if time.perf_counter() - self.started > self.settings.max_seconds:
            raise BudgetExhaustedError(f"time budget of {self.settings.max_seconds:g} s used")


class Composer:
    def __init__(
        self,
        backend: VisionLanguageModel,
        index: CorpusIndex,
        embedder: Embedder,
        settings: Settings | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.backend, self.index, self.embedder = backend, index, embedder
        self.settings = settings or Settings()
        self.progress = progress or (lambda stage: None)

    def _call(
        self, run: _Run, kind: str, messages: list[Message], thinking: bool | None
    ) -> tuple[str, float]:
        run.check()
        run.calls += 1
        self.progress(kind)
        options = GenerationOptions(
            seed=self.settings.seed + run.calls, temperature=self.settings.temperature,
            max_tokens=self.settings.max_tokens, thinking=thinking, constrain=kind != "describe",
        )  # fmt: skip
        reply = self.backend.generate(messages, options)
        run.last_constraint = reply.extra.get("constraint")
        run.last_phrases = _phrase_maps(reply.text, reply.extra)
        grid = reply.image_attention
        run.last_attention = (
            tuple(tuple(round(float(v), 8) for v in row) for row in grid.tolist())
            if grid is not None
            else None
        )
        return reply.text, reply.seconds

    def compose(self, image_path: str | Path, prompt: str | None = None) -> Composition:
        image = load_image(image_path)
        run = _Run(self.settings)
        timings: dict[str, float] = {}
        description, references, best = "", [], None
        status = "ok"
        try:
            clock = time.perf_counter()
            user = f"\n{prompt}" if prompt else ""
            describe = template("describe").substitute(user_prompt=user)
            description, seconds = self._call(
                run, "describe", [Message("user", describe, (image,))], thinking=False
            )
            # The paper's attention map comes from the description call.
            run.rounds.append(
                Round("describe", describe, description, seconds, attention=run.last_attention)
            )
            timings["describe"] = time.perf_counter() - clock
            clock = time.perf_counter()
            hits = retrieve(
                self.index, self.embedder, text=description or prompt or "music",
                image=image if self.embedder.embeds_images else None, per_query=self.settings.k,
            )  # fmt: skip
            references = [self._reference(h) for h in hits]
            ranges = reference_ranges([m for r in references if (m := r.pop("_metrics"))])
            references = [json.loads(json.dumps(r)) for r in references]  # plain JSON values
            timings["retrieve"] = time.perf_counter() - clock
            clock = time.perf_counter()
            compose = template("compose").substitute(
                description=description.strip(),
                user_prompt=f"\nThe user asks for: {prompt}\n" if prompt else "",
                examples="\n".join(
                    f"\nCaption: {r['caption']}\n{r['abc_in_prompt']}" for r in references
                ),
            )
            best = self._until_playable(
                run, "compose", [Message("user", compose, (image,))], ranges, references
            )
            timings["compose"] = time.perf_counter() - clock
            clock = time.perf_counter()
            for _ in range(self.settings.rounds):
                if best is None:
                    break
                candidate = self._refine(run, image, description, best, ranges, references)
                if candidate is None or not _better(candidate, best):
                    break
                best = candidate
            timings["refine"] = time.perf_counter() - clock
        except BudgetExhaustedError as exc:
            log.info("%s", exc)
            status = "ok" if best is not None else f"failed: {exc}"
        if best is None and status == "ok":
            status = f"failed: no playable tune in {self.settings.max_attempts} attempts"
        chosen = run.rounds.index(best) if best is not None else None
        return Composition(
            status=status, abc=best.abc if best else None,
            motivation=best.motivation if best else "",
            description=description, image=str(image_path), prompt=prompt, backend=self.backend.id,
            seed=self.settings.seed, references=tuple(references), rounds=tuple(run.rounds),
            chosen_round=chosen, timings={k: round(v, 4) for k, v in timings.items()},
            settings=self.settings.__dict__.copy(), version=__version__,
        )  # fmt: skip

    def _reference(self, hit: Any) -> dict[str, Any]:
        abc = self.index.abc_for(hit.record)
        cut, was_cut = cut_tune(abc, self.settings.example_bars)
        note = f"(first {self.settings.example_bars} bars of its main voice)\n" if was_cut else ""
        metrics = None
        with contextlib.suppress(AbcError):  # a reference abc2midi cannot play gives no range
            metrics = compute_metrics(Score.from_abc(abc))
        return {
            "id": hit.record.id, "caption": hit.record.caption, "score": hit.score,
            "matches": hit.matches,
            "cut": was_cut, "abc_in_prompt": note + cut, "_metrics": metrics,
            "melody": _notes(abc),
        }  # fmt: skip

    def _until_playable(
        self,
        run: _Run,
        kind: str,
        messages: list[Message],
        ranges: dict[str, Range],
        references: list[dict[str, Any]],
    ) -> Round | None:
        """Ask, then correct with the diagnostics, until a playable tune (bounded)."""
        current = messages
        for attempt in range(self.settings.max_attempts):
            text, seconds = self._call(
                run, kind if attempt == 0 else "correct", current, thinking=True
            )
            round_ = self._judge(
                kind if attempt == 0 else "correct",
                current[-1].text,
                text,
                seconds,
                ranges,
                references,
            )
            round_ = replace(
                round_, phrase_attention=run.last_phrases, constraint=run.last_constraint
            )
            run.rounds.append(round_)
            if round_.valid:
                return round_
            problems = (
                "\n".join(
                    f"- line {d['line']}, column {d['column']}: {d['message']}"
                    + _line_of(round_.abc, d["line"])
                    for d in round_.diagnostics
                    if d["severity"] == "error"
                )
                or "- the reply contains no ABC tune"
            )
            correct = template("correct").substitute(
                diagnostics=problems, abc=round_.abc or "(none)"
            )
            current = [*messages, Message("assistant", text), Message("user", correct)]
        return None

    def _refine(
        self,
        run: _Run,
        image: Any,
        description: str,
        best: Round,
        ranges: dict[str, Range],
        references: list[dict[str, Any]],
    ) -> Round | None:
        assert best.metrics is not None and best.abc
        metrics = Metrics(**best.metrics)
        issues = ""
        wrong = [c for c in best.claims if c["verdict"] == "inconsistent"]
        if wrong and self.settings.consistency_feedback:
            issues += (
                "\nYour motivation contradicts your music:\n"
                + "\n".join(f'- "{c["text"]}" ({c["aspect"]}), but {c["evidence"]}' for c in wrong)
                + "\n"
            )
        if best.shared_run >= RAG_NOISE_RUN:
            issues += (
                f"\nWarning: {best.shared_run} consecutive notes of your tune copy a reference. "
                "Write your own melody.\n"
            )
        refine = template("refine").substitute(
            description=description.strip(),
            abc=best.abc.strip(),
            metrics=metrics_text(metrics, ranges),
            issues=issues,
        )
        return self._until_playable(
            run, "refine", [Message("user", refine, (image,))], ranges, references
        )

    def _judge(
        self,
        kind: str,
        prompt: str,
        reply: str,
        seconds: float,
        ranges: dict[str, Range],
        references: list[dict[str, Any]],
    ) -> Round:
        try:
            tune: PlayableTune | None = make_playable(reply)
        except AbcError:
            tune = None
        if tune is None:
            return Round(
                kind,
                prompt,
                reply,
                seconds,
                diagnostics=(
                    {
                        "severity": "error",
                        "line": 0,
                        "column": 0,
                        "message": "the reply contains no ABC tune",
                        "source": "extract",
                    },
                ),
            )
        diagnostics = tuple(d.to_dict() for d in tune.validation.diagnostics)
        fixes = tuple(f.to_dict() for f in tune.fixes)
        if not tune.ok or tune.validation.midi is None:
            return Round(
                kind,
                prompt,
                reply,
                seconds,
                tune.abc,
                False,
                diagnostics,
                fixes,
                motivation=tune.motivation,
            )
        metrics = compute_metrics(Score.from_midi(tune.validation.midi))
        mine = _notes(tune.abc)
        shared = max((longest_shared_run(mine, r["melody"]) for r in references), default=0)
        penalty = 1.0 if shared >= RAG_NOISE_RUN else 0.0
        return Round(
            kind,
            prompt,
            reply,
            seconds,
            tune.abc,
            True,
            diagnostics,
            fixes,
            metrics.to_dict(),
            distance(metrics, ranges) + penalty,
            shared,
            tune.motivation,
            claims=tuple(c.to_dict() for c in check_motivation(tune.motivation, tune.abc)),
        )


def _phrase_maps(text: str, extra: dict[str, Any]) -> dict[str, Any] | None:
    """Per-phrase and per-sentence maps when the backend kept one map per token."""
    if not extra.get("token_maps"):
        return None
    from pictune.explain.phrases import reply_spans, span_maps

    maps = span_maps(extra["token_ends"], extra["token_maps"], reply_spans(text))
    return {
        label: [[round(float(v), 8) for v in row] for row in grid.tolist()]
        for label, grid in maps.items()
    } or None


def _better(candidate: Round, best: Round) -> bool:
    """Validity first, then a smaller distance to the references' metric ranges."""
    if candidate.valid != best.valid:
        return candidate.valid
    return (candidate.distance or 0.0) < (best.distance or 0.0)


def _notes(abc: str) -> list[tuple[int, int]]:
    """(pitch, duration in sixteenths) of every note, in onset order, for the copy check."""
    try:
        score = Score.from_abc(abc)
    except AbcError:
        return []
    sixteenth = score.resolution / 4
    return [
        (int(p), max(1, round(d / sixteenth)))
        for p, d in zip(score.pitch.tolist(), score.duration.tolist(), strict=True)
    ]


def _line_of(abc: str | None, line: int) -> str:
    if not abc or line <= 0:
        return ""
    lines = abc.split("\n")
    return f" — `{lines[line - 1]}`" if line <= len(lines) else ""
