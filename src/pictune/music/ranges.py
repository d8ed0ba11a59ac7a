"""Where a voice belongs: each General MIDI instrument's playable range, and each clef's staff.

Ranges are sounding MIDI pitches from standard orchestration tables (a violin from G3, a
flute from C4, a tuba from E1 …); electronic programs get the piano's keyboard.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pictune.music.keys import PITCH_NAMES

IntArray = npt.NDArray[np.int64]

# Lowest and highest sounding pitch by General MIDI program family (programs 8n … 8n+7).
_FAMILY_RANGES = (
    (21, 108), (48, 96), (36, 96), (40, 88), (28, 67), (28, 103), (28, 103), (34, 82),
    (36, 94), (60, 96), (21, 108), (21, 108), (21, 108), (48, 84), (48, 84), (21, 108),
)  # fmt: skip
_PROGRAM_RANGES = {
    8: (60, 108), 9: (79, 108), 10: (60, 96), 11: (53, 89), 12: (45, 96), 13: (65, 108),
    14: (60, 77), 21: (53, 89), 22: (60, 84), 40: (55, 103), 41: (48, 91), 42: (36, 76),
    43: (28, 67), 46: (23, 103), 47: (40, 57), 52: (40, 81), 53: (40, 81), 54: (40, 81),
    56: (54, 82), 57: (40, 72), 58: (28, 58), 59: (54, 82), 60: (34, 77), 64: (56, 88),
    65: (49, 81), 66: (44, 76), 67: (36, 69), 68: (58, 91), 69: (52, 81), 70: (34, 75),
    71: (50, 94), 72: (74, 108), 73: (60, 96), 74: (60, 96), 75: (60, 96), 76: (60, 84),
    77: (55, 84), 78: (60, 96), 79: (60, 84), 104: (48, 77), 105: (48, 84), 106: (50, 79),
    107: (55, 91), 108: (60, 84), 109: (55, 81), 110: (55, 103), 111: (60, 84),
    114: (52, 89),
}  # fmt: skip

# Diatonic step of each pitch class (sharps spelled up: C# sits on the C line).
_DIATONIC = np.array([0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5, 6], dtype=np.int64)
# Bottom and top staff line of each clef, as diatonic numbers (octave × 7 + step, C4 = 28).
STAVES = {
    "treble": (30, 38),  # E4 … F5
    "bass": (18, 26),  # G2 … A3
    "alto": (24, 32),  # F3 … G4
    "tenor": (22, 30),  # D3 … E4
}


def playable_range(program: int) -> tuple[int, int]:
    """(lowest, highest) sounding MIDI pitch of a General MIDI program."""
    if program in _PROGRAM_RANGES:
        return _PROGRAM_RANGES[program]
    return _FAMILY_RANGES[max(0, min(program, 127)) // 8]


def diatonic_number(pitch: IntArray) -> IntArray:
    """Staff position of each MIDI pitch: octave × 7 + letter step (C4 = 28)."""
    return (pitch // 12 - 1) * 7 + _DIATONIC[pitch % 12]


def ledger_lines(pitch: IntArray, clef: str, octave_shift: int = 0) -> IntArray:
    """Ledger lines each pitch needs on a clef's staff (0 on the staff or just beside it).

    `octave_shift` is the clef's octave mark: treble-8 (-1) writes notes an octave higher
    than they sound. A clef pictune does not know ('perc', 'none') counts as treble.
    """
    bottom, top = STAVES.get(clef, STAVES["treble"])
    position = diatonic_number(pitch) - 7 * octave_shift
    below = np.clip(bottom - position, 0, None) // 2
    above = np.clip(position - top, 0, None) // 2
    return np.asarray(below + above, dtype=np.int64)


def clef_for(pitch: IntArray) -> tuple[str, int]:
    """The clef (and octave mark) a copyist would choose for a part: of treble, bass and
    treble-8 (a tenor's clef), the one that needs the fewest ledger lines; treble on a tie."""
    if pitch.size == 0:
        return "treble", 0
    choices = (("treble", 0), ("bass", 0), ("treble", -1))
    return min(choices, key=lambda c: int(ledger_lines(pitch, c[0], c[1]).sum()))


def pitch_name(pitch: int) -> str:
    """Scientific pitch name: 60 → 'C4', 70 → 'Bb4'."""
    return f"{PITCH_NAMES[pitch % 12]}{pitch // 12 - 1}"
