"""Quality gates and speed of the offline composer over 55 varied images.

Run:  .venv/bin/python benchmarks/bench_offline.py

Images (made here, deterministic): 24 colour fields (12 dark/cool, 12 bright/warm, with
varied saturation) and 31 procedural scenes (sky-and-sea gradients with a sun, stripes,
checkerboards, noise textures, circles, mountains). Prints each gate next to its target.
"""

from __future__ import annotations

import colorsys
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pictune.abc import abc_to_midi_many, validate  # noqa: E402
from pictune.music import Score, compute_metrics  # noqa: E402
from pictune.pipeline import ensure_builtin_index  # noqa: E402
from pictune.pipeline.config import Settings  # noqa: E402
from pictune.pipeline.offline import OfflineComposer  # noqa: E402


def colour_fields() -> list[tuple[str, Image.Image]]:
    images = []
    for i in range(12):
        hue = 0.55 + 0.12 * (i / 11)  # blue → violet: cool
        rgb = colorsys.hsv_to_rgb(hue, 0.35 + 0.5 * (i % 4) / 3, 0.12 + 0.22 * (i % 3) / 2)
        images.append(
            (f"dark-cool-{i:02d}", Image.new("RGB", (320, 240), tuple(int(255 * c) for c in rgb)))
        )
    for i in range(12):
        hue = 0.02 + 0.12 * (i / 11)  # red → yellow: warm
        rgb = colorsys.hsv_to_rgb(hue, 0.35 + 0.6 * (i % 4) / 3, 0.75 + 0.25 * (i % 3) / 2)
        images.append(
            (f"bright-warm-{i:02d}", Image.new("RGB", (320, 240), tuple(int(255 * c) for c in rgb)))
        )
    return images


def scenes() -> list[tuple[str, Image.Image]]:
    rng = np.random.default_rng(5)
    images = []
    for i in range(31):
        kind = i % 6
        width, height = 360, 240
        top = rng.integers(0, 256, 3)
        bottom = rng.integers(0, 256, 3)
        t = np.linspace(0, 1, height)[:, None, None]
        array = (top * (1 - t) + bottom * t) * np.ones((1, width, 1))
        image = Image.fromarray(array.astype(np.uint8))
        draw = ImageDraw.Draw(image)
        if kind == 0:  # sun over the sea
            draw.rectangle(
                [0, height * 0.6, width, height],
                fill=tuple(int(v) for v in rng.integers(0, 120, 3)),
            )
            draw.ellipse([150, 60, 210, 120], fill=tuple(int(v) for v in rng.integers(150, 256, 3)))
        elif kind == 1:  # stripes
            for x in range(0, width, 24):
                draw.rectangle(
                    [x, 0, x + 11, height], fill=tuple(int(v) for v in rng.integers(0, 256, 3))
                )
        elif kind == 2:  # checkerboard
            for x in range(0, width, 30):
                for y in range(0, height, 30):
                    if (x + y) // 30 % 2:
                        draw.rectangle(
                            [x, y, x + 29, y + 29],
                            fill=tuple(int(v) for v in rng.integers(0, 256, 3)),
                        )
        elif kind == 3:  # noise texture
            noise = rng.integers(0, 256, (height, width, 3)).astype(np.uint8)
            image = Image.blend(image, Image.fromarray(noise), 0.4)
        elif kind == 4:  # circles
            for _ in range(12):
                x, y, r = (
                    int(rng.integers(0, width)),
                    int(rng.integers(0, height)),
                    int(rng.integers(8, 50)),
                )
                draw.ellipse(
                    [x - r, y - r, x + r, y + r],
                    fill=tuple(int(v) for v in rng.integers(0, 256, 3)),
                )
        else:  # mountains
            points = (
                [(0, height)]
                + [(x, int(rng.integers(60, 200))) for x in range(0, width + 1, 40)]
                + [(width, height)]
            )
            draw.polygon(points, fill=tuple(int(v) for v in rng.integers(0, 150, 3)))
        images.append((f"scene-{i:02d}", image.filter(ImageFilter.GaussianBlur(0.5))))
    return images


def spearman(a: list[float], b: list[float]) -> float:
    def ranks(values: list[float]) -> np.ndarray:
        order = np.argsort(values, kind="stable")
        result = np.empty(len(values))
        result[order] = np.arange(len(values))
        for value in set(values):  # average ranks of ties
            tied = np.array(values) == value
            result[tied] = result[tied].mean()
        return result

    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def corpus_band(
    index, names: tuple[str, ...], sample: int = 2000
) -> dict[str, tuple[float, float]]:
    rows = random.Random(0).sample(range(index.count), min(sample, index.count))
    records = index.records(sorted(rows))
    values: dict[str, list[float]] = {name: [] for name in names}
    for conversion in abc_to_midi_many([r.abc or "" for r in records]):
        if conversion.midi is None:
            continue
        metrics = compute_metrics(Score.from_midi(conversion.midi)).to_dict()
        for name in names:
            if metrics[name] is not None:
                values[name].append(float(metrics[name]))
    return {
        name: (float(np.percentile(v, 10)), float(np.percentile(v, 90)))
        for name, v in values.items()
    }


