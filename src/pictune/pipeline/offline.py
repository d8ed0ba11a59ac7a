"""compose_offline(): a picture → a new piece, with the offline (analytic) composer.

Stages: load image → analyse → plan → retrieve references → learn + compose → validate →
render (MIDI, WAV, SVG) → explain (motivation, heat-map) → report.json."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pictune import __version__
from pictune.abc.playable import make_playable
from pictune.corpus import (
    BuiltinSource,
    CorpusIndex,
    FeatureEmbedder,
    build_index,
    index_root,
    retrieve,
)
from pictune.corpus.records import CorpusError
from pictune.errors import AbcError
from pictune.explain.heatmap import save_heatmap
from pictune.explain.report import build_report
from pictune.models.offline.analysis import analyse
from pictune.models.offline.composer import (
    compose_piece,
    counts_summary,
    longest_shared_run,
    training_model,
)
from pictune.models.offline.explanation import heat_grid, motivation
from pictune.models.offline.image import load_image
from pictune.models.offline.melody import melody_line
from pictune.models.offline.plan import plan_from_analysis
from pictune.models.offline.theory import Key
from pictune.music.export import export_tune
from pictune.music.metrics import compute_metrics
from pictune.music.score import Score

REFERENCES = 5
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


def compose_offline(
    image_path: str | Path,
    out_dir: str | Path,
    *,
    prompt: str | None = None,
    seed: int = 0,
    bars: int = 16,
    index: CorpusIndex | None = None,
    progress: Progress | None = None,
    render: tuple[str, ...] = ("abc", "mid", "wav", "svg"),
) -> OfflineComposition:
    """Compose a piece for the image at `image_path`; write its files into `out_dir`."""
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
    hits = retrieve(
        index, FeatureEmbedder(), text=query, per_query=REFERENCES, filters={"meter": plan.meter}
    )
    if not hits:
        hits = retrieve(index, FeatureEmbedder(), text=query, per_query=REFERENCES)
    references = [h.record for h in hits]
    lap("retrieve")
    say("compose")
    model = training_model(index, plan, references)
    reference_lines = _reference_melodies(index, references)
    title = _title(analysis, plan)
    novelty = {}
    for attempt in range(MAX_NOVELTY_TRIES):
        piece = compose_piece(plan, model, seed * 1000 + attempt, title)
        shared = max(
            (longest_shared_run(piece.melody, line) for line in reference_lines), default=0
        )
        novelty = {"longest_shared_run": shared, "attempts": attempt + 1}
        if shared < NOVELTY_RUN:
            break
    lap("compose")
    say("validate")
    tune = make_playable(piece.abc)
    if not tune.ok:
        raise AbcError(f"the composer wrote invalid ABC: {tune.validation.errors[0]}")
    lap("validate")
    say("render")
    out = Path(out_dir)
    exported = export_tune(tune.abc, out, formats=render)
    lap("render")
    say("explain")
    grid = heat_grid(analysis, plan)
    heatmap = save_heatmap(image, grid, out / "heatmap.png")
    text = motivation(analysis, plan, [r.tags.get("title") or r.id for r in references])
    (out / "motivation.txt").write_text(text + "\n", "utf-8")
    metrics = (
        compute_metrics(Score.from_midi(tune.validation.midi or b""))
        if tune.validation.midi
        else None
    )
    lap("explain")
    report = {
        "pictune_version": __version__,
        "backend": "offline",
        "image": {"path": str(image_path), "width": analysis.width, "height": analysis.height},
        "prompt": prompt,
        "seed": seed,
        "bars": plan.bars,
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
        "form": piece.form,
        "novelty": novelty,
        "abc": tune.abc,
        "repairs": [f.to_dict() for f in tune.fixes],
        "metrics": metrics.to_dict() if metrics else None,
        "motivation": text,
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


def _reference_melodies(index: CorpusIndex, references: list[Any]) -> list[list[tuple[int, int]]]:
    """Each reference's top line as (pitch, duration in sixteenths), for the novelty check."""
    from pictune.abc.convert import abc_to_midi_many

    lines = []
    tunes = [index.abc_for(r) for r in references]
    for record, conversion in zip(references, abc_to_midi_many(tunes), strict=True):
        if conversion.midi is None:
            continue
        words = str(record.tags.get("key", "C major")).split()
        try:
            key = Key(words[0], "minor" if "minor" in words else "major")
        except (KeyError, IndexError):
            continue
        score = Score.from_midi(conversion.midi)
        line = melody_line(score, key)
        lines.append([(key.pitch(d), t) for _, d, t in line])
    return lines
