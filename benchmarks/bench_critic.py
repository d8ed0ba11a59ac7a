"""Reference rates for the music critic, measured on real music and printed side by side.

Run:  .venv/bin/python benchmarks/bench_critic.py            (a sample: a few minutes, one core)
      .venv/bin/python benchmarks/bench_critic.py --all      (every tune, chorale and work)

Groups:
- folk melodies: a random sample of music21's ABC tunes (single lines, harmony inferred);
- lead sheets: every one of those tunes that carries chord symbols (harmony as written);
- Bach chorales: music21's four-part chorales (MusicXML → MIDI, pickups aligned);
- other multi-voice works: the rest of music21's MusicXML (Beethoven, Mozart, Haydn,
  Monteverdi, Joplin …), smallest files first.

Each rate is the mean over the pieces where it is defined (yes/no rates: the share of yes);
the melody range also gets its quartiles. A second table gives, per rule, the share of pieces
with at least one finding.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pictune.abc import abc_to_midi_many  # noqa: E402
from pictune.abc.timeline import read_timeline  # noqa: E402
from pictune.corpus.music21_tunes import CorpusTune, iter_music21_tunes  # noqa: E402
from pictune.errors import PictuneError  # noqa: E402
from pictune.music import Rates, Review, Score, review  # noqa: E402
from pictune.music.keys import PITCH_NAMES, Key, estimate_key  # noqa: E402

_CHORD_SYMBOL = re.compile(r'"[A-G][#b]?(?:m|maj|min|dim|aug|sus|[0-9+\-/])*"')
# Not "other works": the chorales have their own column; demos and exercises are fragments;
# Schoenberg and Webern are atonal, so tonic and chord rules say nothing about them.
_NOT_WORKS = ("bach", "demos", "theoryExercises", "leadSheet", "trecento", "schoenberg", "webern")
_WORK_SIZE_LIMIT = 25_000  # bytes of compressed MusicXML: a default run stays short


def _is_lead_sheet(abc: str) -> bool:
    """One written voice in bars, with a chord symbol in at least every other bar (letters
    that label the parts, "A" and "B", are too few to count)."""
    if not _CHORD_SYMBOL.search(abc[abc.find("\nK:") :]):
        return False
    timeline = read_timeline(abc)
    bars = len(timeline.bars)
    return (
        len(timeline.voices) == 1
        and timeline.meter is not None
        and bars >= 4
        and len(timeline.chords) * 2 >= bars
        and len({c.name for c in timeline.chords}) >= 3
    )


def review_tunes(tunes: list[CorpusTune]) -> list[Review]:
    reviews = []
    for start in range(0, len(tunes), 400):
        batch = tunes[start : start + 400]
        for tune, conversion in zip(batch, abc_to_midi_many([t.abc for t in batch]), strict=True):
            if conversion.midi is None:
                continue
            try:
                score = Score.from_midi(conversion.midi)
            except PictuneError:
                continue
            if score.n_notes:
                reviews.append(review(score, read_timeline(tune.abc)))
    return reviews


def musicxml_score(path: Path) -> Score | None:
    """A music21 MusicXML work as a Score, its pickup shifted so bar lines fall on the grid."""
    from music21 import converter, midi
    from music21.exceptions21 import Music21Exception

    try:
        stream = converter.parse(str(path))
        score = Score.from_midi(midi.translate.streamToMidiFile(stream).writestr())
    except (PictuneError, Music21Exception) as exc:  # e.g. repeats music21 cannot expand
        print(f"skipped {path.name}: {exc}", file=sys.stderr)
        return None
    parts = stream.parts
    measures = parts[0].getElementsByClass("Measure") if parts else []
    shift = 0.0
    if measures:
        first = measures[0]
        shift = float(first.barDuration.quarterLength - first.duration.quarterLength)
    ticks = round(max(shift, 0.0) * score.resolution)
    if ticks:
        score = replace(
            score,
            time=score.time + ticks,
            time_signatures=tuple(
                (t + ticks if t else 0, n, d) for t, n, d in score.time_signatures
            ),
        )
    return score if score.n_notes else None


def review_works(paths: list[Path]) -> list[Review]:
    reviews = []
    for path in paths:
        score = musicxml_score(path)
        if score is not None:
            # Key signatures mislead here (Bach wrote C minor with two flats): estimate it.
            tonic, mode, _ = estimate_key(score)
            reviews.append(review(score, key=Key(PITCH_NAMES.index(tonic), mode)))
    return reviews


def summarise(reviews: list[Review]) -> dict[str, str]:
    column: dict[str, str] = {"pieces": str(len(reviews))}
    for field in fields(Rates):
        values = [getattr(r.rates, field.name) for r in reviews]
        defined = [float(v) for v in values if v is not None]
        if not defined:
            column[field.name] = "-"
        elif field.name == "melody_range":
            q1, median, q3 = (
                statistics.quantiles(defined, n=4) if len(defined) > 1 else [defined[0]] * 3
            )
            column[field.name] = (
                f"{statistics.mean(defined):.1f} (median {median:.0f}, IQR {q1:.0f}–{q3:.0f})"
            )
        else:
            column[field.name] = f"{statistics.mean(defined):.3f}"
    return column


def rule_shares(reviews: list[Review]) -> Counter[str]:
    shares: Counter[str] = Counter()
    for result in reviews:
        for rule in {f.rule for f in result.findings}:
            shares[rule] += 1
    return shares


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, default=600, help="folk tunes sampled")
    parser.add_argument("--chorales", type=int, default=60, help="Bach chorales sampled")
    parser.add_argument("--works", type=int, default=8, help="other multi-voice works")
    parser.add_argument("--all", action="store_true", help="every tune, chorale and work")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from music21 import corpus

    rng = random.Random(args.seed)
    started = time.perf_counter()
    tunes = list(iter_music21_tunes())
    lead_sheets = [t for t in tunes if _is_lead_sheet(t.abc)]
    sample = tunes if args.all else rng.sample(tunes, min(args.tunes, len(tunes)))
    paths = sorted(Path(p) for p in corpus.getPaths(fileExtensions=["mxl", "xml", "musicxml"]))
    chorales = [p for p in paths if p.parent.name == "bach"]
    works = [p for p in paths if not any(part in _NOT_WORKS for part in p.parts[-3:-1])]
    if not args.all:
        chorales = sorted(rng.sample(chorales, min(args.chorales, len(chorales))))
        small = [p for p in works if p.stat().st_size <= _WORK_SIZE_LIMIT]
        works = sorted(rng.sample(small, min(args.works, len(small))))

    groups: dict[str, list[Review]] = {}
    timings: dict[str, float] = {}
    for name, run in (
        ("folk melodies", lambda: review_tunes(sample)),
        ("lead sheets", lambda: review_tunes(lead_sheets)),
        ("Bach chorales", lambda: review_works(chorales)),
        ("other multi-voice", lambda: review_works(works)),
    ):
        clock = time.perf_counter()
        groups[name] = run()
        timings[name] = time.perf_counter() - clock

    columns = {name: summarise(reviews) for name, reviews in groups.items()}
    names = list(groups)
    rates = ["pieces", *(f.name for f in fields(Rates))]
    print_table(
        "Critic rates (mean over pieces; yes/no rates as the share of yes)",
        ["rate", *names],
        [[rate.replace("_", " "), *(columns[n][rate] for n in names)] for rate in rates],
    )
    shares = {name: rule_shares(reviews) for name, reviews in groups.items()}
    all_rules = sorted(set().union(*shares.values()))
    print_table(
        "Share of pieces with at least one finding, per rule",
        ["rule", *names],
        [
            [rule, *(f"{shares[n][rule] / max(len(groups[n]), 1):.2f}" for n in names)]
            for rule in all_rules
        ],
    )
    print()
    for name in names:
        count = max(len(groups[name]), 1)
        print(
            f"{name}: {len(groups[name])} pieces in {timings[name]:.1f} s "
            f"({1000 * timings[name] / count:.0f} ms a piece, conversion included)"
        )
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
