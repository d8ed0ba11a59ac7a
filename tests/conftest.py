"""Shared fixtures: sample tunes from music21's corpus, fixture folders, temp-file watch."""

from __future__ import annotations

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


def scratch_entries() -> set[str]:
    """pictune's working folders currently present (they must never outlive a call)."""
    found = set()
    for root in {Path("/dev/shm"), Path(tempfile.gettempdir())}:
        if root.is_dir():
            found |= {str(p) for p in root.glob("pictune-*")}
    return found


@pytest.fixture
def no_leftovers():
    """Fail the test if it leaves a pictune working folder behind."""
    before = scratch_entries()
    yield
    assert scratch_entries() - before == set()
