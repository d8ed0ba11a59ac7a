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


def test_streamed_map_equals_eager_reference(tiny):
    _, model, inputs = _inputs(tiny, Image.new("RGB", (150, 100), (200, 120, 40)))
    positions = image_token_positions(model, inputs["input_ids"])
    assert len(positions) > 0
    model.set_attn_implementation("eager")
    with torch.no_grad():
        reference = model.generate(
            **inputs,
            max_new_tokens=8,
            do_sample=False,
            output_attentions=True,
            return_dict_in_generate=True,
        )
    model.set_attn_implementation("sdpa")
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
    model.set_attn_implementation("eager")
    with torch.no_grad():
        reference = model.generate(
            **inputs,
            max_new_tokens=4,
            do_sample=False,
            output_attentions=True,
            return_dict_in_generate=True,
        )
    model.set_attn_implementation("sdpa")
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