def main() -> None:
    logging.disable(logging.WARNING)
    index = ensure_builtin_index()
    fields, pictures = colour_fields(), scenes()
    images = fields + pictures
    work = Path(tempfile.mkdtemp(prefix="pictune-bench-"))
    band_names = ("pitch_class_entropy", "pitch_range", "empty_beat_rate")
    band = corpus_band(index, band_names)
    rows = []
    composer = OfflineComposer(Settings(), index)
    composer.compose(_save(images[0][1], work))  # fill the caches once
    for name, image in images:
        path = _save(image, work, name)
        start = time.perf_counter()
        result = composer.compose(path, seed=0)
        elapsed = time.perf_counter() - start
        start = time.perf_counter()
        result.save(work / name)
        saved = time.perf_counter() - start
        report = result.to_dict()
        chosen = report["rounds"][report["chosen_round"]]
        assert result.abc is not None
        check = validate(result.abc)
        rows.append(
            {
                "name": name,
                "valid": check.ok and not [d for d in check.errors if d.source == "abc2midi"],
                "metrics": chosen["melody_metrics"],  # like with like: the corpus is melodies
                "novel": chosen["shared_run"] < 8,
                "mode": report["offline"]["plan"]["mode"],
                "tempo": report["offline"]["plan"]["tempo_qpm"],
                "saturation": report["offline"]["measurements"]["saturation"],
                "brightness": report["offline"]["measurements"]["brightness"],
                "seconds": elapsed,
                "save_seconds": saved,
                "timings": report["timings"],
            }
        )
    count = len(rows)
    print(f"{count} images ({len(fields)} colour fields, {len(pictures)} scenes)")
    valid = sum(r["valid"] for r in rows)
    print(
        f"valid (zero abc2midi errors): {valid}/{count} ({100 * valid / count:.0f}%)   target 100%"
    )
    consistency = statistics.median(r["metrics"]["scale_consistency"] for r in rows)
    print(f"scale consistency, median: {consistency:.3f}   target ≥ 0.95")
    inside = 0
    for row in rows:
        inside += all(band[n][0] <= row["metrics"][n] <= band[n][1] for n in band_names)
    print(
        "melody in the corpus 10–90% band: "
        + ", ".join(f"{n} [{lo:.3g}, {hi:.3g}]" for n, (lo, hi) in band.items())
        + f"; all three inside for {inside}/{count} ({100 * inside / count:.0f}%)   target ≥ 80%"
    )
    for name in band_names:
        within = sum(band[name][0] <= r["metrics"][name] <= band[name][1] for r in rows)
        print(f"   {name}: {within}/{count} inside")
    novel = sum(r["novel"] for r in rows)
    print(
        f"novelty (no 8-note run shared with a reference): {novel}/{count} ({100 * novel / count:.0f}%)   target ≥ 95%"
    )
    dark = [r for r in rows if r["name"].startswith("dark-cool")]
    bright = [r for r in rows if r["name"].startswith("bright-warm")]
    minor = sum(r["mode"] == "minor" for r in dark)
    major = sum(r["mode"] == "major" for r in bright)
    print(
        f"dark/cool → minor: {minor}/{len(dark)}; bright/warm → major: {major}/{len(bright)}   target ≥ 70% each"
    )
    for label, subset in (("colour fields", rows[: len(fields)]), ("all images", rows)):
        tempos = [r["tempo"] for r in subset]
        print(
            f"Spearman(tempo, saturation) {spearman(tempos, [r['saturation'] for r in subset]):.2f}, "
            f"Spearman(tempo, brightness) {spearman(tempos, [r['brightness'] for r in subset]):.2f} "
            f"over {label}   target ≥ 0.5"
        )
    path = _save(images[30][1], work, "determinism")
    one = composer.compose(path, seed=4).abc
    two = OfflineComposer(Settings(), index).compose(path, seed=4).abc
    three = composer.compose(path, seed=5).abc
    print(
        f"same image + seed → identical ABC: {one == two}; another seed → different: {one != three}"
    )
    seconds = sorted(r["seconds"] for r in rows)
    stages = {
        stage: statistics.median(r["timings"][stage] for r in rows) for stage in rows[0]["timings"]
    }
    print(
        f"compose in process: median {statistics.median(seconds):.2f} s, p95 {seconds[int(0.95 * count)]:.2f} s   target median ≤ 0.5 s"
    )
    saves = sorted(r["save_seconds"] for r in rows)
    print(
        f"save (the one output step: MIDI reused; WAV, SVG, MusicXML, heat-map, report.html): median {statistics.median(saves):.2f} s"
    )
    print("   median per stage: " + ", ".join(f"{k} {1000 * v:.0f} ms" for k, v in stages.items()))


def _save(image: Image.Image, folder: Path, name: str = "warm") -> Path:
    path = folder / f"{name}.png"
    image.save(path)
    return path


if __name__ == "__main__":
    main()
