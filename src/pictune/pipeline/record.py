"""The Composition record: everything one run did, for every backend, saved by one output step.

`report.json` is this record as JSON (schema `SCHEMA`, documented in the README); the same
files are written whoever made the composition (`Composition.save`) and read back by
`Composition.load`. Backend-specific facts live in a named, typed slot (`offline`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pictune.explain.request import RequestCheck
from pictune.music.findings import Finding, Severity

SCHEMA = 3
READABLE = (2, 3)  # schema 2 is schema 3 without revisions: it loads with no lineage
REPORT = "report.json"
Grid = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class OutputFile:
    """One file of a saved composition: its name, media type and what it holds."""

    key: str
    name: str
    media_type: str
    holds: str
    always: bool = True  # False: written only when the run has it (a heat-map, a tune)


OUTPUT_FILES = (
    OutputFile("abc", "music.abc", "text/plain; charset=utf-8", "the tune in ABC notation", False),
    OutputFile("mid", "music.mid", "audio/midi", "the tune as MIDI", False),
    OutputFile("wav", "music.wav", "audio/wav", "the tune played through General MIDI", False),
    OutputFile("svg", "score.svg", "image/svg+xml", "the engraved score", False),
    OutputFile(
        "musicxml",
        "music.musicxml",
        "application/vnd.recordare.musicxml+xml",
        "the score for notation programs",
        False,
    ),
    OutputFile(
        "picture",
        "picture.png",
        "image/png",
        "the picture, when it was given in memory rather than as a file",
        False,
    ),
    OutputFile(
        "heatmap", "heatmap.png", "image/png", "which parts of the picture drove the music", False
    ),
    OutputFile(
        "phrases", "phrases.png", "image/png", "what each phrase of the reply attended to", False
    ),
    OutputFile(
        "motivation",
        "motivation.txt",
        "text/plain; charset=utf-8",
        "why the music sounds as it does",
    ),
    OutputFile(
        "json",
        REPORT,
        "application/json",
        "this record: every prompt, reply, round, metric and timing",
    ),
    OutputFile(
        "report", "report.html", "text/html; charset=utf-8", "everything on one self-contained page"
    ),
)
MUSIC_FORMATS = ("abc", "mid", "wav", "svg", "musicxml")


@dataclass(frozen=True)
class Reference:
    """A retrieved (caption, music) example and how it was found."""

    id: str
    caption: str
    score: float
    matches: dict[str, Any]  # query name → [rank, cosine similarity]
    title: str | None = None
    cut: bool = False  # shown to the model shortened to the prompt budget
    abc_in_prompt: str = ""  # what the model saw (empty for the offline composer)


@dataclass(frozen=True)
class Round:
    """One step that produced or judged a tune: a model call, or an offline draft."""

    kind: str  # describe, compose, correct, refine (a VLM); draft, refine (offline)
    prompt: str
    reply: str
    seconds: float
    abc: str | None = None
    valid: bool = False
    diagnostics: tuple[dict[str, Any], ...] = ()
    fixes: tuple[dict[str, Any], ...] = ()
    metrics: dict[str, Any] | None = None
    distance: float | None = None
    shared_run: int | None = None  # longest melody run shared with a reference
    motivation: str = ""
    attention: Grid | None = None  # image-attention grid of the call
    claims: tuple[dict[str, Any], ...] = ()  # motivation claims checked against the tune
    phrase_attention: dict[str, Any] | None = None  # label → grid, per phrase and sentence
    changes: tuple[str, ...] = ()  # what this round changed (offline: plan revisions)
    accepted: bool | None = None  # whether it became the best candidate so far
    attempts: int = 1  # drafts tried for this round (offline: redrawn while it copied)
    melody_metrics: dict[str, Any] | None = None  # the melody voice alone
    findings: tuple[Finding, ...] = ()  # the music critic's, worst first
    penalty: float | None = None  # the critic's severity-weighted count (lower is better)
    rates: dict[str, Any] | None = None  # the critic's rates (chord tones on strong beats …)
    # constrained decoding: {"constrained", "grammar_version", "mask_us_per_token", "note" …}
    constraint: dict[str, Any] | None = None


@dataclass(frozen=True)
class Refinement:
    """The yardstick the rounds were measured against, and why refinement stopped."""

    ranges: dict[str, tuple[float, float]]
    ranges_from: str
    stopped: str = ""


@dataclass(frozen=True)
class OfflineDetails:
    """What the offline composer measured and planned (its slot in the record)."""

    measurements: dict[str, Any]
    plan: dict[str, Any]
    form: str
    model: dict[str, Any]  # the melody model's size: tunes, contexts, tokens
    query: str  # the plan written as a caption, searched against the corpus
    # the chosen piece's melody as (start, length, MIDI pitch, on a beat: 0/1), sixteenths,
    # and the seed that drew it: what a revision keeps (empty in records before schema 3)
    melody: tuple[tuple[int, int, int, int], ...] = ()
    draft_seed: int | None = None


@dataclass(frozen=True)
class Lineage:
    """Where a revision came from: its parent, the request in words, what it changed and
    kept, and whether each checkable part of the request was honoured."""

    parent: str  # the parent's folder (absolute, as it was when revised)
    parent_title: str
    request: str
    changes: tuple[str, ...]
    kept: tuple[str, ...] = ()
    unused: tuple[str, ...] = ()  # the request's words that changed nothing
    checks: tuple[RequestCheck, ...] = ()
    generation: int = 1  # 1: a revision of an original, 2: of a revision …


@dataclass(frozen=True)
class Composition:
    """A finished (or failed) run of any backend."""

    status: str  # "ok" or "failed: …"
    abc: str | None
    motivation: str
    description: str
    image: str  # the picture's file ("" when it was given in memory: see `picture`)
    prompt: str | None
    backend: str
    seed: int
    references: tuple[Reference, ...]
    rounds: tuple[Round, ...]
    chosen_round: int | None
    title: str = ""
    heatmap: Grid | None = None  # the picture's heat-map grid (rows × columns)
    refinement: Refinement | None = None
    corpus: str = ""
    embedder: str = ""
    model_calls: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    engines: dict[str, str] = field(default_factory=dict)
    offline: OfflineDetails | None = None
    lineage: Lineage | None = None  # set on a revision
    version: str = ""
    schema: int = SCHEMA
    midi: bytes | None = field(default=None, compare=False, repr=False)  # not serialised
    # The picture (PIL), kept only when it was given in memory: saving writes it as
    # picture.png, so the report, the heat-map and a later revision can find it. Not serialised.
    picture: Any = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def chosen(self) -> Round | None:
        return self.rounds[self.chosen_round] if self.chosen_round is not None else None

    def file_keys(self) -> tuple[str, ...]:
        """The `OUTPUT_FILES` keys its folder holds once saved: the music files when there is
        a tune, the heat-maps when the run has their grids, and the rest always."""
        chosen = self.chosen
        has = {
            **dict.fromkeys(MUSIC_FORMATS, bool(self.abc)),
            "picture": not self.image and self.picture is not None,
            "heatmap": self.heatmap is not None,
            "phrases": bool(chosen and chosen.phrase_attention),
        }
        return tuple(f.key for f in OUTPUT_FILES if f.always or has[f.key])

    def to_dict(self) -> dict[str, Any]:
        """The record's JSON form (what report.json holds; the MIDI is saved beside it)."""
        data = asdict(replace(self, midi=None, picture=None))
        del data["midi"], data["picture"]
        normalised: dict[str, Any] = json.loads(json.dumps(data, default=str))
        return normalised

    def save(self, folder: str | Path, picture: Any = None) -> dict[str, Path]:
        """Write every file of `OUTPUT_FILES` the run has into `folder`; return them by key.

        The tune's MIDI from validation is reused (no second conversion); `picture` (a PIL
        image) saves reloading the picture for the heat-map. A picture given in memory is
        written as picture.png, and report.json names that file as the run's image."""
        from pictune.pipeline.output import save_composition

        return save_composition(self, Path(folder), picture)

    @classmethod
    def load(cls, folder: str | Path) -> Composition:
        """The record a folder's report.json holds (the MIDI is read from music.mid)."""
        folder = Path(folder)
        data = json.loads((folder / REPORT).read_text("utf-8"))
        record = from_dict(data)
        midi = folder / "music.mid"
        return replace(record, midi=midi.read_bytes()) if midi.is_file() else record


