"""VlmComposer.compose(image, prompt, seed=…) → Composition: the paper's method, bounded.

describe (no thinking) → retrieve (image and description queries, fused) → compose with
the references → extract, validate, repair → correction rounds with the exact diagnostics
(at most `max_attempts` tries) → refinement rounds with metrics against the references'
ranges, stopping early when a round does not improve → the best candidate. A budget of
model calls and seconds ends everything; running out keeps the best valid candidate so far,
or returns a failed Composition that still holds every attempt."""

from __future__ import annotations

import contextlib
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
from pictune.abc.grammar import fit_to_grammar
from pictune.abc.playable import PlayableTune, make_playable
from pictune.corpus import CorpusIndex, retrieve
from pictune.corpus.embedding import Embedder
from pictune.errors import AbcError
from pictune.explain.consistency import check_motivation
from pictune.images import ImageInput, image_file, load_image
from pictune.models.vlm.base import GenerationOptions, Message, Reply, VisionLanguageModel
from pictune.music.critic import fix_lines
from pictune.music.metrics import Metrics
from pictune.music.novelty import COPY_RUN, Line
from pictune.music.score import Score
from pictune.pipeline.config import Settings
from pictune.pipeline.feedback import Yardstick
from pictune.pipeline.judge import ReferenceMeasures, better, judge, measure_reference, yardstick_of
from pictune.pipeline.record import Composition, Reference, Refinement, Round

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


class BudgetExhaustedError(Exception):
    """The run used its model calls or seconds."""


def template(name: str) -> Template:
    return Template(
        resources.files("pictune.pipeline").joinpath("prompts", f"{name}.txt").read_text("utf-8")
    )


@dataclass
class _Run:
    """One composition's budget and what it has produced so far."""

    settings: Settings
    seed: int
    started: float = field(default_factory=time.perf_counter)
    calls: int = 0
    rounds: list[Round] = field(default_factory=list)
    midi: dict[int, bytes] = field(default_factory=dict)  # round number → validated MIDI

    def check(self) -> None:
        if self.calls >= self.settings.max_calls:
            raise BudgetExhaustedError(f"model-call budget of {self.settings.max_calls} used")
        if time.perf_counter() - self.started > self.settings.max_seconds:
            raise BudgetExhaustedError(f"time budget of {self.settings.max_seconds:g} s used")


