"""The HTTP API and the page: FastAPI over the same Python API as the CLI.

Jobs run in a bounded worker pool off the event loop; jobs and files persist in the data
folder. The backend and model are server configuration: a client cannot choose them, nor
make the server contact a URL."""

from __future__ import annotations

import asyncio
import hashlib
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
from stat import S_ISREG
from typing import Any

from fastapi import Body, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from pictune.errors import PictuneError
from pictune.images import MAX_PIXELS, load_image
from pictune.music.audio import compress_wav
from pictune.pipeline.api import Composer
from pictune.pipeline.choices import (
    BARS_RANGE,
    INSTRUMENTS,
    KEYS,
    METERS,
    MOODS,
    TEMPO_RANGE,
    Choices,
    with_choices,
)
from pictune.pipeline.record import OUTPUT_FILES, Composition
from pictune.web.jobs import Job, JobStore, job_links
from pictune.web.limits import Admission, BodyLimit, return_memory
from pictune.web.renders import MAX_ABC_CHARS, render_file, render_tune
from pictune.web.revisions import RevisionTable, add_revision_routes, lineage_json
from pictune.web.view import composition_view, slug

log = logging.getLogger(__name__)
MAX_SIDE = 4096  # pixels a side an upload is kept at (decoded at reduced scale when JPEG)
# What a client may download: every file the one output step writes, the upload, its
# thumbnail and the Ogg audio the page plays (the WAV stays a download).
FILES = {
    **{f.key: (f.name, f.media_type) for f in OUTPUT_FILES},
    "ogg": ("music.ogg", "audio/ogg"),
    "upload": ("upload.png", "image/png"),
    "thumb": ("thumb.jpg", "image/jpeg"),
}
# Shown in the browser rather than saved: pictures, the score, the audio, the report.
INLINE = {"svg", "heatmap", "phrases", "ogg", "upload", "thumb", "report"}
THUMB_SIDE = 160
STATIC = resources.files("pictune.web").joinpath("static")


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


