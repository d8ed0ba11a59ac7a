"""`POST /api/compositions/{id}/revisions`: a revision is a job of its own, which records
its parent; the job JSON carries the lineage, and the parent lists its revisions."""

from __future__ import annotations

import io
import threading

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from pictune.corpus import CorpusIndex
from pictune.pipeline.record import Composition
from pictune.web.app import ServerSettings, create_app
from tests.conftest import offline
from tests.test_web import Gated, upload, wait


@pytest.fixture(scope="module")
def index(small_index_folder):
    return CorpusIndex(small_index_folder)


def picture() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (90, 60), (40, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_revision_is_a_job_that_records_its_parent(index, tmp_path):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        first = client.post("/api/compositions", **upload(picture(), seed=4)).json()
        assert wait(client, first["id"])["status"] == "done"
        answer = client.post(
            f"/api/compositions/{first['id']}/revisions", json={"request": "slower"}
        )
        assert answer.status_code == 202
        job = answer.json()
        assert job["lineage"] == {"parent": first["id"], "request": "slower"}
        assert job["links"]["parent"] == f"/api/compositions/{first['id']}"
        done = wait(client, job["id"])
        assert done["status"] == "done", done
        lineage = done["lineage"]
        assert lineage["parent"] == first["id"] and lineage["request"] == "slower"
        assert [(c["aspect"], c["honoured"]) for c in lineage["checks"]] == [("tempo", True)]
        assert lineage["generation"] == 1 and lineage["changes"][0].startswith("tempo:")
        assert done["seed"] == 4 and "wav" in done["files"] and "upload" in done["files"]
        record = Composition.load(tmp_path / "jobs" / job["id"])
        assert record.lineage.parent == str((tmp_path / "jobs" / first["id"]).resolve())
        parent = client.get(f"/api/compositions/{first['id']}").json()
        assert parent["revisions"] == [job["id"]] and parent["lineage"] is None
        again = client.post(
            f"/api/compositions/{job['id']}/revisions", json={"request": "louder"}
        ).json()
        assert wait(client, again["id"])["lineage"]["generation"] == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 422), ({"request": ""}, 422), ({"request": "x" * 501}, 422), ({"request": "   "}, 422)],
)
def test_bad_revision_bodies_are_problem_details(index, tmp_path, body, status):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        first = client.post("/api/compositions", **upload(picture())).json()
        wait(client, first["id"])
        answer = client.post(f"/api/compositions/{first['id']}/revisions", json=body)
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_revising_an_unknown_composition_is_404(index, tmp_path):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        answer = client.post("/api/compositions/abc123/revisions", json={"request": "slower"})
        assert answer.status_code == 404 and "no composition abc123" in answer.json()["detail"]


def test_revising_an_unfinished_composition_is_409(index, tmp_path):
    gate = threading.Event()
    slow = Gated(offline(index), gate, limit=10.0)
    with TestClient(create_app(ServerSettings(tmp_path, composer=slow))) as client:
        first = client.post("/api/compositions", **upload(picture())).json()
        answer = client.post(f"/api/compositions/{first['id']}/revisions", json={"request": "x"})
        gate.set()
        assert answer.status_code == 409 and "not finished" in answer.json()["detail"]
        wait(client, first["id"])


def test_a_deleted_version_leaves_no_dead_link(index, tmp_path):
    with TestClient(create_app(ServerSettings(tmp_path, composer=offline(index)))) as client:
        first = client.post("/api/compositions", **upload(picture(), seed=2)).json()
        assert wait(client, first["id"])["status"] == "done"
        one = client.post(f"/api/compositions/{first['id']}/revisions", json={"request": "slower"})
        two = client.post(f"/api/compositions/{first['id']}/revisions", json={"request": "louder"})
        one_id, two_id = one.json()["id"], two.json()["id"]
        assert wait(client, one_id)["status"] == wait(client, two_id)["status"] == "done"
        assert client.delete(f"/api/compositions/{two_id}").status_code == 204
        assert client.get(f"/api/compositions/{first['id']}").json()["revisions"] == [one_id]
        assert client.delete(f"/api/compositions/{first['id']}").status_code == 204
        lineage = client.get(f"/api/compositions/{one_id}").json()["lineage"]
        assert lineage["parent"] == first["id"] and lineage["parent_deleted"] is True
        assert "links" not in lineage
