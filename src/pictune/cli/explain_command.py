"""`pictune explain OUTPUT_DIR`: rebuild report.html from a saved run."""

from __future__ import annotations

from pathlib import Path

import typer

from pictune.cli.output import console, guarded
from pictune.errors import InputError


def explain(
    folder: Path = typer.Argument(..., help="A folder written by pictune compose."),
) -> None:
    """Regenerate the self-contained report.html of a saved composition."""

    def run() -> Path:
        from pictune.explain.report import build_report

        if not folder.exists():
            raise InputError(f"no such folder: {folder}")
        if not folder.is_dir():
            raise InputError(f"{folder} is a file; give the folder pictune compose wrote")
        if not (folder / "report.json").is_file():
            raise InputError(f"{folder} holds no report.json (is it a pictune compose output?)")
        return build_report(folder)

    console.print(f"wrote {guarded(run)}", highlight=False)
