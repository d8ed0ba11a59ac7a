"""The cost of pictune's streaming image attention against plain generation and against the
paper's reference computation (eager attention with output_attentions=True).

Run:  .venv/bin/python benchmarks/bench_attention.py [--tokens 1024]

Each mode runs in a fresh process (peak memory is the process's peak RSS) with a tiny
random LLaVA, generating exactly --tokens new tokens, at two prompt lengths. Targets: time
overhead ≤ 15% over plain SDPA generation; extra peak memory ≤ 5% of what the reference adds.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


def child(model_dir: str, mode: str, tokens: int, words: int) -> None:
    import torch
    from PIL import Image

    from pictune.models.vlm.attention import capturing, image_token_positions
    from pictune.models.vlm.transformers_backend import TransformersBackend

    backend = TransformersBackend(model_dir)
    processor, model = backend._load()
    text = "Describe the picture. " + "harbour boats water light " * (words // 4)
    chat = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]
    prompt = processor.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
    inputs = processor(
        images=[Image.new("RGB", (200, 150), (200, 120, 40))], text=[prompt], return_tensors="pt"
    )
    options = {"max_new_tokens": tokens, "min_new_tokens": tokens, "do_sample": False}
    positions = image_token_positions(model, inputs["input_ids"])
    with torch.no_grad():
        model.generate(**inputs, max_new_tokens=4, do_sample=False)  # warm up
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        if mode == "plain":
            model.generate(**inputs, **options)
        elif mode == "stream":
            with capturing(model, positions) as capture:
                model.generate(**inputs, **options)
            capture.mean()
        else:
            model.set_attn_implementation("eager")
            out = model.generate(
                **inputs, **options, output_attentions=True, return_dict_in_generate=True
            )
            torch.stack(
                [
                    torch.stack(
                        [layer[0, :, -1, positions].double().mean(0) for layer in step]
                    ).mean(0)
                    for step in out.attentions
                ]
            ).mean(0)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "extra_kb": peak - base,
                "prompt": int(inputs["input_ids"].shape[1]),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--child", nargs=4)
    args = parser.parse_args()
    if args.child:
        model_dir, mode, tokens, words = args.child
        child(model_dir, mode, int(tokens), int(words))
        return
    from tests.models_fixtures import build_tiny_llava

    folder = build_tiny_llava(Path(tempfile.mkdtemp(prefix="pictune-bench-")) / "tiny-llava")
    for words in (16, 1000):
        runs: dict[str, list[dict]] = {"plain": [], "stream": [], "reference": []}
        for _ in range(5):  # modes interleaved, so drift in machine speed hits them alike
            for mode, found in runs.items():
                command = [
                    sys.executable,
                    __file__,
                    "--child",
                    str(folder),
                    mode,
                    str(args.tokens),
                    str(words),
                ]
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                found.append(json.loads(done.stdout.strip().splitlines()[-1]))
        results = {
            mode: {
                "seconds": min(r["seconds"] for r in found),
                "extra_kb": min(r["extra_kb"] for r in found),
                "prompt": found[0]["prompt"],
            }
            for mode, found in runs.items()
        }
        plain, stream, reference = results["plain"], results["stream"], results["reference"]
        overhead = stream["seconds"] / plain["seconds"] - 1
        ref_overhead = reference["seconds"] / plain["seconds"] - 1
        ref_memory = max(reference["extra_kb"] - plain["extra_kb"], 1)
        our_memory = max(stream["extra_kb"] - plain["extra_kb"], 0)
        print(
            f"prompt {plain['prompt']} tokens, {args.tokens} new tokens (best of 5, modes interleaved):"
        )
        print(
            f"   time: plain {plain['seconds']:.2f} s, streaming {stream['seconds']:.2f} s (+{100 * overhead:.1f}%), reference {reference['seconds']:.2f} s (+{100 * ref_overhead:.1f}%)   target ≤ +15%"
        )
        print(
            f"   extra peak memory over plain: streaming {our_memory / 1024:.1f} MB, reference {ref_memory / 1024:.1f} MB → {100 * our_memory / ref_memory:.1f}% of the reference's   target ≤ 5%"
        )


if __name__ == "__main__":
    main()
