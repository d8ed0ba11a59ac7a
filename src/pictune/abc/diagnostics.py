"""Structured findings about an ABC tune: what is wrong, where, and how bad."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any


class Severity(str, Enum):
    """How a finding affects the tune: an error breaks conversion or playback."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One finding: 1-based line and column in the tune text (0 when not tied to a place)."""

    severity: Severity
    line: int
    column: int
    message: str
    source: str  # "abc2midi" or "precheck"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data

    def __str__(self) -> str:
        where = f"{self.line}:{self.column}" if self.line else "-"
        return f"{where} {self.severity.value}: {self.message} [{self.source}]"


@dataclass(frozen=True)
class Fix:
    """One change made by `repair`: what kind of fault, where (1-based line), and what was done."""

    kind: str
    line: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind}: {self.message}" if self.line else self.message
