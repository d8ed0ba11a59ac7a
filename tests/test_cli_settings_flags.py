"""The grammar settings (`constrained`, `server`) as flags of compose, batch and eval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import pictune.evaluation
from pictune.cli import settings_flags
from pictune.cli.app import app
from pictune.errors import InputError
from pictune.pipeline.config import load_settings

runner = CliRunner()
EXAMPLE = Path(__file__).parents[1] / "src" / "pictune" / "data" / "example.jpg"
GIVEN = ["--constrained", "off", "--server", "llamacpp"]


def command_line(command: str, folder: Path) -> list[str]:
    target = str(EXAMPLE) if command == "compose" else str(folder)
    return [command, target, "--out", str(folder / "out")]


@pytest.mark.parametrize("command", ["compose", "batch", "eval"])
def test_each_composing_command_passes_the_grammar_flags_to_the_settings(
    command, tmp_path, monkeypatch
):
    seen: list[dict[str, Any]] = []

    def stop(flags: dict[str, Any]) -> None:
        seen.append(flags)
        raise InputError("stopped after reading the settings")

    monkeypatch.setattr(settings_flags, "settings_from_flags", lambda _config, flags: stop(flags))
    monkeypatch.setattr(
        pictune.evaluation, "configurations", lambda _vary, base, project: stop(base)
    )
    result = runner.invoke(app, [*command_line(command, tmp_path), *GIVEN])
    assert "stopped after reading the settings" in result.output, result.output
    settings = load_settings(seen[0])
    assert (settings.constrained, settings.server) == ("off", "llamacpp")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--constrained", "always"], "unknown constrained 'always'; use auto, on, off"),
        (["--server", "tgi"], "unknown server 'tgi'; use auto, vllm, llamacpp, ollama, openai"),
    ],
)
def test_a_wrong_grammar_flag_is_one_line_of_error(flags, message, tmp_path):
    result = runner.invoke(app, [*command_line("compose", tmp_path), *flags])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.output
    assert "Traceback" not in result.output
