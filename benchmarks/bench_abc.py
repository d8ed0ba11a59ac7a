"""Benchmark of the abc and music layers against the paper's path (music21 + muspy).

Run:  .venv/bin/python benchmarks/bench_abc.py [--tunes 1000] [--seed 0]

Prints, from one run over the same tunes side by side:
  1. ABC text → Score: pictune (abc2midi + arrays) vs music21.converter.parse(text, 'abc')
  2. ABC text → the 8 refinement metrics: pictune vs music21 → MIDI → muspy.read_midi → muspy
  3. validate + repair of typical 32-bar tunes (median ms)
  4. the reply fixture set: share with zero abc2midi errors after repair, and the share of
     raw extracted tunes music21 can parse
  5. coverage: every tune of music21's ABC corpus → Score → metrics, failures listed
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pictune.abc import (  # noqa: E402
    abc_to_midi_many,
    decode_abc,
    extract,
    make_playable,
    repair,
    validate,
)
from pictune.corpus.music21_tunes import iter_music21_tunes  # noqa: E402
from pictune.music import Score, compute_metrics  # noqa: E402
from pictune.music.metrics import REFINEMENT_METRICS  # noqa: E402

REPLIES = ROOT / "tests" / "data" / "replies"


def paper_metrics(abc: str, folder: str) -> dict[str, float]:
    """The paper's path: music21 parse → MIDI file → muspy.read_midi → muspy metrics."""
    import music21
    import muspy

    stream = music21.converter.parse(abc, format="abc")
    path = str(Path(folder, "tune.mid"))
    stream.write("midi", fp=path)
    music = muspy.read_midi(path)
    return {
        "pitch_range": muspy.pitch_range(music),
        "n_pitches_used": muspy.n_pitches_used(music),
        "n_pitch_classes_used": muspy.n_pitch_classes_used(music),
        "polyphony": muspy.polyphony(music),
        "scale_consistency": muspy.scale_consistency(music),
        "pitch_entropy": muspy.pitch_entropy(music),
        "pitch_class_entropy": muspy.pitch_class_entropy(music),
        "empty_beat_rate": muspy.empty_beat_rate(music),
    }


def ours_metrics(abc: str) -> dict[str, float | int | None]:
    return compute_metrics(Score.from_abc(abc)).refinement_values()


def timed(action, items):
    """(seconds, successes, failures) of `action` over `items`, failures caught and counted."""
    ok = failed = 0
    start = time.perf_counter()
    for item in items:
        try:
            action(item)
            ok += 1
        except Exception:
            failed += 1
    return time.perf_counter() - start, ok, failed


def bar_count(abc: str) -> int:
    body = abc.split("\nK:", 1)[-1]
    return sum(body.count(sep) for sep in ("|",)) - body.count("||") - body.count("|]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)

    corpus = list(iter_music21_tunes())
    rng = random.Random(args.seed)
    tunes = [t.abc for t in rng.sample(corpus, args.tunes)]
    print(f"{len(corpus)} tunes in music21's ABC corpus; {len(tunes)} sampled (seed {args.seed})")

    import music21

    # Warm both paths once (imports, caches).
    music21.converter.parse(tunes[0], format="abc")
    Score.from_abc(tunes[0])

    print("\n1. ABC text → Score")
    m21_s, _m21_ok, m21_fail = timed(lambda t: music21.converter.parse(t, format="abc"), tunes)
    our_s, _our_ok, our_fail = timed(Score.from_abc, tunes)
    print(
        f"   music21.converter.parse : {1000 * m21_s / len(tunes):7.2f} ms/tune ({m21_fail} failed)"
    )
    print(
        f"   pictune Score.from_abc  : {1000 * our_s / len(tunes):7.2f} ms/tune ({our_fail} failed)"
    )
    print(f"   speed-up                : {m21_s / our_s:7.1f}×   (target ≥ 15×)")

    print("\n2. ABC text → the 8 refinement metrics")
    with tempfile.TemporaryDirectory() as folder:
        paper_s, _paper_ok, paper_fail = timed(lambda t: paper_metrics(t, folder), tunes)
    ours_s, _ours_ok, ours_fail = timed(ours_metrics, tunes)
    print(
        f"   paper's path (music21 → MIDI → muspy): {1000 * paper_s / len(tunes):7.2f} ms/tune, "
        f"raised on {paper_fail} of {len(tunes)} ({100 * paper_fail / len(tunes):.1f}%)"
    )
    print(
        f"   pictune                              : {1000 * ours_s / len(tunes):7.2f} ms/tune, "
        f"raised on {ours_fail}"
    )
    print(f"   speed-up                             : {paper_s / ours_s:7.1f}×   (target ≥ 50×)")
    print(f"   metrics: {', '.join(REFINEMENT_METRICS)}")

    print("\n3. validate + repair of typical 32-bar tunes")
    typical = [t for t in corpus if 28 <= bar_count(t.abc) <= 36][:300]
    durations = []
    for tune in typical:
        start = time.perf_counter()
        report = validate(tune.abc)
        repair(tune.abc, report.diagnostics)
        durations.append(time.perf_counter() - start)
    median = 1000 * statistics.median(durations)
    p95 = 1000 * sorted(durations)[int(0.95 * len(durations))]
    print(
        f"   {len(typical)} corpus tunes of 28–36 bars: median {median:.2f} ms, "
        f"p95 {p95:.2f} ms   (target median ≤ 10 ms)"
    )

    print("\n4. model-reply fixtures (tests/data/replies)")
    replies = sorted(REPLIES.glob("*.txt"))
    clean = parsed = 0
    failures = []
    for path in replies:
        text = decode_abc(path.read_bytes())
        tune = make_playable(text)
        errors = [d for d in tune.validation.errors if d.source == "abc2midi"]
        if tune.validation.midi is not None and not errors:
            clean += 1
        else:
            failures.append(path.name)
        try:
            music21.converter.parse(extract(text).abc or "", format="abc")
            parsed += 1
        except Exception:
            pass
    print(
        f"   zero abc2midi errors after repair: {clean}/{len(replies)} "
        f"({100 * clean / len(replies):.0f}%, target ≥ 95%)"
    )
    share = 100 * parsed / len(replies)
    print(f"   music21 parses the raw extracted tune: {parsed}/{len(replies)} ({share:.0f}%)")
    for name in failures:
        print(f"   still failing: {name}")

    print("\n5. coverage: every corpus tune → Score → metrics")
    start = time.perf_counter()
    failed = []
    repaired = 0
    for first in range(0, len(corpus), 500):
        chunk = corpus[first : first + 500]
        for tune, conversion in zip(chunk, abc_to_midi_many([t.abc for t in chunk]), strict=True):
            try:
                midi = conversion.midi
                if midi is None:
                    midi = make_playable(tune.abc).validation.midi
                    repaired += 1
                if midi is None:
                    raise RuntimeError("no MIDI after repair")
                compute_metrics(Score.from_midi(midi))
            except Exception as exc:
                failed.append(f"{tune.id}: {exc}")
    print(
        f"   {len(corpus)} tunes in {time.perf_counter() - start:.1f} s; "
        f"{repaired} needed repair first; {len(failed)} failed"
    )
    for line in failed[:20]:
        print(f"   failed: {line}")


if __name__ == "__main__":
    main()
