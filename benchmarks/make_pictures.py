"""Write the 55 benchmark pictures (the set bench_offline.py measures) into a folder, for
`pictune eval` and `pictune batch` runs anyone can repeat.

Run:  .venv/bin/python benchmarks/make_pictures.py pictures/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_offline import colour_fields, scenes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    pictures = colour_fields() + scenes()
    for name, image in pictures:
        image.save(args.folder / f"{name}.png")
    print(f"{len(pictures)} pictures in {args.folder}")


if __name__ == "__main__":
    main()
