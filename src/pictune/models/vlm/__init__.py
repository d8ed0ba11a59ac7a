"""Vision-language model backends behind one small protocol."""

from pictune.models.vlm.base import GenerationOptions, Message, Reply, VisionLanguageModel
from pictune.models.vlm.openai_backend import OpenAIBackend

__all__ = ["GenerationOptions", "Message", "OpenAIBackend", "Reply", "VisionLanguageModel"]
