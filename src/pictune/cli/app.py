"""The `pictune` command: a thin front end over the Python API."""

from __future__ import annotations

import logging
import re
import sys

import typer

from pictune import __version__
from pictune.cli import abc_commands, config_command, corpus_commands
from pictune.cli.batch_command import batch
from pictune.cli.compose_command import compose
from pictune.cli.demo import demo
from pictune.cli.eval_command import evaluate_command
from pictune.cli.explain_command import explain
from pictune.cli.metrics_commands import metrics
from pictune.cli.output import State
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


RAY_ADDRESS = re.compile(r"^(auto|local|[a-z]+://\S+|[\w.-]+:\d+)$")


def normalise_argv(args: list[str]) -> list[str]:
    """Two spellings the option parser cannot express: several terms after one `--vary`
    (`--vary k=0,5 rounds=0,1`) and `--ray` without an address (a local or running cluster)."""
    result: list[str] = []
    position = 0
    while position < len(args):
        word = args[position]
        position += 1
        if word == "--vary":
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
        else:
            result.append(word)
    return result


def main() -> None:
    app(args=normalise_argv(sys.argv[1:]))
