"""Audio rendering: a General MIDI SoundFont through symusic, or a built-in synthesizer.

symusic 0.5.9's Synthesizer renders a minute of music in about 50 ms; 0.6.0's fails on every
call (a pybind type error), hence the `<0.6` pin. When no SoundFont is installed, a small
additive synthesizer written here renders every note with an instrument-family timbre, so
audio works on any machine.
"""

from __future__ import annotations

import logging
import os
import wave
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt
import symusic
from symusic.core import ScoreSecond, ScoreTick

from pictune.errors import RenderError

log = logging.getLogger(__name__)

SAMPLE_RATE = 44_100
MAX_AUDIO_SECONDS = 15 * 60
SOUNDFONT_DIRS = (
    "/usr/share/sounds/sf2",
    "/usr/share/soundfonts",
    "/usr/share/sounds/sf3",
    "/usr/local/share/soundfonts",
    "~/.local/share/soundfonts",
    "~/Library/Audio/Sounds/Banks",
)
# Preferred files first: fuller General MIDI sets, then the small TimGM6mb.
PREFERRED_SOUNDFONTS = ("FluidR3_GM.sf2", "GeneralUser GS.sf2", "TimGM6mb.sf2", "default-GM.sf2")

Float32 = npt.NDArray[np.float32]


def find_soundfont(explicit: str | Path | None = None) -> Path | None:
    """The SoundFont to use: `explicit`, then $PICTUNE_SOUNDFONT, then the usual system folders."""
    for candidate in (explicit, os.environ.get("PICTUNE_SOUNDFONT")):
        if candidate:
            path = Path(candidate).expanduser()
            if not path.is_file():
                raise RenderError(f"SoundFont {path} does not exist")
            return path
    for folder in SOUNDFONT_DIRS:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for name in PREFERRED_SOUNDFONTS:
            if (root / name).is_file():
                return root / name
        found = sorted(p for p in root.iterdir() if p.suffix.lower() in (".sf2", ".sf3"))
        if found:
            return found[0]
    return None


def _in_seconds(score: ScoreTick) -> ScoreSecond:
    return cast(ScoreSecond, score.to(symusic.TimeUnit.second))


def _check_length(score: ScoreTick) -> float:
    seconds = float(_in_seconds(score).end()) if score.note_num() else 0.0
    if seconds > MAX_AUDIO_SECONDS:
        raise RenderError(
            f"the piece lasts {seconds / 60:.0f} minutes; audio is limited to "
            f"{MAX_AUDIO_SECONDS // 60} minutes"
        )
    return seconds


def synthesize(
    score: ScoreTick,
    sample_rate: int = SAMPLE_RATE,
    soundfont: str | Path | None = None,
) -> tuple[Float32, str]:
    """Stereo samples (2, n) in [-1, 1] and the name of the engine that made them."""
    _check_length(score)
    path = find_soundfont(soundfont)
    if path is not None:
        try:
            synth = symusic.Synthesizer(str(path), sample_rate, 0)
            audio = np.asarray(synth.render(score, stereo=True), dtype=np.float32)
            return audio, f"soundfont:{path.name}"
        except Exception as exc:  # a broken SoundFont file: say so, then fall back
            log.warning("SoundFont %s failed (%s); using the built-in synthesizer", path, exc)
    return builtin_synthesize(score, sample_rate), "builtin"


# Harmonic amplitudes and decay (seconds to fall by 1/e) per General MIDI family.
_TIMBRES: dict[str, tuple[tuple[float, ...], float]] = {
    "piano": ((1.0, 0.5, 0.3, 0.15, 0.08), 1.2),
    "plucked": ((1.0, 0.6, 0.35, 0.2), 0.6),
    "organ": ((1.0, 0.8, 0.6, 0.3, 0.2), 0.0),
    "strings": ((1.0, 0.45, 0.3, 0.2, 0.12, 0.08), 0.0),
    "wind": ((1.0, 0.2, 0.08), 0.0),
    "bass": ((1.0, 0.4, 0.1), 0.9),
}


