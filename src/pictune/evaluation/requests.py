"""How often are revision requests honoured? Every picture is composed once, then revised
with every request of a list; each checkable part of each request gets its verdict, and the
share honoured is reported per kind (tempo, key, mode, meter, instruments, dynamics, drums)
and per request. Outputs: requests.md (the tables) and requests.json (every verdict)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pictune.batch.runner import find_images
from pictune.errors import InputError
from pictune.pipeline.api import open_composer
from pictune.pipeline.config import Settings
from pictune.pipeline.record import REPORT, Composition

Progress = Callable[[int, int], None]


@dataclass
class Tally:
    honoured: int = 0
    checked: int = 0
    unchecked: int = 0  # parts the music cannot show (texture, articulation)

    @property
    def share(self) -> float | None:
        return self.honoured / self.checked if self.checked else None


@dataclass
class RequestEval:
    by_kind: dict[str, Tally] = field(default_factory=dict)
    by_request: dict[str, Tally] = field(default_factory=dict)
    # request → how many of its revisions changed nothing
    no_effect: dict[str, int] = field(default_factory=dict)
    failed: list[dict[str, str]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


def read_requests(path: Path) -> list[str]:
    """One request a line; blank lines and lines starting with # are skipped."""
    if not path.is_file():
        raise InputError(f"no such requests file: {path}")
    lines = [line.strip() for line in path.read_text("utf-8").splitlines()]
    requests = [line for line in lines if line and not line.startswith("#")]
    if not requests:
        raise InputError(f"{path} holds no requests (one a line)")
    return requests


def _original(composer: Any, image: Path, folder: Path, seed: int) -> Path:
    """The picture's composition, made once and reused by later runs."""
    if not (folder / REPORT).is_file():
        composer.compose(image, seed=seed).save(folder)
    return folder


def evaluate_requests(
    images_dir: Path,
    out: Path,
    settings: Settings,
    requests: list[str],
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[RequestEval, dict[str, Path]]:
    """Compose every picture (once), revise it with every request, tally the verdicts."""
    images = find_images(images_dir)
    if not images:
        raise InputError(f"no pictures in {images_dir}")
    composer = open_composer(settings)
    result = RequestEval()
    total, done = len(images) * len(requests), 0
    for image in images:
        folder = _original(composer, image, out / "originals" / image.stem, seed)
        for request in requests:
            try:
                revised = composer.revise(folder, request)
            except (InputError, ValueError, OSError) as exc:
                result.failed.append({"image": str(image), "request": request, "error": str(exc)})
                continue
            finally:
                done += 1
                if progress:
                    progress(done, total)
            _tally(result, str(image), request, revised)
    return result, _write(result, out)


def _tally(result: RequestEval, image: str, request: str, revised: Composition) -> None:
    lineage = revised.lineage
    if not revised.ok or lineage is None:
        result.failed.append({"image": image, "request": request, "error": revised.status})
        return
    per_request = result.by_request.setdefault(request, Tally())
    if not lineage.changes:
        result.no_effect[request] = result.no_effect.get(request, 0) + 1
    for check in lineage.checks:
        kind = result.by_kind.setdefault(check.aspect, Tally())
        for tally in (kind, per_request):
            if check.honoured is None:
                tally.unchecked += 1
            else:
                tally.checked += 1
                tally.honoured += int(check.honoured)
        result.rows.append({"image": image, "request": request, **check.to_dict()})


def _share(tally: Tally) -> str:
    share = tally.share
    return "–" if share is None else f"{share:.0%} ({tally.honoured}/{tally.checked})"


def markdown(result: RequestEval) -> str:
    """The two tables: share honoured per kind, then per request."""
    lines = ["| kind | honoured | not checkable |", "|---|---|---|"]
    for kind, tally in sorted(result.by_kind.items()):
        lines.append(f"| {kind} | {_share(tally)} | {tally.unchecked} |")
    lines += ["", "| request | honoured | changed nothing |", "|---|---|---|"]
    for request, tally in result.by_request.items():
        nothing = result.no_effect.get(request, 0)
        lines.append(f"| {request} | {_share(tally)} | {nothing} |")
    if result.failed:
        lines += ["", f"{len(result.failed)} revision(s) failed; see requests.json."]
    return "\n".join(lines) + "\n"


def _write(result: RequestEval, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"table": out / "requests.md", "json": out / "requests.json"}
    paths["table"].write_text(markdown(result), "utf-8")
    data = {
        "by_kind": {k: {**asdict(t), "share": t.share} for k, t in result.by_kind.items()},
        "by_request": {k: {**asdict(t), "share": t.share} for k, t in result.by_request.items()},
        "no_effect": result.no_effect,
        "failed": result.failed,
        "checks": result.rows,
    }
    paths["json"].write_text(json.dumps(data, indent=2), "utf-8")
    return paths
