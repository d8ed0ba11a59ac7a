"""The HTTP API: every route, the limits, persistence across a restart, bad uploads."""

from __future__ import annotations

import io
import re
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from pictune.corpus import CorpusIndex
from pictune.web.app import ServerSettings, create_app
from tests.browser import launch_chromium, serving
from tests.test_offline import _png_header_only

EXAMPLE = Path(__file__).parents[1] / "src" / "pictune" / "data" / "example.jpg"


@pytest.fixture(scope="module")
def index(small_index_folder):
    return CorpusIndex(small_index_folder)


def offline(index):
    from tests.conftest import offline as offline_composer

    return offline_composer(index)


class Gated:
    """A composer that waits for `gate` (at most `limit` seconds) before composing."""

    def __init__(self, inner, gate, started=None, limit=10.0):
        self.inner, self.gate, self.started, self.limit = inner, gate, started, limit
        self.settings, self.backend_id = inner.settings, inner.backend_id
        self.stages = inner.stages

    def compose(self, image, prompt=None, *, seed=0, progress=None):
        if self.started is not None:
            self.started.set()
        self.gate.wait(self.limit)
        return self.inner.compose(image, prompt, seed=seed, progress=progress)


def wait(client, job_id, timeout=30.0, headers=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.get(f"/api/compositions/{job_id}", headers=headers or {}).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def upload(data: bytes, name="picture.jpg", **fields):
    return {
        "files": {"image": (name, data, "application/octet-stream")},
        "data": {k: str(v) for k, v in fields.items()},
    }


def test_compose_then_read_every_file_and_history_then_delete(index, tmp_path):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        response = client.post(
            "/api/compositions", **upload(EXAMPLE.read_bytes(), prompt="a slow waltz", seed=3)
        )
        assert response.status_code == 202
        job_id = response.json()["id"]
        job = wait(client, job_id)
        assert job["status"] == "done", job
        assert set(job["files"]) >= {
            "abc",
            "mid",
            "wav",
            "svg",
            "heatmap",
            "report",
            "json",
            "upload",
        }
        assert client.get(job["files"]["abc"]).text.startswith("X:1")
        assert client.get(job["files"]["wav"]).content[:4] == b"RIFF"
        assert "M:3/4" in client.get(job["files"]["abc"]).text  # the prompt reached the composer
        with client.stream("GET", f"/api/compositions/{job_id}/events") as events:
            body = "".join(events.iter_text())
        assert "event: progress" in body and '"status": "done"' in body
        assert [j["id"] for j in client.get("/api/compositions").json()] == [job_id]
        assert client.get(f"/api/compositions/{job_id}/files/../../etc/passwd").status_code == 404
        assert (
            client.get(f"/api/compositions/{job_id}/files/secrets").json()["title"] == "Not found"
        )
        assert client.delete(f"/api/compositions/{job_id}").status_code == 204
        assert client.get(f"/api/compositions/{job_id}").status_code == 404
        assert not (tmp_path / "jobs" / job_id).exists()


def test_a_file_gone_by_the_time_it_is_served_is_a_404(index, tmp_path, monkeypatch):
    """A job deleted while its file is being asked for (the page still loading a piece's
    audio as the user deletes it): the file answers 404, never a 500."""
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        response = client.post("/api/compositions", **upload(EXAMPLE.read_bytes(), seed=1))
        job = wait(client, response.json()["id"])
        ogg = tmp_path / "jobs" / job["id"] / "music.ogg"
        ogg.unlink()  # gone after the route looked, as the delete's rmtree would leave it
        monkeypatch.setattr(Path, "is_file", lambda self: True)
        answer = client.get(job["files"]["ogg"])
    assert answer.status_code == 404 and answer.json()["detail"] == "ogg is not ready"


@pytest.mark.parametrize(
    ("data", "status", "detail"),
    [
        (b"this is not an image", 415, "not an image"),
        (b"", 415, "empty"),
        (_png_header_only(20_000, 20_000), 415, "50 megapixels"),
        (EXAMPLE.read_bytes()[:3000], 415, "truncated"),
    ],
    ids=["text", "empty", "bomb", "truncated"],
)
def test_bad_uploads_are_refused_as_problem_details(index, tmp_path, data, status, detail):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        response = client.post("/api/compositions", **upload(data, name="photo.jpg"))
        assert response.status_code == status
        assert response.headers["content-type"].startswith("application/problem+json")
        assert detail in response.json()["detail"]
        assert client.get("/api/compositions").json() == []


def test_oversized_upload_is_413(index, tmp_path):
    with TestClient(
        create_app(ServerSettings(tmp_path, composer=offline(index), max_upload_bytes=10_000))
    ) as client:
        response = client.post("/api/compositions", **upload(EXAMPLE.read_bytes()))
        assert response.status_code == 413


def test_full_queue_answers_429_and_loses_nothing(index, tmp_path):
    release = threading.Event()
    slow = Gated(offline(index), release)
    with TestClient(
        create_app(ServerSettings(tmp_path, composer=slow, workers=1, max_queue=2))
    ) as client:
        picture = io.BytesIO()
        Image.new("RGB", (20, 20), (10, 200, 30)).save(picture, "PNG")
        accepted = [
            client.post("/api/compositions", **upload(picture.getvalue())) for _ in range(2)
        ]
        refused = client.post("/api/compositions", **upload(picture.getvalue()))
        assert [r.status_code for r in accepted] == [202, 202]
        assert refused.status_code == 429 and refused.json()["title"] == "Too many jobs"
        release.set()
        assert all(wait(client, r.json()["id"])["status"] == "done" for r in accepted)


def test_a_job_running_when_the_server_stops_is_marked_failed(index, tmp_path):
    started, release = threading.Event(), threading.Event()
    hang = Gated(offline(index), release, started, limit=5)

    picture = io.BytesIO()
    Image.new("RGB", (20, 20)).save(picture, "PNG")
    with TestClient(create_app(ServerSettings(tmp_path, composer=hang))) as client:
        job_id = client.post("/api/compositions", **upload(picture.getvalue())).json()["id"]
        started.wait(5)
        # a new server over the same data folder, as after a crash
        with TestClient(create_app(ServerSettings(tmp_path, composer=hang))) as again:
            job = again.get(f"/api/compositions/{job_id}").json()
            assert job["status"] == "failed" and "stopped" in job["error"]
        release.set()


def test_bearer_token_is_required_when_set(index, tmp_path):
    with TestClient(
        create_app(ServerSettings(tmp_path, composer=offline(index), token="s3cret"))
    ) as client:
        assert client.get("/api/compositions").status_code == 401
        assert (
            client.get("/api/compositions", headers={"Authorization": "Bearer s3cret"}).status_code
            == 200
        )
        assert client.get("/").status_code == 200  # the page itself is public


def test_page_has_no_external_resources(index, tmp_path):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        page = client.get("/").text
        script = client.get("/static/page.js")
        style = client.get("/static/page.css")
        assert script.headers["content-type"].startswith(
            ("text/javascript", "application/javascript")
        )
        for text in (page, script.text, style.text):
            assert "http://" not in text and "https://" not in text
        assert 'id="drop"' in page and "text/event-stream" in script.text
        assert client.get("/openapi.json").json()["info"]["title"] == "pictune"


def test_docs_are_served_from_local_assets(index, tmp_path):
    """/docs works offline: Swagger UI's script and style come from the server itself."""
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        docs = client.get("/docs")
        assert docs.status_code == 200
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", docs.text)
        assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
        assert all(a.startswith("/") for a in assets), assets
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
        assert "cdn" not in docs.text


def test_abcjs_is_vendored_with_its_licence(index, tmp_path):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        script = client.get("/static/vendor/abcjs-basic-min.js")
        licence = client.get("/static/vendor/abcjs-LICENSE.md")
        assert script.status_code == 200 and "renderAbc" in script.text
        assert licence.status_code == 200 and "Permission is hereby granted" in licence.text


def test_unknown_job_is_404(index, tmp_path):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        response = client.get("/api/compositions/nope")
        assert response.status_code == 404 and response.json()["status"] == 404


def test_serve_refuses_a_public_address_without_a_token(monkeypatch):
    from typer.testing import CliRunner

    from pictune.cli.app import app

    monkeypatch.delenv("PICTUNE_API_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "PICTUNE_API_TOKEN" in result.output


@pytest.mark.skipif(
    __import__("shutil").which("chromium") is None,
    reason="Debian's chromium is not installed (make test installs it)",
)
@pytest.mark.parametrize("token", [None, "t0ken-" + "x7Kq2" * 8])
def test_page_in_headless_chromium(index, tmp_path, token):
    """Upload the bundled example through the page, wait for the result, check it renders.

    With a token, the page asks for it once, keeps it in the tab's session storage and sends
    it in the Authorization header of every API call (events included), never in a URL."""
    playwright = pytest.importorskip("playwright.sync_api")
    errors, outside, unauthorised, urls = [], [], [], []
    settings = ServerSettings(tmp_path, composer=offline(index), token=token)
    with serving(settings) as base, playwright.sync_playwright() as driver:
        browser = launch_chromium(driver)
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "request",
            lambda req: (
                None if req.url.startswith((base, "data:", "blob:")) else outside.append(req.url)
            ),
        )
        page.on("request", lambda req: urls.append(req.url))
        page.on(
            "response",
            lambda res: unauthorised.append(res.url) if res.status == 401 else None,
        )
        page.goto(base + "/")
        if token:
            page.wait_for_selector("#auth:not([hidden])", timeout=10_000)
            page.fill("#token", token)
            page.click("#auth button")
        page.set_input_files("#file", str(EXAMPLE))
        page.click("#go")
        page.wait_for_selector("#result:not([hidden])", timeout=60_000)
        page.wait_for_selector("#notation svg", timeout=10_000)
        page.wait_for_function(
            "document.getElementById('heatmap').naturalWidth > 0", timeout=10_000
        )
        page.wait_for_function("document.getElementById('player').duration > 1", timeout=10_000)
        assert page.locator("#motivation").inner_text().strip()
        assert page.locator("#history li").count() == 1
        stored = page.evaluate("[sessionStorage.length, localStorage.length]")
        assert stored == ([1, 0] if token else [0, 0])
        page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
        browser.close()
    assert [e for e in errors if "401" not in e] == []
    assert outside == []
    # The two calls the page makes on opening are refused once; the token is asked once.
    assert sorted(unauthorised) == (
        [f"{base}/api/choices", f"{base}/api/compositions"] if token else []
    )
    assert not token or not any(token in url for url in urls)
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_a_job_past_its_timeout_is_failed_and_its_late_result_ignored(index, tmp_path):
    release = threading.Event()
    slow = Gated(offline(index), release, limit=5)

    picture = io.BytesIO()
    Image.new("RGB", (20, 20)).save(picture, "PNG")
    with TestClient(
        create_app(ServerSettings(tmp_path, composer=slow, job_timeout_s=0.3))
    ) as client:
        job_id = client.post("/api/compositions", **upload(picture.getvalue())).json()["id"]
        time.sleep(0.5)
        job = client.get(f"/api/compositions/{job_id}").json()
        assert job["status"] == "failed" and "longer than 0.3 s" in job["error"]
        release.set()
        time.sleep(0.3)
        assert client.get(f"/api/compositions/{job_id}").json()["status"] == "failed"


def test_server_configuration_chooses_the_backend(monkeypatch, tmp_path):
    from pictune.errors import InputError
    from pictune.web.app import configured_composer

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PICTUNE_BACKEND", "transformers")
    monkeypatch.delenv("PICTUNE_MODEL", raising=False)
    with pytest.raises(InputError, match="needs a model"):
        configured_composer()
