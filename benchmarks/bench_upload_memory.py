"""Server memory after a burst of large-pixel uploads, with and without pictune's measures.

Run:  .venv/bin/python benchmarks/bench_upload_memory.py [--uploads 10] [--megapixels 49]

Two servers, each in its own process on loopback, with a composer that does nothing (so only
the upload path is measured): "guarded" is pictune as shipped (at most two decodes at once,
pictures kept at 4096 px a side, freed memory handed back); "unguarded" decodes every upload
at once at full size and keeps what the allocator keeps. Each gets the same burst of
simultaneous PNG uploads (a flat colour: about 140 KB on the wire, 147 MB decoded); the
server's resident memory is read from /proc before, at its peak and 3 s after the burst.
Target: after the burst, within 20% of the idle figure. Bounded; it stops by itself.
"""

from __future__ import annotations

import argparse
import io
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SERVER = """
import sys, uvicorn
from pathlib import Path
import pictune.web.app as web
from pictune.web.app import ServerSettings, create_app
guarded = sys.argv[3] == "guarded"
if not guarded:
    web.return_memory = lambda: None
    web.MAX_SIDE = None
settings = ServerSettings(Path(sys.argv[1]), compose=lambda *a: None, max_queue=1000,
                          max_decodes=2 if guarded else 1000)
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure(kind: str, picture: bytes, uploads: int) -> tuple[float, float, float]:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen([sys.executable, "-c", SERVER, data, str(port), kind], cwd=ROOT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    httpx.get(url + "/api/compositions", timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            small = io.BytesIO()
            Image.new("RGB", (64, 64)).save(small, "PNG")
            httpx.post(url + "/api/compositions", files={"image": ("s.png", small.getvalue())})
            time.sleep(1)
            idle = rss_mb(server.pid)
            peak = idle
            done = threading.Event()

            def watch() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, rss_mb(server.pid))
                    time.sleep(0.02)

            watcher = threading.Thread(target=watch)
            watcher.start()

            def post(_: int) -> int:
                with httpx.Client(timeout=120) as client:
                    files = {"image": ("big.png", picture, "image/png")}
                    return client.post(url + "/api/compositions", files=files).status_code

            threads = [threading.Thread(target=post, args=(n,)) for n in range(uploads)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(180)
            time.sleep(3)
            done.set()
            watcher.join()
            return idle, peak, rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=10)
    parser.add_argument("--megapixels", type=int, default=49)
    args = parser.parse_args()
    side = int((args.megapixels * 1_000_000) ** 0.5)
    encoded = io.BytesIO()
    Image.new("RGB", (side, side), (40, 90, 160)).save(encoded, "PNG")
    picture = encoded.getvalue()
    print(f"{args.uploads} simultaneous uploads of a {side}×{side} PNG ({len(picture) >> 10} KB)")
    for kind in ("unguarded", "guarded"):
        idle, peak, after = measure(kind, picture, args.uploads)
        print(
            f"{kind:>9}: idle {idle:.0f} MB, peak {peak:.0f} MB, 3 s after {after:.0f} MB "
            f"({(after - idle) / idle:+.0%} of idle)"
        )


if __name__ == "__main__":
    main()
