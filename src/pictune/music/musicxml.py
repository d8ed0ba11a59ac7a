"""MusicXML export through music21: from the ABC when it parses, else from the MIDI.

music21 runs in a child process under limits (`pictune.music.isolated`): on hostile ABC it
can parse for minutes and grow without bound, and it ignores Ctrl-C while it does.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pictune.abc.timeline import read_timeline
from pictune.errors import PictuneError, RenderError
from pictune.music.isolated import run_renderer

log = logging.getLogger(__name__)


def to_musicxml(abc: str, midi: bytes | None = None) -> str:
    """MusicXML text for a tune; the MIDI (same notes, plainer spelling) is the fallback."""
    inputs = {"tune.abc": abc.encode("utf-8")}
    if midi is not None:
        inputs["tune.mid"] = midi
    return run_renderer("musicxml", inputs, "score.musicxml").decode("utf-8", "replace")


def musicxml_in_process(abc: str, midi: bytes | None = None) -> str:
    """`to_musicxml` in this process, without limits (the render worker's side of it)."""
    import music21

    try:
        stream = music21.converter.parse(abc, format="abc")
        _name_parts(stream, abc)
        return _write(stream)
    except Exception as exc:  # music21 raises many types on ABC it cannot read
        log.info("music21 could not read the ABC (%s); exporting from MIDI", exc)
        if midi is None:
            raise RenderError(f"MusicXML export failed: {exc}") from exc
    try:
        stream = music21.converter.parseData(midi, format="midi")
        return _write(stream)
    except Exception as exc:
        raise RenderError(f"MusicXML export failed: {exc}") from exc


def _name_parts(score: Any, abc: str) -> None:
    """music21 makes an empty part of each `V:` line of the header and names no part: drop
    the parts without notes, and give the others the names, instruments and (for drums) the
    percussion clef of the voices they play, so notation programs show 'Violin, Harp, Cello'
    rather than six nameless staves."""
    import music21

    for part in list(score.parts):
        if not part.recurse().notes:
            score.remove(part)
    try:
        voices = read_timeline(abc).voices
    except (PictuneError, ValueError) as exc:
        log.info("voices not named in the MusicXML: %s", exc)
        return
    parts = list(score.parts)
    if len(parts) != len(voices):
        return
    for part, voice in zip(parts, voices, strict=True):
        instrument: Any
        if voice.clef == "perc":
            instrument = music21.instrument.Percussion()  # type: ignore[no-untyped-call]
            for clef in list(part.recurse().getElementsByClass(music21.clef.Clef)):
                percussion = music21.clef.PercussionClef()  # type: ignore[no-untyped-call]
                clef.activeSite.replace(clef, percussion)
        elif voice.program is not None:
            instrument = music21.instrument.instrumentFromMidiProgram(voice.program)
        else:
            instrument = music21.instrument.Instrument()
        name = voice.name or instrument.instrumentName or f"Voice {voice.id}"
        instrument.partName = instrument.instrumentName = name
        part.partName = name
        part.insert(0, instrument)


def _write(stream: Any) -> str:
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    data: bytes = GeneralObjectExporter(stream).parse()
    return data.decode("utf-8")


def midi_from_musicxml(path: Path) -> bytes:
    """MIDI bytes for a MusicXML file, in this process (the render worker's side of it)."""
    import music21

    try:
        stream = music21.converter.parse(str(path))
        target = path.with_suffix(".mid")
        stream.write("midi", fp=str(target))  # type: ignore[no-untyped-call]
        return target.read_bytes()
    except Exception as exc:  # music21 raises many exception types on bad files
        raise RenderError(f"music21 cannot read it: {exc}") from exc
