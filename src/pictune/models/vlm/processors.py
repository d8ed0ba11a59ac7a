"""A processor for Qwen-VL-family models when transformers cannot build theirs.

In transformers 5 the Qwen-VL processors include a video processor that needs torchvision;
without it `AutoProcessor` fails although images need nothing of it. This stand-in combines
the model's own tokenizer and image processor and expands each image placeholder to the
number of visual tokens the model expects (grid t·h·w / merge²), as the real processor does.
"""

from __future__ import annotations

from typing import Any


class ImageTextProcessor:
    def __init__(
        self, tokenizer: Any, image_processor: Any, image_token: str = "<|image_pad|>"
    ) -> None:
        self.tokenizer, self.image_processor, self.image_token = (
            tokenizer,
            image_processor,
            image_token,
        )
        self.merge = int(getattr(image_processor, "merge_size", 2))

    def apply_chat_template(self, messages: list[dict[str, Any]], **options: Any) -> str:
        text: str = self.tokenizer.apply_chat_template(messages, **options)
        return text

    def __call__(
        self,
        images: list[Any] | None = None,
        text: list[str] | None = None,
        return_tensors: str = "pt",
    ) -> Any:
        from transformers import BatchFeature

        prompts = list(text or [""])
        features: dict[str, Any] = {}
        if images:
            pixels = self.image_processor(images=images, return_tensors=return_tensors)
            features.update(pixels)
            counts = [int(grid.prod()) // self.merge**2 for grid in pixels["image_grid_thw"]]
            position = 0
            expanded = []
            for prompt in prompts:
                pieces = prompt.split(self.image_token)
                out = pieces[0]
                for piece in pieces[1:]:
                    out += "<|placeholder|>" * counts[position] + piece
                    position += 1
                expanded.append(out.replace("<|placeholder|>", self.image_token))
            if position != len(counts):
                raise ValueError(
                    f"{len(counts)} images for {position} image placeholders in the prompt"
                )
            prompts = expanded
        features.update(self.tokenizer(prompts, return_tensors=return_tensors, padding=True))
        return BatchFeature(features)

    def decode(self, tokens: Any, **options: Any) -> str:
        text: str = self.tokenizer.decode(tokens, **options)
        return text


def fallback_processor(model_id: str, trust_remote_code: bool) -> ImageTextProcessor:
    """Tokenizer + image processor of a model whose full processor cannot be built here."""
    from pictune.models.errors import require

    transformers = require("transformers", "vlm")
    tokenizer = transformers.AutoTokenizer.from_pretrained(
        model_id, trust_remote_code=trust_remote_code
    )
    images = transformers.AutoImageProcessor.from_pretrained(
        model_id, trust_remote_code=trust_remote_code
    )
    return ImageTextProcessor(tokenizer, images)
