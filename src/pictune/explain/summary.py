"""The facts a listener asks first: key, meter, tempo, instruments, length.

Key, meter and tempo are read from the tune's ABC header; instruments and length from the
MIDI already written beside it (nothing is converted again)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pictune.abc.headers import normalise_key, normalise_meter, tempo_qpm, tempo_words
from pictune.abc.text import header_fields
from pictune.music.keys import instrument_name
from pictune.music.score import Score

_MODE_WORDS = {
    "": "major",
    "m": "minor",
    "Mix": "Mixolydian",
    "Dor": "Dorian",
    "Phr": "Phrygian",
    "Lyd": "Lydian",
    "Loc": "Locrian",
}


@dataclass(frozen=True)
class TuneFacts:
    """What the summary line shows; None where the tune does not say."""

    key: str | None
    meter: str | None
    tempo: str | None
    instruments: tuple[str, ...]
    bars: int | None
    seconds: float | None

    def length(self) -> str | None:
        """'16 bars · 0:36', '0:36' or None."""
        parts = []
        if self.bars:
            parts.append(f"{self.bars} bar{'s' if self.bars != 1 else ''}")
        if self.seconds is not None:
            minutes, seconds = divmod(int(self.seconds), 60)  # whole seconds, as players show
            parts.append(f"{minutes}:{seconds:02d}")
        return " · ".join(parts) or None


def key_name(value: str) -> str | None:
    """A K: value in words: 'Eb' → 'Eb major', 'F#m' → 'F# minor', 'D Dor' → 'D Dorian'."""
    key = normalise_key(value)
    if key is None or not key[:1].isalpha() or key.split()[0].lower() in ("none", "hp"):
        return None
    head = key.split()
    if head[0].endswith("m") and len(head[0]) > 1:
        tonic, mode = head[0][:-1], "m"
    else:
        tonic = head[0]
        mode = head[1] if len(head) > 1 and head[1] in _MODE_WORDS else ""
    return f"{tonic} {_MODE_WORDS[mode]}"


def tempo_text(value: str) -> str | None:
    """A Q: value in words: '1/4=108' → '108 ♩/min', with its tempo word when it has one."""
    qpm = tempo_qpm(value)
    if qpm is None:
        return None
    words = tempo_words(value)
    plain = f"{qpm:.0f} ♩/min"
    return f"{words}, {plain}" if words else plain


def _instruments(score: Score) -> tuple[str, ...]:
    played = {int(t) for t in set(score.track.tolist())} if score.n_notes else set()
    names = [
        instrument_name(track.program, track.is_drum)
        for index, track in enumerate(score.tracks)
        if index in played
    ]
    return tuple(dict.fromkeys(names))


def _bars(score: Score) -> int | None:
    numerator, denominator = score.meter
    bar = score.resolution * 4 * numerator / max(denominator, 1)
    if score.end == 0 or bar <= 0:
        return None
    return max(1, math.ceil(score.end / bar - 1e-6))


def tune_facts(abc: str, midi: bytes | None) -> TuneFacts:
    """The facts of a tune from its ABC header and (when given) its MIDI; a field the header
    lacks is taken from what the MIDI plays (abc2midi's defaults: 4/4, 120 a minute)."""
    fields = header_fields(abc) if abc else {}
    score = Score.from_midi(midi) if midi else None
    meter = normalise_meter(fields["M"]) if "M" in fields else None
    key = key_name(fields["K"]) if "K" in fields else None
    tempo = tempo_text(fields["Q"]) if "Q" in fields else None
    if score is not None:
        key = key or score.key
        meter = meter or "{}/{}".format(*score.meter)
        tempo = tempo or f"{score.tempo_qpm:.0f} ♩/min"
    return TuneFacts(
        key=key,
        meter=None if meter == "none" else meter,
        tempo=tempo,
        instruments=_instruments(score) if score else (),
        bars=_bars(score) if score else None,
        seconds=score.seconds() if score else None,
    )
