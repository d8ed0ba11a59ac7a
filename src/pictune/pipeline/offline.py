"""compose_offline(): a picture → a new piece, with the offline (analytic) composer.

Stages: load image → analyse → plan → retrieve references → learn + compose → validate →
refine (metrics against the references' ranges; bounded) → render (MIDI, WAV, SVG) →
explain (motivation, heat-map, consistency claims) → report.json."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pictune import __version__
from pictune.abc.playable import PlayableTune, make_playable
from pictune.corpus import (
    BuiltinSource,
    CorpusIndex,
    FeatureEmbedder,
    build_index,
    index_root,
    retrieve,
)
from pictune.corpus.profile import metric_profile
from pictune.corpus.records import CorpusError
from pictune.errors import AbcError, InputError
from pictune.explain.consistency import check_motivation
from pictune.explain.heatmap import save_heatmap
from pictune.explain.report import build_report
from pictune.models.offline.analysis import analyse
from pictune.models.offline.composer import (
    GeneratedPiece,
    compose_piece,
    counts_summary,
    longest_shared_run,
    training_model,
    tune_lines,
)
from pictune.models.offline.explanation import heat_grid, motivation
from pictune.models.offline.image import load_image
from pictune.models.offline.melody import MelodyModel
from pictune.models.offline.plan import MusicalPlan, plan_from_analysis
from pictune.models.offline.revise import revise_plan
from pictune.music.export import export_tune
from pictune.music.metrics import Metrics, compute_metrics
from pictune.music.score import Score
from pictune.pipeline.config import OFFLINE_REFERENCES
from pictune.pipeline.feedback import Range, distance, reference_ranges

ROUNDS = 1  # refinement rounds, as the paper
NOVELTY_RUN = 8
MAX_NOVELTY_TRIES = 6
Progress = Callable[[str], None]


@dataclass
class OfflineComposition:
    """What one run produced and everything needed to replay it."""

    abc: str
    motivation: str
    report: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)


def ensure_builtin_index(progress: Callable[[int, int], None] | None = None) -> CorpusIndex:
    """The builtin index (features embedder), built on first use and cached."""
    folder = index_root() / "builtin"
    try:
        index = CorpusIndex(folder)
        if index.embedder_id == FeatureEmbedder.id:
            return index
    except CorpusError:
        pass
    folder.parent.mkdir(parents=True, exist_ok=True)
    build_index(
        BuiltinSource(),
        FeatureEmbedder(),
        folder,
        source_description={"kind": "builtin", "limit": None},
        progress=progress,
    )
    return CorpusIndex(folder)


def _title(analysis: Any, plan: Any) -> str:
    colour = next(
        (c.name for c in analysis.palette if c.chroma >= 12),
        analysis.palette[0].name if analysis.palette else "grey",
    )
    form = {"3/4": "Waltz", "6/8": "Jig", "2/4": "March"}.get(
        plan.meter, "Air" if plan.tempo_qpm < 90 else "Song"
    )
    return f"{colour.replace('dark ', 'Deep ').replace('pale ', 'Pale ').title()} {form}"


@dataclass
class _Draft:
    plan: MusicalPlan
    piece: GeneratedPiece
    tune: PlayableTune
    metrics: Metrics | None
    novelty: dict[str, Any]
    distance: float


def _draft(
    plan: MusicalPlan,
    model: MelodyModel,
    seed: int,
    title: str,
    reference_lines: list[list[tuple[int, int]]],
    ranges: dict[str, Range],
) -> _Draft:
    """One piece for `plan`, redrawn (bounded) while it copies a reference, then measured."""
    novelty: dict[str, Any] = {}
    for attempt in range(MAX_NOVELTY_TRIES):
        piece = compose_piece(plan, model, seed + attempt, title)
        shared = max(
            (longest_shared_run(piece.melody, line) for line in reference_lines), default=0
        )
        novelty = {
            "longest_shared_run": shared if reference_lines else None,
            "attempts": attempt + 1,
        }
        if shared < NOVELTY_RUN:
            break
    tune = make_playable(piece.abc)
    if not tune.ok:
        raise AbcError(f"the composer wrote invalid ABC: {tune.validation.errors[0]}")
    metrics = (
        compute_metrics(Score.from_midi(tune.validation.midi)) if tune.validation.midi else None
    )
    score = distance(metrics, ranges) if metrics else float("inf")
    return _Draft(plan, piece, tune, metrics, novelty, score)


def _outside(metrics: Metrics | None, ranges: dict[str, Range]) -> dict[str, str]:
    """Each metric outside its band, and on which side."""
    if metrics is None:
        return {}
    sides = {}
    for name, span in ranges.items():
        value = getattr(metrics, name)
        if value is not None and float(value) > span.high:
            sides[name] = "high"
        elif value is not None and float(value) < span.low:
            sides[name] = "low"
    return sides


def _round_entry(number: int, draft: _Draft, changes: list[str], accepted: bool) -> dict[str, Any]:
    return {
        "round": number,
        "changes": changes,
        "metrics": draft.metrics.to_dict() if draft.metrics else None,
        "distance": round(draft.distance, 6),
        "accepted": accepted,
    }


def compose_offline(
    image_path: str | Path,
    out_dir: str | Path,
    *,
    prompt: str | None = None,
    seed: int = 0,
    bars: int = 16,
    k: int = OFFLINE_REFERENCES,
    rounds: int = ROUNDS,
    index: CorpusIndex | None = None,
    progress: Progress | None = None,
    render: tuple[str, ...] = ("abc", "mid", "wav", "svg"),
) -> OfflineComposition:
    """Compose a piece for the image at `image_path`; write its files into `out_dir`.

    `k` references are retrieved (0: none; the melody model then learns from the corpus
    alone and the corpus's metric bands are the refinement target); up to `rounds` refinement
    rounds revise the plan where the draft's metrics fall outside the references' ranges,
    keeping a revision only when it comes closer."""
    if k < 0 or rounds < 0:
        raise InputError("k and rounds must be 0 or more")
    say = progress or (lambda stage: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 4)
        clock = now

    say("analyse")
    image = load_image(image_path)
    analysis = analyse(image)
    plan = plan_from_analysis(analysis, prompt, bars)
    lap("analyse")
    say("retrieve")
    index = index or ensure_builtin_index()
    query = plan.description()
    hits = []
    if k > 0:
        hits = retrieve(
            index, FeatureEmbedder(), text=query, per_query=k, filters={"meter": plan.meter}
        )
        if not hits:
            hits = retrieve(index, FeatureEmbedder(), text=query, per_query=k)
    references = [h.record for h in hits]
    lap("retrieve")
    say("compose")
    read = tune_lines(index, references)
    model = training_model(index, plan, read)
    reference_lines = [tune.pitches() for tune in read]
    reference_metrics = [compute_metrics(tune.score) for tune in read]
    if reference_metrics:
        ranges, ranges_from = reference_ranges(reference_metrics), "references"
    else:
        profile = metric_profile(index)
        ranges = {n: Range(*profile.band(n)) for n in profile.values if profile.values[n].size}
        ranges_from = f"corpus (10th–90th percentile of {profile.tunes} tunes)"
    title = _title(analysis, plan)
    best = first = _draft(plan, model, seed * 1000, title, reference_lines, ranges)
    history = [_round_entry(0, first, [], True)]
    stopped = "no refinement asked" if rounds == 0 else f"{rounds} round(s) done"
    lap("compose")
    say("refine")
    for number in range(1, rounds + 1):
        outside = _outside(best.metrics, ranges)
        if not outside:
            stopped = "every metric inside its band"
            break
        revised, changes = revise_plan(best.plan, outside)
        if not changes:
            stopped = "no plan setting moves the metrics outside their bands"
            break
        draft = _draft(revised, model, seed * 1000 + 100 * number, title, reference_lines, ranges)
        better = draft.distance < best.distance
        history.append(_round_entry(number, draft, changes, better))
        if not better:
            stopped = f"round {number} did not come closer"
            break
        best = draft
    plan, tune, metrics = best.plan, best.tune, best.metrics
    lap("refine")
    say("render")
    out = Path(out_dir)
    exported = export_tune(tune.abc, out, formats=render)
    lap("render")
    say("explain")
    grid = heat_grid(analysis, plan)
    heatmap = save_heatmap(image, grid, out / "heatmap.png")
    changes = [c for entry in history if entry["accepted"] for c in entry["changes"]]
    text = motivation(
        analysis, plan, [r.tags.get("title") or r.id for r in references], revisions=changes
    )
    (out / "motivation.txt").write_text(text + "\n", "utf-8")
    claims = [c.to_dict() for c in check_motivation(text, tune.abc)]
    lap("explain")
    report = {
        "pictune_version": __version__,
        "backend": "offline",
        "image": {"path": str(image_path), "width": analysis.width, "height": analysis.height},
        "prompt": prompt,
        "seed": seed,
        "bars": plan.bars,
        "settings": {"k": k, "rounds": rounds},
        "model_calls": 0,
        "measurements": analysis.to_dict(),
        "plan": plan.to_dict(),
        "retrieval": {
            "index": index.name,
            "embedder": index.embedder_id,
            "query": query,
            "references": [
                {
                    "id": h.record.id,
                    "caption": h.record.caption,
                    "score": h.score,
                    "matches": h.matches,
                }
                for h in hits
            ],
        },
        "model": counts_summary(model),
        "form": best.piece.form,
        "novelty": best.novelty,
        "refinement": {
            "ranges_from": ranges_from,
            "ranges": {n: [r.low, r.high] for n, r in ranges.items()},
            "rounds": history,
            "chosen": history.index(next(h for h in reversed(history) if h["accepted"])),
            "stopped": stopped,
        },
        "abc": tune.abc,
        "repairs": [f.to_dict() for f in tune.fixes],
        "metrics": metrics.to_dict() if metrics else None,
        "motivation": text,
        "claims": claims,
        "heatmap": {"grid": grid.round(6).tolist(), "rows": grid.shape[0], "cols": grid.shape[1]},
        "engines": exported.engines,
        "timings_s": timings,
        "versions": {"python": platform.python_version()},
    }
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str), "utf-8")
    page = build_report(out)
    files = {
        "report_html": page,
        **exported.paths,
        "heatmap": heatmap,
        "report": out / "report.json",
        "motivation": out / "motivation.txt",
    }
    return OfflineComposition(tune.abc, text, report, files)
