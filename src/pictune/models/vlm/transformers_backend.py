"""Local Hugging Face VLMs: any model AutoModelForImageTextToText and AutoProcessor load.

Presets: Kwai-Keye/Keye-VL-8B-Preview (the paper's model; remote code, `/think` and
`/no_think` switches) and the Qwen2.5-VL / Qwen3-VL family (native in transformers; Qwen3's
`enable_thinking`). bf16 on CUDA, float32 on CPU, `device_map="auto"` when accelerate is
installed and a GPU is present. One load per process, reused across calls."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from pictune.abc.grammar import complete_bars
from pictune.models.errors import BackendError, missing_model, require
from pictune.models.vlm.attention import capturing, image_grid, image_token_positions
from pictune.models.vlm.base import GenerationOptions, Message, Reply
from pictune.models.vlm.constrained import GrammarCompiler, GrammarLogitsProcessor, wants_constraint

log = logging.getLogger(__name__)
_LOADED: dict[tuple[str, str, str], tuple[Any, Any]] = {}


@dataclass
class TransformersBackend:
    model: str
    device: str | None = None
    dtype: str | None = None  # "bfloat16", "float16", "float32"; default by device
    image_side: int | None = 420  # longest side sent to the processor (the paper: 280×420)
    attn_implementation: str | None = None
    attention: bool = True  # stream the image attention map of every call (cheap)
    per_token_attention: bool = False  # also keep one map per generated token (per-phrase maps)
    constrained: str = "auto"  # ABC reply grammar on compose/correct/refine calls: auto|on|off
    _grammars: GrammarCompiler | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._torch = require("torch", "vlm")
        require("transformers", "vlm")
        if self.device is None:
            self.device = "cuda" if self._torch.cuda.is_available() else "cpu"
        if self.dtype is None:
            self.dtype = "bfloat16" if self.device.startswith("cuda") else "float32"
        self.keye = "keye" in self.model.lower()
        self.qwen3 = "qwen3" in self.model.lower()
        self.use_grammar = wants_constraint(self.constrained)
        if self.use_grammar and self._grammars is None:
            self._grammars = GrammarCompiler()

    @property
    def id(self) -> str:
        return f"transformers:{self.model}"

    def _load(self) -> tuple[Any, Any]:
        key = (self.model, str(self.device), str(self.dtype))
        if key in _LOADED:
            return _LOADED[key]
        import importlib.util

        transformers = require("transformers", "vlm")

        options: dict[str, Any] = {"dtype": getattr(self._torch, str(self.dtype))}
        if self.keye:
            options["trust_remote_code"] = True
        if self.attn_implementation:
            options["attn_implementation"] = self.attn_implementation
        use_map = (
            str(self.device).startswith("cuda")
            and importlib.util.find_spec("accelerate") is not None
        )
        if use_map:
            options["device_map"] = "auto"
        try:
            try:
                processor = transformers.AutoProcessor.from_pretrained(
                    self.model, trust_remote_code=self.keye
                )
            except ImportError as exc:  # Qwen-VL's video processor without torchvision
                from pictune.models.vlm.processors import fallback_processor

                log.info("full processor unavailable (%s); using tokenizer + image processor", exc)
                processor = fallback_processor(self.model, self.keye)
            model = transformers.AutoModelForImageTextToText.from_pretrained(self.model, **options)
        except OSError as exc:
            raise missing_model(self.model, exc) from exc
        if not use_map:
            model = model.to(self.device)
        model.eval()
        _LOADED[key] = (processor, model)
        return processor, model

    def _chat(
        self, messages: list[Message], thinking: bool | None
    ) -> tuple[list[dict[str, Any]], list[Any]]:
        chat, images = [], []
        for message in messages:
            content: list[dict[str, Any]] = []
            for image in message.images:
                picture = image.convert("RGB")
                if self.image_side:
                    picture.thumbnail((self.image_side, self.image_side))
                images.append(picture)
                content.append({"type": "image"})
            text = message.text
            if self.keye and thinking is not None and message.role == "user":
                text += " /think" if thinking else " /no_think"
            content.append({"type": "text", "text": text})
            chat.append({"role": message.role, "content": content})
        return chat, images

    def generate(self, messages: list[Message], options: GenerationOptions) -> Reply:
        processor, model = self._load()
        chat, images = self._chat(messages, options.thinking)
        extra = (
            {"enable_thinking": bool(options.thinking)}
            if self.qwen3 and options.thinking is not None
            else {}
        )
        try:
            prompt = processor.apply_chat_template(
                chat, add_generation_prompt=True, tokenize=False, **extra
            )
            inputs = processor(images=images or None, text=[prompt], return_tensors="pt").to(
                model.device
            )
        except (ValueError, TypeError) as exc:
            raise BackendError(f"{self.model}'s processor rejected the prompt: {exc}") from exc
        if options.seed is not None:
            self._torch.manual_seed(options.seed)
        sample = options.temperature > 0
        started = time.perf_counter()
        positions = (
            image_token_positions(model, inputs["input_ids"]) if images and self.attention else None
        )
        attention = None
        token_maps: list[Any] = []
        grammar = self._grammar_processor(processor, model) if options.constrain else None
        with self._torch.no_grad():
            if positions is not None and len(positions):
                with capturing(model, positions, per_token=self.per_token_attention) as capture:
                    output = self._generate(model, inputs, options, sample, grammar)
                rows, cols = image_grid(model, inputs, len(positions))
                weights = capture.mean()
                if rows * cols == len(weights):
                    attention = weights.reshape(rows, cols)
                    if self.per_token_attention:
                        token_maps = [s.cpu().numpy().reshape(rows, cols) for s in capture.steps]
            else:
                output = self._generate(model, inputs, options, sample, grammar)
        prompt_length = int(inputs["input_ids"].shape[1])
        new_tokens = output[0][prompt_length:]
        text = processor.decode(new_tokens, skip_special_tokens=True)
        details: dict[str, Any] = {}
        if grammar is not None:
            details["constraint"] = grammar.report()
            if not grammar.accepting:  # the token budget ran out inside the tune
                text = complete_bars(text)
        elif options.constrain:
            note = (
                "constrained = off"
                if self.constrained == "off"
                else "llguidance is not installed (pip install 'pictune[grammar]'); not constrained"
            )
            details["constraint"] = {"constrained": False, "note": note}
        if token_maps:
            # Where each generated token ends in the text, for per-phrase maps.
            ends = [
                len(processor.decode(new_tokens[: i + 1], skip_special_tokens=True))
                for i in range(len(new_tokens))
            ]
            details.update(token_ends=ends[: len(token_maps)], token_maps=token_maps)
        return Reply(
            text=str(text),
            model=self.model,
            prompt_tokens=prompt_length,
            completion_tokens=int(new_tokens.shape[0]),
            seconds=time.perf_counter() - started,
            image_attention=attention,
            extra=details,
        )

    def _grammar_processor(self, processor: Any, model: Any) -> GrammarLogitsProcessor | None:
        """A fresh grammar matcher for one call (the compiled grammar is kept per tokenizer)."""
        if not self.use_grammar or self._grammars is None:
            return None
        tokenizer = getattr(processor, "tokenizer", processor)
        eos = model.generation_config.eos_token_id
        eos_ids = [int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos])]
        vocab = int(model.get_output_embeddings().weight.shape[0])
        compiled = self._grammars.for_hf_tokenizer(tokenizer, vocab, eos_ids)
        return GrammarLogitsProcessor(compiled)

    def _generate(
        self,
        model: Any,
        inputs: Any,
        options: GenerationOptions,
        sample: bool,
        grammar: GrammarLogitsProcessor | None = None,
    ) -> Any:
        extra: dict[str, Any] = {}
        if grammar is not None:
            from transformers import LogitsProcessorList

            extra["logits_processor"] = LogitsProcessorList([grammar])
        return model.generate(
            **inputs,
            max_new_tokens=options.max_tokens,
            do_sample=sample,
            temperature=options.temperature if sample else None,
            **extra,
        )
