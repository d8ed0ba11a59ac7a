"""The protocol every VLM backend speaks: messages with text and images in, a reply out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Message:
    role: str  # "system", "user" or "assistant"
    text: str
    images: tuple[Any, ...] = ()  # PIL images


@dataclass(frozen=True)
class GenerationOptions:
    seed: int | None = None
    temperature: float = 0.7
    max_tokens: int = 2048
    thinking: bool | None = None  # models with a switch (Keye's /think, Qwen3's enable_thinking)
    # Keep the reply inside the ABC reply grammar (compose, correct and refine calls), where
    # the backend and its settings allow; the reply's extra["constraint"] says what was done.
    constrain: bool = False


@dataclass(frozen=True)
class Reply:
    text: str
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    seconds: float = 0.0
    image_attention: Any = None  # a grid over the image, when the backend can give one
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class VisionLanguageModel(Protocol):
    @property
    def id(self) -> str: ...

    def generate(self, messages: list[Message], options: GenerationOptions) -> Reply: ...