def _timbre(program: int) -> tuple[tuple[float, ...], float]:
    family = program // 8
    if family in (0, 1):
        return _TIMBRES["piano"]
    if family in (3, 13):
        return _TIMBRES["plucked"]
    if family == 2:
        return _TIMBRES["organ"]
    if family == 4:
        return _TIMBRES["bass"]
    if family in (5, 6, 11):
        return _TIMBRES["strings"]
    return _TIMBRES["wind"]


def builtin_synthesize(score: ScoreTick, sample_rate: int = SAMPLE_RATE) -> Float32:
    """Additive synthesis of every note (drums as short noise bursts); stereo, peak 0.8."""
    timed = _in_seconds(score)
    total = (float(timed.end()) if timed.note_num() else 0.0) + 0.5
    mix = np.zeros(int(total * sample_rate) + 1, dtype=np.float32)
    rng = np.random.default_rng(0)
    for track in timed.tracks:
        notes = track.notes.numpy()
        harmonics, decay = _timbre(int(track.program))
        for start, length, pitch, velocity in zip(
            notes["time"], notes["duration"], notes["pitch"], notes["velocity"], strict=True
        ):
            first = int(start * sample_rate)
            count = max(int((length + 0.08) * sample_rate), 1)
            count = min(count, mix.size - first)
            if count <= 0:
                continue
            t = np.arange(count, dtype=np.float32) / sample_rate
            gain = (int(velocity) / 127.0) * 0.25
            if track.is_drum:
                wave_ = rng.standard_normal(count).astype(np.float32) * np.exp(-t / 0.06)
            else:
                freq = 440.0 * 2.0 ** ((int(pitch) - 69) / 12.0)
                wave_ = np.zeros(count, dtype=np.float32)
                for n, amp in enumerate(harmonics, start=1):
                    if freq * n < sample_rate / 2:
                        wave_ += amp * np.sin(2 * np.pi * freq * n * t, dtype=np.float32)
                wave_ /= sum(harmonics)
                if decay:
                    wave_ *= np.exp(-t / decay)
            envelope = np.minimum(1.0, t / 0.01) * np.clip((length + 0.08 - t) / 0.08, 0.0, 1.0)
            mix[first : first + count] += gain * wave_ * envelope.astype(np.float32)
    peak = float(np.abs(mix).max()) if mix.size else 0.0
    if peak > 0:
        mix *= 0.8 / peak
    return np.stack([mix, mix])


def write_wav(path: str | Path, audio: Float32, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write stereo float samples as a 16-bit PCM WAV file."""
    path = Path(path)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(pcm.shape[0])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(np.ascontiguousarray(pcm.T).tobytes())
    return path


def render_wav(
    score: ScoreTick,
    path: str | Path,
    sample_rate: int = SAMPLE_RATE,
    soundfont: str | Path | None = None,
) -> str:
    """Render `score` to a WAV file; return the engine used ('soundfont:…' or 'builtin')."""
    audio, engine = synthesize(score, sample_rate, soundfont)
    write_wav(path, audio, sample_rate)
    return engine


def compress_wav(wav: str | Path, target: str | Path, block: int = 4096) -> Path:
    """Write a WAV file again as Ogg Vorbis (about a tenth of the size) through libsndfile,
    for browsers; raises ImportError naming the extra when `soundfile` is missing.

    The samples go to the encoder `block` frames at a time: libvorbis keeps a stack buffer
    as long as the samples handed over in one call, and a whole piece at once overflowed a
    worker thread's stack (libsndfile issue 1095)."""
    try:
        import soundfile
    except ImportError as exc:  # the web extra brings it
        raise ImportError("Ogg audio needs soundfile: install pictune[web]") from exc
    with (
        soundfile.SoundFile(str(wav)) as source,
        soundfile.SoundFile(
            str(target), "w", source.samplerate, source.channels, "VORBIS", format="OGG"
        ) as out,
    ):
        for chunk in source.blocks(block, dtype="float32"):
            out.write(chunk)
    return Path(target)
