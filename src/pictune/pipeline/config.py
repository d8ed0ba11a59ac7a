"""One frozen `Settings` object for every backend and front end, validated when built.

Where each value comes from, lowest precedence first: the defaults below, the user's
`pictune.toml` (in the user config folder), the project's `pictune.toml` (the current
folder, or the file given with `--config`), environment variables (`PICTUNE_<NAME>` for
every setting, e.g. `PICTUNE_ROUNDS=2`; also `PICTUNE_OPENAI_BASE_URL` and
`PICTUNE_OPENAI_API_KEY`), then command-line flags. A `pictune.toml` holds the same names:

    backend = "openai"
    model = "Qwen/Qwen2.5-VL-7B-Instruct"
    base_url = "http://localhost:8000/v1"
    k = 1
    rounds = 1
"""

from __future__ import annotations

import os
import sys
from dataclasses import MISSING, dataclass, fields, replace
from pathlib import Path
from typing import Any

from pictune.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

BACKENDS = ("offline", "transformers", "openai")
CONSTRAINED = ("auto", "on", "off")
MOODS = ("auto", "sentence", "keywords")
SERVERS = ("auto", "vllm", "llamacpp", "ollama", "openai")
OFFLINE_REFERENCES = 5  # the offline composer learns phrase shapes from its references
VLM_REFERENCES = 1  # the paper: the top hit of each query
ENVIRONMENT_ALIASES = {
    "base_url": "PICTUNE_OPENAI_BASE_URL",
    "api_key": "PICTUNE_OPENAI_API_KEY",
}
SECRET = frozenset({"api_key"})
SOURCES = ("default", "user config", "project config", "environment", "flag")


@dataclass(frozen=True)
class Settings:
    """Every setting of a run. Building one checks it; an invalid value raises InputError."""

    backend: str = "offline"  # offline, transformers or openai
    model: str | None = None  # hub id, folder, or the served model's name
    base_url: str | None = None  # the OpenAI-compatible server (openai backend)
    api_key: str | None = None
    device: str | None = None  # transformers backend: cpu, cuda, cuda:1 …
    corpus: str = "builtin"  # an index name or folder
    embedder: str | None = None  # default: the one the corpus index was built with
    k: int | None = None  # references per query; None: 1 for a VLM (the paper), 5 offline
    rounds: int = 1  # refinement rounds (the paper: 1)
    bars: int = 16  # length asked for, in bars
    max_attempts: int = 3  # tries per step for a playable (and, offline, novel) tune
    example_bars: int = 16  # prompt budget per reference, in bars of its main voice
    consistency_feedback: bool = True  # tell the model which of its claims the music contradicts
    max_calls: int = 12  # model calls per composition
    max_seconds: float = 900.0  # seconds per composition
    temperature: float = 0.7
    max_tokens: int = 2048
    constrained: str = "auto"  # ABC reply grammar while composing: auto (if installed), on, off
    server: str = "auto"  # what serves the openai backend: vllm, llamacpp, ollama, openai, auto
    moods: str = "auto"  # offline prompts' free text: sentence embedder (auto: if installed)

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            expected = _base_type(spec.type)
            if value is None and _optional(spec.type):
                continue
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, spec.name, float(value))
                continue
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise InputError(
                    f"setting {spec.name} must be {_type_word(expected)}, not {value!r}"
                )
        if self.backend not in BACKENDS:
            raise InputError(f"unknown backend {self.backend!r}; use {', '.join(BACKENDS)}")
        for name, allowed in (
            ("constrained", CONSTRAINED),
            ("server", SERVERS),
            ("moods", MOODS),
        ):
            if getattr(self, name) not in allowed:
                raise InputError(
                    f"unknown {name} {getattr(self, name)!r}; use {', '.join(allowed)}"
                )
        if self.backend != "offline" and not self.model:
            raise InputError(f"the {self.backend} backend needs a model (--model or PICTUNE_MODEL)")
        for name, low, high in RANGES:
            value = getattr(self, name)
            if value is not None and not low <= value <= high:
                raise InputError(
                    f"setting {name} must be between {low:g} and {high:g}, not {value}"
                )
        if not self.corpus.strip():
            raise InputError("setting corpus must name an index or a folder")

    @property
    def references(self) -> int:
        """References per query: `k`, else the backend's default."""
        if self.k is not None:
            return self.k
        return OFFLINE_REFERENCES if self.backend == "offline" else VLM_REFERENCES

    def public(self) -> dict[str, Any]:
        """The settings without secrets (for reports and logs)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in SECRET}

    def with_values(self, **values: Any) -> Settings:
        """A copy with some values changed (validated like any other)."""
        return replace(self, **{k: coerce(k, v) for k, v in values.items()})


RANGES = (
    ("k", 0, 50),
    ("rounds", 0, 10),
    ("bars", 4, 64),
    ("max_attempts", 1, 10),
    ("example_bars", 1, 256),
    ("max_calls", 1, 200),
    ("max_seconds", 1.0, 86_400.0),
    ("temperature", 0.0, 2.0),
    ("max_tokens", 16, 131_072),
)
NAMES = tuple(f.name for f in fields(Settings))


def _optional(annotation: Any) -> bool:
    return "None" in str(annotation)


def _base_type(annotation: Any) -> type:
    text = str(annotation).replace(" | None", "")
    return {"str": str, "int": int, "float": float, "bool": bool}[text]


def _type_word(kind: type) -> str:
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false"}[kind]


def coerce(name: str, value: Any) -> Any:
    """A value from TOML, the environment or a flag, as the setting's type (InputError if not)."""
    if name not in NAMES:
        raise InputError(f"unknown setting {name!r}; known: {', '.join(NAMES)}")
    spec = next(f for f in fields(Settings) if f.name == name)
    kind = _base_type(spec.type)
    if value is None or not isinstance(value, str) or kind is str:
        return value
    text = value.strip()
    if _optional(spec.type) and text.lower() in ("", "none", "default"):
        return None
    try:
        if kind is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        return kind(text)
    except ValueError:
        raise InputError(f"setting {name} must be {_type_word(kind)}, not {value!r}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid TOML: {exc}") from exc
    table = data.get("pictune", data)
    if not isinstance(table, dict):
        raise InputError(f"{path}: [pictune] must be a table of settings")
    for name in table:
        if name not in NAMES:
            raise InputError(f"{path}: unknown setting {name!r}; known: {', '.join(NAMES)}")
    return dict(table)


