"""The configurations an evaluation compares: a base Settings and the variations asked for,
e.g. `k=0,5` and `rounds=0,1` → four configurations, every combination."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, fields
from typing import Any

from pictune.errors import InputError
from pictune.pipeline.config import SECRET, Settings, load_settings

TERM = re.compile(r"^([a-z_]+)=(.+)$")


@dataclass(frozen=True)
class EvalConfig:
    """One configuration under evaluation: its name (the varied settings) and its settings."""

    name: str
    varied: dict[str, Any]
    config: Settings

    @property
    def slug(self) -> str:
        """A folder name for the configuration's results."""
        return re.sub(r"[^A-Za-z0-9_.=-]+", "_", self.name.replace(" ", "_"))


def parse_variations(terms: list[str]) -> dict[str, list[str]]:
    """`["k=0,5", "rounds=0,1"]` → `{"k": ["0", "5"], "rounds": ["0", "1"]}`."""
    known = {f.name for f in fields(Settings)} - SECRET
    variations: dict[str, list[str]] = {}
    for term in (word for text in terms for word in text.split()):
        match = TERM.match(term)
        if not match:
            raise InputError(f"cannot read the variation {term!r}; write NAME=V1,V2 (e.g. k=0,5)")
        name, values = match.group(1), [v.strip() for v in match.group(2).split(",")]
        if name not in known:
            raise InputError(f"cannot vary {name!r}; settings: {', '.join(sorted(known))}")
        if name in variations:
            raise InputError(f"{name} is varied twice")
        if not all(values) or len(set(values)) != len(values):
            raise InputError(f"the values of {name} must be distinct and non-empty: {term!r}")
        variations[name] = values
    return variations


def configurations(
    terms: list[str], base: dict[str, Any] | None = None, project: Any = None
) -> list[EvalConfig]:
    """Every combination of the variations over the base settings (flags, then pictune.toml,
    then the user's settings, then the environment), each checked as `load_settings` would."""
    variations = parse_variations(terms)
    names = list(variations)
    result = []
    for values in itertools.product(*(variations[n] for n in names)) if names else [()]:
        varied = dict(zip(names, values, strict=True))
        config = load_settings({**(base or {}), **varied}, config_file=project)
        label = ", ".join(f"{n}={v}" for n, v in varied.items()) or "base"
        result.append(EvalConfig(label, varied, config))
    return result
