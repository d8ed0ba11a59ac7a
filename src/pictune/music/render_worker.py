"""Child-process entry point of `pictune.music.isolated`: one render task, files in the cwd.

`python -m pictune.music.render_worker verovio`  tune.abc → score.svg
`python -m pictune.music.render_worker musicxml` tune.abc (and tune.mid) → score.musicxml
`python -m pictune.music.render_worker musicxml-to-midi` score.musicxml → score.mid
A failure ends with one `pictune-render-error: …` line and status 3.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

from pictune.errors import RenderError
from pictune.music.isolated import ERROR_MARK


def main(argv: list[str]) -> int:
    logging.disable(logging.WARNING)  # music21 and verovio warn by the thousand on bad tunes
    warnings.simplefilter("ignore")
    task = argv[0] if argv else ""
    try:
        if task == "verovio":
            from pictune.music.sheet import verovio_svg

            svg = verovio_svg(Path("tune.abc").read_text("utf-8"))
            Path("score.svg").write_text(svg, "utf-8")
        elif task == "musicxml":
            from pictune.music.musicxml import musicxml_in_process

            midi = Path("tune.mid").read_bytes() if Path("tune.mid").is_file() else None
            xml = musicxml_in_process(Path("tune.abc").read_text("utf-8"), midi)
            Path("score.musicxml").write_text(xml, "utf-8")
        elif task == "musicxml-to-midi":
            from pictune.music.musicxml import midi_from_musicxml

            Path("score.mid").write_bytes(midi_from_musicxml(Path("score.musicxml")))
        else:
            raise RenderError(f"unknown render task {task!r}")
    except (RenderError, RecursionError, MemoryError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, RecursionError):
            message = "the tune nests too deeply to render"
        elif isinstance(exc, MemoryError):
            message = "the tune is too large to render in the memory allowed"
        sys.stdout.write(ERROR_MARK + message + "\n")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
