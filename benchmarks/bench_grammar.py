"""What grammar-constrained decoding buys and costs.

Run:  .venv/bin/python benchmarks/bench_grammar.py [--seeds 50] [--max-tokens 512]
          [--families llava qwen2_vl] [--vocab 32000] [--skip compose mask]

compose: the tiny random-weight VLMs (which write garbage when free) compose through the
pipeline (describe → retrieve → compose → at most 2 corrections, no refinement) once per
seed, unconstrained and constrained, side by side (`--modes` runs one of them; the
describe call is cut to 24 tokens, see ShortDescribe). Reported: the share of first compose
calls whose extracted tune has zero abc2midi errors, the abc2midi errors that remain under
the grammar, and correction rounds per composition.

mask: the per-token cost of the grammar with a realistic vocabulary: a byte-level BPE
(`--vocab` tokens) trained with the `tokenizers` library on the ABC corpus plus English
text (the Python standard library's sources), the grammar compiled for it, then corpus
tunes replayed through pictune's logits processor (consume the token, compute the mask,
apply it to a vocabulary-sized row of logits), one token at a time.

--gpu-timing: the tiny models generate a fixed number of new tokens (sampling, the same
prompt and picture), unconstrained and constrained, on `--device` (cuda by default), after
warm-up runs; the median and p90 ms per token over `--seeds` runs, and the mask's own µs per
token. This path needs only torch, transformers, tokenizers, numpy, pillow and llguidance:
it loads pictune's grammar modules without running the packages' `__init__`s (which import
the corpus and music layers), and trains the tiny tokenizers on the example reply instead of
music21's corpus.
"""

from __future__ import annotations

import argparse
import collections
import math
import statistics
import sys
import sysconfig
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
PICTURE = ROOT / "src" / "pictune" / "data" / "example.jpg"
# A 7B model's decoding step, batch 1, bf16, on one H200: every step reads ~15.2 GB of weights
# at 4.8 TB/s of HBM bandwidth, so no step is faster than ~3.2 ms; the target (10%) is set
# against that lower bound, the strictest reading.
STEP_7B_MS = 15.2 / 4.8


class ShortDescribe:
    """The backend, with the describe call cut to a few tokens: its text only feeds retrieval
    (noise from a random model either way), and the benchmark's time goes to composing."""

    def __init__(self, backend: Any, tokens: int = 24) -> None:
        self.backend, self.tokens = backend, tokens

    @property
    def id(self) -> str:
        return str(self.backend.id)

    def generate(self, messages: list[Any], options: Any) -> Any:
        if not options.constrain:  # the describe call
            options = replace(options, max_tokens=min(options.max_tokens, self.tokens))
        return self.backend.generate(messages, options)


