"""The transformers backend through the real from_pretrained path, with a tiny random LLaVA."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pictune.corpus import BuiltinSource, CorpusIndex, FeatureEmbedder, build_index
from pictune.models import BackendError
from pictune.models.vlm import GenerationOptions, Message
from pictune.models.vlm.transformers_backend import TransformersBackend
from pictune.pipeline.composer import VlmComposer
from pictune.pipeline.config import Settings

pytest.importorskip("transformers")
EXAMPLE = Path(__file__).parents[1] / "src" / "pictune" / "data" / "example.jpg"


@pytest.fixture(scope="module", params=["llava", "qwen2_vl"])
def tiny_llava(request, tmp_path_factory):
    """A tiny VLM of each family: LLaVA-style, and Qwen2-VL-style (its processor rebuilt
    from tokenizer + image processor, as without torchvision)."""
    from tests.models_fixtures import build_tiny_llava, build_tiny_qwen2_vl

    build = build_tiny_llava if request.param == "llava" else build_tiny_qwen2_vl
    return build(tmp_path_factory.mktemp(f"tiny-{request.param}"))


def test_generates_from_text_and_image(tiny_llava):
    backend = TransformersBackend(str(tiny_llava))
    assert backend.device == "cpu" and backend.dtype == "float32"
    image = Image.new("RGB", (300, 200), (200, 120, 40))
    reply = backend.generate(
        [Message("user", "Write ABC.", (image,))], GenerationOptions(seed=1, max_tokens=12)
    )
    assert isinstance(reply.text, str)
    assert reply.completion_tokens is not None and 0 < reply.completion_tokens <= 12
    again = backend.generate(
        [Message("user", "Write ABC.", (image,))], GenerationOptions(seed=1, max_tokens=12)
    )
    assert again.text == reply.text  # seeded sampling repeats


def test_garbage_replies_end_in_a_bounded_failure(tiny_llava, tmp_path):
    folder = tmp_path / "idx"
    build_index(
        BuiltinSource(limit=120),
        FeatureEmbedder(),
        folder,
        source_description={"kind": "builtin", "limit": 120},
    )
    composer = VlmComposer(
        TransformersBackend(str(tiny_llava)),
        CorpusIndex(folder),
        FeatureEmbedder(),
        Settings(backend="transformers", model=str(tiny_llava), max_attempts=2, max_tokens=16),
    )
    result = composer.compose(EXAMPLE)
    assert not result.ok
    assert len(result.rounds) <= 1 + 2 + 0  # describe, then two attempts at most
    describe = result.rounds[0]
    import numpy as np

    from pictune.explain.heatmap import save_sheet

    sheet_grids = {"all": np.array(describe.attention)}
    assert (
        save_sheet(Image.new("RGB", (90, 60)), sheet_grids, tmp_path / "sheet.png").stat().st_size
        > 100
    )
    assert describe.kind == "describe" and describe.attention is not None  # the paper's map
    result.save(tmp_path / "out")
    assert (tmp_path / "out" / "report.json").is_file()
    from pictune.pipeline.record import Composition

    assert Composition.load(tmp_path / "out").rounds[0].attention == describe.attention


def test_missing_model_is_named(tmp_path):
    with pytest.raises(BackendError, match="no-such/model"):
        TransformersBackend("no-such/model").generate(
            [Message("user", "hi")], GenerationOptions(max_tokens=2)
        )


def _grammar_prefix_ok(text: str) -> bool:
    """Whether `text` is a start the reply grammar allows (byte by byte)."""
    from pictune.models.vlm.constrained import GrammarCompiler
    from tests.test_grammar import byte_tokenizer_json

    compiled = GrammarCompiler().for_tokenizer_json(byte_tokenizer_json(), eos=256)
    matcher = compiled.matcher()
    return bool(matcher.consume_tokens(compiled.tokenizer.tokenize_bytes(text.encode())))


def test_constrained_calls_stay_inside_the_grammar_and_repeat_with_the_seed(tiny_llava):
    pytest.importorskip("llguidance")
    from pictune.abc.grammar import grammar_version

    backend = TransformersBackend(str(tiny_llava))  # constrained = auto: on, llguidance is here
    image = Image.new("RGB", (300, 200), (30, 60, 200))
    ask = [Message("user", "Write ABC.", (image,))]
    options = GenerationOptions(seed=4, max_tokens=30, constrain=True)
    reply = backend.generate(ask, options)
    constraint = reply.extra["constraint"]
    assert constraint["constrained"] is True
    assert constraint["grammar_version"] == grammar_version()
    assert constraint["masked_tokens"] == reply.completion_tokens
    assert constraint["mask_us_per_token"] > 0
    assert _grammar_prefix_ok(reply.text)
    assert reply.image_attention is not None  # the streaming attention hook still runs
    assert backend.generate(ask, options).text == reply.text
    free = backend.generate(ask, GenerationOptions(seed=4, max_tokens=30))
    assert "constraint" not in free.extra  # describe calls are left free


def test_constrained_off_and_a_missing_library(tiny_llava, monkeypatch):
    from pictune.models.vlm import constrained

    backend = TransformersBackend(str(tiny_llava), constrained="off")
    reply = backend.generate(
        [Message("user", "Write ABC.")], GenerationOptions(seed=1, max_tokens=8, constrain=True)
    )
    assert reply.extra["constraint"] == {"constrained": False, "note": "constrained = off"}
    monkeypatch.setattr(constrained, "library_available", lambda: False)
    assert TransformersBackend(str(tiny_llava)).use_grammar is False  # auto: quietly off
    with pytest.raises(BackendError, match=r"pictune\[grammar\]"):
        TransformersBackend(str(tiny_llava), constrained="on")
