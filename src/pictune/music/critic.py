"""The music critic: what a musician would object to in a tune, at a bar and beat, with the
rates that compare it to real music (see `benchmarks/bench_critic.py` for reference values).

`review(score, abc)` reads a Score the caller already has, with the tune's ABC text when there
is one (chord symbols, ties, beams and written bars come only from the text);
`review_abc(text)` converts once and reviews.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from pictune.abc.timeline import Timeline
from pictune.music.analysis import Analysis, analyse
from pictune.music.cadences import check_cadences
from pictune.music.consonance import check_bass_roots, check_strong_beats
from pictune.music.findings import Checked, Finding, Rate, Severity
from pictune.music.keys import Key
from pictune.music.notation import check_beams, check_beat_crossings
from pictune.music.repetition import check_repetition
from pictune.music.score import Score
from pictune.music.voicing import (
    check_augmented_seconds,
    check_crossing,
    check_parallels,
    check_ranges,
    check_under_bass,
    check_unisons,
    melody_rates,
)

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTE: 2}


@dataclass(frozen=True)
class Rates:
    """Measurements a musician's rules imply; None where a piece gives no evidence (no bass,
    no ABC text, no strong beat under a chord …)."""

    strong_beat_chord_tones: float | None
    bass_root_on_downbeats: float | None
    untied_beat_crossings: float | None  # share of written notes (needs the ABC text)
    ledger_lines_per_note: float | None
    bass_notes_over_two_ledger_lines: float | None
    bass_above_melody: float | None  # share of moments where both sound
    melody_unisons: float | None
    melody_range: int | None
    melody_steps: float | None
    melody_leaps: float | None
    repeated_bars: float | None
    melody_ends_on_tonic: bool | None
    bass_ends_on_tonic: bool | None
    accompaniment_under_bass: float | None = None  # share of moments both sound

    def to_dict(self) -> dict[str, Rate]:
        return asdict(self)


@dataclass(frozen=True)
class Review:
    """The critic's verdict on one piece: findings (worst first) and rates."""

    findings: tuple[Finding, ...]
    rates: Rates
    key: str
    melody: str  # the melody voice's label
    bass: str  # the bass voice's label ('' for a single line)
    harmony: str  # "symbols" or "inferred"

    @property
    def penalty(self) -> float:
        """Severity-weighted count of findings, for choosing between candidates (lower wins)."""
        return sum(f.severity.weight for f in self.findings)

    def count(self, severity: Severity) -> int:
        return sum(f.severity is severity for f in self.findings)

    def fixes(self, limit: int = 12, minimum: Severity = Severity.WARNING) -> list[str]:
        """Concrete one-line fixes, worst first, at most `limit` (see `fix_lines`)."""
        return fix_lines(self.findings, limit, minimum)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "melody": self.melody,
            "bass": self.bass,
            "harmony": self.harmony,
            "penalty": self.penalty,
            "rates": self.rates.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
        }


MAX_PLACES = 4  # places named on one line of fixes


def fix_lines(
    findings: tuple[Finding, ...], limit: int = 12, minimum: Severity = Severity.WARNING
) -> list[str]:
    """Concrete one-line fixes, worst first, at most `limit`: findings that say the same
    thing in several places share one line ('bar 1, beat 2; bar 5, beat 2 (Horn): …')."""
    allowed = _ORDER[minimum]
    groups: dict[tuple[str, str, str, str], list[Finding]] = {}
    for finding in findings:
        if _ORDER[finding.severity] <= allowed:
            key = (finding.rule, finding.voice, finding.message, finding.advice)
            groups.setdefault(key, []).append(finding)
    return [_joined(group) for group in list(groups.values())[:limit]]


def _joined(group: list[Finding]) -> str:
    """One line for findings that differ only in place."""
    places = list(dict.fromkeys(f.place for f in group if f.place))
    if len(places) < 2:
        return group[0].fix()
    first = group[0]
    where = "; ".join(places[:MAX_PLACES])
    if len(places) > MAX_PLACES:
        where += f" and {len(places) - MAX_PLACES} more places"
    if first.voice:
        where += f" ({first.voice})"
    text = f"{first.message}; {first.advice}" if first.advice else first.message
    return f"{where}: {text}"


def _checks(analysis: Analysis) -> list[Checked]:
    checks = [
        check_cadences(analysis),
        check_strong_beats(analysis),
        check_bass_roots(analysis),
        check_crossing(analysis),
        check_under_bass(analysis),
        check_unisons(analysis),
        check_ranges(analysis),
        check_parallels(analysis),
        check_augmented_seconds(analysis),
        check_repetition(analysis),
        Checked((), dict(melody_rates(analysis.melody))),
    ]
    if analysis.timeline is not None:
        checks += [check_beat_crossings(analysis.timeline), check_beams(analysis.timeline)]
    return checks


def review(score: Score, abc: str | Timeline | None = None, *, key: Key | None = None) -> Review:
    """Review a piece: its Score and, when there is one, its ABC text (or its read Timeline).

    `key` overrides the key read from the K: field or the key signature.
    """
    analysis = analyse(score, abc, key=key)
    if not analysis.voices.voices:
        empty = {f.name: None for f in fields(Rates)}
        return Review((), Rates(**empty), analysis.key.name, "", "", analysis.harmony.source)
    findings: list[Finding] = []
    rates: dict[str, Rate] = {f.name: None for f in fields(Rates)}
    for checked in _checks(analysis):
        findings.extend(checked.findings)
        rates.update(checked.rates)
    # A repeated passage is played twice but written once: report each finding once.
    findings = list(dict.fromkeys(findings))
    findings.sort(key=lambda f: (_ORDER[f.severity], f.bar, f.beat))
    return Review(
        tuple(findings),
        Rates(**rates),  # type: ignore[arg-type]
        analysis.key.name,
        analysis.melody_label,
        analysis.bass_label,
        analysis.harmony.source,
    )


def review_abc(text: str) -> Review:
    """Convert an ABC tune once and review it; AbcError when abc2midi cannot play it."""
    return review(Score.from_abc(text), text)