class VlmComposer:
    """The paper's pipeline over a vision-language model, behind the `Composer` protocol."""

    # The model calls `compose` reports through `progress`, in order ("correct" only when a
    # reply needs correcting, so it is added when it happens).
    stages: tuple[str, ...] = ("describe", "compose", "refine")

    def __init__(
        self,
        backend: VisionLanguageModel,
        index: CorpusIndex,
        embedder: Embedder,
        settings: Settings | None = None,
    ) -> None:
        self.backend, self.index, self.embedder = backend, index, embedder
        self.settings = settings or Settings(backend="transformers", model=backend.id)
        self.progress: Progress = lambda stage: None

    @property
    def backend_id(self) -> str:
        return str(self.backend.id)

    @property
    def about(self) -> str:
        return f"{self.backend_id} through the describe → retrieve → compose → refine pipeline"

    def _call(self, run: _Run, kind: str, messages: list[Message], thinking: bool | None) -> Reply:
        run.check()
        run.calls += 1
        self.progress(kind)
        options = GenerationOptions(
            seed=run.seed + run.calls, temperature=self.settings.temperature,
            max_tokens=self.settings.max_tokens, thinking=thinking, constrain=kind != "describe",
        )  # fmt: skip
        return self.backend.generate(messages, options)

    def compose(
        self,
        image: ImageInput,
        prompt: str | None = None,
        *,
        seed: int = 0,
        progress: Progress | None = None,
    ) -> Composition:
        """Describe, retrieve, compose, correct and refine within the budgets."""
        self.progress = progress or (lambda stage: None)
        picture = load_image(image)
        run = _Run(self.settings, seed)
        timings: dict[str, float] = {}
        description, references, best = "", [], None
        yardstick = Yardstick({}, {}, "references")
        status, stopped = "ok", "no refinement asked" if self.settings.rounds == 0 else ""
        try:
            clock = time.perf_counter()
            user = f"\n{prompt}" if prompt else ""
            describe = template("describe").substitute(user_prompt=user)
            reply = self._call(
                run, "describe", [Message("user", describe, (picture,))], thinking=False
            )
            description = reply.text
            # The paper's attention map comes from the description call.
            run.rounds.append(
                Round("describe", describe, description, reply.seconds,
                      attention=_grid(reply.image_attention))
            )  # fmt: skip
            timings["describe"] = time.perf_counter() - clock
            clock = time.perf_counter()
            hits = retrieve(
                self.index, self.embedder, text=description or prompt or "music",
                image=picture if self.embedder.embeds_images else None,
                per_query=self.settings.references,
            )  # fmt: skip
            shown = [self._reference(h) for h in hits]
            references = [reference for reference, _ in shown]
            measured = [m for _, m in shown if m is not None]
            yardstick = yardstick_of(measured)
            lines = [m.line for m in measured if m.line]
            timings["retrieve"] = time.perf_counter() - clock
            clock = time.perf_counter()
            compose = template("compose").substitute(
                description=description.strip(),
                user_prompt=f"\nThe user asks for: {prompt}\n" if prompt else "",
                examples="\n".join(
                    f"\nCaption: {r.caption}\n{r.abc_in_prompt}" for r in references
                ),
                bars=self.settings.bars,
            )
            best = self._until_playable(
                run, "compose", [Message("user", compose, (picture,))], yardstick, lines
            )
            timings["compose"] = time.perf_counter() - clock
            clock = time.perf_counter()
            for number in range(1, self.settings.rounds + 1):
                if best is None:
                    break
                candidate = self._refine(run, picture, description, best, yardstick, lines)
                if candidate is None:
                    stopped = f"round {number} wrote no playable tune"
                    break
                if not better(candidate, best):
                    stopped = f"round {number} did not come closer"
                    break
                best = candidate
                stopped = f"{number} round(s) done"
            timings["refine"] = time.perf_counter() - clock
        except BudgetExhaustedError as exc:
            log.info("%s", exc)
            stopped = str(exc)
            status = "ok" if best is not None else f"failed: {exc}"
        if best is None and status == "ok":
            status = f"failed: no playable tune in {self.settings.max_attempts} attempts"
        chosen = run.rounds.index(best) if best is not None else None
        rounds = tuple(
            replace(r, accepted=(r is best)) if r.kind != "describe" else r for r in run.rounds
        )
        return Composition(
            status=status, abc=best.abc if best else None,
            motivation=best.motivation if best else "",
            description=description, image=image_file(image), prompt=prompt,
            backend=self.backend_id, seed=seed, references=tuple(references), rounds=rounds,
            chosen_round=chosen, title=_title(best.abc if best else None),
            heatmap=rounds[0].attention if rounds else None,
            refinement=Refinement(yardstick.ranges(), yardstick.source, stopped),
            corpus=self.index.name, embedder=self.embedder.id, model_calls=run.calls,
            timings={k: round(v, 4) for k, v in timings.items()},
            settings=self.settings.public(), version=__version__,
            midi=run.midi.get(chosen) if chosen is not None else None,
            picture=None if image_file(image) else picture,
        )  # fmt: skip

    def revise(
        self,
        parent: Composition | str | Path,
        request: str,
        *,
        seed: int | None = None,
        progress: Progress | None = None,
    ) -> Composition:
        """A refinement round on the user's words: the picture, the current tune, the
        critic's findings, the metrics and the request, with the instruction to keep what
        the request does not mention; corrected until playable within the same budgets."""
        from pictune.pipeline.vlm_revision import revise_with_model

        return revise_with_model(self, parent, request, seed=seed, progress=progress)

    def _reference(self, hit: Any) -> tuple[Reference, ReferenceMeasures | None]:
        """The example as the prompt shows it, and its measures for the yardstick and the
        copy check (one conversion of its ABC for all of them)."""
        abc = self.index.abc_for(hit.record)
        cut, was_cut = cut_tune(abc, self.settings.example_bars)
        cut = fit_to_grammar(cut)  # the reply grammar is never tighter than the examples
        note = f"(first {self.settings.example_bars} bars of its main voice)\n" if was_cut else ""
        measures = None
        with contextlib.suppress(AbcError):  # a reference abc2midi cannot play gives no range
            measures = measure_reference(Score.from_abc(abc), abc)
        reference = Reference(
            hit.record.id, hit.record.caption, hit.score,
            {k: list(v) for k, v in hit.matches.items()}, title=hit.record.tags.get("title"),
            cut=was_cut, abc_in_prompt=note + cut,
        )  # fmt: skip
        return reference, measures

    def _until_playable(
        self,
        run: _Run,
        kind: str,
        messages: list[Message],
        yardstick: Yardstick,
        lines: list[Line],
    ) -> Round | None:
        """Ask, then correct with the diagnostics, until a playable tune (bounded)."""
        current = messages
        for attempt in range(self.settings.max_attempts):
            step = kind if attempt == 0 else "correct"
            reply = self._call(run, step, current, thinking=True)
            text = reply.text
            round_, midi = self._judge(
                step, current[-1].text, text, reply.seconds, yardstick, lines
            )
            round_ = replace(
                round_,
                phrase_attention=_phrase_maps(text, reply.extra),
                constraint=reply.extra.get("constraint"),
            )
            if midi is not None:
                run.midi[len(run.rounds)] = midi
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
        yardstick: Yardstick,
        lines: list[Line],
    ) -> Round | None:
        assert best.metrics is not None and best.melody_metrics is not None and best.abc
        metrics, melody = Metrics(**best.metrics), Metrics(**best.melody_metrics)
        refine = template("refine").substitute(
            description=description.strip(),
            abc=best.abc.strip(),
            metrics=yardstick.text(melody, metrics),
            issues=critique(best, self.settings.consistency_feedback),
        )
        return self._until_playable(
            run, "refine", [Message("user", refine, (image,))], yardstick, lines
        )

    def _judge(
        self,
        kind: str,
        prompt: str,
        reply: str,
        seconds: float,
        yardstick: Yardstick,
        lines: list[Line],
    ) -> tuple[Round, bytes | None]:
        """The round a reply makes, and the MIDI its validation produced (the one abc2midi
        run of this candidate; metrics, novelty, claims and the saved files reuse it)."""
        try:
            tune: PlayableTune | None = make_playable(reply)
        except AbcError:
            tune = None
        if tune is None:
            missing = {
                "severity": "error", "line": 0, "column": 0,
                "message": "the reply contains no ABC tune", "source": "extract",
            }  # fmt: skip
            return Round(kind, prompt, reply, seconds, diagnostics=(missing,)), None
        diagnostics = tuple(d.to_dict() for d in tune.validation.diagnostics)
        fixes = tuple(f.to_dict() for f in tune.fixes)
        if not tune.ok or tune.validation.midi is None:
            return Round(
                kind, prompt, reply, seconds, tune.abc, False, diagnostics, fixes,
                motivation=tune.motivation,
            ), None  # fmt: skip
        score = Score.from_midi(tune.validation.midi)
        judgement = judge(score, tune.abc, yardstick, lines)
        claims = check_motivation(tune.motivation, tune.abc, score)
        return Round(
            kind, prompt, reply, seconds, tune.abc, True, diagnostics, fixes,
            motivation=tune.motivation, claims=tuple(c.to_dict() for c in claims),
            **judgement.round_fields(),
        ), tune.validation.midi  # fmt: skip


