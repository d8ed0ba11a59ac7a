"""Errors of the models layer."""

from __future__ import annotations

import importlib
from types import ModuleType

from pictune.errors import PictuneError


class BackendError(PictuneError):
    """A model could not be loaded or did not answer."""


class MissingDependencyError(BackendError):
    """An optional package is not installed."""


def require(module: str, extra: str) -> ModuleType:
    """Import `module`, or raise MissingDependencyError naming the pip extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module} is not installed: pip install 'pictune[{extra}]'"
        ) from exc


def missing_model(model_id: str, exc: BaseException) -> BackendError:
    """A clear error for a model that is neither local nor downloadable."""
    return BackendError(
        f"model {model_id} could not be loaded ({type(exc).__name__}). Download it once with "
        f"`hf download {model_id}` (or give a local folder); with "
        "HF_HUB_OFFLINE=1 pictune never downloads by itself"
    )
