"""The one output step with a child Python per render against the warm render worker.

Run:  .venv/bin/python benchmarks/bench_export.py [--pictures 12]

Composes `--pictures` different pictures (from bench_offline's set, spread over colour
fields and scenes; offline composer, seed 1), then saves each composition twice, side by
side in one run: with `PICTUNE_RENDER_WORKER=fresh` (music21 started afresh for every
MusicXML export, as before) and with the warm worker (started once, on the first save, and
counted there). The order of the two alternates from one picture to the next. Prints the
median save time of each and their ratio, and what the warm child holds in memory.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_offline import colour_fields, scenes  # noqa: E402
from pictune.music import warm  # noqa: E402
from pictune.pipeline import ensure_builtin_index  # noqa: E402
from pictune.pipeline.config import Settings  # noqa: E402
from pictune.pipeline.offline import OfflineComposer  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed_save(composition: object, folder: Path, mode: str) -> float:
    os.environ["PICTUNE_RENDER_WORKER"] = mode
    start = time.perf_counter()
    composition.save(folder)  # type: ignore[attr-defined]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=12)
    args = parser.parse_args()
    if args.pictures < 2:
        parser.error("--pictures must be 2 or more")
    logging.disable(logging.WARNING)
    images = colour_fields() + scenes()
    step = max(1, len(images) // args.pictures)
    chosen = images[::step][: args.pictures]
    work = Path(tempfile.mkdtemp(prefix="pictune-bench-export-"))
    composer = OfflineComposer(Settings(), ensure_builtin_index())
    fresh, warmed = [], []
    for number, (name, image) in enumerate(chosen):
        path = work / f"{name}.png"
        image.save(path)
        composition = composer.compose(path, seed=1)
        order = ("fresh", "warm") if number % 2 == 0 else ("warm", "fresh")
        for mode in order:
            seconds = timed_save(composition, work / mode / name, mode)
            (fresh if mode == "fresh" else warmed).append(seconds)
    stats = warm.current_pool().stats()
    held = [rss_mb(pid) for pid in stats.idle_pids]
    a, b = statistics.median(fresh), statistics.median(warmed)
    print(f"{len(chosen)} compositions, each saved both ways (order alternating)")
    print(
        f"  save, a child per render: median {a:.2f} s (min {min(fresh):.2f}, max {max(fresh):.2f})"
    )
    print(
        f"  save, warm render worker: median {b:.2f} s (min {min(warmed):.2f}, max {max(warmed):.2f}; the first, which starts the worker: {warmed[0]:.2f} s)"
    )
    print(f"  ratio: {a / b:.1f}x faster warm")
    print(
        f"  warm children started: {stats.started}, tasks: {stats.tasks}; idle now holding "
        + ", ".join(f"{mb:.0f} MB" for mb in held)
        + " RSS"
    )
    warm.close_pool()


if __name__ == "__main__":
    main()
