"""Batch throughput with 1 and 2 worker processes, and with 2 Ray actors on a local Ray
instance, over the same generated pictures.

Run:  .venv/bin/python benchmarks/bench_batch.py [--images 1000] [--no-ray]

Pictures are made here (colour fields and simple scenes, deterministic). Targets on this
2-core machine: 2 workers at least 1.7× the throughput of 1 worker; Ray with 2 actors
within 25% of the 2-worker pool (≥ 0.75×). Throughput counts from the start of the pool
(or of the actors) to the last picture; starting Ray itself is reported apart.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pictune.batch import run_batch, run_batch_on_ray  # noqa: E402
from pictune.pipeline import ensure_builtin_index  # noqa: E402


def make_pictures(folder: Path, count: int) -> None:
    rng = np.random.default_rng(11)
    folder.mkdir(parents=True)
    for i in range(count):
        image = Image.new("RGB", (240, 160), tuple(int(v) for v in rng.integers(0, 256, 3)))
        draw = ImageDraw.Draw(image)
        for _ in range(int(rng.integers(0, 6))):
            x, y, r = int(rng.integers(0, 240)), int(rng.integers(0, 160)), int(rng.integers(5, 40))
            draw.ellipse(
                [x - r, y - r, x + r, y + r], fill=tuple(int(v) for v in rng.integers(0, 256, 3))
            )
        image.save(folder / f"{i:05d}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--no-ray", action="store_true", help="Skip the Ray measurement.")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    index = ensure_builtin_index().folder
    work = Path(tempfile.mkdtemp(prefix="pictune-bench-batch-"))
    try:
        make_pictures(work / "pictures", args.images)
        rates = {}
        for workers in (1, 2):
            summary = run_batch(
                work / "pictures", work / f"out-{workers}", workers=workers, index_folder=index
            )
            assert summary.done == args.images and not summary.failed, summary.failed[:3]
            rates[workers] = summary.throughput
            print(
                f"{workers} worker(s): {summary.done} pictures in {summary.seconds:.1f} s — {summary.throughput:.2f} pictures/s"
            )
        print(f"speed-up with 2 workers: {rates[2] / rates[1]:.2f}×   target ≥ 1.7×")
        if not args.no_ray:
            import time

            import ray

            clock = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            print(f"Ray started in {time.perf_counter() - clock:.1f} s (not counted)")
            try:
                summary = run_batch_on_ray(
                    work / "pictures", work / "out-ray", workers=2, index_folder=index
                )
            finally:
                ray.shutdown()
            assert summary.done == args.images and not summary.failed, summary.failed[:3]
            print(
                f"Ray, 2 actors: {summary.done} pictures in {summary.seconds:.1f} s — {summary.throughput:.2f} pictures/s"
            )
            print(
                f"Ray against the 2-worker pool: {summary.throughput / rates[2]:.2f}×   target ≥ 0.75×"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
