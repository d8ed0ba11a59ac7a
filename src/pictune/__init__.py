"""pictune: turn a picture into music written as ABC notation, and explain why."""

from pictune.errors import AbcError, InputError, PictuneError, RenderError, ToolError

__version__ = "0.1.0"

__all__ = ["AbcError", "InputError", "PictuneError", "RenderError", "ToolError", "__version__"]
