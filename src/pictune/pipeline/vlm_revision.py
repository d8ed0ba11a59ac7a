"""A vision-language model's revision: one refinement round on the user's words.

The model sees the picture (when its file is still there), the description, the current
tune, the metrics against the parent's references, the critic's findings and the request,
with the instruction to keep what the request does not mention; the reply goes through the
same bounded correction loop as every composing call. The request is then checked against
the new tune, part by part."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pictune import __version__
from pictune.errors import AbcError, InputError
from pictune.explain.request import RequestCheck, check_request
from pictune.images import load_image
from pictune.models.offline.request import describe_changes
from pictune.models.vlm.base import Message
from pictune.music.metrics import Metrics
from pictune.music.score import Score
from pictune.pipeline.feedback import Yardstick
from pictune.pipeline.judge import ReferenceMeasures, measure_reference, yardstick_of
from pictune.pipeline.record import Composition
from pictune.pipeline.revision import (
    asks_for,
    clean_request,
    lineage_for,
    load_parent,
    plan_from_abc,
    read_request,
)

if TYPE_CHECKING:
    from pictune.pipeline.composer import VlmComposer

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


def _measures(composer: VlmComposer, parent: Composition) -> list[ReferenceMeasures]:
    """The parent's references measured again (those the index still holds)."""
    measured = []
    for reference in parent.references:
        record = composer.index.record_by_id(reference.id)
        if record is None:
            continue
        abc = composer.index.abc_for(record)
        with contextlib.suppress(AbcError):
            measured.append(measure_reference(Score.from_abc(abc), abc))
    return measured


def _picture(record: Composition) -> tuple[Any, ...]:
    """The parent's picture as the prompt's image, or none when its file is gone."""
    if record.picture is not None:  # given in memory and not saved yet
        return (record.picture,)
    try:
        return (load_image(record.image),)
    except (InputError, OSError) as exc:
        log.warning("the revision is asked without the picture: %s", exc)
        return ()


def revise_with_model(
    composer: VlmComposer,
    parent: Composition | str | Path,
    request: str,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
) -> Composition:
    """`parent` revised by the model as `request` asks (see the module's docstring)."""
    from pictune.pipeline.composer import BudgetExhaustedError, _Run, _title, critique, template

    composer.progress = progress or (lambda stage: None)
    request = clean_request(request)
    record, folder = load_parent(parent)
    best = record.chosen
    assert best is not None and record.abc  # load_parent refuses unfinished compositions
    run = _Run(composer.settings, record.seed if seed is None else seed)
    measured = _measures(composer, record)
    yardstick = yardstick_of(measured) if measured else Yardstick({}, {}, "references")
    lines = [m.line for m in measured if m.line]
    metrics = (
        yardstick.text(Metrics(**best.melody_metrics), Metrics(**best.metrics))
        if best.metrics and best.melody_metrics
        else "(not measured)"
    )
    prompt = template("revise").substitute(
        description=record.description.strip() or "(none)",
        abc=record.abc.strip(),
        metrics=metrics,
        issues=critique(best, composer.settings.consistency_feedback),
        request=request,
    )
    clock = time.perf_counter()
    status, chosen = "ok", None
    try:
        chosen = composer._until_playable(
            run, "revise", [Message("user", prompt, _picture(record))], yardstick, lines
        )
    except BudgetExhaustedError as exc:
        status = f"failed: {exc}"
    if chosen is None and status == "ok":
        status = f"failed: no playable tune in {composer.settings.max_attempts} attempts"
    seconds = round(time.perf_counter() - clock, 4)
    number = run.rounds.index(chosen) if chosen is not None else None
    rounds = tuple(replace(r, accepted=r is chosen) for r in run.rounds)
    reading = read_request(record.abc, request)
    changes: tuple[str, ...] = ()
    checks: tuple[RequestCheck, ...] = ()
    midi = run.midi.get(number) if number is not None else None
    if chosen is not None and chosen.abc:
        before, after = plan_from_abc(record.abc), plan_from_abc(chosen.abc)
        changes = describe_changes(before, after)
        asks = asks_for(before, reading.plan, reading.heard)
        parent_score = Score.from_midi(record.midi) if record.midi else None
        after_score = Score.from_midi(midi) if midi else None
        checks = check_request(asks, record.abc, chosen.abc, parent_score, after_score)
    # A model may understand words the offline reading does not: none is called unused.
    lineage = lineage_for(record, folder, request, changes, (), (), checks)
    return replace(
        record, status=status, abc=chosen.abc if chosen else None,
        motivation=chosen.motivation if chosen else "", rounds=rounds, chosen_round=number,
        title=_title(chosen.abc if chosen else None) or record.title,
        seed=run.seed, backend=composer.backend_id, model_calls=run.calls,
        timings={"revise": seconds}, settings=composer.settings.public(), offline=None,
        lineage=lineage, version=__version__, midi=midi,
    )  # fmt: skip
