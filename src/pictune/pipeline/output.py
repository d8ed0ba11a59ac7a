"""The one output step: a Composition → its folder of files, the same for every caller."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pictune.errors import InputError
from pictune.explain.heatmap import save_heatmap, save_sheet
from pictune.explain.report import build_report
from pictune.music.export import export_tune
from pictune.pipeline.record import MUSIC_FORMATS, OUTPUT_FILES, REPORT

if TYPE_CHECKING:
    from pictune.pipeline.record import Composition

log = logging.getLogger(__name__)
NAMES = {f.key: f.name for f in OUTPUT_FILES}


def save_composition(
    composition: Composition, folder: Path, picture: Any = None
) -> dict[str, Path]:
    """Write the music files (from the MIDI the run validated), the heat-maps, the
    motivation, report.json and report.html; return the paths written, by key."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    engines: dict[str, str] = dict(composition.engines)
    if composition.abc:
        exported = export_tune(composition.abc, folder, MUSIC_FORMATS, midi=composition.midi)
        written.update(exported.paths)
        engines.update(exported.engines)
    if not composition.image and composition.picture is not None:
        # A picture given in memory: the folder keeps it, and the record points at it.
        written["picture"] = folder / NAMES["picture"]
        composition.picture.save(written["picture"])
        composition = replace(composition, image=str(written["picture"].resolve()))
        picture = composition.picture if picture is None else picture
    chosen = composition.chosen
    if composition.heatmap or (chosen and chosen.phrase_attention):
        picture = picture if picture is not None else _picture(composition.image)
        if picture is not None and composition.heatmap:
            written["heatmap"] = save_heatmap(
                picture, np.array(composition.heatmap), folder / NAMES["heatmap"]
            )
        if picture is not None and chosen is not None and chosen.phrase_attention:
            grids = {k: np.array(v) for k, v in chosen.phrase_attention.items()}
            written["phrases"] = save_sheet(picture, grids, folder / NAMES["phrases"])
    motivation = folder / NAMES["motivation"]
    motivation.write_text(composition.motivation + "\n", "utf-8")
    written["motivation"] = motivation
    record = replace(composition, engines=engines)
    report = folder / REPORT
    report.write_text(json.dumps(record.to_dict(), indent=1, default=str), "utf-8")
    written["json"] = report
    written["report"] = build_report(folder)
    return written


def _picture(path: str) -> Any:
    """The run's picture, or None when it is gone (a heat-map then cannot be drawn)."""
    from pictune.images import load_image

    if not path:
        log.warning("no heat-map drawn: the picture was given in memory and is not kept")
        return None
    try:
        return load_image(path)
    except InputError as exc:
        log.warning("no heat-map drawn: %s", exc)
        return None