class RequestValueError(Exception):
    """A request whose values are wrong: 422 with this one line."""


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

    # Swagger UI at /docs from the assets fastapi-offline bundles: the docs work offline.
    app = FastAPIOffline(
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

    @app.exception_handler(RequestValueError)
    async def request_problem(request: Request, exc: RequestValueError) -> JSONResponse:
        return problem(422, "Invalid request", str(exc))

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

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    declared: tuple[str, ...] = composer.stages

    def run_job(job: Job, work: Callable[[Job], Composition] | None = None) -> None:
        # A failed job keeps the stage it had reached: the page shows where it failed.
        store.update(job.id, status="running", stage="starting")
        try:
            if work is not None:  # a revision (pictune.web.revisions)
                result = work(job)
            else:
                choices = Choices(**json.loads(job.options))
                result = with_choices(composer, choices).compose(
                    job_dir(job.id) / job.image,
                    choices.prompt(job.prompt),
                    seed=job.seed,
                    progress=lambda stage: store.add_stage(job.id, stage),
                )
            result.save(job_dir(job.id))  # the one output step, as for every front end
            if not result.ok:
                raise PictuneError(result.status)
            browser_audio(job_dir(job.id))
            store.update(job.id, title=result.title)
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

    def browser_audio(folder: Path) -> None:
        """The Ogg copy of the WAV the page plays; without it the page plays the WAV."""
        if (folder / "music.wav").is_file():
            try:
                compress_wav(folder / "music.wav", folder / "music.ogg")
            except (ImportError, RuntimeError, OSError) as exc:  # soundfile's errors
                log.warning("no Ogg audio: %s", exc)

    def enqueue(job: Job) -> dict[str, Any]:
        pool.submit(run_job, job)
        return {"id": job.id, "status": job.status, "links": job_links(job.id)}

    @app.post("/api/compositions", status_code=202)
    async def submit(
        image: UploadFile = File(...),
        prompt: str | None = Form(None, max_length=500),
        seed: int = Form(0, ge=0, le=2**31 - 1),
        bars: str | None = Form(None, description="length in bars, 4–64"),
        tempo: str | None = Form(None, description="quarter notes a minute, 30–240"),
        key: str | None = Form(None, description="a key such as 'D minor' or 'Eb major'"),
        meter: str | None = Form(None, description="2/4, 3/4, 4/4 or 6/8"),
        instrument: str | None = Form(None, description="the melody instrument, e.g. violin"),
        mood: str | None = Form(None, description="calm, dreamy, gentle, happy, sad, …"),
    ) -> dict[str, Any]:
        form = {"bars": bars, "tempo": tempo, "key": key, "meter": meter}
        try:
            choices = Choices.from_form({**form, "instrument": instrument, "mood": mood})
        except PictuneError as exc:
            raise RequestValueError(str(exc)) from exc
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
        digest = hashlib.sha256(data).hexdigest()[:32]
        name = Path(image.filename or "").name[:200]
        job = admission.admitted(
            lambda: store.create(
                prompt or None,
                seed,
                "upload.png",
                name=name,
                options=choices.to_dict(),
                picture=digest,
            )
        )
        folder = job_dir(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(save_upload, picture, folder)
        del picture, data
        await asyncio.to_thread(return_memory)
        return enqueue(job)

    def save_upload(picture: Any, folder: Path) -> None:
        picture.save(folder / "upload.png")
        thumb = picture.convert("RGB")
        thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
        thumb.save(folder / "thumb.jpg", quality=80)

    def queue(create: Callable[[], Job]) -> Job:
        if not admission.reserve():
            raise HTTPException(
                429, f"{settings.max_queue} jobs are queued or running; try again later"
            )
        job: Job = admission.admitted(create)
        return job

    async def derive(parent: Job, seed: int, picture: str = "") -> Job:
        """A job made from `parent` (a variation, or a revision when `picture` is empty): its
        words, file name and choices with `seed`, its picture files copied along; 429 when
        the queue is full."""
        job = queue(
            lambda: store.create(
                parent.prompt,
                seed,
                "upload.png",
                name=parent.name,
                options=json.loads(parent.options),
                picture=picture,
            )
        )
        folder = job_dir(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("upload.png", "thumb.jpg"):
            if (job_dir(parent.id) / name).is_file():
                await asyncio.to_thread(shutil.copyfile, job_dir(parent.id) / name, folder / name)
        return job

    @app.post("/api/compositions/{job_id}/variations", status_code=202)
    async def vary(job_id: str) -> dict[str, Any]:
        """Another variation of a composition's picture: the same words and choices, the
        next seed no variation of this picture has used."""
        job = found(job_id)
        if not (job_dir(job.id) / "upload.png").is_file():
            raise HTTPException(409, "the picture of this composition is gone")
        siblings = store.variations(job.picture) if job.picture else [job]
        seed = max(j.seed for j in siblings) + 1
        return enqueue(await derive(job, seed, picture=job.picture))

    @app.get("/api/compositions/{job_id}/variations")
    async def variations(job_id: str) -> list[dict[str, Any]]:
        """Every composition of the same picture, oldest first (the job itself included)."""
        job = found(job_id)
        return [describe(j) for j in (store.variations(job.picture) if job.picture else [job])]

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
        data = {
            **job.to_dict(),
            **lineage_json(
                revisions, job, job_dir(job.id), lambda other: store.get(other) is not None
            ),
        }
        seen = data["stages"]
        # The stages the composer goes through: those reported so far, then those it
        # declares and has not reached yet.
        data["stages"] = [*seen, *(s for s in declared if s not in seen)]
        if job.status == "queued":
            data["position"] = store.position(job)
        data["files"] = {
            name: f"/api/compositions/{job.id}/files/{name}"
            for name, (file, _) in FILES.items()
            if (job.status == "done" or name in ("upload", "thumb"))
            and (job_dir(job.id) / file).is_file()
        }
        return data

    @app.get("/api/choices")
    async def choices_offered() -> dict[str, Any]:
        """The values the choices beside the prompt take."""
        return {
            "bars": list(BARS_RANGE),
            "tempo": list(TEMPO_RANGE),
            "keys": list(KEYS),
            "meters": list(METERS),
            "instruments": list(INSTRUMENTS),
            "moods": list(MOODS),
        }

    @app.get("/api/compositions")
    async def history(limit: int = 50) -> list[dict[str, Any]]:
        return [describe(job) for job in store.history(max(1, min(limit, 500)))]

    @app.get("/api/compositions/{job_id}")
    async def status(job_id: str) -> dict[str, Any]:
        return describe(found(job_id))

    @app.get("/api/compositions/{job_id}/view")
    async def view(job_id: str) -> dict[str, Any]:
        """What the page shows of a finished piece: title, summary (key, meter, tempo,
        instruments, bars, length), the motivation with its checked claims marked, the ABC,
        the retrieved examples (each once) and the rounds in plain numbers."""
        job = found(job_id)
        if job.status != "done":
            raise HTTPException(409, f"composition {job_id} is {job.status}")
        return await asyncio.to_thread(composition_view, job_dir(job.id))

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
                data = describe(job)
                state = (job.status, job.stage, data.get("position"))
                if state != last:  # a queued job hears when it moves up
                    yield f"event: progress\ndata: {json.dumps(data)}\n\n"
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
        try:  # stat once, here: a file deleted meanwhile (the job removed) is a 404, not a 500
            stat = await asyncio.to_thread(path.stat)
        except OSError:
            stat = None
        if stat is None or not S_ISREG(stat.st_mode):
            raise HTTPException(404, f"{name} is not ready")
        return FileResponse(
            path,
            media_type=FILES[name][1],
            filename=download_name(job, name, path),
            content_disposition_type="inline" if name in INLINE else "attachment",
            stat_result=stat,
        )

    def download_name(job: Job, name: str, path: Path) -> str:
        """A file named after the piece: deep-blue-song.mid, deep-blue-song-report.html."""
        stem = slug(job.title, fallback=f"pictune-{job.id[:8]}")
        if name in ("json", "report", "motivation", "heatmap", "phrases", "thumb", "upload"):
            stem = f"{stem}-{path.stem.replace('.', '-')}"
        return stem + path.suffix

    renders = settings.data_dir / "renders"
    renders.mkdir(exist_ok=True)

    @app.post("/api/abc/render")
    async def render(
        abc: str = Body(..., embed=True, max_length=MAX_ABC_CHARS),
    ) -> dict[str, Any]:
        """Repair, validate and render an edited tune (the same code as every front end);
        its ABC, MIDI, score and MusicXML can then be downloaded."""
        try:
            return await asyncio.to_thread(render_tune, abc, renders)
        except PictuneError as exc:
            raise RequestValueError(str(exc).splitlines()[0]) from exc

    @app.get("/api/abc/render/{render_id}/files/{name}")
    async def render_download(render_id: str, name: str) -> FileResponse:
        path = render_file(renders, render_id, name)
        if path is None:
            raise HTTPException(404, f"no rendered file {name!r} for {render_id}")
        media = {"abc": "abc", "mid": "mid", "svg": "svg", "musicxml": "musicxml"}[name]
        return FileResponse(
            path,
            media_type=FILES[media][1],
            filename=f"edited{path.suffix}",
            content_disposition_type="inline" if name == "svg" else "attachment",
        )

    @app.delete("/api/compositions/{job_id}", status_code=204)
    async def delete(job_id: str) -> None:
        job = found(job_id)
        if job.status in ("queued", "running"):
            raise HTTPException(409, "the job is still running")
        store.delete(job.id)
        shutil.rmtree(job_dir(job.id), ignore_errors=True)

    add_revision_routes(
        app, store=store, table=revisions, found=found, job_dir=job_dir, derive=derive,
        start=lambda job, work: pool.submit(run_job, job, work),
        revise=lambda *args, **options: composer.revise(*args, **options),
    )  # fmt: skip

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return STATIC.joinpath("page.html").read_text("utf-8")

    @app.get("/c/{job_id}", response_class=HTMLResponse)
    async def permalink(job_id: str) -> str:
        """The page, opening one composition (the page reads the id from its address)."""
        return STATIC.joinpath("page.html").read_text("utf-8")

    app.state.max_pixels = MAX_PIXELS
    return app
