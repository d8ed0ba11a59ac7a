"""The VLM pipeline's own overhead per image, with a tiny local model.

Run:  .venv/bin/python benchmarks/bench_pipeline.py [--images 20]

A tiny random-weight LLaVA (built offline, loaded through from_pretrained) runs every
generation for real; its replies are then replaced by realistic scripted ones (a
description; a tune with faults that repair fixes; a refined tune) so that every stage runs:
describe, retrieve, compose, validate/repair, metrics, refine. Overhead = wall time minus
the model's own generation time; model loading happens once, before timing. Target: median
≤ 150 ms per image.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from tests.models_fixtures import build_tiny_llava  # noqa: E402

from pictune.models.vlm.base import GenerationOptions, Message, Reply  # noqa: E402
from pictune.models.vlm.transformers_backend import TransformersBackend  # noqa: E402
from pictune.pipeline import ensure_builtin_index  # noqa: E402
from pictune.pipeline.composer import VlmComposer  # noqa: E402
from pictune.pipeline.config import Settings  # noqa: E402

DESCRIPTION = "A harbour at dusk: deep blue water, warm orange lights on the quay, boats at rest, a calm and wistful mood."
FIRST = """Here is the piece:
```abc
T:Harbour at Dusk
K:D minor
M:3/4
L:1/8
Q:1/4=76
%%MIDI program 73
d,2 F2 A2|d4 c2|B2 G2 E2|F4 E2|D2 F2 A2|d4 A2|G2 E2 C2|D6|
A2 d2 f2|e4 d2|c2 A2 F2|G4 E2|F2 A2 d2|c4 A2|B2 G2 E2|D6|]
```
Motivation: the dark blue water suggests D minor and a slow 3/4 swell."""
REFINED = FIRST.replace("d,2 F2 A2", "D2 F2 A2").replace("Q:1/4=76", "Q:1/4=72")


class ScriptedTiny:
    """Runs the tiny model for every call, then answers with the scripted text."""

    def __init__(self, model: TransformersBackend) -> None:
        self.model = model
        self.calls = 0

    @property
    def id(self) -> str:
        return "scripted-" + self.model.id

    def generate(self, messages: list[Message], options: GenerationOptions) -> Reply:
        real = self.model.generate(messages, GenerationOptions(seed=options.seed, max_tokens=16))
        text = (DESCRIPTION, FIRST, REFINED)[min(self.calls, 2)]
        self.calls += 1
        return Reply(text=text, model=real.model, seconds=real.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    index = ensure_builtin_index()
    work = Path(tempfile.mkdtemp(prefix="pictune-bench-"))
    tiny = TransformersBackend(str(build_tiny_llava(work / "tiny-llava")))
    tiny.generate([Message("user", "warm up")], GenerationOptions(max_tokens=2))  # load once
    image_path = ROOT / "src" / "pictune" / "data" / "example.jpg"
    Image.open(image_path).load()
    overheads, stages = [], {"describe": [], "retrieve": [], "compose": [], "refine": []}
    for number in range(args.images):
        backend = ScriptedTiny(tiny)
        settings = Settings(backend="transformers", model="tiny", k=1, rounds=1)
        composer = VlmComposer(backend, index, index_embedder(index), settings)
        start = time.perf_counter()
        result = composer.compose(image_path, prompt="a calm piece", seed=number)
        wall = time.perf_counter() - start
        model_seconds = sum(r.seconds for r in result.rounds)
        overheads.append(wall - model_seconds)
        by_stage = {"describe": 0.0, "compose": 0.0, "refine": 0.0}
        for entry in result.rounds:
            stage = (
                "describe"
                if entry.kind == "describe"
                else "refine"
                if entry.kind == "refine"
                else "compose"
            )
            by_stage[stage] += entry.seconds
        for stage, seconds in result.timings.items():
            stages[stage].append(seconds - by_stage.get(stage, 0.0))
        assert result.ok, result.status
    print(f"{args.images} images; every run: describe, retrieve, compose (repaired), refine")
    print(
        f"pipeline overhead per image: median {1000 * statistics.median(overheads):.0f} ms, max {1000 * max(overheads):.0f} ms   target median ≤ 150 ms"
    )
    print(
        "median per stage (model time excluded): "
        + ", ".join(f"{k} {1000 * statistics.median(v):.0f} ms" for k, v in stages.items() if v)
    )


def index_embedder(index):  # the embedder the index was built with
    from pictune.models import load_embedder

    return load_embedder(index.embedder_id)


if __name__ == "__main__":
    main()
