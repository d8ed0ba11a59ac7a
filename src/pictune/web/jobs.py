"""The job table: one SQLite file in the data folder, so jobs survive a restart."""

from __future__ import annotations

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
ACTIVE = ("queued", "running")


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class JobStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        self._closed = False
        with self._lock:
            self._db.executescript(SCHEMA)
            # A job that was running when the server stopped did not finish: say so.
            self._db.execute(
                "UPDATE jobs SET status='failed', updated=?, "
                "error='the server stopped while this job ran' "
                "WHERE status IN ('queued', 'running')",
                (time.time(),),
            )
            self._db.commit()

    def create(self, prompt: str | None, seed: int, image: str) -> Job:
        now = time.time()
        job = Job(uuid.uuid4().hex, "queued", "queued", now, now, prompt, seed, None, image)
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs VALUES (?,?,?,?,?,?,?,?,?)", tuple(asdict(job).values())
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
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Job(*row) if row else None

    def history(self, limit: int = 100) -> list[Job]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM jobs ORDER BY created DESC LIMIT ?", (limit,)
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
