"""`--help` reads as prose: switches without a type, whole sentences, defaults, choices intact;
and the argument spellings users try (`--debug` after the subcommand, `--json true`)."""

from __future__ import annotations

import json
import re

import pytest
import typer.main
from typer.testing import CliRunner

from pictune.cli.app import app, normalise_argv, switch_names
from pictune.cli.help_format import unwrap
from tests.conftest import SIMPLE_TUNE

runner = CliRunner()


def help_of(*command: str, columns: int = 80) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "command", [(), ("compose",), ("corpus", "search"), ("abc", "convert"), ("corpus", "build")]
)
def test_switches_show_no_type(command):
    text = help_of(*command)
    assert "<bool>" not in text
    assert re.search(r"--help\s+Show this message", text)


def test_a_choice_list_wraps_between_choices_not_inside_a_word():
    text = help_of("abc", "convert", columns=70)
    assert "musicxml" in text  # not "musicx" + "ml" on the next line
    assert "<mid | wav" in text


def test_command_descriptions_are_whole_sentences():
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for name in ("compose", "eval", "metrics"):
        text = group.commands[name].help or ""
        assert "\n" not in text.split("\n\n")[0], name
    listing = help_of()
    assert re.search(r"compose\s+Compose music for a picture\. Without a configured VLM", listing)


def test_unwrap_keeps_paragraphs_and_joins_lines():
    assert unwrap("One line\n    goes on.\n\n    Second\n    paragraph.") == (
        "One line goes on.\n\nSecond paragraph."
    )


def test_defaults_of_k_and_rounds_are_shown():
    text = " ".join(help_of("compose", columns=200).split())
    assert "(default: 1, as the paper)" in text
    assert "(default: 1 for a VLM, as the paper; 5 offline)" in text


def test_debug_after_the_subcommand_is_moved_before_it():
    assert normalise_argv(["abc", "check", "x.abc", "--debug"]) == [
        "--debug", "abc", "check", "x.abc",
    ]  # fmt: skip
    assert normalise_argv(["abc", "check", "--", "--debug"]) == ["abc", "check", "--", "--debug"]


def test_debug_after_the_subcommand_shows_the_traceback(tmp_path):
    args = normalise_argv(["abc", "check", str(tmp_path / "missing.abc"), "--debug"])
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert not isinstance(result.exception, SystemExit)  # raised, not one line


def test_a_switch_given_true_or_false_is_not_read_as_a_file(tmp_path):
    tune = tmp_path / "tune.abc"
    tune.write_text(SIMPLE_TUNE)
    switches = switch_names()
    assert {"--json", "--force", "--debug"} <= switches and "--prompt" not in switches
    args = normalise_argv(["metrics", str(tune), "--json", "true"], switches)
    assert args == ["metrics", str(tune), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n_notes"] > 0  # one file, no "true" beside it
    assert normalise_argv(["metrics", str(tune), "--json", "False"], switches) == [
        "metrics", str(tune),
    ]  # fmt: skip
    assert normalise_argv(["compose", "x.png", "--prompt", "true"], switches)[-1] == "true"