def compose_section(
    family: str, folder: Path, seeds: int, max_tokens: int, modes: list[str]
) -> None:
    import torch
    from tests.models_fixtures import build_tiny_llava, build_tiny_qwen2_vl

    from pictune.abc.convert import abc_to_midi
    from pictune.abc.extract import extract
    from pictune.corpus import BuiltinSource, CorpusIndex, FeatureEmbedder, build_index
    from pictune.models.vlm.transformers_backend import TransformersBackend
    from pictune.pipeline.composer import VlmComposer
    from pictune.pipeline.config import Settings

    torch.set_num_threads(1)  # two shared cores: more threads only contend
    model = folder / family
    if not model.exists():
        (build_tiny_llava if family == "llava" else build_tiny_qwen2_vl)(model)
    index_dir = folder / "index"
    if not index_dir.exists():
        build_index(
            BuiltinSource(limit=300), FeatureEmbedder(), index_dir,
            source_description={"kind": "builtin", "limit": 300},
        )  # fmt: skip
    index = CorpusIndex(index_dir)
    print(f"\n## compose — tiny {family}, {seeds} seeds, max_tokens {max_tokens}")
    print("| mode | first compose call: zero abc2midi errors | corrections per composition "
          "| playable after the loop | mask µs/token (median) | seconds |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for mode in modes:
        backend = ShortDescribe(TransformersBackend(str(model), constrained=mode, attention=False))
        clean, corrections, playable, masks = 0, [], 0, []
        crashes: list[str] = []
        remaining: collections.Counter[str] = collections.Counter()
        started = time.perf_counter()
        for seed in range(seeds):
            settings = Settings(
                backend="transformers", model=str(model), rounds=0, max_attempts=3,
                max_tokens=max_tokens,
            )  # fmt: skip
            try:
                composer = VlmComposer(backend, index, FeatureEmbedder(), settings)
                result = composer.compose(PICTURE, seed=seed)
            except ValueError as exc:  # a pipeline fault the benchmark found: count and name it
                crashes.append(f"seed {seed}: {exc}")
                continue
            first = next(r for r in result.rounds if r.kind == "compose")
            abc = extract(first.reply).abc
            conversion = abc_to_midi(abc) if abc else None
            if conversion is not None and conversion.midi is not None and not conversion.errors:
                clean += 1
            else:
                problems = (
                    [e.message for e in conversion.errors] if conversion else ["no tune"]
                ) or ["no MIDI written"]
                remaining.update(" ".join(p.split()[:6]) for p in problems[:1])
            corrections.append(sum(r.kind == "correct" for r in result.rounds))
            playable += result.ok
            masks += [
                r.constraint["mask_us_per_token"]
                for r in result.rounds
                if r.constraint and r.constraint.get("mask_us_per_token")
            ]
        seconds = time.perf_counter() - started
        mask = f"{statistics.median(masks):.0f}" if masks else "—"
        print(
            f"| {'constrained' if mode == 'on' else 'unconstrained'} | {clean}/{seeds} "
            f"({100 * clean / seeds:.0f}%) | {statistics.mean(corrections):.2f} "
            f"| {playable}/{seeds} | {mask} | {seconds:.0f} |"
        )
        if remaining:
            print(f"  first-call failures ({mode}): {dict(remaining.most_common(8))}")
        if crashes:
            print(f"  compositions that raised ({mode}): {crashes}")


def english_and_abc(limit_bytes: int = 12_000_000) -> list[str]:
    from pictune.corpus.music21_tunes import iter_music21_tunes

    texts = [tune.abc for tune in iter_music21_tunes()]
    size = sum(map(len, texts))
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        if size > limit_bytes:
            break
        text = path.read_text("utf-8", errors="replace")
        texts.append(text)
        size += len(text)
    return texts


def mask_section(vocab: int, tunes: int) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from pictune.abc.budget import cut_tune
    from pictune.abc.grammar import fit_to_grammar
    from pictune.corpus.music21_tunes import iter_music21_tunes
    from pictune.models.vlm.constrained import GrammarCompiler, GrammarLogitsProcessor

    torch.set_num_threads(1)
    started = time.perf_counter()
    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab, special_tokens=["<|endoftext|>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )  # fmt: skip
    raw.train_from_iterator(english_and_abc(), trainer)
    size = raw.get_vocab_size()
    print(f"\n## mask cost — byte-level BPE of {size:,} tokens "
          f"(trained in {time.perf_counter() - started:.0f} s)")  # fmt: skip
    compiled = GrammarCompiler().for_tokenizer_json(raw.to_str(), eos=0)
    print(f"grammar compile (tokenizer + grammar): {compiled.compile_seconds * 1000:.0f} ms")
    sample = [t.abc for _, t in zip(range(tunes * 3), iter_music21_tunes(), strict=False)][::3]
    seconds: list[float] = []
    cpu: list[float] = []  # thread CPU time: what the mask costs when the cores are shared
    rejected = 0
    for abc in sample:
        shown = fit_to_grammar(cut_tune(abc, 16)[0])  # as a prompt shows it
        reply = "Here is the tune.\n```abc\n" + shown + "```\nMotivation."
        ids = raw.encode(reply).ids
        processor = GrammarLogitsProcessor(compiled)
        scores = torch.zeros(1, size)
        processor(torch.tensor([[0]]), scores)  # the prompt
        for step in range(len(ids)):
            prefix = torch.tensor([[0, *ids[: step + 1]]])
            started = time.thread_time()
            masked = processor(prefix, scores)
            cpu.append(time.thread_time() - started)
            if processor.failed:
                rejected += 1
                break
        del masked
        seconds += processor.mask_seconds[1:]
    micro = sorted(s * 1e6 for s in seconds)
    median, p95 = statistics.median(micro), micro[int(0.95 * (len(micro) - 1))]
    spent = sorted(s * 1e6 for s in cpu[len(cpu) - len(micro) :])
    cpu_median, cpu_p95 = statistics.median(spent), spent[int(0.95 * (len(spent) - 1))]
    print(f"{len(micro):,} tokens of {len(sample)} corpus replies ({rejected} left the grammar)")
    print("| measure | median | p95 | target |")
    print("|---|---|---|---|")
    print(
        f"| consume + mask + apply, µs per token (wall) | {median:.0f} | {p95:.0f} | ≤ 1000 on this CPU |"
    )
    print(f"| the same, thread CPU time | {cpu_median:.0f} | {cpu_p95:.0f} | ≤ 1000 on this CPU |")
    print(
        f"| share of a 7B decoding step ({STEP_7B_MS:.1f} ms, H200 bandwidth bound) "
        f"(CPU time) | {cpu_median / (STEP_7B_MS * 10):.1f}% | {cpu_p95 / (STEP_7B_MS * 10):.1f}% | ≤ 10% |"
    )


PROMPT = "Compose a short tune for this picture in ABC notation, in one ```abc block."


def light_packages() -> None:
    """Register pictune's packages as bare namespaces, so that importing the grammar modules
    runs none of the packages' `__init__`s (they pull in the corpus, music21 and symusic)."""
    import types

    for name in ("pictune", "pictune.abc", "pictune.models", "pictune.models.vlm"):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [str(ROOT / "src" / Path(*name.split(".")))]
            sys.modules[name] = package


def gpu_section(families: list[str], device: str, runs: int, new_tokens: int, warmup: int) -> None:
    light_packages()
    import torch
    import transformers
    from PIL import Image
    from tests.models_fixtures import build_tiny_llava, build_tiny_qwen2_vl

    from pictune.models.vlm.constrained import GrammarCompiler, GrammarLogitsProcessor
    from pictune.models.vlm.processors import fallback_processor

    gbnf = (ROOT / "src" / "pictune" / "abc" / "reply.gbnf").read_text("utf-8")
    texts = [(ROOT / "src" / "pictune" / "data" / "example_reply.txt").read_text("utf-8")] * 20
    picture = Image.open(PICTURE).convert("RGB")
    picture.thumbnail((420, 420))
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else device
    print(
        f"\n## generation time — {name}, {new_tokens} new tokens, {warmup} warm-up runs, "
        f"{runs} timed runs, torch {torch.__version__}, transformers {transformers.__version__}"
    )
    print("| model | mode | ms per token (median) | p90 | mask µs per token (median) |")
    print("|---|---|---|---|---|")

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    with tempfile.TemporaryDirectory() as folder:
        for family in families:
            build = build_tiny_llava if family == "llava" else build_tiny_qwen2_vl
            path = build(Path(folder) / family, texts)
            try:
                processor = transformers.AutoProcessor.from_pretrained(path)
            except ImportError:  # Qwen2-VL's video processor without torchvision
                processor = fallback_processor(str(path), False)
            model = transformers.AutoModelForImageTextToText.from_pretrained(path).to(device)
            chat = [
                {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": PROMPT}]}
            ]
            prompt = processor.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
            inputs = processor(images=[picture], text=[prompt], return_tensors="pt").to(device)
            eos = model.generation_config.eos_token_id
            eos_ids = [int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos])]
            vocab = int(model.get_output_embeddings().weight.shape[0])
            tokenizer = getattr(processor, "tokenizer", processor)
            compiled = GrammarCompiler(gbnf=gbnf).for_hf_tokenizer(tokenizer, vocab, eos_ids)
            for mode in ("unconstrained", "constrained"):
                per_token: list[float] = []
                masks: list[float] = []
                for run in range(warmup + runs):
                    grammar = GrammarLogitsProcessor(compiled) if mode == "constrained" else None
                    extra = {"logits_processor": transformers.LogitsProcessorList([grammar])}
                    torch.manual_seed(run)
                    sync()
                    started = time.perf_counter()
                    with torch.inference_mode():
                        model.generate(
                            **inputs, do_sample=True, temperature=0.7, max_new_tokens=new_tokens,
                            min_new_tokens=new_tokens, **(extra if grammar else {}),
                        )  # fmt: skip
                    sync()
                    if run >= warmup:
                        per_token.append((time.perf_counter() - started) * 1000 / new_tokens)
                        masks += grammar.mask_seconds[1:] if grammar else []
                per_token.sort()
                mask = f"{statistics.median(masks) * 1e6:.0f}" if masks else "—"
                print(
                    f"| tiny {family} | {mode} | {statistics.median(per_token):.2f} "
                    f"| {per_token[math.ceil(0.9 * len(per_token)) - 1]:.2f} | {mask} |"
                )
            print(f"  grammar compile for tiny {family}: {compiled.compile_seconds * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--families", nargs="+", default=["llava", "qwen2_vl"])
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--tunes", type=int, default=200)
    parser.add_argument("--modes", nargs="+", default=["off", "on"], choices=["off", "on"])
    parser.add_argument("--skip", nargs="*", default=[], choices=["compose", "mask"])
    parser.add_argument("--gpu-timing", action="store_true", help="only the generation timing")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.gpu_timing:
        gpu_section(args.families, args.device, args.seeds, args.new_tokens, args.warmup)
        return
    if "mask" not in args.skip:
        mask_section(args.vocab, args.tunes)
    if "compose" not in args.skip:
        with tempfile.TemporaryDirectory() as folder:  # models and index built offline here
            for family in args.families:
                compose_section(family, Path(folder), args.seeds, args.max_tokens, args.modes)


if __name__ == "__main__":
    main()
