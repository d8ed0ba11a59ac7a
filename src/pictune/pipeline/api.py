"""The Python API: one `Composer` protocol for every backend, opened from one `Settings`.

    from pictune import compose
    composition = compose("photo.jpg", prompt="a slow waltz", seed=3)
    composition.save("out/photo")
    revise("out/photo", "slower, in a minor key").save("out/photo.r1")

or, to compose many pictures with the index and model opened once:

    composer = open_composer(load_settings({"backend": "openai", "model": "…"}))
    for picture in pictures:
        composer.compose(picture, seed=0).save(f"out/{picture.stem}")
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pictune.images import ImageInput
from pictune.pipeline.config import Settings, load_settings
from pictune.pipeline.indexes import Notice, open_index
from pictune.pipeline.record import Composition

Progress = Callable[[str], None]


@runtime_checkable
class Composer(Protocol):
    """A backend that turns a picture into a Composition."""

    settings: Settings
    # The stages `compose` reports through `progress`, in order (a correction stage may be
    # added when one happens).
    stages: tuple[str, ...]

    @property
    def backend_id(self) -> str: ...

    @property
    def about(self) -> str:
        """One line for a person: what composes, and where to go for more."""
        ...

    def compose(
        self,
        image: ImageInput,
        prompt: str | None = None,
        *,
        seed: int = 0,
        progress: Progress | None = None,
    ) -> Composition: ...

    def revise(
        self,
        parent: Composition | str | Path,
        request: str,
        *,
        seed: int | None = None,
        progress: Progress | None = None,
    ) -> Composition:
        """`parent` (a record, or the folder it was saved in) changed as the words of
        `request` ask, keeping what they do not mention; the result records its lineage."""
        ...


def make_backend(settings: Settings) -> Any:
    """The vision-language model a VLM configuration names."""
    if settings.backend == "openai":
        from pictune.models.vlm.openai_backend import OpenAIBackend

        return OpenAIBackend(
            model=str(settings.model),
            base_url=settings.base_url or "http://localhost:8000/v1",
            api_key=settings.api_key,
            constrained=settings.constrained,
            server=settings.server,
        )
    from pictune.models.vlm.transformers_backend import TransformersBackend

    return TransformersBackend(
        model=str(settings.model), device=settings.device, constrained=settings.constrained
    )


def default_workers(settings: Settings, cores: int) -> int:
    """Workers a batch runs side by side by default: one a core for the offline composer;
    one for a model backend (a local model takes the machine's memory or GPU; a server
    sets its own concurrency, raised with --workers)."""
    return max(1, cores) if settings.backend == "offline" else 1


def holds_local_model(settings: Settings) -> bool:
    """Whether the backend loads model weights into this process (and wants a GPU)."""
    return settings.backend == "transformers"


def open_composer(settings: Settings, notice: Notice | None = None) -> Composer:
    """The composer `settings` name, with its corpus index, embedder and model opened once.

    A corpus that does not exist raises InputError; the builtin one is built on first use
    (`notice` is told)."""
    index = open_index(settings.corpus, notice)
    if settings.backend == "offline":
        from pictune.pipeline.offline import OfflineComposer

        return OfflineComposer(settings, index)
    from pictune.models import load_embedder
    from pictune.pipeline.composer import VlmComposer

    embedder = load_embedder(settings.embedder or index.embedder_id)
    return VlmComposer(make_backend(settings), index, embedder, settings)


def compose(
    image: ImageInput,
    prompt: str | None = None,
    *,
    seed: int = 0,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> Composition:
    """One picture → one Composition, with `settings` (default: from pictune.toml and the
    environment, as the CLI reads them)."""
    composer = open_composer(settings or load_settings())
    return composer.compose(image, prompt, seed=seed, progress=progress)


def revise(
    folder: str | Path,
    request: str,
    *,
    seed: int | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> Composition:
    """The composition saved in `folder`, revised as `request` says (save it with
    `.save(new_folder)`; its `lineage` names `folder` as the parent)."""
    composer = open_composer(settings or load_settings())
    return composer.revise(folder, request, seed=seed, progress=progress)
