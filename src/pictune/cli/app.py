"""The `pictune` command: a thin front end over the Python API."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import typer
import typer.main

from pictune import __version__
from pictune.cli import abc_commands, config_command, corpus_commands, help_format
from pictune.cli.batch_command import batch
from pictune.cli.compose_command import compose
from pictune.cli.demo import demo
from pictune.cli.eval_command import evaluate_command
from pictune.cli.explain_command import explain
from pictune.cli.metrics_commands import metrics
from pictune.cli.output import State
from pictune.cli.quiet import quiet_libraries
from pictune.cli.revise_command import history, revise
from pictune.cli.serve_command import serve

app = typer.Typer(
    name="pictune",
    help="Turn a picture into music written as ABC notation, and explain why.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(abc_commands.app, name="abc")
app.add_typer(corpus_commands.app, name="corpus")
app.add_typer(config_command.app, name="config")
app.command()(compose)
app.command()(revise)
app.command()(history)
app.command()(metrics)
app.command()(explain)
app.command()(serve)
app.command()(batch)
app.command("eval")(evaluate_command)
app.command()(demo)
help_format.unwrap_commands(app)
help_format.install()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pictune {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logging."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    State.debug = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    quiet_libraries(debug)


RAY_ADDRESS = re.compile(r"^(auto|local|[a-z]+://\S+|[\w.-]+:\d+)$")
GLOBAL_SWITCHES = ("--debug",)  # the main options a user may also write after the subcommand
SWITCH_WORDS = {"true": True, "false": False}


def switch_names() -> frozenset[str]:
    """Every option that is only ever a switch (`--json`, `--force` …) in any command."""
    switches: set[str] = set()
    valued: set[str] = set()

    def walk(command: Any) -> None:  # typer's own click classes: duck-typed
        for param in command.params:
            if getattr(param, "param_type_name", "") == "option":
                names = [*param.opts, *param.secondary_opts]
                (switches if param.is_flag and not param.count else valued).update(names)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return frozenset(switches - valued)


def normalise_argv(args: list[str], switches: frozenset[str] = frozenset()) -> list[str]:
    """Spellings the option parser cannot express: several terms after one `--vary`
    (`--vary k=0,5 rounds=0,1`), `--ray` without an address (a local or running cluster),
    `--debug` after the subcommand, and a switch given a word (`--json true`, `--json false`),
    which would otherwise be read as a file name."""
    result: list[str] = []
    front: list[str] = []
    position = 0
    while position < len(args):
        word = args[position]
        position += 1
        if word == "--":
            result += args[position - 1 :]
            break
        if word in GLOBAL_SWITCHES:
            front.append(word)
        elif word == "--vary":
            terms = []
            while (
                position < len(args)
                and "=" in args[position]
                and not args[position].startswith("-")
            ):
                terms.append(args[position])
                position += 1
            result += [part for term in terms for part in ("--vary", term)] or [word]
        elif word == "--ray":
            given = position < len(args) and RAY_ADDRESS.match(args[position])
            result += [word, args[position] if given else "auto"]
            position += 1 if given else 0
        elif word in switches and position < len(args) and args[position].lower() in SWITCH_WORDS:
            result += [word] if SWITCH_WORDS[args[position].lower()] else []
            position += 1
        else:
            result.append(word)
    return front + result


def main() -> None:
    app(args=normalise_argv(sys.argv[1:], switch_names()))
