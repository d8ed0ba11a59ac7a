"""What every backend's revision shares: reading a request into checkable parts, the
lineage record, the words that explain a revision, and walking a chain of revisions.

A request is read by the offline prompt understanding against a plan: the parent's own plan
for the offline composer, or one read from the parent's ABC (key, meter, tempo, instruments,
dynamics) for a vision-language model, so both are checked against the same reading."""

from __future__ import annotations

import re
from pathlib import Path

from pictune.abc.headers import tempo_qpm
from pictune.abc.text import header_fields
from pictune.errors import InputError
from pictune.explain.request import Ask, RequestCheck
from pictune.models.offline.plan import PROGRAM_NAMES, MusicalPlan
from pictune.models.offline.request import RevisedPlan, revise_plan_for
from pictune.music.keys import instrument_name
from pictune.pipeline.record import REPORT, Composition, Lineage

MAX_REQUEST = 2000
DYNAMIC_MARK = re.compile(r"!(pp|p|mp|mf|f|ff)!")


def clean_request(request: str) -> str:
    """The request as given, trimmed; an empty or overlong one is refused in one line."""
    text = " ".join(request.split())
    if not text:
        raise InputError("the revision request is empty: say what to change, e.g. 'slower'")
    if len(text) > MAX_REQUEST:
        raise InputError(f"the revision request is {len(text)} characters; at most {MAX_REQUEST}")
    return text


def asks_for(before: MusicalPlan, after: MusicalPlan, heard: dict[str, str]) -> list[Ask]:
    """The checkable parts of a request whose reading turned `before` into `after`; `heard`
    maps each aspect the request spoke to (tempo, key, mode, mood …) to its words."""
    asks: list[Ask] = []
    for aspect, words in heard.items():
        if aspect == "tempo" or (aspect == "mood" and before.tempo_qpm != after.tempo_qpm):
            asks.append(Ask("tempo", words, str(after.tempo_qpm)))
        if aspect == "key":
            asks.append(Ask("key", words, f"{after.tonic} {after.mode}"))
        if aspect == "mode" or (aspect == "mood" and before.mode != after.mode):
            asks.append(Ask("mode", words, after.mode))
        if aspect == "meter":
            asks.append(Ask("meter", words, after.meter))
        if aspect == "instruments":
            parts = ("melody_program", "accompaniment_program", "bass_program")
            moved = [getattr(after, p) for p in parts if getattr(after, p) != getattr(before, p)]
            names = dict.fromkeys(instrument_name(p) for p in moved or [after.melody_program])
            asks.append(Ask("instruments", words, ", ".join(names)))
        if aspect == "dynamics" or (aspect == "mood" and before.dynamic != after.dynamic):
            asks.append(Ask("dynamics", words, after.dynamic))
        if aspect == "percussion" or (aspect == "mood" and before.percussion != after.percussion):
            asks.append(Ask("percussion", words, "yes" if after.percussion else "no"))
        if aspect in ("texture", "articulation"):
            asks.append(Ask(aspect, words, after.texture if aspect == "texture" else "–"))
    return asks


def plan_from_abc(abc: str) -> MusicalPlan:
    """A plan holding what a tune's ABC says (key, meter, tempo, instruments, dynamics), so a
    request can be read against any tune, whoever wrote it."""
    fields = header_fields(abc)
    key = fields.get("K", "C").split()[0] if fields.get("K", "").strip() else "C"
    minor = key.endswith("m") and not key.endswith("maj")
    tonic = key[:-1] if minor else key
    tonic = tonic if re.fullmatch(r"[A-G][#b]?", tonic) else "C"
    programs = [int(p) for p in re.findall(r"%%MIDI program (\d+)", abc)] or [0]
    programs += [programs[-1]] * (3 - len(programs))
    marks = DYNAMIC_MARK.findall(abc)
    tempo = tempo_qpm(fields["Q"]) if "Q" in fields else None
    return MusicalPlan(
        tonic=tonic,
        mode="minor" if minor else "major",
        tempo_qpm=round(tempo) if tempo else 120,
        meter=fields.get("M", "4/4").strip(),
        melody_centre=72,
        notes_per_beat=2.0,
        dynamic=marks[0] if marks and marks[0] in ("p", "mp", "mf", "f") else "mf",
        legato=False,
        melody_program=programs[0],
        accompaniment_program=programs[1],
        bass_program=programs[2],
        form="A",
        bars=16,
        valence=0.5,
        arousal=0.5,
        melody_tonic=60,
    )


