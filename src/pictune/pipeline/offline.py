"""OfflineComposer: a picture → a new piece with the analytic composer, no model weights.

Stages: load image → analyse → plan → retrieve references → learn + compose a draft →
validate (one abc2midi run a draft; its MIDI is kept for every later stage) → refine
(metrics against the references' ranges; bounded) → explain (motivation, heat grid,
checked claims). It returns the same `Composition` record as the VLM pipeline; writing
files is the one output step's job (`Composition.save`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pictune import __version__
from pictune.abc.playable import PlayableTune, make_playable
from pictune.corpus import CorpusIndex, retrieve
from pictune.corpus.profile import metric_profile
from pictune.errors import AbcError
from pictune.explain.consistency import check_motivation
from pictune.images import ImageInput, image_file, load_image
from pictune.models import load_embedder
from pictune.models.offline.analysis import ImageAnalysis, analyse
from pictune.models.offline.composer import (
    GeneratedPiece,
    ModelCache,
    compose_piece,
    counts_summary,
    training_model,
    tune_lines,
)
from pictune.models.offline.explanation import heat_grid, motivation
from pictune.models.offline.melody import MelodyModel
from pictune.models.offline.moods import MoodReader, MoodReading, load_mood_reader
from pictune.models.offline.plan import MusicalPlan, piece_kind, plan_from_analysis
from pictune.models.offline.revise import revise_plan
from pictune.music.novelty import COPY_RUN, Line
from pictune.music.score import Score
from pictune.pipeline.config import Settings
from pictune.pipeline.feedback import MELODY_METRICS, Range, Yardstick
from pictune.pipeline.judge import Judgement, judge, measure_reference, yardstick_of
from pictune.pipeline.record import (
    Composition,
    OfflineDetails,
    Reference,
    Refinement,
    Round,
)

Progress = Callable[[str], None]


def title_for(analysis: ImageAnalysis, plan: MusicalPlan) -> str:
    """A short title from the picture's most colourful colour and the piece's kind."""
    colour = next(
        (c.name for c in analysis.palette if c.chroma >= 12),
        analysis.palette[0].name if analysis.palette else "grey",
    )
    name = colour.replace("dark ", "Deep ").replace("pale ", "Pale ").title()
    return f"{name} {piece_kind(plan)}"


@dataclass(frozen=True)
class _Draft:
    plan: MusicalPlan
    piece: GeneratedPiece
    tune: PlayableTune
    midi: bytes
    score: Score
    judgement: Judgement
    attempts: int
    seconds: float
    seed: int = 0  # the seed that drew this piece


class OfflineComposer:
    """The offline backend behind the `Composer` protocol. It owns its corpus index and the
    melody models learned from it (keyed by the index's content checksum)."""

    backend_id = "offline"
    # The stages `compose` reports through `progress`, in order.
    stages: tuple[str, ...] = ("analyse", "retrieve", "compose", "refine", "explain")
    about = (
        "the offline composer (no model weights, no network); for a vision-language model "
        "see README › Using a real VLM"
    )

    def __init__(self, settings: Settings, index: CorpusIndex) -> None:
        self.settings, self.index = settings, index
        self.embedder = load_embedder(settings.embedder or index.embedder_id)
        self._models: ModelCache = {}
        self._moods: MoodReader | None = None
        self._moods_loaded = False

    def _read_mood(self, text: str) -> MoodReading | None:
        """Free prompt text on the mood axes (the `moods` setting); the sentence embedder is
        loaded on the first prompt with words outside the vocabulary, and only then."""
        if not self._moods_loaded:
            self._moods = load_mood_reader(self.settings.moods, self.embedder)
            self._moods_loaded = True
        return self._moods.read(text) if self._moods else None

    def compose(
        self,
        image: ImageInput,
        prompt: str | None = None,
        *,
        seed: int = 0,
        progress: Progress | None = None,
    ) -> Composition:
        """A piece for the picture: `k` references retrieved (0: none; the melody model then
        learns from the corpus alone and the corpus's metric bands are the refinement
        target); up to `rounds` refinement rounds revise the plan where the draft's metrics
        fall outside the references' ranges, keeping a revision only when it comes closer."""
        settings, index = self.settings, self.index
        say = progress or (lambda stage: None)
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = round(now - clock, 4)
            clock = now

        say("analyse")
        picture = load_image(image)
        analysis = analyse(picture)
        plan = plan_from_analysis(analysis, prompt, settings.bars, self._read_mood)
        lap("analyse")
        say("retrieve")
        query = plan.description()
        hits = []
        if settings.references > 0:
            per_query = settings.references
            hits = retrieve(
                index, self.embedder, text=query, per_query=per_query,
                filters={"meter": plan.meter},
            )  # fmt: skip
            if not hits:
                hits = retrieve(index, self.embedder, text=query, per_query=per_query)
        records = [h.record for h in hits]
        lap("retrieve")
        say("compose")
        read = tune_lines(index, records)
        model = training_model(index, plan, read, self._models)
        measured = [measure_reference(tune.score, None) for tune in read]
        reference_lines = [m.line for m in measured]
        yardstick = yardstick_of(measured) if measured else self._corpus_yardstick()
        title = title_for(analysis, plan)
        best = first = self._draft(plan, model, seed * 1000, title, reference_lines, yardstick)
        drafts: list[tuple[_Draft, tuple[str, ...], bool]] = [(first, (), True)]
        stopped = (
            "no refinement asked" if settings.rounds == 0 else f"{settings.rounds} round(s) done"
        )
        lap("compose")
        say("refine")
        for number in range(1, settings.rounds + 1):
            outside = yardstick.outside(best.judgement.melody, best.judgement.metrics)
            if not outside:
                stopped = "every metric inside its band"
                break
            revised, changes = revise_plan(best.plan, outside)
            if not changes:
                stopped = "no plan setting moves the metrics outside their bands"
                break
            draft = self._draft(
                revised, model, seed * 1000 + 100 * number, title, reference_lines, yardstick
            )
            better = draft.judgement.rank < best.judgement.rank
            drafts.append((draft, tuple(changes), better))
            if not better:
                stopped = f"round {number} did not come closer"
                break
            best = draft
        lap("refine")
        say("explain")
        revisions = [c for draft, changes, kept in drafts if kept for c in changes]
        names = [r.tags.get("title") or r.id for r in records]
        text = motivation(
            analysis, best.plan, names, revisions, best.judgement.shared_run, best.piece.notes
        )
        claims = tuple(c.to_dict() for c in check_motivation(text, best.tune.abc, best.score))
        grid = heat_grid(analysis, best.plan)
        rounds = tuple(
            _round(number, draft, changes, kept, text if draft is best else "", claims)
            for number, (draft, changes, kept) in enumerate(drafts)
        )
        lap("explain")
        return Composition(
            status="ok", abc=best.tune.abc, motivation=text, description=query,
            image=image_file(image), prompt=prompt, backend=self.backend_id, seed=seed,
            references=tuple(
                Reference(h.record.id, h.record.caption, h.score,
                          {k: list(v) for k, v in h.matches.items()},
                          title=h.record.tags.get("title"))
                for h in hits
            ),
            rounds=rounds, chosen_round=next(i for i, (d, _, _) in enumerate(drafts) if d is best),
            title=title, heatmap=tuple(tuple(round(float(v), 6) for v in row) for row in grid),
            refinement=Refinement(yardstick.ranges(), yardstick.source, stopped),
            corpus=index.name, embedder=index.embedder_id, model_calls=0, timings=timings,
            settings=settings.public(),
            offline=OfflineDetails(
                measurements=analysis.to_dict(), plan=best.plan.to_dict(), form=best.piece.form,
                model=counts_summary(model), query=query,
                melody=melody_record(best.piece), draft_seed=best.seed,
            ),
            version=__version__, midi=best.midi,
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
        """`parent` (a record, or the folder it was saved in) changed as `request` asks and
        otherwise kept (see `pictune.pipeline.offline_revision`)."""
        from pictune.pipeline.offline_revision import revise_offline

        return revise_offline(self, parent, request, seed=seed, progress=progress)

    def _corpus_yardstick(self) -> Yardstick:
        """With no references: the corpus's 10th–90th percentile band (of its tunes, most of
        them single melodies, so it sets no texture target)."""
        profile = metric_profile(self.index)
        melody = {
            n: Range(*profile.band(n))
            for n in MELODY_METRICS
            if n in profile.values and profile.values[n].size
        }
        source = f"corpus (10th–90th percentile of {profile.tunes} tunes)"
        return Yardstick(melody, {}, source)

    def _draft(
        self,
        plan: MusicalPlan,
        model: MelodyModel,
        seed: int,
        title: str,
        reference_lines: list[Line],
        yardstick: Yardstick,
    ) -> _Draft:
        """One piece for `plan`, redrawn (at most `max_attempts` times) while its melody
        copies a reference, validated once per attempt, then measured."""
        started = time.perf_counter()
        draft: _Draft | None = None
        for attempt in range(self.settings.max_attempts):
            piece = compose_piece(plan, model, seed + attempt, title)
            tune = make_playable(piece.abc)
            if not tune.ok or tune.validation.midi is None:
                raise AbcError(f"the composer wrote invalid ABC: {tune.validation.errors[0]}")
            score = Score.from_midi(tune.validation.midi)
            judgement = judge(score, tune.abc, yardstick, reference_lines)
            draft = _Draft(
                plan, piece, tune, tune.validation.midi, score, judgement, attempt + 1, 0.0,
                seed + attempt,
            )  # fmt: skip
            if judgement.shared_run is None or judgement.shared_run < COPY_RUN:
                break
        assert draft is not None  # max_attempts ≥ 1 (Settings checks it)
        return replace(draft, seconds=round(time.perf_counter() - started, 4))


def melody_record(piece: GeneratedPiece) -> tuple[tuple[int, int, int, int], ...]:
    """The piece's melody as the record keeps it: (start, length, pitch, on a beat)."""
    return tuple((n.start, n.length, n.pitch, int(n.on_beat)) for n in piece.line)


def _round(
    number: int,
    draft: _Draft,
    changes: tuple[str, ...],
    kept: bool,
    text: str,
    claims: tuple[dict[str, Any], ...],
) -> Round:
    return Round(
        kind="draft" if number == 0 else "refine", prompt=draft.plan.description(),
        reply=draft.tune.abc, seconds=draft.seconds, abc=draft.tune.abc, valid=True,
        diagnostics=tuple(d.to_dict() for d in draft.tune.validation.diagnostics),
        fixes=tuple(f.to_dict() for f in draft.tune.fixes), motivation=text,
        claims=claims if text else (), changes=changes, accepted=kept, attempts=draft.attempts,
        **draft.judgement.round_fields(),
    )  # fmt: skip
