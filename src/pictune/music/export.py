"""Write a tune's files (ABC, MIDI, WAV, SVG, MusicXML) into a folder in one call."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pictune.abc.convert import abc_to_midi, midi_to_score
from pictune.music.audio import render_wav
from pictune.music.musicxml import to_musicxml
from pictune.music.sheet import render_svg

FORMATS = ("abc", "mid", "wav", "svg", "musicxml")
FILE_NAMES = {
    "abc": "music.abc",
    "mid": "music.mid",
    "wav": "music.wav",
    "svg": "score.svg",
    "musicxml": "music.musicxml",
}


@dataclass
class Exported:
    """Paths written, by format, and the engine that produced each rendering."""

    paths: dict[str, Path] = field(default_factory=dict)
    engines: dict[str, str] = field(default_factory=dict)


def export_tune(
    abc: str,
    folder: str | Path,
    formats: tuple[str, ...] = FORMATS,
    soundfont: str | Path | None = None,
    midi: bytes | None = None,
) -> Exported:
    """Write the chosen formats of one valid tune into `folder` (created if needed).

    `midi` is the tune's MIDI when the caller already has it (validation made it): the tune
    is then not converted again."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats: {', '.join(sorted(unknown))}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    result = Exported()
    if midi is None:
        midi = abc_to_midi(abc).complete_midi()
    for fmt in formats:
        path = folder / FILE_NAMES[fmt]
        if fmt == "abc":
            path.write_text(abc if abc.endswith("\n") else abc + "\n", "utf-8")
        elif fmt == "mid":
            path.write_bytes(midi)
        elif fmt == "wav":
            result.engines["wav"] = render_wav(midi_to_score(midi), path, soundfont=soundfont)
        elif fmt == "svg":
            svg, engine = render_svg(abc)
            path.write_text(svg, "utf-8")
            result.engines["svg"] = engine
        elif fmt == "musicxml":
            path.write_text(to_musicxml(abc, midi), "utf-8")
        result.paths[fmt] = path
    return result
