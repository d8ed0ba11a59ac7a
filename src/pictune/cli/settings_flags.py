"""The settings flags every composing command shares, and how they become `Settings`.

Each flag means the same for every backend and every command (`compose`, `batch`, `eval`);
a flag left out takes its value from the config files and the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from pictune.pipeline.config import Settings, load_settings

CONFIG = typer.Option(None, "--config", help="A pictune.toml to use instead of ./pictune.toml.")
BACKEND = typer.Option(None, "--backend", help="offline, transformers or openai.")
MODEL = typer.Option(None, "--model", help="Hub id or folder, or the served model name.")
BASE_URL = typer.Option(None, "--base-url", help="OpenAI-compatible server URL.")
CORPUS = typer.Option(None, "--corpus", help="Corpus index name or folder (default builtin).")
K = typer.Option(
    None, "--k", min=0, help="References per query (default: 1 for a VLM, as the paper; 5 offline)."
)
ROUNDS = typer.Option(
    None, "--rounds", min=0, help=f"Refinement rounds (default: {Settings.rounds}, as the paper)."
)
BARS = typer.Option(None, "--bars", min=4, max=64, help="Length in bars (default 16).")
MAX_ATTEMPTS = typer.Option(
    None, "--max-attempts", min=1, help="Tries per step for a playable (and novel) tune."
)

CONSTRAINED = typer.Option(
    None, "--constrained", help="ABC grammar while composing: auto (if installed), on, off."
)
SERVER = typer.Option(
    None, "--server", help="What serves --base-url: vllm, llamacpp, ollama, openai or auto."
)

FLAGS = (
    "backend", "model", "base_url", "corpus", "k", "rounds", "bars", "max_attempts",
    "constrained", "server",
)  # fmt: skip


def given(values: dict[str, Any]) -> dict[str, Any]:
    """The settings flags a command received (from its `locals()`); None: not given (or
    not a flag of that command)."""
    return {name: values.get(name) for name in FLAGS}


def settings_from_flags(config: Path | None, flags: dict[str, Any]) -> Settings:
    """Settings from every layer, with these flags on top (None: not given)."""
    return load_settings(flags, config_file=config)
