"""Musicianship gates for the offline composer, measured by the music critic.

Pictures: the 55 generated ones (`make_pictures.py`) and the real photographs that
scikit-image ships (`skimage.data`), each with six prompts. Every piece is composed in
process (plan → compose_piece, no retrieval, the melody model learned from the builtin
corpus once per meter and mode) and reviewed with `pictune.music.critic.review_abc`.

Run:  .venv/bin/python benchmarks/bench_musicianship.py [--sample N]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_offline import colour_fields, scenes
from pictune.corpus import CorpusIndex
from pictune.music.critic import Review, review_abc

PROMPTS = (
    None,
    "a calm lullaby",
    "energetic, with drums",
    "not fast, in a minor key",
    "a waltz for brass",
    "in A minor for woodwinds",
)
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
          "immunohistochemistry", "retina", "stereo_motorcycle", "colorwheel")  # fmt: skip
# ("cat" is left out: it is the same photograph as "chelsea".)


@dataclass(frozen=True)
class CorpusReference:
    """What real melodies do, measured by the same critic: the interquartile range of their
    ranges (semitones) and their mean rate of bars repeated in the next bar."""

    tunes: int
    range_quartiles: tuple[float, float]
    repeated_bars: float


def corpus_reference(sample: int = 300, seed: int = 0) -> CorpusReference:
    """The reference rates over `sample` folk tunes of music21's corpus (bench_critic's
    reader), drawn with `seed`."""
    import random

    from bench_critic import review_tunes
    from pictune.corpus.music21_tunes import iter_music21_tunes

    tunes = list(iter_music21_tunes())
    reviews = review_tunes(random.Random(seed).sample(tunes, min(sample, len(tunes))))
    ranges = [float(r.rates.melody_range) for r in reviews if r.rates.melody_range is not None]
    repeats = [float(r.rates.repeated_bars) for r in reviews if r.rates.repeated_bars is not None]
    quartiles = statistics.quantiles(ranges, n=4)
    return CorpusReference(len(reviews), (quartiles[0], quartiles[2]), statistics.mean(repeats))


def photographs() -> list[tuple[str, Image.Image]]:
    """The colour photographs skimage.data ships offline (those that need a download are
    skipped)."""
    try:
        from skimage import data
    except ImportError:
        return []
    found = []
    for name in PHOTOS:
        try:
            array = getattr(data, name)()
            if isinstance(array, tuple):  # a stereo pair: its left picture
                array = array[0]
        except Exception:
            continue
        if array.ndim == 3 and array.shape[2] >= 3:
            found.append((name, Image.fromarray(np.asarray(array)[..., :3].astype(np.uint8))))
    return found


@dataclass
class Measured:
    picture: str
    prompt: str | None
    review: Review
    bars: list[str]
    seconds: float
    minor: bool


def _bars(abc: str) -> list[str]:
    """The melody's written bars (chord symbols and marks dropped), for the overlap gate."""
    melody = abc.split("V:1\n", 2)[-1].split("\nV:2")[0]
    cleaned = []
    for bar in melody.replace("|]", "|").split("|"):
        text = "".join(part for i, part in enumerate(bar.split('"')) if i % 2 == 0)
        text = text.replace("(", "").replace(")", "").strip()
        if text and not text.startswith("z"):
            cleaned.append(text)
    return cleaned


def measure(
    pictures: list[tuple[str, Image.Image]],
    prompts: tuple[str | None, ...],
    index: CorpusIndex | None = None,
) -> list[Measured]:
    """Compose and review a piece for every picture and prompt (seed 1, 16 bars) as a user
    gets it: the offline composer of the pipeline, with its retrieval (k = 5) and refinement
    round, over `index` (default: the builtin corpus); the piece reviewed is the record's."""
    import tempfile

    from pictune.pipeline.config import Settings
    from pictune.pipeline.offline import OfflineComposer

    if index is None:
        from pictune.pipeline.indexes import ensure_builtin_index

        index = ensure_builtin_index()
    composer = OfflineComposer(Settings(), index)
    results = []
    with tempfile.TemporaryDirectory(prefix="pictune-bench-") as folder:
        for (name, image), prompt in itertools.product(pictures, prompts):
            path = Path(folder) / f"{name}.png"
            if not path.exists():
                image.save(path)
            started = time.perf_counter()
            composition = composer.compose(path, prompt, seed=1)
            seconds = time.perf_counter() - started
            abc = composition.abc or ""
            minor = composition.offline is not None and composition.offline.plan["mode"] == "minor"
            results.append(Measured(name, prompt, review_abc(abc), _bars(abc), seconds, minor))
    return results


