"""The `music` layer: the Score view, metrics, and renderings (WAV, SVG, MusicXML).

It reads ABC only through the `abc` layer and never calls a model.
"""

from pictune.music.audio import find_soundfont, render_wav, synthesize, write_wav
from pictune.music.metrics import REFINEMENT_METRICS, Metrics, compute_metrics
from pictune.music.musicxml import to_musicxml
from pictune.music.score import Score, Track
from pictune.music.sheet import render_svg

__all__ = [
    "REFINEMENT_METRICS",
    "Metrics",
    "Score",
    "Track",
    "compute_metrics",
    "find_soundfont",
    "render_svg",
    "render_wav",
    "synthesize",
    "to_musicxml",
    "write_wav",
]
