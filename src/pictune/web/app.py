"""The HTTP API and the page: FastAPI over the same Python API as the CLI.

Jobs run in a bounded worker pool off the event loop; jobs and files persist in the data
folder. The backend and model are server configuration: a client cannot choose them, nor
make the server contact a URL."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pictune.errors import PictuneError
from pictune.images import MAX_PIXELS, load_image
from pictune.pipeline.api import Composer
from pictune.pipeline.record import OUTPUT_FILES, Composition
from pictune.web.jobs import Job, JobStore
from pictune.web.limits import Admission, BodyLimit, return_memory
from pictune.web.revisions import RevisionTable, add_revision_routes, lineage_json

log = logging.getLogger(__name__)
MAX_SIDE = 4096  # pixels a side an upload is kept at (decoded at reduced scale when JPEG)
# What a client may download: every file the one output step writes, and the upload.
FILES = {
    **{f.key: (f.name, f.media_type) for f in OUTPUT_FILES},
    "upload": ("upload.png", "image/png"),
}


@dataclass
class ServerSettings:
    data_dir: Path
    workers: int = 2
    max_queue: int = 16  # jobs queued or running; beyond this a submission gets 429
    max_upload_bytes: int = 20 << 20
    max_decodes: int = 2  # images decoded at once (a 49-megapixel PNG needs about 150 MB)
    body_timeout_s: float = 30.0  # longest wait for the next piece of a request body
    job_timeout_s: float = 600.0
    token: str | None = None
    composer: Any = None  # a Composer; default: the one the server's configuration names
    extra: dict[str, Any] = field(default_factory=dict)


def problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def configured_composer() -> Composer:
    """The composer the server's configuration names (pictune.toml or PICTUNE_* variables),
    opened once: any backend, through the one Composer protocol. Clients never choose."""
    from pictune.pipeline.api import open_composer
    from pictune.pipeline.config import load_settings

    return open_composer(load_settings())


def create_app(settings: ServerSettings) -> FastAPI:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = JobStore(settings.data_dir / "jobs.sqlite")
    revisions = RevisionTable(settings.data_dir / "revisions.sqlite")
    pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="pictune-job")
    composer: Composer = settings.composer or configured_composer()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        pool.shutdown(wait=False, cancel_futures=True)
        store.close()
        revisions.close()

    app = FastAPI(
        title="pictune",
        version="0.1.0",
        description="A picture → music, explained.",
        lifespan=lifespan,
    )
    app.state.store, app.state.pool = store, pool
    admission = Admission(settings.max_queue, store.active)
    decodes = asyncio.Semaphore(settings.max_decodes)
    # The form around the image (boundaries, prompt, seed) needs a few KB more than the image.
    app.add_middleware(
        BodyLimit,
        limit=settings.max_upload_bytes + (64 << 10),
        read_timeout_s=settings.body_timeout_s,
    )

    # Starlette's own HTTPException too: unrouted paths, wrong methods, broken multipart bodies.
    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            exc.status_code,
            {
                400: "Bad request",
                401: "Unauthorized",
                404: "Not found",
                405: "Method not allowed",
                409: "Conflict",
                413: "Too large",
                415: "Unsupported media",
                429: "Too many jobs",
            }.get(exc.status_code, "Error"),
            str(exc.detail),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        return problem(
            422,
            "Invalid request",
            f"{'.'.join(str(p) for p in first.get('loc', []))}: {first.get('msg', 'invalid')}",
        )

    @app.exception_handler(Exception)
    async def internal_problem(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem(500, "Internal error", "the server failed; see its log")

    @app.middleware("http")
    async def require_token(request: Request, call_next: Any) -> Any:
        api = request.url.path.startswith("/api/")
        if (
            settings.token
            and api
            and request.headers.get("authorization") != f"Bearer {settings.token}"
        ):
            return problem(401, "Unauthorized", "a bearer token is required (PICTUNE_API_TOKEN)")
        return await call_next(request)

    def job_dir(job_id: str) -> Path:
        return settings.data_dir / "jobs" / job_id

    def run_job(job: Job, work: Callable[[Job], Composition] | None = None) -> None:
        # A failed job keeps the stage it had reached: the page shows where it failed.
        store.update(job.id, status="running", stage="starting")
        try:
            result = work(job) if work else composer.compose(
                job_dir(job.id) / job.image, job.prompt, seed=job.seed,
                progress=lambda stage: store.update(job.id, stage=stage),
            )  # fmt: skip
            result.save(job_dir(job.id))  # the one output step, as for every front end
            if not result.ok:
                raise PictuneError(result.status)
            finish(job.id, status="done", stage="done")
        except PictuneError as exc:
            finish(job.id, status="failed", error=str(exc).splitlines()[0])
        except Exception:  # one broken job must not take the worker down
            log.exception("job %s failed", job.id)
            finish(job.id, status="failed", error="internal error")

    def finish(job_id: str, **changes: Any) -> None:
        """Record a job's end, unless it timed out or was deleted meanwhile."""
        current = store.get(job_id)
        if current is not None and current.status == "running":
            store.update(job_id, **changes)

    @app.post("/api/compositions", status_code=202)
    async def submit(
        image: UploadFile = File(...),
        prompt: str | None = Form(None, max_length=500),
        seed: int = Form(0, ge=0, le=2**31 - 1),
    ) -> dict[str, Any]:
        if not admission.reserve():  # counting and taking a slot is one step
            raise HTTPException(
                429, f"{settings.max_queue} jobs are queued or running; try again later"
            )
        try:
            data = await image.read(settings.max_upload_bytes + 1)
            if len(data) > settings.max_upload_bytes:
                raise HTTPException(
                    413, f"the upload is larger than {settings.max_upload_bytes >> 20} MB"
                )
            try:
                async with decodes:  # sniffs the content, not the name
                    picture = await asyncio.to_thread(load_image, data, MAX_SIDE)
            except PictuneError as exc:
                raise HTTPException(
                    415, str(exc).replace("image is", "the upload is").splitlines()[0]
                ) from exc
        except BaseException:
            admission.release()
            return_memory()
            raise
        job = admission.admitted(lambda: store.create(prompt or None, seed, "upload.png"))
        folder = job_dir(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(picture.save, folder / "upload.png")
        del picture, data
        await asyncio.to_thread(return_memory)
        pool.submit(run_job, job)
        return {
            "id": job.id,
            "status": job.status,
            "links": {
                "self": f"/api/compositions/{job.id}",
                "events": f"/api/compositions/{job.id}/events",
            },
        }

    def found(job_id: str) -> Job:
        job = store.get(job_id) if job_id.isalnum() else None
        if job is None:
            raise HTTPException(404, f"no composition {job_id}")
        if job.status == "running" and time.time() - job.created > settings.job_timeout_s:
            error = f"took longer than {settings.job_timeout_s:g} s"
            store.update(job.id, status="failed", error=error)
            job = store.get(job_id) or job
        return job

    def describe(job: Job) -> dict[str, Any]:
        data = {**job.to_dict(), **lineage_json(revisions, job, job_dir(job.id))}
        if job.status == "done":
            data["files"] = {
                name: f"/api/compositions/{job.id}/files/{name}"
                for name, (file, _) in FILES.items()
                if (job_dir(job.id) / file).is_file()
            }
        return data

    @app.get("/api/compositions")
    async def history(limit: int = 50) -> list[dict[str, Any]]:
        return [describe(job) for job in store.history(max(1, min(limit, 500)))]

    @app.get("/api/compositions/{job_id}")
    async def status(job_id: str) -> dict[str, Any]:
        return describe(found(job_id))

    @app.get("/api/compositions/{job_id}/events")
    async def events(job_id: str) -> StreamingResponse:
        found(job_id)

        async def stream() -> Any:
            last = None
            deadline = asyncio.get_running_loop().time() + settings.job_timeout_s
            while asyncio.get_running_loop().time() < deadline:
                try:
                    job = found(job_id)
                except HTTPException:
                    return
                state = (job.status, job.stage)
                if state != last:
                    yield f"event: progress\ndata: {json.dumps(describe(job))}\n\n"
                    last = state
                if job.status in ("done", "failed"):
                    return
                await asyncio.sleep(0.2)
            yield "event: timeout\ndata: {}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    @app.get("/api/compositions/{job_id}/files/{name}")
    async def file(job_id: str, name: str) -> FileResponse:
        job = found(job_id)
        if name not in FILES:
            raise HTTPException(404, f"no file {name!r}; files are {', '.join(FILES)}")
        path = job_dir(job.id) / FILES[name][0]
        if not path.is_file():
            raise HTTPException(404, f"{name} is not ready")
        return FileResponse(path, media_type=FILES[name][1])

    @app.delete("/api/compositions/{job_id}", status_code=204)
    async def delete(job_id: str) -> None:
        job = found(job_id)
        if job.status in ("queued", "running"):
            raise HTTPException(409, "the job is still running")
        store.delete(job.id)
        shutil.rmtree(job_dir(job.id), ignore_errors=True)

    def queue(create: Callable[[], Job]) -> Job:
        if not admission.reserve():
            raise HTTPException(
                429, f"{settings.max_queue} jobs are queued or running; try again later"
            )
        job: Job = admission.admitted(create)
        return job

    add_revision_routes(
        app, store=store, table=revisions, found=found, job_dir=job_dir, queue=queue,
        start=lambda job, work: pool.submit(run_job, job, work),
        revise=lambda *args, **options: composer.revise(*args, **options),
    )  # fmt: skip

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return resources.files("pictune.web").joinpath("page.html").read_text("utf-8")

    app.state.max_pixels = MAX_PIXELS
    return app
