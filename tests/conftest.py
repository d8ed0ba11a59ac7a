"""Shared fixtures: sample tunes from music21's corpus, fixture folders, temp-file watch."""

from __future__ import annotations

import os

# No test may reach a model hub: this machine has no network, and a hub lookup waits on
# timeouts. Set before transformers or huggingface_hub is first imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import json
import random
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pictune.abc.text import decode_abc
from pictune.corpus.music21_tunes import CorpusTune, iter_music21_tunes

DATA = Path(__file__).parent / "data"
REPLIES = sorted((DATA / "replies").glob("*.txt"))

SIMPLE_TUNE = """X:1
T:Test Reel
M:4/4
L:1/8
Q:1/4=120
K:D
|:DFAF dFAF|GBdB gBdB|AcecA2 ce|d2f2 d4:|
"""

TWO_VOICES = """X:1
T:Two Voices
M:3/4
L:1/8
Q:1/4=90
K:Bb
V:1 name="Violin"
%%MIDI program 40
V:2 name="Cello" clef=bass
%%MIDI program 42
V:1
B2 d2 f2|g4 f2|e2 c2 A2|B6|]
V:2
B,,6|E,,6|F,,6|B,,6|]
"""


@pytest.fixture(scope="session")
def corpus_tunes() -> list[CorpusTune]:
    return list(iter_music21_tunes())


@pytest.fixture(scope="session")
def corpus_sample(corpus_tunes: list[CorpusTune]) -> list[CorpusTune]:
    """A fixed random sample of 600 tunes across every collection."""
    return random.Random(7).sample(corpus_tunes, 600)


def read_reply(path: Path) -> str:
    return decode_abc(path.read_bytes())


@pytest.fixture
def no_leftovers(tmp_path, monkeypatch):
    """Fail the test if it leaves any working file behind: every scratch folder pictune makes
    (tools, renderers) is redirected into a private folder that must end empty."""
    from pictune.abc import tools

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tools, "_scratch_root", lambda: str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield scratch
    assert list(scratch.iterdir()) == []


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    from tests.models_fixtures import build_tiny_clip

    return build_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture
def index_dir(tmp_path, monkeypatch) -> Path:
    """An empty PICTUNE_INDEX_DIR for the test."""
    folder = tmp_path / "indexes"
    monkeypatch.setenv("PICTUNE_INDEX_DIR", str(folder))
    return folder


@pytest.fixture
def pictures(tmp_path) -> Path:
    """Three small pictures in a folder, one of them in a sub-folder."""
    from PIL import Image

    folder = tmp_path / "pictures"
    (folder / "sub").mkdir(parents=True)
    for name, colour in (
        ("red.png", (220, 30, 30)),
        ("blue.jpg", (20, 40, 200)),
        ("sub/green.png", (30, 200, 40)),
    ):
        Image.new("RGB", (80, 60), colour).save(folder / name)
    return folder


@pytest.fixture(scope="session")
def small_index_folder(tmp_path_factory) -> Path:
    """A features index of the first 300 builtin tunes, shared by the pipeline, web and batch
    tests (read-only)."""
    from pictune.corpus import BuiltinSource, FeatureEmbedder, build_index

    folder = tmp_path_factory.mktemp("small-index") / "builtin"
    build_index(
        BuiltinSource(limit=300),
        FeatureEmbedder(),
        folder,
        source_description={"kind": "builtin", "limit": 300},
    )
    return folder


class Script:
    """Scripted replies: (status, content or error body, delay seconds[, finish reason]), and
    JSON documents served to GET requests by path."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests: list[dict] = []
        self.documents: dict[str, dict] = {}


@pytest.fixture
def server():
    """A loopback OpenAI-compatible server answering from `server.replies`."""
    state = Script([])

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def do_POST(self):
            length = int(self.headers["Content-Length"])
            state.requests.append(
                {
                    "path": self.path,
                    "auth": self.headers.get("Authorization"),
                    "body": json.loads(self.rfile.read(length)),
                }
            )
            status, content, delay, *finish = (
                state.replies.pop(0) if state.replies else (500, "script exhausted", 0)
            )
            time.sleep(delay)
            if status == 200:
                body = {
                    "model": "fake-vlm",
                    "choices": [
                        {
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": finish[0] if finish else "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 20},
                }
            else:
                body = {"error": {"message": content}}
            self._send(status, body)

        def do_GET(self):
            document = state.documents.get(self.path)
            self._send(200 if document is not None else 404, document or {"error": "none"})

        def _send(self, status, body):
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield state
    httpd.shutdown()
    httpd.server_close()


def offline(index, **settings):
    """The offline composer over `index`, with these settings on top of the defaults."""
    from pictune.pipeline.config import Settings
    from pictune.pipeline.offline import OfflineComposer

    return OfflineComposer(Settings(**settings), index)


def chosen(report: dict) -> dict:
    """The chosen round of a report.json."""
    return report["rounds"][report["chosen_round"]]


@pytest.fixture(autouse=True)
def keyword_moods(monkeypatch):
    """Prompts are read with the keyword table unless a test says otherwise: the real
    sentence model takes seconds to load, and would make which words count as unused depend
    on what is installed. tests/test_moods.py drives the sentence path with its own
    embedder."""
    from pictune.models.offline import moods

    monkeypatch.setattr(moods, "sentence_installed", lambda: False)


@pytest.fixture
def home(small_index_folder, monkeypatch):
    """The small index as the one the commands find, and no backend set by the environment."""
    monkeypatch.setenv("PICTUNE_INDEX_DIR", str(small_index_folder.parent))
    monkeypatch.delenv("PICTUNE_BACKEND", raising=False)
    return small_index_folder
