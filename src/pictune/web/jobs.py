"""The job table: one SQLite file in the data folder, so jobs survive a restart.

A job keeps what the page shows without opening its folder: the upload's original name,
the listener's choices, a digest of the picture (variations of one picture share it), the
stages its composer reported so far, and the finished piece's title."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, stage TEXT NOT NULL, created REAL NOT NULL,
    updated REAL NOT NULL, prompt TEXT, seed INTEGER NOT NULL, error TEXT, image TEXT NOT NULL
);
"""
# Columns added after the first release: a table from then gains them on opening.
ADDED = (
    ("name", "TEXT NOT NULL DEFAULT ''"),
    ("options", "TEXT NOT NULL DEFAULT '{}'"),
    ("picture", "TEXT NOT NULL DEFAULT ''"),
    ("stages", "TEXT NOT NULL DEFAULT '[]'"),
    ("title", "TEXT NOT NULL DEFAULT ''"),
)
ACTIVE = ("queued", "running")
COLUMNS = (
    "id, status, stage, created, updated, prompt, seed, error, image, "
    "name, options, picture, stages, title"
)


@dataclass(frozen=True)
class Job:
    id: str
    status: str  # queued, running, done, failed
    stage: str
    created: float
    updated: float
    prompt: str | None
    seed: int
    error: str | None
    image: str
    name: str = ""  # the upload's original file name
    options: str = "{}"  # the listener's choices, as JSON
    picture: str = ""  # digest of the uploaded picture
    stages: str = "[]"  # stages reported so far, as JSON
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["options"] = json.loads(self.options)
        data["stages"] = json.loads(self.stages)
        return data


class JobStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        self._closed = False
        with self._lock:
            self._db.executescript(SCHEMA)
            have = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
            for name, kind in ADDED:
                if name not in have:
                    self._db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")
            # A job that was running when the server stopped did not finish: say so.
            self._db.execute(
                "UPDATE jobs SET status='failed', updated=?, "
                "error='the server stopped while this job ran' "
                "WHERE status IN ('queued', 'running')",
                (time.time(),),
            )
            self._db.commit()

    def create(
        self,
        prompt: str | None,
        seed: int,
        image: str,
        *,
        name: str = "",
        options: dict[str, Any] | None = None,
        picture: str = "",
    ) -> Job:
        now = time.time()
        job = Job(
            uuid.uuid4().hex, "queued", "queued", now, now, prompt, seed, None, image,
            name, json.dumps(options or {}), picture,
        )  # fmt: skip
        row = asdict(job)
        with self._lock:
            self._db.execute(
                f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
            self._db.commit()
        return job

    def update(self, job_id: str, **changes: Any) -> None:
        changes["updated"] = time.time()
        columns = ", ".join(f"{name} = ?" for name in changes)
        with self._lock:
            if self._closed:  # a worker finishing after shutdown: the restart marks it failed
                return
            self._db.execute(f"UPDATE jobs SET {columns} WHERE id = ?", (*changes.values(), job_id))
            self._db.commit()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            if self._closed:
                return None
            row = self._db.execute(f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Job(*row) if row else None

    def add_stage(self, job_id: str, stage: str) -> None:
        """Record that the job reached `stage` (each stage once, in the order reached)."""
        job = self.get(job_id)
        if job is None:
            return
        seen = json.loads(job.stages)
        self.update(
            job_id, stage=stage, stages=json.dumps([*seen, stage] if stage not in seen else seen)
        )

    def position(self, job: Job) -> int:
        """1 for the next queued job to start, 2 for the one after it, …"""
        with self._lock:
            (ahead,) = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND created < ?",
                (job.created,),
            ).fetchone()
        return int(ahead) + 1

    def variations(self, picture: str) -> list[Job]:
        """Every job of one picture, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {COLUMNS} FROM jobs WHERE picture = ? ORDER BY created", (picture,)
            ).fetchall()
        return [Job(*row) for row in rows]

    def history(self, limit: int = 100) -> list[Job]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {COLUMNS} FROM jobs ORDER BY created DESC LIMIT ?", (limit,)
            ).fetchall()
        return [Job(*row) for row in rows]

    def active(self) -> int:
        with self._lock:
            (count,) = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')"
            ).fetchone()
        return int(count)

    def delete(self, job_id: str) -> bool:
        with self._lock:
            deleted = self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount
            self._db.commit()
        return bool(deleted)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._db.close()


def job_links(job_id: str) -> dict[str, str]:
    """Where a job's record, its event stream and its page are."""
    return {
        "self": f"/api/compositions/{job_id}",
        "events": f"/api/compositions/{job_id}/events",
        "page": f"/c/{job_id}",
    }
