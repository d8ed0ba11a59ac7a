"""Renderings: WAV (SoundFont and built-in), SVG (abcm2ps and verovio), MusicXML, export."""

from __future__ import annotations

import shutil
import wave

import numpy as np
import pytest

from pictune.abc import abc_to_score
from pictune.errors import RenderError
from pictune.music import find_soundfont, render_svg, synthesize, to_musicxml
from pictune.music.audio import builtin_synthesize, render_wav
from pictune.music.export import FILE_NAMES, export_tune
from tests.conftest import SIMPLE_TUNE, TWO_VOICES


def test_builtin_synth_renders_audible_audio_of_the_right_length():
    score = abc_to_score("X:1\nT:t\nM:4/4\nL:1/4\nQ:1/4=60\nK:C\nC D E F|]\n")
    audio = builtin_synthesize(score, 8000)
    assert audio.shape[0] == 2
    assert 4.0 <= audio.shape[1] / 8000 <= 5.0
    assert 0.5 < np.abs(audio).max() <= 0.81
    # the first second holds a C4: its spectrum peaks near 261.6 Hz
    first = audio[0, 1000:7000]
    spectrum = np.abs(np.fft.rfft(first))
    peak_hz = np.argmax(spectrum) * 8000 / first.size
    assert abs(peak_hz - 261.6) < 5


def test_soundfont_from_environment_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("PICTUNE_SOUNDFONT", str(tmp_path / "missing.sf2"))
    with pytest.raises(RenderError, match="does not exist"):
        find_soundfont()


def test_broken_soundfont_falls_back_to_builtin(monkeypatch, tmp_path):
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"not a soundfont")
    monkeypatch.setenv("PICTUNE_SOUNDFONT", str(bad))
    _, engine = synthesize(abc_to_score(SIMPLE_TUNE), 8000)
    assert engine == "builtin"


@pytest.mark.skipif(
    find_soundfont() is None, reason="no SoundFont installed (make test installs one)"
)
def test_soundfont_rendering_writes_a_stereo_wav(tmp_path):
    path = tmp_path / "out.wav"
    engine = render_wav(abc_to_score(SIMPLE_TUNE), path)
    assert engine.startswith("soundfont:")
    with wave.open(str(path)) as wav:
        assert wav.getnchannels() == 2
        assert wav.getframerate() == 44100
        assert wav.getnframes() > 44100 * 10


def test_too_long_piece_is_refused():
    score = abc_to_score("X:1\nT:t\nM:4/4\nL:1\nQ:1/4=20\nK:C\nC1000|]\n")
    with pytest.raises(RenderError, match="minutes"):
        synthesize(score)


def test_verovio_svg():
    svg, engine = render_svg(SIMPLE_TUNE, engine="verovio")
    assert engine == "verovio"
    assert svg.lstrip().startswith("<svg") or "<svg" in svg[:500]


@pytest.mark.skipif(
    shutil.which("abcm2ps") is None, reason="abcm2ps not installed (make test installs it)"
)
def test_abcm2ps_engraves_every_voice():
    svg, engine = render_svg(TWO_VOICES, engine="abcm2ps")
    assert engine == "abcm2ps"
    assert "<svg" in svg
    assert svg.count("Violin") >= 1 and svg.count("Cello") >= 1


def test_unknown_engine_is_refused():
    with pytest.raises(RenderError, match="unknown engraving engine"):
        render_svg(SIMPLE_TUNE, engine="lilypond")


def test_musicxml_export_holds_the_notes():
    xml = to_musicxml(SIMPLE_TUNE)
    assert "<score-partwise" in xml
    assert xml.count("<note") == 26  # 8 + 8 + 7 + 3 notes; the repeat stays a repeat sign


def test_musicxml_parts_are_the_voices_named_with_their_instruments():
    """One part per voice (music21 made an empty extra part of each header V: line), named
    as the voice, with its General MIDI program; the drums on a percussion clef."""
    import re

    drums = (
        TWO_VOICES.rstrip("\n")
        + '\nV:3 name="Drums" clef=perc\n%%MIDI channel 10\n'
        + "[K:C clef=perc] F2 c2 F2 c2|F2 c2 F4|]\n"
    )
    xml = to_musicxml(drums)
    assert re.findall(r"<part-name>([^<]*)</part-name>", xml) == ["Violin", "Cello", "Drums"]
    assert xml.count("<part id=") == 3
    assert re.findall(r"<midi-program>(\d+)</midi-program>", xml)[:2] == ["41", "43"]
    assert xml.count("<sign>percussion</sign>") == 1


def test_export_writes_every_format(tmp_path, no_leftovers):
    exported = export_tune(TWO_VOICES, tmp_path / "out")
    assert set(exported.paths) == set(FILE_NAMES)
    for path in exported.paths.values():
        assert path.stat().st_size > 100
    assert exported.paths["mid"].read_bytes().startswith(b"MThd")
