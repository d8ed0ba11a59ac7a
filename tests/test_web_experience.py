"""What the page reads from the API: the finished piece's view, the job's own stages,
title-named downloads, Ogg audio, choices (and their 422s), variations, the queue position,
the ABC editor's render route, and the job table's new columns."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from pictune.corpus import CorpusIndex
from pictune.web.app import ServerSettings, create_app
from pictune.web.jobs import JobStore
from pictune.web.view import plain, references, slug
from tests.test_web import EXAMPLE, Gated, offline, upload, wait


@pytest.fixture(scope="module")
def index(small_index_folder):
    return CorpusIndex(small_index_folder)


@pytest.fixture(scope="module")
def finished(index, tmp_path_factory):
    """One composition with choices, made once for the tests that only read it."""
    folder = tmp_path_factory.mktemp("web-experience")
    with TestClient(create_app(ServerSettings(folder, composer=offline(index)))) as client:
        job_id = client.post(
            "/api/compositions",
            **upload(EXAMPLE.read_bytes(), name="my holiday.jpg", key="D minor", meter="3/4",
                     tempo="90", bars="8", instrument="violin"),
        ).json()["id"]  # fmt: skip
        job = wait(client, job_id)
        assert job["status"] == "done", job
        view = client.get(f"/api/compositions/{job_id}/view").json()
        files = {name: client.get(url) for name, url in job["files"].items() if name != "report"}
        files["report"] = client.get(job["files"]["report"])
    return job, view, files


def test_the_view_summarises_the_piece(finished):
    _, view, _ = finished
    assert view["title"] and view["slug"] == slug(view["title"])
    summary = view["summary"]
    assert summary["key"] == "D minor" and summary["meter"] == "3/4"
    assert summary["tempo"] == "90 bpm" and summary["bars"] == 8
    assert "violin" in summary["instruments"] and summary["length"].startswith("8 bars · 0:")
    assert view["abc"].startswith("X:") and "K:" in view["abc"]
    assert "<mark class=" in view["motivation_html"] and 'title="' in view["motivation_html"]
    assert view["understood"]["key"] == "D minor"


def test_rounds_show_plain_numbers(finished):
    _, view, _ = finished
    values = [v for r in view["rounds"] for v in r["metrics"].values()]
    assert values and not any(v.endswith(".000") for v in values)
    assert "90" in [r["metrics"]["tempo qpm"] for r in view["rounds"]]


def test_plain_numbers():
    assert [plain(v) for v in (110.0, 110, 0.97142, 3.1712, True, None, "3/4")] == [
        "110", "110", "0.971", "3.2", "yes", "–", "3/4",
    ]  # fmt: skip


def test_retrieved_examples_have_titles_and_no_near_duplicates():
    entries = [
        {
            "id": "a",
            "title": "The Braes of Angus.",
            "caption": "A wistful tune in E minor at 96 bpm.",
        },
        {"id": "b", "title": "The Braes of Angus", "caption": "Another caption."},
        {"id": "c", "title": "Other", "caption": "A wistful tune in E minor at 100 bpm!"},
        {"id": "d", "title": None, "caption": "A lively jig."},
    ]
    shown = references(entries)
    assert [r["title"] for r in shown] == ["The Braes of Angus", "d"]


def test_slugs():
    assert slug("Deep Blue Song") == "deep-blue-song"
    assert slug("Élan — vital!") == "elan-vital"
    assert slug("???", fallback="pictune-1") == "pictune-1"


def test_the_job_reports_the_composers_own_stages(finished):
    job, _, _ = finished
    assert job["stages"] == ["analyse", "retrieve", "compose", "refine", "explain"]
    assert "validate" not in job["stages"]


def test_a_vlm_composer_declares_its_model_calls():
    from pictune.pipeline.composer import VlmComposer

    assert "refine" in VlmComposer.stages and "validate" not in VlmComposer.stages


def test_downloads_are_named_after_the_title_with_their_media_types(finished):
    _, view, files = finished
    stem = view["slug"]
    expected = {
        "mid": ("audio/midi", f'attachment; filename="{stem}.mid"'),
        "abc": ("text/plain; charset=utf-8", f'attachment; filename="{stem}.abc"'),
        "wav": ("audio/wav", f'attachment; filename="{stem}.wav"'),
        "json": ("application/json", f'attachment; filename="{stem}-report.json"'),
        "report": ("text/html; charset=utf-8", f'inline; filename="{stem}-report.html"'),
        "ogg": ("audio/ogg", f'inline; filename="{stem}.ogg"'),
    }
    for name, (media, disposition) in expected.items():
        response = files[name]
        assert response.headers["content-type"] == media, name
        assert response.headers["content-disposition"] == disposition, name


def test_the_browser_audio_is_ogg_vorbis_and_much_smaller(finished):
    _, _, files = finished
    ogg, wav = files["ogg"].content, files["wav"].content
    assert ogg[:4] == b"OggS" and b"vorbis" in ogg[:200]
    assert len(ogg) * 4 < len(wav)


def test_history_knows_the_name_title_thumbnail_and_choices(finished):
    job, view, files = finished
    assert job["name"] == "my holiday.jpg" and job["title"] == view["title"]
    assert job["options"] == {"bars": 8, "tempo": 90, "key": "D minor", "meter": "3/4",
                              "instrument": "violin"}  # fmt: skip
    assert files["thumb"].headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("field", "value", "detail"),
    [
        ("bars", "100", "bars must be between 4 and 64, not 100"),
        ("tempo", "fast", "tempo must be a whole number, not 'fast'"),
        ("key", "X major", "key 'X major' is not a key like 'D minor' or 'Eb major'"),
        ("meter", "7/8", "unknown meter '7/8'"),
        ("instrument", "theremin", "unknown instrument 'theremin'"),
        ("mood", "grumpy", "unknown mood 'grumpy'"),
    ],
)
def test_a_bad_choice_is_a_422_with_one_line(index, tmp_path, field, value, detail):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        response = client.post(
            "/api/compositions", **upload(EXAMPLE.read_bytes(), **{field: value})
        )
        assert response.status_code == 422
        assert (
            response.json()["detail"].startswith(detail) and "\n" not in response.json()["detail"]
        )
        assert client.get("/api/compositions").json() == []  # nothing was queued


def test_the_choices_offered_are_the_ones_accepted(index, tmp_path):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        offered = client.get("/api/choices").json()
        assert "D minor" in offered["keys"] and "violin" in offered["instruments"]
        assert offered["bars"] == [4, 64] and offered["meters"] == ["2/4", "3/4", "4/4", "6/8"]


def test_another_variation_takes_the_next_seed_of_the_same_picture(index, tmp_path):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        first = client.post(
            "/api/compositions", **upload(EXAMPLE.read_bytes(), seed=4, mood="calm")
        ).json()["id"]
        wait(client, first)
        second = client.post(f"/api/compositions/{first}/variations").json()["id"]
        assert wait(client, second)["status"] == "done"
        third = client.post(f"/api/compositions/{first}/variations").json()["id"]
        wait(client, third)
        family = client.get(f"/api/compositions/{second}/variations").json()
        assert [j["seed"] for j in family] == [4, 5, 6]
        assert all(j["options"] == {"mood": "calm"} for j in family)
        assert client.post("/api/compositions/nope/variations").status_code == 404


def test_a_queued_job_knows_its_place(index, tmp_path):
    release, started = threading.Event(), threading.Event()
    slow = Gated(offline(index), release, started)
    settings = ServerSettings(tmp_path, composer=slow, workers=1)
    with TestClient(create_app(settings)) as client:
        ids = [
            client.post("/api/compositions", **upload(EXAMPLE.read_bytes(), seed=s)).json()["id"]
            for s in range(3)
        ]
        started.wait(10)
        time.sleep(0.2)
        positions = [client.get(f"/api/compositions/{i}").json().get("position") for i in ids]
        release.set()
        for i in ids:
            wait(client, i)
    assert positions == [None, 1, 2]


def test_an_edited_tune_is_repaired_rendered_and_downloadable(finished, index, tmp_path):
    _, view, _ = finished
    edited = view["abc"].replace(view["title"], "My Own Tune", 1)
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        result = client.post("/api/abc/render", json={"abc": edited}).json()
        assert result["slug"] == "my-own-tune" and "T:My Own Tune" in result["abc"]
        midi = client.get(result["files"]["mid"])
        assert midi.content[:4] == b"MThd" and midi.headers["content-type"] == "audio/midi"
        svg = client.get(result["files"]["svg"])
        assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
        # A bar-line slip the repair knows how to mend is mended, and said so.
        broken = "X:1\nT:Slip\nM:4/4\nL:1/4\nK:C\nC D E F | G A B c ||\n"
        repaired = client.post("/api/abc/render", json={"abc": broken})
        assert repaired.status_code == 200, repaired.json()


@pytest.mark.parametrize(
    ("abc", "detail"),
    [
        ("", "the tune is empty"),
        ("just words, no tune", "the text holds no ABC tune"),
    ],
)
def test_an_edit_that_is_no_tune_is_a_422(index, tmp_path, abc, detail):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        response = client.post("/api/abc/render", json={"abc": abc})
        assert response.status_code == 422 and response.json()["detail"].startswith(detail)


def test_an_oversized_edit_is_refused(index, tmp_path):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        response = client.post("/api/abc/render", json={"abc": "X:1\nK:C\n" + "C" * 30_000})
        assert response.status_code == 422


def test_an_unknown_render_is_404(index, tmp_path):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        assert client.get("/api/abc/render/abc123/files/mid").status_code == 404
        assert client.get("/api/abc/render/../files/mid").status_code == 404


def test_permalinks_serve_the_page(index, tmp_path):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        page = client.get("/c/0123abcd")
        assert page.status_code == 200 and 'id="drop"' in page.text


def test_a_job_table_from_before_gains_the_new_columns(tmp_path):
    path = tmp_path / "jobs.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL, stage TEXT NOT NULL, "
            "created REAL NOT NULL, updated REAL NOT NULL, prompt TEXT, seed INTEGER NOT NULL, "
            "error TEXT, image TEXT NOT NULL)"
        )
        db.execute("INSERT INTO jobs VALUES ('old1', 'done', 'done', 1, 1, NULL, 0, NULL, 'u.png')")
    store = JobStore(path)
    old = store.get("old1")
    assert old is not None and old.to_dict()["options"] == {} and old.to_dict()["stages"] == []
    new = store.create("words", 2, "upload.png", name="a.png", options={"bars": 8}, picture="p")
    store.add_stage(new.id, "analyse")
    store.add_stage(new.id, "analyse")
    store.add_stage(new.id, "retrieve")
    row = store.get(new.id)
    assert row is not None and json.loads(row.stages) == ["analyse", "retrieve"]
    assert row.stage == "retrieve" and [j.id for j in store.variations("p")] == [new.id]
    store.close()
    assert Path(path).is_file()