def _grid(value: Any) -> Grid | None:
    return tuple(tuple(float(v) for v in row) for row in value) if value else None


def from_dict(data: dict[str, Any]) -> Composition:
    """A Composition from its JSON form (raises ValueError on a schema it cannot read)."""
    if data.get("schema") not in READABLE:
        raise ValueError(
            f"report.json has schema {data.get('schema')!r}; pictune reads "
            + " and ".join(str(n) for n in READABLE)
        )
    data = {**data, "schema": SCHEMA}
    rounds = tuple(
        Round(
            **{
                **r,
                "diagnostics": tuple(r["diagnostics"]),
                "fixes": tuple(r["fixes"]),
                "claims": tuple(r["claims"]),
                "changes": tuple(r["changes"]),
                "attention": _grid(r["attention"]),
                "findings": tuple(
                    Finding(**{**f, "severity": Severity(f["severity"])}) for f in r["findings"]
                ),
            }
        )
        for r in data.pop("rounds")
    )
    references = tuple(Reference(**r) for r in data.pop("references"))
    refinement = data.pop("refinement")
    offline = data.pop("offline")
    lineage = data.pop("lineage", None)
    known = {f.name for f in fields(Composition)}
    return Composition(
        rounds=rounds,
        references=references,
        heatmap=_grid(data.pop("heatmap")),
        refinement=Refinement(
            {k: (float(v[0]), float(v[1])) for k, v in refinement["ranges"].items()},
            refinement["ranges_from"],
            refinement["stopped"],
        )
        if refinement
        else None,
        offline=_offline(offline) if offline else None,
        lineage=_lineage(lineage) if lineage else None,
        **{k: v for k, v in data.items() if k in known},
    )


def _offline(data: dict[str, Any]) -> OfflineDetails:
    melody = tuple(tuple(int(v) for v in note) for note in data.get("melody", ()))
    return OfflineDetails(**{**data, "melody": melody})


def _lineage(data: dict[str, Any]) -> Lineage:
    return Lineage(
        **{
            **data,
            "changes": tuple(data["changes"]),
            "kept": tuple(data["kept"]),
            "unused": tuple(data["unused"]),
            "checks": tuple(RequestCheck(**c) for c in data["checks"]),
        }
    )
