"""Streaming image attention: what each generated token attends to in the image, captured
during normal generation with the fast attention kernel left on.

An attention function registered with transformers wraps SDPA. For the text decoder's
attention modules it also recomputes the softmax weights of the last query row only (the
token being generated) against the keys — with the module's own scaling, rotary-embedded
query and keys, grouped-query layout and mask — keeps the image columns, averages them over
heads and adds them to a running sum. Nothing of size steps × sequence is stored; per-token
maps (steps × image tokens) only when asked for. Aggregation matches the paper's map: the
mean over heads, layers and generated tokens.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

IMPLEMENTATION = "pictune_stream"
_state = threading.local()
_registered = False


@dataclass
class AttentionCapture:
    """Running sums of one generation's attention to the image tokens."""

    positions: Any  # LongTensor of image-token positions in the prompt
    modules: dict[int, int]  # id(attention module) → layer index
    layers: frozenset[int] | None = None  # only these layers (None: all)
    per_token: bool = False
    total: Any = None  # float64 tensor (n_image,)
    count: int = 0
    steps: list[Any] = field(default_factory=list)  # per generated token, when per_token
    _step: Any = None
    _layers_in_step: int = 0
    _image: Any = None

    @property
    def image(self) -> Any:
        """The image columns: a slice when the image tokens are contiguous (they are for
        LLaVA and Qwen-VL), else the index tensor."""
        if self._image is None:
            first, last = int(self.positions[0]), int(self.positions[-1])
            contiguous = last - first + 1 == len(self.positions)
            self._image = slice(first, last + 1) if contiguous else self.positions
        return self._image

    def add(self, layer: int, summed: Any, heads: int) -> None:
        """Add one layer's image weights, summed over its heads, for the token being made."""
        if self.total is None:
            self.total = summed.double() / heads
        else:
            self.total.add_(summed, alpha=1.0 / heads)
        self.count += 1
        if not self.per_token:
            return
        image = summed.double() / heads
        self._step = image if self._step is None else self._step + image
        self._layers_in_step += 1
        if self._layers_in_step == len(self.layers or self.modules):
            self.steps.append(self._step / self._layers_in_step)
            self._step, self._layers_in_step = None, 0

    def mean(self) -> npt.NDArray[np.float64]:
        if self.total is None or self.count == 0:
            return np.zeros(len(self.positions))
        result: npt.NDArray[np.float64] = (self.total / self.count).cpu().numpy()
        return result


def _stream_attention(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> Any:
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    capture: AttentionCapture | None = getattr(_state, "capture", None)
    layer = capture.modules.get(id(module)) if capture is not None else None
    if (
        capture is not None
        and layer is not None
        and (capture.layers is None or layer in capture.layers)
    ):
        batch, heads, _, dim = query.shape
        kv_heads = key.shape[1]
        # The last query row only, grouped onto its key/value head (no copy of the keys).
        last = query[:, :, -1, :].reshape(batch, kv_heads, heads // kv_heads, dim).float()
        scores = last @ key.float().transpose(-1, -2)
        scores = scores * (scaling if scaling is not None else dim**-0.5)
        if attention_mask is not None:
            mask = attention_mask[:, :, -1, : key.shape[-2]].unsqueeze(2)
            if mask.dtype == torch_bool():
                scores = scores.masked_fill(~mask, float("-inf"))
            else:
                scores = scores + mask.float()
        weights = scores.softmax(dim=-1)[0]  # (kv_heads, groups, keys)
        capture.add(layer, weights[..., capture.image].sum(dim=(0, 1)), heads)
    return sdpa_attention_forward(
        module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
    )


def torch_bool() -> Any:
    import torch

    return torch.bool


def register() -> None:
    global _registered
    if not _registered:
        from transformers import AttentionInterface

        AttentionInterface.register(IMPLEMENTATION, _stream_attention)
        _registered = True


def text_attention_modules(model: Any) -> dict[int, int]:
    """id → layer index of every self-attention module of the language model's decoder."""
    language = getattr(getattr(model, "model", model), "language_model", None) or getattr(
        model, "language_model", None
    )
    if language is None:
        raise ValueError("this model has no language_model to take attention from")
    found = [m for name, m in language.named_modules() if name.endswith("self_attn")]
    return {id(m): index for index, m in enumerate(found)}


@contextmanager
def capturing(
    model: Any, positions: Any, layers: frozenset[int] | None = None, per_token: bool = False
) -> Iterator[AttentionCapture]:
    """Switch the model to the streaming attention for the duration; yield the capture."""
    register()
    capture = AttentionCapture(
        positions=positions,
        modules=text_attention_modules(model),
        layers=layers,
        per_token=per_token,
    )
    previous = getattr(model.config, "_attn_implementation", None) or "sdpa"
    model.set_attn_implementation(IMPLEMENTATION)
    _state.capture = capture
    try:
        yield capture
    finally:
        _state.capture = None
        model.set_attn_implementation(previous)


def image_token_positions(model: Any, input_ids: Any) -> Any:
    token = getattr(model.config, "image_token_id", None)
    if token is None:
        token = getattr(model.config, "image_token_index", None)
    if token is None:
        return None
    return (input_ids[0] == token).nonzero().flatten()


def image_grid(model: Any, inputs: Any, count: int) -> tuple[int, int]:
    """Rows × columns of the image tokens: from Qwen's image_grid_thw and merge size, or the
    square patch grid of LLaVA-style models."""
    grid = inputs.get("image_grid_thw") if hasattr(inputs, "get") else None
    if grid is not None and len(grid):
        merge = int(getattr(model.config.vision_config, "spatial_merge_size", 2))
        _, height, width = (int(v) for v in grid[0])
        return height // merge, width // merge
    side = round(count**0.5)
    if side * side == count:
        return side, side
    return 1, count
