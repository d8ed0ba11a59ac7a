"""How `--help` reads: whole sentences, flags without a type, choices that wrap between words.

Typer's rich help keeps a docstring's line breaks (a command's description then stops
mid-sentence in the command list), labels every switch `<bool>` and folds a long choice
list in the middle of a word. These helpers fix the three once, for every command."""

from __future__ import annotations

import inspect
import re
from typing import Any

import typer
from typer.core import TyperArgument, TyperOption


def unwrap(text: str) -> str:
    """A docstring as help: paragraphs kept, the line breaks inside each one made spaces."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(re.sub(r"\s*\n\s*", " ", part).strip() for part in paragraphs)


def unwrap_commands(app: typer.Typer) -> None:
    """Give every command of `app` (and of its sub-apps) its docstring unwrapped as help."""
    for info in app.registered_commands:
        text = info.help or (info.callback.__doc__ if info.callback else None)
        if text:
            info.help = unwrap(text)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            unwrap_commands(group.typer_instance)


def _option_type(self: TyperOption, ctx: Any) -> str | None:
    if self.is_flag and not self.count:
        return None  # a switch takes no value: `--json`, never `--json <bool>`
    return _spaced(_plain_option_type(self, ctx))


def _argument_type(self: TyperArgument, ctx: Any) -> str | None:
    return _spaced(_plain_argument_type(self, ctx))


def _spaced(label: str | None) -> str | None:
    """`<mid|wav|abc>` as `<mid | wav | abc>`, so a narrow column wraps between choices."""
    return label.replace("|", " | ") if label else label


_plain_option_type = TyperOption.display_type_rich
_plain_argument_type = TyperArgument.display_type_rich


def install() -> None:
    """Switch typer's help to the readable labels above (idempotent)."""
    TyperOption.display_type_rich = _option_type  # type: ignore[method-assign]
    TyperArgument.display_type_rich = _argument_type  # type: ignore[method-assign,assignment]
