"""Revisions over HTTP: `POST /api/compositions/{id}/revisions` with `{"request": "…"}`
queues a job that revises a finished composition; the new job is a composition of its own
(its files, permalink and downloads, like any other) whose JSON carries its lineage.

Which job revises which is kept in its own small table (`revisions.sqlite` in the data
folder), so the job table stays as it is; the verdicts come from the new report.json."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from pictune.pipeline.record import REPORT, Composition
from pictune.web.jobs import Job, JobStore, job_links

TABLE = """
CREATE TABLE IF NOT EXISTS revisions (
    id TEXT PRIMARY KEY, parent TEXT NOT NULL, request TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS revisions_parent ON revisions (parent);
"""
MAX_REQUEST = 500


class RevisionBody(BaseModel):
    """What a client sends: the change in words, and optionally a seed for a new melody."""

    request: str = Field(min_length=1, max_length=MAX_REQUEST)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


class RevisionTable:
    """job id → (parent job id, request), persisted beside the job table."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(TABLE)
            self._db.commit()

    def add(self, job_id: str, parent: str, request: str) -> None:
        with self._lock:
            self._db.execute("INSERT INTO revisions VALUES (?,?,?)", (job_id, parent, request))
            self._db.commit()

    def of(self, job_id: str) -> tuple[str, str] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT parent, request FROM revisions WHERE id = ?", (job_id,)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def children(self, job_id: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM revisions WHERE parent = ? ORDER BY rowid", (job_id,)
            ).fetchall()
        return [row[0] for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def lineage_json(
    table: RevisionTable, job: Job, folder: Path, exists: Callable[[str], bool]
) -> dict[str, Any]:
    """What a job's JSON says of its lineage: its parent and request (a revision), the
    changes and verdicts once it is done, and the revisions made of it. Versions deleted
    since (`exists` says no) are not linked: a parent's id stays, marked deleted."""
    data: dict[str, Any] = {"revisions": [c for c in table.children(job.id) if exists(c)]}
    found = table.of(job.id)
    if found is None:
        data["lineage"] = None
        return data
    parent, request = found
    lineage: dict[str, Any] = {"parent": parent, "request": request}
    if exists(parent):
        lineage["links"] = {"parent": f"/api/compositions/{parent}"}
    else:
        lineage["parent_deleted"] = True
    report = folder / REPORT
    if job.status == "done" and report.is_file():
        recorded = json.loads(report.read_text("utf-8")).get("lineage") or {}
        for key in ("changes", "kept", "unused", "checks", "generation"):
            lineage[key] = recorded.get(key)
    data["lineage"] = lineage
    return data


def add_revision_routes(
    app: FastAPI,
    *,
    store: JobStore,
    table: RevisionTable,
    found: Callable[[str], Job],
    job_dir: Callable[[str], Path],
    derive: Callable[[Job, int], Awaitable[Job]],
    start: Callable[[Job, Callable[[Job], Composition]], object],
    revise: Callable[..., Composition],
) -> None:
    """Register the revision route. `derive` makes a job from its parent (its words and
    choices, its picture copied; 429 when the queue is full); `start` runs a job's work in
    the pool; `revise` is the composer's."""

    @app.post("/api/compositions/{job_id}/revisions", status_code=202)
    async def submit_revision(job_id: str, body: RevisionBody) -> dict[str, Any]:
        parent = found(job_id)
        if parent.status != "done":
            raise HTTPException(409, f"composition {job_id} is {parent.status}, not finished")
        request = " ".join(body.request.split())
        if not request:
            raise HTTPException(422, "request: say what to change, e.g. 'slower'")
        seed = parent.seed if body.seed is None else body.seed
        # Not one of the picture's seed variations (no `picture`): a version of this piece.
        job = await derive(parent, seed)
        table.add(job.id, parent.id, request)

        def work(current: Job) -> Composition:
            return revise(
                job_dir(parent.id), request, seed=body.seed,
                progress=lambda stage: store.add_stage(current.id, stage),
            )  # fmt: skip

        start(job, work)
        return {
            "id": job.id,
            "status": job.status,
            "lineage": {"parent": parent.id, "request": request},
            "links": {**job_links(job.id), "parent": f"/api/compositions/{parent.id}"},
        }
