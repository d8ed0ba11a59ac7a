"""The price of running verovio and music21 in a child process under limits.

Run:  .venv/bin/python benchmarks/bench_isolation.py [--repeats 5]

For a 16-bar two-voice tune, each renderer is timed in this process (no limits, as before)
and through `pictune.music.isolated` (a child Python with time, memory, CPU and output-size
limits, in a working folder removed afterwards): the warm worker, kept between calls (its
start is left out, as the in-process import is), and a child started per call
(`PICTUNE_RENDER_WORKER=fresh`); best of `--repeats` runs, side by side.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from pictune.music.musicxml import musicxml_in_process, to_musicxml
from pictune.music.sheet import render_svg, verovio_svg

TUNE = """X:1
T:Isolation
M:3/4
L:1/8
Q:1/4=90
K:Bb
V:1 clef=treble
%%MIDI program 40
|: B2 d2 f2 | g2 f2 d2 | c2 e2 g2 | f4 z2 | B2 d2 f2 | g2 f2 d2 | c2 A2 c2 | B4 z2 :|
V:2 clef=bass
%%MIDI program 42
|: B,,2 F,2 D,2 | E,,2 G,2 B,2 | F,,2 C,2 A,2 | B,,4 z2 | B,,2 F,2 D,2 | E,,2 G,2 B,2 | F,,2 C,2 E,2 | B,,4 z2 :|
"""


def best(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def fresh(action: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        os.environ["PICTUNE_RENDER_WORKER"] = "fresh"
        try:
            return action()
        finally:
            del os.environ["PICTUNE_RENDER_WORKER"]

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ.pop("PICTUNE_RENDER_WORKER", None)
    musicxml_in_process(TUNE)  # import music21 once, as a long-lived process would have
    verovio_svg(TUNE)
    to_musicxml(TUNE)  # start the warm worker and its imports once, likewise
    render_svg(TUNE, engine="verovio")
    rows = [
        ("verovio SVG", lambda: verovio_svg(TUNE), lambda: render_svg(TUNE, engine="verovio")),
        ("music21 MusicXML", lambda: musicxml_in_process(TUNE), lambda: to_musicxml(TUNE)),
    ]
    for name, inside, child in rows:
        a = best(inside, args.repeats)
        b = best(child, args.repeats)
        c = best(fresh(child), args.repeats)
        print(
            f"{name:>17}: in process {a * 1000:7.1f} ms, warm limited child {b * 1000:7.1f} ms ({b / a:.1f}x), "
            f"fresh limited child {c * 1000:7.1f} ms ({c / a:.1f}x)"
        )


if __name__ == "__main__":
    main()
