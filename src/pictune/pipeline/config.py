"""Where the backend, model and options come from, in order of precedence:
command-line flags, then `pictune.toml` in the current folder, then `pictune.toml` in the
user config folder, then environment variables (`PICTUNE_BACKEND`, `PICTUNE_MODEL`,
`PICTUNE_OPENAI_BASE_URL`, `PICTUNE_OPENAI_API_KEY`, `PICTUNE_EMBEDDER`, `PICTUNE_CORPUS`).

A `pictune.toml` holds the same names, e.g.

    backend = "openai"
    model = "Qwen/Qwen2.5-VL-7B-Instruct"
    base_url = "http://localhost:8000/v1"
    k = 1
    rounds = 1
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from pictune.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ENVIRONMENT = {
    "backend": "PICTUNE_BACKEND",
    "model": "PICTUNE_MODEL",
    "base_url": "PICTUNE_OPENAI_BASE_URL",
    "api_key": "PICTUNE_OPENAI_API_KEY",
    "embedder": "PICTUNE_EMBEDDER",
    "corpus": "PICTUNE_CORPUS",
}
BACKENDS = ("offline", "transformers", "openai")
CONSTRAINED = ("auto", "on", "off")
SERVERS = ("auto", "vllm", "llamacpp", "ollama", "openai")
OFFLINE_REFERENCES = 5  # the offline composer learns phrase shapes from its references


@dataclass(frozen=True)
class RunConfig:
    backend: str = "offline"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    device: str | None = None
    corpus: str = "builtin"
    embedder: str | None = None  # default: the one the corpus index was built with
    k: int | None = None  # references per query; None: 1 for a VLM (the paper), 5 offline
    rounds: int = 1
    max_attempts: int = 3
    max_calls: int = 12
    max_seconds: float = 900.0
    temperature: float = 0.7
    max_tokens: int = 2048
    constrained: str = "auto"  # ABC reply grammar while composing: auto (if installed), on, off
    server: str = "auto"  # what serves the openai backend: vllm, llamacpp, ollama, openai, auto

    @property
    def references(self) -> int:
        """References per query: `k`, else the backend's default."""
        if self.k is not None:
            return self.k
        return OFFLINE_REFERENCES if self.backend == "offline" else 1

    def public(self) -> dict[str, Any]:
        """The settings without the API key (for reports and logs)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "api_key"}


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid TOML: {exc}") from exc
    table = data.get("pictune", data)
    return table if isinstance(table, dict) else {}


def user_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("pictune")) / "pictune.toml"


def load_config(flags: dict[str, Any] | None = None, project: Path | None = None) -> RunConfig:
    known = {f.name: f for f in fields(RunConfig)}
    merged: dict[str, Any] = {}
    for name, variable in ENVIRONMENT.items():
        if os.environ.get(variable):
            merged[name] = os.environ[variable]
    for layer in (
        _read_toml(user_config_path()),
        _read_toml(project or Path.cwd() / "pictune.toml"),
        flags or {},
    ):
        for name, value in layer.items():
            if value is None:
                continue
            if name not in known:
                raise InputError(f"unknown setting {name!r}; known: {', '.join(sorted(known))}")
            merged[name] = value
    config = RunConfig()
    try:
        config = replace(
            config,
            **{
                k: type(getattr(config, k))(v) if getattr(config, k) is not None else v
                for k, v in merged.items()
            },
        )
    except (TypeError, ValueError) as exc:
        raise InputError(f"a setting has the wrong type: {exc}") from exc
    if config.k is not None:
        try:
            config = replace(config, k=int(config.k))
        except (TypeError, ValueError) as exc:
            raise InputError(f"k must be a whole number, not {config.k!r}") from exc
    if (config.k is not None and config.k < 0) or config.rounds < 0:
        raise InputError("k and rounds must be 0 or more")
    if config.constrained not in CONSTRAINED:
        raise InputError(
            f"unknown constrained {config.constrained!r}; use {', '.join(CONSTRAINED)}"
        )
    if config.server not in SERVERS:
        raise InputError(f"unknown server {config.server!r}; use {', '.join(SERVERS)}")
    if config.backend not in BACKENDS:
        raise InputError(f"unknown backend {config.backend!r}; use {', '.join(BACKENDS)}")
    if config.backend != "offline" and not config.model:
        raise InputError(f"the {config.backend} backend needs a model (--model or PICTUNE_MODEL)")
    return config


def make_backend(config: RunConfig) -> Any:
    """The VLM backend a configuration names (not for the offline composer)."""
    if config.backend == "openai":
        from pictune.models.vlm.openai_backend import OpenAIBackend

        return OpenAIBackend(
            model=str(config.model),
            base_url=config.base_url or "http://localhost:8000/v1",
            api_key=config.api_key,
            constrained=config.constrained,
            server=config.server,
        )
    from pictune.models.vlm.transformers_backend import TransformersBackend

    return TransformersBackend(
        model=str(config.model), device=config.device, constrained=config.constrained
    )


@dataclass
class ComposerFactory:
    """The parts a configuration names, opened once (backend, corpus index, embedder), and a
    Composer per run with that run's seed and progress callback."""

    config: RunConfig
    backend: Any = None
    index: Any = None
    embedder: Any = None

    def __post_init__(self) -> None:
        from pictune.corpus import CorpusIndex, resolve_index
        from pictune.models import load_embedder

        self.index = CorpusIndex(resolve_index(self.config.corpus))
        self.embedder = load_embedder(self.config.embedder or self.index.embedder_id)
        self.backend = make_backend(self.config)

    def __call__(self, seed: int, progress: Any = None) -> Any:
        from pictune.pipeline.composer import Composer, Settings

        config = self.config
        settings = Settings(
            k=config.references,
            rounds=config.rounds,
            max_attempts=config.max_attempts,
            max_calls=config.max_calls,
            max_seconds=config.max_seconds,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            seed=seed,
        )
        return Composer(self.backend, self.index, self.embedder, settings, progress=progress)