def critique(best: Round, consistency: bool) -> str:
    """What a refinement prompt says about a tune beyond its metrics: the critic's
    findings, the motivation's contradictions (when `consistency`), a copied run."""
    issues = ""
    fixes = fix_lines(best.findings)
    if fixes:
        issues += (
            "\nA musician read your score and objects to this (fix each one; a rule of "
            "music matters more than any measurement above):\n"
            + "\n".join(f"- {line}" for line in fixes)
            + "\n"
        )
    wrong = [c for c in best.claims if c["verdict"] == "inconsistent"]
    if wrong and consistency:
        issues += (
            "\nYour motivation contradicts your music:\n"
            + "\n".join(f'- "{c["text"]}" ({c["aspect"]}), but {c["evidence"]}' for c in wrong)
            + "\n"
        )
    if best.shared_run is not None and best.shared_run >= COPY_RUN:
        issues += (
            f"\nWarning: {best.shared_run} consecutive notes of your tune copy a reference. "
            "Write your own melody.\n"
        )
    return issues


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


def _grid(values: Any) -> tuple[tuple[float, ...], ...] | None:
    """A backend's attention grid as plain rounded numbers (None when it gave none)."""
    if values is None:
        return None
    return tuple(tuple(round(float(v), 8) for v in row) for row in values.tolist())


def _title(abc: str | None) -> str:
    return next((ln[2:].strip() for ln in (abc or "").splitlines() if ln.startswith("T:")), "")


def _line_of(abc: str | None, line: int) -> str:
    if not abc or line <= 0:
        return ""
    lines = abc.split("\n")
    return f" — `{lines[line - 1]}`" if line <= len(lines) else ""
