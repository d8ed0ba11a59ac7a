"""Structured findings about an ABC tune: what is wrong, where, and how bad."""

from __future__ import annotations

from collections.abc import Sequence
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


def merge_repeated(diagnostics: Sequence[Diagnostic], keep: int = 1) -> list[Diagnostic]:
    """One line per message: a message repeated at many places is shown once, with a count.

    abc2midi prints some faults at every note they touch ("Channel limit exceeded" thousands
    of times in a large score); a reader needs the first place and how many more there are.
    """
    groups: dict[tuple[str, Severity, str], list[Diagnostic]] = {}
    for diag in diagnostics:
        groups.setdefault((diag.source, diag.severity, diag.message), []).append(diag)
    merged = []
    for (source, severity, message), items in groups.items():
        merged.extend(items[:keep])
        if len(items) > keep:
            lines = sorted({d.line for d in items[keep:] if d.line})
            where = f" (lines {lines[0]}–{lines[-1]})" if len(lines) > 1 else ""
            where = f" (line {lines[0]})" if len(lines) == 1 else where
            extra = len(items) - keep
            merged.append(
                Diagnostic(severity, 0, 0, f"{message}: {extra} more time(s){where}", source)
            )
    return sorted(merged, key=lambda d: (d.line == 0, d.line, d.column))
