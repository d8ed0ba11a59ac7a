"""Benchmark of the abc and music layers against the paper's path (music21 + muspy).

Run:  .venv/bin/python benchmarks/bench_abc.py [--tunes 1000] [--seed 0]

Prints, from one run over the same tunes side by side:
  1. ABC text → Score: pictune (abc2midi + arrays) vs music21.converter.parse(text, 'abc')
  2. ABC text → the 8 refinement metrics: pictune vs music21 → MIDI → muspy.read_midi → muspy
  3. validate + repair of typical 32-bar tunes (median ms)
  4. the reply fixture sets, old (tests/data/replies) and new (tests/data/replies/real: ABC as
     music models and chat assistants write it), separately: share with zero abc2midi errors
     before and after repair, notes preserved (notes in the repaired MIDI ÷ notes the source
     writes), median repair time; and the share of raw extracted tunes music21 can parse
  5. repair of a 40-voice, 100-bar orchestral score (median of 9 runs)
  6. no regression: repair of the first 2,000 corpus tunes abc2midi accepts is byte-identical,
     and repairing a repaired fixture changes nothing
  7. coverage: every tune of music21's ABC corpus → Score → metrics, failures listed

Add --skip-paper to leave out sections 1 and 2 (the slow music21/muspy path).
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
    abc_to_midi,
    abc_to_midi_many,
    decode_abc,
    extract,
    make_playable,
    midi_to_score,
    repair,
    validate,
)
from pictune.abc.notecount import as_written, written_notes  # noqa: E402
from pictune.corpus.music21_tunes import iter_music21_tunes  # noqa: E402
from pictune.music import Score, compute_metrics  # noqa: E402
from pictune.music.metrics import REFINEMENT_METRICS  # noqa: E402

REPLIES = ROOT / "tests" / "data" / "replies"
REAL_REPLIES = REPLIES / "real"


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


def orchestral_score(voices: int, bars: int) -> str:
    """A generated score of `voices` voices in eight instruments, with no channel lines."""
    lines = ["X:1", "T:benchmark score", "M:4/4", "L:1/8", "Q:1/4=100", "K:C"]
    for voice in range(1, voices + 1):
        lines += [f"V:{voice}", f"%%MIDI program {40 + voice % 8}"]
    figures = ["c2 e2 g2 e2", "d4 B4", "[ceg]8", "G2 A2 B2 c2"]
    for start in range(0, bars, 4):
        for voice in range(1, voices + 1):
            music = " | ".join(figures[(voice + bar) % 4] for bar in range(start, start + 4))
            lines.append(f"[V:{voice}] {music} |")
    return "\n".join(lines) + "\n"


def midi_note_count(abc: str) -> int:
    conversion = abc_to_midi(as_written(abc))
    if conversion.midi is None:
        return 0
    return sum(len(track.notes) for track in midi_to_score(conversion.midi).tracks)


def fixture_report(label: str, paths: list[Path], music21) -> None:
    """Section 4 for one fixture set."""
    before = after = parsed = 0
    written = kept = 0
    durations, failures = [], []
    for path in paths:
        text = decode_abc(path.read_bytes())
        source = extract(text).abc or ""
        if source:
            first = validate(source)
            before += first.midi is not None and not any(
                d.source == "abc2midi" for d in first.errors
            )
        start = time.perf_counter()
        tune = make_playable(text)
        durations.append(time.perf_counter() - start)
        errors = [d for d in tune.validation.errors if d.source == "abc2midi"]
        if tune.validation.midi is not None and not errors:
            after += 1
        else:
            failures.append(path.name)
        written += sum(written_notes(source).values())
        kept += midi_note_count(tune.abc)
        try:
            music21.converter.parse(source, format="abc")
            parsed += 1
        except Exception:
            pass
    n = len(paths)
    print(
        f"   {label} ({n}): zero abc2midi errors before repair {before}/{n} "
        f"({100 * before / n:.0f}%), after {after}/{n} ({100 * after / n:.0f}%); "
        f"notes preserved {kept}/{written} ({100 * kept / max(written, 1):.1f}%); "
        f"median make_playable {1000 * statistics.median(durations):.1f} ms; "
        f"music21 parses {parsed}/{n} raw"
    )
    for name in failures:
        print(f"   still failing: {name}")


def bar_count(abc: str) -> int:
    body = abc.split("\nK:", 1)[-1]
    return sum(body.count(sep) for sep in ("|",)) - body.count("||") - body.count("|]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-paper", action="store_true", help="skip sections 1 and 2")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)

    corpus = list(iter_music21_tunes())
    rng = random.Random(args.seed)
    tunes = [t.abc for t in rng.sample(corpus, args.tunes)]
    print(f"{len(corpus)} tunes in music21's ABC corpus; {len(tunes)} sampled (seed {args.seed})")

    import music21

    if not args.skip_paper:
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
        print(
            f"   speed-up                             : {paper_s / ours_s:7.1f}×   (target ≥ 50×)"
        )
        print(f"   metrics: {', '.join(REFINEMENT_METRICS)}")

    print("\n3. validate + repair of typical 32-bar tunes")
    typical = [t for t in corpus if 28 <= bar_count(t.abc) <= 36][:300]
    durations = []
    for tune in typical:
        start = time.perf_counter()
        report = validate(tune.abc)
        repair(tune.abc, report)
        durations.append(time.perf_counter() - start)
    median = 1000 * statistics.median(durations)
    p95 = 1000 * sorted(durations)[int(0.95 * len(durations))]
    print(
        f"   {len(typical)} corpus tunes of 28–36 bars: median {median:.2f} ms, "
        f"p95 {p95:.2f} ms   (target median ≤ 10 ms)"
    )

    print("\n4. model-reply fixtures: old set and new set (real model output)")
    for label, folder in (("old", REPLIES), ("new", REAL_REPLIES)):
        fixture_report(label, sorted(folder.glob("*.txt")), music21)

    print("\n5. repair of a 40-voice, 100-bar orchestral score")
    score = orchestral_score(40, 100)
    report = validate(score)
    durations = []
    for _ in range(9):
        start = time.perf_counter()
        repair(score, report.diagnostics)
        durations.append(time.perf_counter() - start)
    fixed = repair(score, report.diagnostics).abc
    after = validate(fixed)
    print(
        f"   {len(score.splitlines())} lines, {len(report.errors)} errors before, "
        f"{len(after.errors)} after; repair median {1000 * statistics.median(durations):.0f} ms "
        "(target ≤ 200 ms); validate after repair "
        f"{1000 * timed(validate, [fixed])[0]:.0f} ms"
    )

    print("\n6. no regression")
    accepted: list[str] = []
    for first in range(0, len(corpus), 500):
        chunk = [t.abc for t in corpus[first : first + 500]]
        for tune, conversion in zip(chunk, abc_to_midi_many(chunk), strict=True):
            if conversion.midi is not None and not conversion.errors:
                accepted.append(tune)
        if len(accepted) >= 2000:
            break
    accepted = accepted[:2000]
    start = time.perf_counter()
    changed = sum(repair(tune).abc != tune for tune in accepted)
    print(
        f"   {len(accepted)} corpus tunes abc2midi accepts: {changed} changed by repair "
        f"(target 0), {time.perf_counter() - start:.1f} s"
    )
    not_idempotent = 0
    for path in sorted(REPLIES.glob("*.txt")) + sorted(REAL_REPLIES.glob("*.txt")):
        once = make_playable(decode_abc(path.read_bytes())).abc
        not_idempotent += repair(once).abc != once
    print(f"   fixtures where a second repair changes the first one's result: {not_idempotent}")

    print("\n7. coverage: every corpus tune → Score → metrics")
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
