"""Streaming image attention equals the paper's reference computation on both model families."""

from __future__ import annotations

import pytest
from PIL import Image

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from pictune.models.vlm import GenerationOptions, Message  # noqa: E402
from pictune.models.vlm.attention import capturing, image_grid, image_token_positions  # noqa: E402
from pictune.models.vlm.transformers_backend import TransformersBackend  # noqa: E402


@pytest.fixture(scope="module", params=["llava", "qwen2_vl"])
def tiny(request, tmp_path_factory):
    from tests.models_fixtures import build_tiny_llava, build_tiny_qwen2_vl

    build = build_tiny_llava if request.param == "llava" else build_tiny_qwen2_vl
    return TransformersBackend(str(build(tmp_path_factory.mktemp(request.param))))


def _inputs(backend, image):
    processor, model = backend._load()
    chat = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe."}]}]
    prompt = processor.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
    return processor, model, processor(images=[image], text=[prompt], return_tensors="pt")


def _eager_reference(model, inputs, tokens):
    """The paper's computation: eager attention with every step's attentions returned."""
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            return model.generate(
                **inputs,
                max_new_tokens=tokens,
                do_sample=False,
                output_attentions=True,
                return_dict_in_generate=True,
            )
    finally:
        model.set_attn_implementation("sdpa")


def test_streamed_map_equals_eager_reference(tiny):
    _, model, inputs = _inputs(tiny, Image.new("RGB", (150, 100), (200, 120, 40)))
    positions = image_token_positions(model, inputs["input_ids"])
    assert len(positions) > 0
    reference = _eager_reference(model, inputs, 8)
    # The paper's map: for every generated token, every layer, the last query row's attention
    # to the image tokens, averaged over heads, then over layers and tokens.
    per_step = [
        torch.stack([layer[0, :, -1, positions].double().mean(0) for layer in step]).mean(0)
        for step in reference.attentions
    ]
    expected = torch.stack(per_step).mean(0).numpy()
    with torch.no_grad(), capturing(model, positions, per_token=True) as capture:
        streamed = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    assert streamed.tolist() == reference.sequences.tolist()  # generation itself is unchanged
    assert abs(capture.mean() - expected).max() < 1e-5
    assert len(capture.steps) == len(reference.attentions)
    assert abs(capture.steps[0].numpy() - per_step[0].numpy()).max() < 1e-5
    assert model.config._attn_implementation == "sdpa"  # restored


def test_chosen_layers_only(tiny):
    _, model, inputs = _inputs(tiny, Image.new("RGB", (80, 80), (20, 40, 200)))
    positions = image_token_positions(model, inputs["input_ids"])
    reference = _eager_reference(model, inputs, 4)
    expected = (
        torch.stack(
            [step[1][0, :, -1, positions].double().mean(0) for step in reference.attentions]
        )
        .mean(0)
        .numpy()
    )
    with torch.no_grad(), capturing(model, positions, layers=frozenset({1})) as capture:
        model.generate(**inputs, max_new_tokens=4, do_sample=False)
    assert abs(capture.mean() - expected).max() < 1e-5


def test_backend_returns_a_grid_shaped_like_the_image_tokens(tiny):
    reply = tiny.generate(
        [Message("user", "Describe.", (Image.new("RGB", (300, 200), (90, 160, 60)),))],
        GenerationOptions(max_tokens=5, seed=0),
    )
    grid = reply.image_attention
    assert grid is not None and grid.ndim == 2 and grid.min() >= 0
    _, model, inputs = _inputs(tiny, Image.new("RGB", (300, 200), (90, 160, 60)).resize((300, 200)))
    rows, cols = image_grid(model, inputs, int(grid.size))
    assert grid.shape == (rows, cols)


def test_per_phrase_maps_from_per_token_attention(tiny):
    import numpy as np

    from pictune.explain.phrases import reply_spans, span_maps

    backend = TransformersBackend(tiny.model, per_token_attention=True)
    reply = backend.generate(
        [Message("user", "Write ABC.", (Image.new("RGB", (120, 90), (200, 50, 50)),))],
        GenerationOptions(max_tokens=24, seed=3),
    )
    ends, maps = reply.extra["token_ends"], reply.extra["token_maps"]
    assert len(ends) == len(maps) and ends == sorted(ends)
    assert np.allclose(
        np.mean(maps, axis=0), reply.image_attention, atol=1e-6
    )  # the same streamed sums
    # Spans over the (garbage) text still pick the right tokens: a span covering all text
    # gives the overall mean.
    from pictune.explain.phrases import Span

    whole = span_maps(ends, maps, [Span("all", 0, ends[-1], reply.text)])
    assert np.allclose(whole["all"], reply.image_attention, atol=1e-6)
    assert isinstance(reply_spans(reply.text), list)


def test_reply_spans_cut_phrases_and_sentences():
    from pictune.explain.phrases import reply_spans

    reply = (
        "Here:\n```abc\nX:1\nT:t\nM:4/4\nK:C\nCDEF|GABc|cBAG|FEDC|CEGc|c4 G4|E8|C8|]\n```\n"
        "The melody rises like the sun. It falls back at dusk."
    )
    labels = [s.label for s in reply_spans(reply)]
    assert labels[:2] == ["bars 1–4", "bars 5–8"]
    assert "sentence 1" in labels or "sentence 2" in labels
    first = reply_spans(reply)[0]
    assert first.text.startswith("CDEF|") and first.text.endswith("FEDC|")