def read_request(abc: str, request: str) -> RevisedPlan:
    """A request read against any tune (no melody is kept: a model rewrites the tune)."""
    return revise_plan_for(plan_from_abc(abc), [], request)


def revision_text(
    parent: Composition,
    request: str,
    changes: tuple[str, ...],
    kept: tuple[str, ...],
    unused: tuple[str, ...],
) -> str:
    """The motivation's first paragraph for a revision: asked, changed, kept, unheard."""
    title = parent.title or "the piece"
    sentences = [f"This revises “{title}” as asked: “{request}”."]
    if changes:
        sentences.append("Changed: " + "; ".join(changes) + ".")
    else:
        sentences.append("Nothing in the music changed.")
    if kept:
        sentences.append("Kept: " + "; ".join(kept) + ".")
    if unused:
        sentences.append(f"Your request had no effect on: {', '.join(unused)}.")
    return " ".join(sentences)


def now_sentence(plan: MusicalPlan) -> str:
    """What the revised piece is, in words the claim checker can verify."""
    melody = PROGRAM_NAMES.get(plan.melody_program, "piano")
    return (
        f"It is now in {plan.tonic} {plan.mode}, in {plan.meter}, at {plan.tempo_qpm} "
        f"quarter notes a minute, with the melody on the {melody}."
    )


def lineage_for(
    parent: Composition,
    folder: str | Path | None,
    request: str,
    changes: tuple[str, ...],
    kept: tuple[str, ...],
    unused: tuple[str, ...],
    checks: tuple[RequestCheck, ...],
) -> Lineage:
    generation = parent.lineage.generation + 1 if parent.lineage else 1
    return Lineage(
        parent=str(Path(folder).resolve()) if folder else "",
        parent_title=parent.title,
        request=request,
        changes=changes,
        kept=kept,
        unused=unused,
        checks=checks,
        generation=generation,
    )


def load_parent(parent: Composition | str | Path) -> tuple[Composition, Path | None]:
    """A composition to revise and its folder (None when given the record itself)."""
    if isinstance(parent, Composition):
        record, folder = parent, None
    else:
        folder = Path(parent)
        if not (folder / REPORT).is_file():
            raise InputError(f"{folder} holds no {REPORT}: give a folder `pictune compose` wrote")
        try:
            record = Composition.load(folder)
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{folder / REPORT} cannot be read: {exc}") from exc
    if not record.ok or not record.abc:
        raise InputError("only a finished composition can be revised; this one " + record.status)
    return record, folder


def chain(folder: str | Path, limit: int = 1000) -> list[tuple[Path, Composition]]:
    """The folder's composition and each parent before it, newest first; it stops at the
    original, or at a parent folder that is gone (its path is then the last entry's)."""
    entries: list[tuple[Path, Composition]] = []
    current: Path | None = Path(folder).resolve()
    seen: set[Path] = set()
    while current is not None and current not in seen and len(entries) < limit:
        seen.add(current)
        if not (current / REPORT).is_file():
            if not entries:
                raise InputError(f"{current} holds no {REPORT}")
            break
        record = Composition.load(current)
        entries.append((current, record))
        lineage = record.lineage
        current = Path(lineage.parent) if lineage and lineage.parent else None
    return entries


def next_folder(folder: str | Path) -> Path:
    """Where a revision of `folder` goes by default: beside it, named `<name>.r<N>` with the
    next free N (a revision of `photo.r1` is `photo.r2`)."""
    folder = Path(folder).resolve()
    stem = re.sub(r"\.r\d+$", "", folder.name)
    number = 1
    match = re.search(r"\.r(\d+)$", folder.name)
    if match:
        number = int(match.group(1)) + 1
    while (folder.parent / f"{stem}.r{number}").exists():
        number += 1
    return folder.parent / f"{stem}.r{number}"
