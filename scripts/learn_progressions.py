"""Learn the offline composer's chord-progression table from the Bach chorales that music21
ships: each chorale's key, its chords on each beat as scale-degree triads, the transitions
between successive different chords (by mode), and the cadences at its fermatas.

Run:  .venv/bin/python scripts/learn_progressions.py \
          src/pictune/models/offline/data/progressions.json
The table is small (a few kilobytes) and ships as package data; nothing is learned at run time.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter, defaultdict
from pathlib import Path

from music21 import chord, corpus, expressions, key, note

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)


def degree_of_chord(sounding: chord.Chord, home: key.Key) -> int | None:
    """Scale degree (0–6) of the chord's root in `home`, when the chord is a triad or a
    seventh chord whose root is in the key (the raised leading tone counts in minor)."""
    if len(sounding.pitches) < 2:
        return None
    root = sounding.root().pitchClass
    relative = (root - home.tonic.pitchClass) % 12
    scale = MAJOR if home.mode == "major" else MINOR
    if relative in scale:
        return scale.index(relative)
    if home.mode == "minor" and relative == 11:
        return 6  # the raised leading tone's diminished triad stands for vii
    return None


def chorale_chords(score: object) -> tuple[str, list[int], set[int]]:
    """The mode, one chord degree per beat, and the indices of beats under a fermata."""
    home = score.analyze("key")  # type: ignore[attr-defined]
    mode = "major" if home.mode == "major" else "minor"
    chords = score.chordify().flatten().getElementsByClass(chord.Chord)  # type: ignore[attr-defined]
    soprano = score.parts[0].flatten().notes  # type: ignore[attr-defined]
    fermatas = {
        float(n.offset)
        for n in soprano
        if isinstance(n, note.Note)
        and any(isinstance(e, expressions.Fermata) for e in n.expressions)
    }
    degrees: list[int] = []
    stops: set[int] = set()
    for sounding in chords:
        if float(sounding.offset) % 1 != 0:  # beats only: passing chords are left out
            continue
        found = degree_of_chord(sounding, home)
        if found is None:
            continue
        degrees.append(found)
        if float(sounding.offset) in fermatas:
            stops.add(len(degrees) - 1)
    return mode, degrees, stops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    transitions: dict[str, dict[int, Counter[int]]] = {
        "major": defaultdict(Counter),
        "minor": defaultdict(Counter),
    }
    cadences: dict[str, Counter[str]] = {"major": Counter(), "minor": Counter()}
    openings: dict[str, Counter[int]] = {"major": Counter(), "minor": Counter()}
    pieces = Counter[str]()
    paths = corpus.getComposer("bach")
    if args.limit:
        paths = paths[: args.limit]
    for path in paths:
        try:
            score = corpus.parse(path)
            if len(score.parts) != 4:  # type: ignore[attr-defined]
                continue
            mode, degrees, stops = chorale_chords(score)
        except Exception:
            continue
        if len(degrees) < 8:
            continue
        pieces[mode] += 1
        openings[mode][degrees[0]] += 1
        for before, after in itertools.pairwise(degrees):
            if before != after:
                transitions[mode][before][after] += 1
        for stop in sorted(stops):
            before = next((d for d in reversed(degrees[:stop]) if d != degrees[stop]), None)
            if before is not None:  # the last different chord before the fermata
                cadences[mode][f"{before}-{degrees[stop]}"] += 1
    table = {
        "source": "music21 corpus: Bach chorales in four parts, chords on the beat, "
        "key by music21's analyze('key')",
        "pieces": dict(pieces),
        "openings": {m: {str(k): v for k, v in c.items()} for m, c in openings.items()},
        "transitions": {
            m: {str(a): {str(b): n for b, n in row.items()} for a, row in t.items()}
            for m, t in transitions.items()
        },
        "cadences": {m: dict(c.most_common(12)) for m, c in cadences.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", "utf-8")
    print(f"{sum(pieces.values())} chorales ({dict(pieces)}) → {args.out}")


if __name__ == "__main__":
    main()
