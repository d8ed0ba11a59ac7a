"""Revising with a vision-language model: the request becomes a refinement round (the
loopback OpenAI-compatible server sees the picture, the current tune, the metrics and the
user's words), corrected until playable within the budget, then checked part by part; a tiny
random-weight model runs the same path and fails within its bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from pictune.corpus import CorpusIndex, FeatureEmbedder
from pictune.models.vlm import OpenAIBackend
from pictune.pipeline.composer import VlmComposer
from pictune.pipeline.config import Settings
from pictune.pipeline.record import Composition
from tests.conftest import offline

EXAMPLE = Path(__file__).parents[1] / "src" / "pictune" / "data" / "example.jpg"
SLOW_D_MINOR = """Here is the revised piece.
```abc
X:1
T:Harbour Revised
M:4/4
L:1/8
Q:1/4=76
K:Dm
D2 F2 A2 d2|c4 A4|B2 G2 E2 C2|D8|]
```
I slowed the tune to 76 and moved it to D minor; I kept its rhythm."""
FAST_C_MAJOR = SLOW_D_MINOR.replace("Q:1/4=76", "Q:1/4=160").replace("K:Dm", "K:C")


@pytest.fixture(scope="module")
def index(small_index_folder):
    return CorpusIndex(small_index_folder)


@pytest.fixture(scope="module")
def parent(index, tmp_path_factory):
    folder = tmp_path_factory.mktemp("vlm-revise") / "example"
    offline(index).compose(EXAMPLE, seed=2).save(folder)
    return folder


def vlm(server, index, **values) -> VlmComposer:
    backend = OpenAIBackend(model="fake-vlm", base_url=server.url, api_key="sk-x", backoff=0.01)
    return VlmComposer(
        backend, index, FeatureEmbedder(), Settings(backend="openai", model="fake-vlm", **values)
    )


def test_the_request_is_a_refinement_round_through_the_correction_loop(
    server, index, parent, tmp_path
):
    server.replies = [(200, "I would rather not.", 0), (200, SLOW_D_MINOR, 0)]
    result = vlm(server, index, max_attempts=2).revise(parent, "slower, in D minor")
    assert result.ok, result.status
    assert [r.kind for r in result.rounds] == ["revise", "correct"]
    assert result.model_calls == 2 and result.backend == "openai:fake-vlm"
    content = server.requests[0]["body"]["messages"][0]["content"]
    assert content[0]["image_url"]["url"].startswith("data:image/")  # the picture
    text = content[-1]["text"]
    assert "The listener asks: slower, in D minor" in text
    assert "keep everything the request does not mention" in text
    assert Composition.load(parent).abc.strip() in text  # the current tune
    assert "Measured on your tune" in text
    assert "I slowed the tune" in result.motivation  # the reply explains the changes
    lineage = result.lineage
    assert lineage.parent == str(parent.resolve()) and lineage.request == "slower, in D minor"
    assert {(c.aspect, c.honoured) for c in lineage.checks} == {("tempo", True), ("key", True)}
    assert any(line.startswith("tempo:") for line in lineage.changes)
    result.save(tmp_path / "revised")
    assert Composition.load(tmp_path / "revised").lineage == lineage


def test_a_reply_that_ignores_the_request_is_not_honoured(server, index, parent):
    server.replies = [(200, FAST_C_MAJOR, 0)]
    result = vlm(server, index).revise(parent, "slower, in D minor")
    assert result.ok
    assert {(c.aspect, c.honoured) for c in result.lineage.checks} == {
        ("tempo", False),
        ("key", False),
    }


def test_a_model_that_never_writes_abc_fails_within_the_attempts(server, index, parent):
    server.replies = [(200, "I cannot.", 0)] * 3
    result = vlm(server, index, max_attempts=3).revise(parent, "louder")
    assert not result.ok and result.status.startswith("failed")
    assert len(result.rounds) == 3 and result.lineage.request == "louder"
    assert result.lineage.checks == ()


def test_a_tiny_transformers_model_revises_within_its_bounds(index, parent, tmp_path_factory):
    pytest.importorskip("transformers")
    from pictune.models.vlm.transformers_backend import TransformersBackend
    from tests.models_fixtures import build_tiny_llava

    model = build_tiny_llava(tmp_path_factory.mktemp("tiny-llava"))
    composer = VlmComposer(
        TransformersBackend(str(model)),
        index,
        FeatureEmbedder(),
        Settings(backend="transformers", model=str(model), max_attempts=2, max_tokens=16),
    )
    result = composer.revise(parent, "give the tune to the flute")
    assert len(result.rounds) <= 2 and result.model_calls == len(result.rounds)
    assert "The listener asks: give the tune to the flute" in result.rounds[0].prompt
    assert result.lineage is not None and result.lineage.parent == str(parent.resolve())
    if result.ok:  # random weights rarely write a playable tune; when they do, it is checked
        assert [c.aspect for c in result.lineage.checks] == ["instruments"]


def test_a_picture_in_memory_reaches_the_model_when_composing_and_revising(server, index, tmp_path):
    from PIL import Image

    with Image.open(EXAMPLE) as opened:
        held = opened.copy()
    server.replies = [(200, "A harbour at dusk.", 0), (200, SLOW_D_MINOR, 0)]
    composer = vlm(server, index, rounds=0, k=1)
    record = composer.compose(held, seed=1)
    assert record.ok and record.image == "" and record.picture is not None
    for request in server.requests:
        content = request["body"]["messages"][0]["content"]
        assert content[0]["image_url"]["url"].startswith("data:image/png;base64,")
    server.replies = [(200, SLOW_D_MINOR, 0)]
    revised = composer.revise(record, "slower")  # the unsaved record: its picture in memory
    content = server.requests[-1]["body"]["messages"][0]["content"]
    assert content[0]["image_url"]["url"].startswith("data:image/")
    assert revised.ok and "picture" in revised.save(tmp_path / "revised")
