"""Web limits that must hold under concurrency and before a body is read (loopback only)."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import random
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

pytest.importorskip("fastapi")
import httpx
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pictune.cli.app import app as cli
from pictune.errors import PictuneError
from pictune.web import server as web_server
from pictune.web.app import ServerSettings, create_app
from pictune.web.server import server_config


class Calls:
    """A composer that only calls `step(image, out, prompt, seed, progress)`: these tests are
    about admission and limits, so no music is written and each job ends failed."""

    backend_id = "test"
    about = "a test composer"
    stages = ("compose",)

    def __init__(self, step):
        self.step = step

    def compose(self, image, prompt=None, *, seed=0, progress=None):
        self.step(image, None, prompt, seed, progress or (lambda stage: None))
        raise PictuneError("this test composer writes no music")


def png() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (20, 20), (10, 200, 30)).save(picture, "PNG")
    return picture.getvalue()


class Served:
    """A real uvicorn server on a loopback port, in a thread."""

    def __init__(self, settings: ServerSettings) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(
            server_config(create_app(settings), "127.0.0.1", self.port, log_level="error")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def test_fifty_simultaneous_uploads_admit_exactly_the_queue_limit(tmp_path):
    release = threading.Event()

    def hold(image, out, prompt, seed, progress):
        release.wait(30)

    settings = ServerSettings(tmp_path, composer=Calls(hold), workers=1, max_queue=16)
    data = png()
    with Served(settings) as served:
        start = threading.Barrier(50)

        def submit(_: int) -> int:
            with httpx.Client(timeout=60) as client:
                start.wait(30)
                files = {"image": ("p.png", data, "image/png")}
                return client.post(served.url + "/api/compositions", files=files).status_code

        try:
            with ThreadPoolExecutor(50) as pool:
                codes = list(pool.map(submit, range(50)))
        finally:
            release.set()
    assert codes.count(202) == 16
    assert codes.count(429) == 34


def test_a_declared_oversized_upload_is_refused_before_its_body(tmp_path):
    settings = ServerSettings(tmp_path, composer=Calls(lambda *a: None), max_upload_bytes=1 << 20)
    with Served(settings) as served:
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=20)
        connection.putrequest("POST", "/api/compositions")
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.putheader("Content-Length", str(1 << 30))
        connection.endheaders()  # not one byte of the gigabyte is sent
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["title"] == "Too large"
        connection.close()


def test_a_chunked_upload_is_cut_off_at_the_limit(tmp_path):
    settings = ServerSettings(tmp_path, composer=Calls(lambda *a: None), max_upload_bytes=1 << 20)
    sent = 0

    def endless():
        nonlocal sent
        yield b'--x\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'
        while sent < 200 << 20:  # would be 200 MB; the server stops reading long before
            sent += 64 << 10
            yield b"\0" * (64 << 10)

    with Served(settings) as served, httpx.Client(timeout=30) as client:
        try:
            response = client.post(
                served.url + "/api/compositions",
                content=endless(),
                headers={"Content-Type": "multipart/form-data; boundary=x"},
            )
            assert response.status_code == 413
        except httpx.TransportError:
            pass  # the server answered and closed while the client was still sending
    assert sent < 100 << 20
    assert not any(tmp_path.rglob("upload.png"))


def closed_by_server(client: socket.socket) -> bool:
    """True when the server ended the connection (an orderly close or a reset)."""
    try:
        return client.recv(100) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_connections_that_trickle_their_headers_are_closed(tmp_path, monkeypatch):
    monkeypatch.setattr(web_server.HeaderDeadline, "header_timeout_s", 0.5)
    settings = ServerSettings(tmp_path, composer=Calls(lambda *a: None))
    with Served(settings) as served:
        clients = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(40)]
        try:
            for client in clients:
                client.settimeout(20)  # a hang guard; the deadline is 0.5 s
                client.sendall(b"GET /api/compositions HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            time.sleep(0.2)
            for client in clients:
                with contextlib.suppress(OSError):  # the server may have closed it already
                    client.sendall(b"a")  # still trickling
            closed = [closed_by_server(client) for client in clients]
        finally:
            for client in clients:
                client.close()
        with httpx.Client(timeout=20) as http:  # the server still answers everyone else
            assert http.get(served.url + "/api/compositions").status_code == 200
    assert all(closed)


def test_headers_sent_in_time_are_served_on_a_kept_alive_connection(tmp_path, monkeypatch):
    monkeypatch.setattr(web_server.HeaderDeadline, "header_timeout_s", 0.5)
    settings = ServerSettings(tmp_path, composer=Calls(lambda *a: None))
    with Served(settings) as served, httpx.Client(timeout=20) as http:
        for _ in range(3):
            assert http.get(served.url + "/api/compositions").status_code == 200


def test_a_body_that_stalls_is_answered_408(tmp_path):
    settings = ServerSettings(tmp_path, composer=Calls(lambda *a: None), body_timeout_s=0.5)
    with Served(settings) as served, socket.create_connection(("127.0.0.1", served.port)) as raw:
        raw.settimeout(20)  # a hang guard; the server answers after 0.5 s
        raw.sendall(
            b"POST /api/compositions HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n\r\n--x\r\n"
        )
        answer = raw.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")


def test_a_download_outlasting_the_body_timeout_arrives_whole(tmp_path):
    """The body timeout guards the request body only: a response read slowly (a big file to a
    slow client, the audio element pausing its download) streams to its end. It once cut every
    download after `body_timeout_s`: the wait for the client's disconnect timed out."""
    noise = Image.frombytes("RGB", (1200, 1200), random.Random(1).randbytes(1200 * 1200 * 3))
    picture = io.BytesIO()
    noise.save(picture, "PNG")
    settings = ServerSettings(tmp_path, composer=Calls(lambda *a: None), body_timeout_s=0.3)
    with Served(settings) as served:
        with httpx.Client(timeout=20) as http:
            files = {"image": ("p.png", picture.getvalue(), "image/png")}
            job = http.post(served.url + "/api/compositions", files=files).json()["id"]
        with socket.socket() as raw:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            raw.settimeout(20)  # a hang guard
            raw.connect(("127.0.0.1", served.port))
            raw.sendall(
                f"GET /api/compositions/{job}/files/upload HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            )
            received = raw.recv(4096)
            time.sleep(1.0)  # more than three body timeouts while the server is mid-stream
            head = received.split(b"\r\n\r\n", 1)[0].decode().lower()
            length = int(head.split("content-length:")[1].split()[0])
            body = received.split(b"\r\n\r\n", 1)[1]
            while len(body) < length and (chunk := raw.recv(1 << 16)):
                body += chunk
    assert length > 4 << 20  # far more than the socket buffers hold
    assert len(body) == length


@pytest.mark.parametrize(
    ("request_args", "status"),
    [
        ({"method": "GET", "url": "/no/such/path"}, 404),
        ({"method": "PUT", "url": "/api/compositions"}, 405),
        (
            {
                "method": "POST",
                "url": "/api/compositions",
                "content": b"garbage",
                "headers": {"Content-Type": "multipart/form-data; boundary="},
            },
            400,
        ),
    ],
)
def test_errors_are_problem_details_everywhere(tmp_path, request_args, status):
    with TestClient(
        create_app(ServerSettings(tmp_path, composer=Calls(lambda *a: None)))
    ) as client:
        response = client.request(**request_args)
    assert response.status_code in (status, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.json()) >= {"type", "title", "status", "detail"}


def test_a_huge_prompt_is_a_problem_document(tmp_path):
    with TestClient(
        create_app(ServerSettings(tmp_path, composer=Calls(lambda *a: None)))
    ) as client:
        response = client.post(
            "/api/compositions",
            files={"image": ("p.png", png(), "image/png")},
            data={"prompt": "x" * (2 << 20)},
        )
    assert response.status_code in (400, 413, 422)
    assert response.headers["content-type"] == "application/problem+json"


def test_too_many_file_parts_is_a_problem_document(tmp_path):
    with TestClient(
        create_app(ServerSettings(tmp_path, composer=Calls(lambda *a: None)))
    ) as client:
        files = [("image", (f"{n}.png", b"x", "image/png")) for n in range(1200)]
        response = client.post("/api/compositions", files=files)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_a_failed_job_keeps_the_stage_where_it_failed(tmp_path):
    def fail_in_compose(image, out, prompt, seed, progress):
        progress("retrieve")
        progress("compose")
        raise PictuneError("the model wrote no tune")

    with TestClient(
        create_app(ServerSettings(tmp_path, composer=Calls(fail_in_compose)))
    ) as client:
        job_id = client.post(
            "/api/compositions", files={"image": ("p.png", png(), "image/png")}
        ).json()["id"]
        deadline = time.monotonic() + 30
        job = client.get(f"/api/compositions/{job_id}").json()
        while job["status"] != "failed" and time.monotonic() < deadline:
            time.sleep(0.05)
            job = client.get(f"/api/compositions/{job_id}").json()
    assert (job["status"], job["stage"], job["error"]) == (
        "failed",
        "compose",
        "the model wrote no tune",
    )


@pytest.mark.parametrize("token", ["", " ", "x", "s3cret", "a" * 40, "short token " * 4])
def test_a_public_bind_refuses_a_weak_token(monkeypatch, token):
    monkeypatch.setenv("PICTUNE_API_TOKEN", token)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "PICTUNE_API_TOKEN" in result.output


@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
def test_uploads_are_kept_at_a_bounded_size(kind):
    from pictune.images import load_image

    encoded = io.BytesIO()
    Image.new("RGB", (900, 300), (90, 20, 200)).save(encoded, kind)
    picture = load_image(encoded.getvalue(), max_side=128)
    assert max(picture.size) <= 128 and picture.mode == "RGB"
    assert picture.size[0] > picture.size[1]  # the shape is kept
