"""`pictune config show`: every setting, its value, and the layer it came from."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from pictune.cli import settings_flags as flag
from pictune.cli.output import console, guarded

app = typer.Typer(help="Show the settings a run would use.", no_args_is_help=True)


@app.command()
def show(
    config: Path | None = flag.CONFIG,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Every setting with its value and where it came from (default, user config, project
    config, environment, flag)."""

    def run() -> None:
        from pictune.pipeline.config import SECRET, resolve_settings

        resolved = resolve_settings({}, config_file=config)
        values = resolved.settings.public()
        if as_json:
            rows = {
                name: {"value": values.get(name, "***"), "source": source}
                for name, source in resolved.sources.items()
            }
            console.print_json(json.dumps(rows))
            return
        table = Table("setting", "value", "from", title="pictune settings")
        for name, source in resolved.sources.items():
            shown = "***" if name in SECRET and getattr(resolved.settings, name) else None
            value = shown or str(values.get(name, getattr(resolved.settings, name)))
            table.add_row(name, value, source)
        console.print(table)

    guarded(run)
