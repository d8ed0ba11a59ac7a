"""The offline composer's revision: the parent's plan changed only where the request speaks,
the same seed and references, and — unless the meter changes — the parent's melody note for
note (moved to the new key or register when asked), with the harmony and arrangement
written around it. No refinement rounds follow: they would change what was not asked."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pictune import __version__
from pictune.abc.playable import make_playable
from pictune.errors import AbcError, InputError
from pictune.explain.consistency import check_motivation
from pictune.explain.request import check_request
from pictune.models.offline.composer import (
    compose_piece,
    counts_summary,
    training_model,
    tune_lines,
)
from pictune.models.offline.melody import MelodyModel
from pictune.models.offline.plan import MusicalPlan
from pictune.models.offline.request import revise_plan_for
from pictune.models.offline.tune import Note
from pictune.music.score import Score
from pictune.pipeline.judge import judge, measure_reference, yardstick_of
from pictune.pipeline.record import Composition, Round
from pictune.pipeline.revision import (
    asks_for,
    clean_request,
    lineage_for,
    load_parent,
    now_sentence,
    revision_text,
)

if TYPE_CHECKING:
    from pictune.pipeline.offline import OfflineComposer

Progress = Callable[[str], None]
NO_REFINEMENT = "a revision is not refined: refinement would change what was not asked"


def revise_offline(
    composer: OfflineComposer,
    parent: Composition | str | Path,
    request: str,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
) -> Composition:
    """The parent revised as `request` asks; `seed` (given and not the parent's) draws a
    new melody, with everything else the request does not mention kept."""
    from pictune.pipeline.offline import melody_record

    say = progress or (lambda stage: None)
    started = time.perf_counter()
    request = clean_request(request)
    record, folder = load_parent(parent)
    details = record.offline
    if details is None or not details.melody or details.draft_seed is None:
        raise InputError(
            "the offline composer revises only its own compositions saved by this version "
            "(their melody is in report.json); compose the picture again, or revise with "
            "a vision-language model backend"
        )
    say("read request")
    before = MusicalPlan.from_dict(details.plan)
    melody = [Note(s, n, p, bool(b)) for s, n, p, b in details.melody]
    revised = revise_plan_for(before, melody, request)
    kept, draft_seed = revised.kept, details.draft_seed
    kept_words = revised.kept_words
    if seed is not None and seed != record.seed:
        kept, draft_seed = None, seed * 1000
        kept_words = (f"the plan, with a new melody drawn from seed {seed}",)
    say("compose")
    index = composer.index
    hits = [index.record_by_id(ref.id) for ref in record.references]
    read = tune_lines(index, [h for h in hits if h is not None])
    model = (
        training_model(index, revised.plan, read, composer._models)
        if kept is None
        else MelodyModel()
    )
    measured = [measure_reference(tune.score, None) for tune in read]
    yardstick = yardstick_of(measured) if measured else composer._corpus_yardstick()
    piece = compose_piece(revised.plan, model, draft_seed, record.title, kept)
    tune = make_playable(piece.abc)
    if not tune.ok or tune.validation.midi is None:
        raise AbcError(f"the revision wrote invalid ABC: {tune.validation.errors[0]}")
    score = Score.from_midi(tune.validation.midi)
    if kept is None and [(n.start, n.length) for n in piece.line] == [
        (n.start, n.length) for n in melody
    ]:
        kept_words = ("every rhythm of the melody", *kept_words)
    judgement = judge(score, tune.abc, yardstick, [m.line for m in measured])
    say("check")
    asks = asks_for(before, revised.plan, revised.heard)
    parent_score = Score.from_midi(record.midi) if record.midi else None
    checks = check_request(asks, record.abc or "", tune.abc, parent_score, score)
    text = " ".join(
        [
            revision_text(record, request, revised.changes, kept_words, revised.unused),
            now_sentence(revised.plan),
        ]
    )
    claims = tuple(c.to_dict() for c in check_motivation(text, tune.abc, score))
    seconds = round(time.perf_counter() - started, 4)
    revision_round = Round(
        kind="revise", prompt=request, reply=tune.abc, seconds=seconds, abc=tune.abc,
        valid=True, diagnostics=tuple(d.to_dict() for d in tune.validation.diagnostics),
        fixes=tuple(f.to_dict() for f in tune.fixes), motivation=text, claims=claims,
        changes=revised.changes, accepted=True, **judgement.round_fields(),
    )  # fmt: skip
    lineage = lineage_for(
        record, folder, request, revised.changes, kept_words, revised.unused, checks
    )
    return replace(
        record, abc=tune.abc, motivation=text, rounds=(revision_round,), chosen_round=0,
        description=revised.plan.description(), seed=record.seed if seed is None else seed,
        model_calls=0, timings={"revise": seconds}, settings=composer.settings.public(),
        refinement=replace(record.refinement, stopped=NO_REFINEMENT) if record.refinement else None,
        offline=replace(
            details, plan=revised.plan.to_dict(), form=piece.form,
            model=counts_summary(model) if kept is None else details.model,
            melody=melody_record(piece), draft_seed=draft_seed,
            query=revised.plan.description(),
        ),
        lineage=lineage, version=__version__, midi=tune.validation.midi,
    )  # fmt: skip
