"""Keep other libraries' chatter out of the command's output (shown again with --debug).

transformers draws a "Loading weights" bar each time a model loads (sentence embedder, CLIP,
VLM), and Ray warns about token authentication whenever it starts a local instance. Neither
tells a pictune user anything they can act on; pictune prints its own progress."""

from __future__ import annotations

import logging
import os
import sys

NOISY_LOGGERS = ("ray._private.authentication",)


def quiet_libraries(debug: bool) -> None:
    """Silence model-loading progress bars and Ray's token notice, unless debugging."""
    if debug:
        return
    # Read when huggingface_hub is imported: covers every later import in this process.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    hub = sys.modules.get("huggingface_hub.utils")
    if hub is not None:  # already imported (a long-lived process): switch it off directly
        hub.disable_progress_bars()
    transformers_logging = sys.modules.get("transformers.utils.logging")
    if transformers_logging is not None:
        transformers_logging.disable_progress_bar()
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
