"""An edited tune, made playable and rendered again with the code every front end uses:
the `abc` layer's extraction, validation and repair, then the `music` layer's export."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from pictune.abc.playable import make_playable
from pictune.abc.text import header_fields
from pictune.errors import AbcError
from pictune.music.export import FILE_NAMES, export_tune
from pictune.web.view import slug

MAX_ABC_CHARS = 20_000
KEEP = 50  # renders kept on disk; older ones are removed
RENDER_FORMATS = ("abc", "mid", "svg", "musicxml")


def render_tune(abc: str, renders: Path) -> dict[str, Any]:
    """Repair and validate `abc`, write its files into a new folder under `renders`, and
    describe the result; raises AbcError (one line) when no playable tune comes of it."""
    if not abc.strip():
        raise AbcError("the tune is empty")
    if len(abc) > MAX_ABC_CHARS:
        raise AbcError(f"the tune is longer than {MAX_ABC_CHARS:,} characters")
    try:
        playable = make_playable(abc)
    except AbcError as exc:
        raise AbcError("the text holds no ABC tune (a tune needs at least a K: line)") from exc
    if not playable.ok:
        first = playable.validation.errors[0] if playable.validation.errors else None
        where = f"line {first.line}, column {first.column}: {first.message}" if first else ""
        raise AbcError(f"the tune cannot be played: {where or 'abc2midi wrote no MIDI'}")
    render_id = uuid.uuid4().hex
    folder = renders / render_id
    export_tune(playable.abc, folder, RENDER_FORMATS, midi=playable.validation.midi)
    _prune(renders)
    title = header_fields(playable.abc).get("T", "")
    return {
        "id": render_id,
        "abc": playable.abc,
        "changed": playable.abc.strip() != abc.strip(),
        "fixes": [str(fix) for fix in playable.fixes],
        "warnings": [
            f"line {d.line}, column {d.column}: {d.message}" for d in playable.validation.warnings
        ][:20],
        "slug": slug(title),
        "files": {name: f"/api/abc/render/{render_id}/files/{name}" for name in RENDER_FORMATS},
    }


def render_file(renders: Path, render_id: str, name: str) -> Path | None:
    """The path of one rendered file, or None when there is no such render or file."""
    if not render_id.isalnum() or name not in RENDER_FORMATS:
        return None
    path = renders / render_id / FILE_NAMES[name]
    return path if path.is_file() else None


def _prune(renders: Path) -> None:
    folders = sorted((p for p in renders.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in folders[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
