"""The `music` layer: the Score view, metrics, the music critic, and renderings (WAV, SVG,
MusicXML).

It reads ABC only through the `abc` layer and never calls a model.
"""

from pictune.music.audio import find_soundfont, render_wav, synthesize, write_wav
from pictune.music.critic import Rates, Review, review, review_abc
from pictune.music.findings import RULES, Finding, Severity
from pictune.music.metrics import REFINEMENT_METRICS, Metrics, compute_metrics
from pictune.music.musicxml import to_musicxml
from pictune.music.score import Score, Track
from pictune.music.sheet import render_svg
from pictune.music.yardsticks import bass_metrics, is_multi_voice, melody_metrics, melody_score

__all__ = [
    "REFINEMENT_METRICS",
    "RULES",
    "Finding",
    "Metrics",
    "Rates",
    "Review",
    "Score",
    "Severity",
    "Track",
    "bass_metrics",
    "compute_metrics",
    "find_soundfont",
    "is_multi_voice",
    "melody_metrics",
    "melody_score",
    "render_svg",
    "render_wav",
    "review",
    "review_abc",
    "synthesize",
    "to_musicxml",
    "write_wav",
]
