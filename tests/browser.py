"""What the browser tests share: the app served on a free local port, and Debian's chromium
launched headless with the flags that keep it quiet and offline."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pictune.web.app import ServerSettings, create_app

CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


def launch_chromium(driver: Any) -> Any:
    """A headless chromium from a Playwright driver (Playwright gives each launch a fresh
    profile of its own)."""
    return driver.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))


@contextmanager
def serving(settings: ServerSettings) -> Iterator[str]:
    """The app under uvicorn on a free local port, for as long as the block runs."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
