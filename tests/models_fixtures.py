"""Tiny random-weight models built offline (no weights can be downloaded here).

They are saved and reloaded through the normal `from_pretrained` path, so the code under
test is the code that loads real models."""

from __future__ import annotations

import os
from pathlib import Path


def build_tiny_clip(folder: Path) -> Path:
    """A CLIP model (~100k parameters) with a byte-level tokenizer, saved to `folder`."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTokenizer
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    torch.manual_seed(0)
    alphabet = sorted(ByteLevel.alphabet())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for char in alphabet:
        vocab.setdefault(char, len(vocab))
    for char in alphabet:
        vocab.setdefault(char + "</w>", len(vocab))
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[])
    images = CLIPImageProcessorPil(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    processor = CLIPProcessor(image_processor=images, tokenizer=tokenizer)
    config = CLIPConfig(
        text_config={
            "vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 2, "max_position_embeddings": 248,
            "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 1,
        },
        vision_config={
            "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 2, "image_size": 32, "patch_size": 8,
        },
        projection_dim=16,
    )  # fmt: skip
    CLIPModel(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