def user_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("pictune")) / "pictune.toml"


def _environment() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in NAMES:
        for variable in (f"PICTUNE_{name.upper()}", ENVIRONMENT_ALIASES.get(name)):
            if variable and os.environ.get(variable):
                found[name] = os.environ[variable]
    return found


@dataclass(frozen=True)
class ResolvedSettings:
    """Settings and, for each one, the layer its value came from."""

    settings: Settings
    sources: dict[str, str]


def resolve_settings(
    flags: dict[str, Any] | None = None, config_file: Path | None = None
) -> ResolvedSettings:
    """Merge the layers (defaults < user config < project config < environment < flags).

    `config_file` replaces the project's `./pictune.toml`; a named file that does not exist
    is an error. Flags whose value is None are not given."""
    if config_file is not None and not Path(config_file).is_file():
        raise InputError(f"no such config file: {config_file}")
    layers = (
        ("user config", _read_toml(user_config_path())),
        ("project config", _read_toml(Path(config_file or Path.cwd() / "pictune.toml"))),
        ("environment", _environment()),
        ("flag", {k: v for k, v in (flags or {}).items() if v is not None}),
    )
    values: dict[str, Any] = {}
    sources = dict.fromkeys(NAMES, "default")
    for source, layer in layers:
        for name, value in layer.items():
            values[name] = coerce(name, value)
            sources[name] = source
    return ResolvedSettings(Settings(**values), sources)


def load_settings(flags: dict[str, Any] | None = None, config_file: Path | None = None) -> Settings:
    """The settings of a run, from every layer (see `resolve_settings`)."""
    return resolve_settings(flags, config_file).settings


def default_value(name: str) -> Any:
    spec = next(f for f in fields(Settings) if f.name == name)
    return None if spec.default is MISSING else spec.default


__all__ = [
    "BACKENDS",
    "ResolvedSettings",
    "Settings",
    "coerce",
    "default_value",
    "load_settings",
    "resolve_settings",
]
