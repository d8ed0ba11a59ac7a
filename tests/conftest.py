"""Shared fixtures: sample tunes from music21's corpus, fixture folders, temp-file watch."""

from __future__ import annotations

import os

# No test may reach a model hub: this machine has no network, and a hub lookup waits on
# timeouts. Set before transformers or huggingface_hub is first imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import random
import tempfile
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