def _share(values: list[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


def gates(results: list[Measured], corpus: CorpusReference) -> list[tuple[str, str, str, bool]]:
    """(gate, measured, target, holds) for every gate."""
    rates = [m.review.rates for m in results]
    rules = [{f.rule for f in m.review.findings} for m in results]
    ends = _share([bool(r.melody_ends_on_tonic) for r in rates])
    bass_ends = _share([bool(r.bass_ends_on_tonic) for r in rates])
    final_chord = _share(["cadence.final-chord" not in found for found in rules])
    crossings = sum(float(r.untied_beat_crossings or 0) > 0 for r in rates)
    above = sum(float(r.bass_above_melody or 0) > 0 for r in rates)
    under = sum(float(r.accompaniment_under_bass or 0) > 0 for r in rates)
    chord_tones = statistics.mean(float(r.strong_beat_chord_tones or 0) for r in rates)
    roots = statistics.mean(float(r.bass_root_on_downbeats or 0) for r in rates)
    ledger = statistics.mean(float(r.bass_notes_over_two_ledger_lines or 0) for r in rates)
    span = statistics.mean(float(r.melody_range or 0) for r in rates)
    repeated = statistics.mean(float(r.repeated_bars or 0) for r in rates)
    minor = [m for m in results if m.minor]
    leading = _share([
        "cadence.minor-dominant" not in {f.rule for f in m.review.findings}
        for m in minor
    ])  # fmt: skip
    overlap = 0.0
    for a, b in itertools.combinations(results, 2):
        if a.picture == b.picture:
            continue
        for one, other in ((a, b), (b, a)):
            found = set(other.bars)
            shared = sum(bar in found for bar in one.bars) / max(1, len(one.bars))
            overlap = max(overlap, shared)
    median = statistics.median(m.seconds for m in results)
    low, high = corpus.range_quartiles
    return [
        ("melody ends on the tonic", f"{ends:.0%}", "100%", ends == 1),
        ("bass ends on the tonic root", f"{bass_ends:.0%}", "100%", bass_ends == 1),
        ("final chord is the tonic", f"{final_chord:.0%}", "100%", final_chord == 1),
        ("pieces with untied beat crossings", str(crossings), "0", crossings == 0),
        ("pieces with the bass above the melody", str(above), "0", above == 0),
        ("pieces with chords under the bass", str(under), "0", under == 0),
        ("strong-beat chord tones (melody)", f"{chord_tones:.1%}", "≥ 90%", chord_tones >= 0.9),
        ("bass root on downbeats", f"{roots:.1%}", "≥ 70%", roots >= 0.7),
        ("bass notes over 2 ledger lines", f"{ledger:.1%}", "≤ 5%", ledger <= 0.05),
        ("melody range mean (semitones)", f"{span:.1f}", f"{low:g}–{high:g}",
         low <= span <= high),
        ("bars repeated in the next bar", f"{repeated:.1%}", f"≤ {corpus.repeated_bars:.1%}",
         repeated <= corpus.repeated_bars),
        ("most bars shared by two pictures", f"{overlap:.0%}", "≤ 25%", overlap <= 0.25),
        ("minor cadences with the raised leading tone", f"{leading:.0%} of {len(minor)}", "100%",
         leading == 1),
        ("compose median (s)", f"{median:.3f}", "≤ 0.5", median <= 0.5),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=0, help="pictures to use (0: all)")
    parser.add_argument("--tunes", type=int, default=300, help="corpus tunes for the references")
    args = parser.parse_args()
    corpus = corpus_reference(args.tunes)
    pictures = colour_fields() + scenes() + photographs()
    if args.sample:
        pictures = pictures[:: max(1, len(pictures) // args.sample)][: args.sample]
    results = measure(pictures, PROMPTS)
    print(f"{len(results)} pieces: {len(pictures)} pictures × {len(PROMPTS)} prompts")
    print(
        f"corpus ({corpus.tunes} folk tunes): melody range IQR {corpus.range_quartiles[0]:g}–"
        f"{corpus.range_quartiles[1]:g} semitones, repeated bars {corpus.repeated_bars:.2%}"
    )
    print(f"{'gate':46} {'measured':>12} {'target':>10}  holds")
    for gate, value, target, holds in gates(results, corpus):
        print(f"{gate:46} {value:>12} {target:>10}  {'yes' if holds else 'NO'}")
    print("\nShare of pieces with at least one finding, per critic rule (advice, not gates)")
    for rule, count in sorted(rule_counts(results).items()):
        print(f"{rule:46} {count / len(results):>12.2f}")


def rule_counts(results: list[Measured]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for measured in results:
        for rule in {f.rule for f in measured.review.findings}:
            counts[rule] = counts.get(rule, 0) + 1
    return counts


if __name__ == "__main__":
    main()
