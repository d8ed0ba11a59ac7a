"""pictune: turn a picture into music written as ABC notation, and explain why.

The Python API: `pictune.compose(image, prompt, seed=…)` → `Composition` (then `.save(folder)`;
the image is a path, a file's bytes or a PIL image),
`pictune.revise(folder, "slower, in a minor key")` → the saved piece changed as asked
(a `Composition` with its `lineage`), `pictune.open_composer(settings)` to compose many
pictures with one opened backend, and
`pictune.load_settings(flags)` for the settings the command line would use."""

from typing import Any

from pictune.errors import AbcError, InputError, PictuneError, RenderError, ToolError

__version__ = "0.1.0"
_API = (
    "Composer",
    "Composition",
    "Settings",
    "compose",
    "load_settings",
    "open_composer",
    "revise",
)


def __getattr__(name: str) -> Any:
    """The pipeline's API, imported on first use (so `import pictune` stays light)."""
    if name in _API:
        import pictune.pipeline

        return getattr(pictune.pipeline, name)
    raise AttributeError(f"module 'pictune' has no attribute {name!r}")


__all__ = [
    "AbcError",
    "Composer",
    "Composition",
    "InputError",
    "PictuneError",
    "RenderError",
    "Settings",
    "ToolError",
    "__version__",
    "compose",
    "load_settings",
    "open_composer",
    "revise",
]
